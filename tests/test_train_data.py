"""Training data sources: ratings, crowd pairs, synthetic damage, AVA splits."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import make_jpeg, photo_array
from tests.test_train import ava_row, random_ava, write_ava
from train import damage
from train.__main__ import main as train_main
from train.data import Tasks


def test_every_damage_kind_changes_the_photo_and_severity_matters() -> None:
    im = Image.fromarray(photo_array(400, 300, seed=3))
    base = np.asarray(im).astype(float)
    for kind in damage.KINDS:
        mild = damage.apply(kind, im, 0.0, random.Random(1))
        hard = damage.apply(kind, im, 1.0, random.Random(1))
        assert mild.mode == "RGB"
        if kind == "bad_crop":
            assert hard.size[0] < mild.size[0] < im.size[0]
            continue
        assert mild.size == im.size
        d_mild = np.abs(np.asarray(mild).astype(float) - base).mean()
        d_hard = np.abs(np.asarray(hard).astype(float) - base).mean()
        assert 0 < d_mild < d_hard, kind


def test_ratings_csv_scores_and_stars(tmp_path: Path) -> None:
    for name in ["a.jpg", "b.jpg", "c.jpg"]:
        make_jpeg(tmp_path / "shop" / name)
    (tmp_path / "shop" / "scores.csv").write_text(
        "path,score\na.jpg,8\nb.jpg,11\nmissing.jpg,5\nc.jpg,oops\n")
    (tmp_path / "shop" / "stars.csv").write_text("Path,Stars\na.jpg,5\nb.jpg,1\nc.jpg,3\n")
    t = Tasks()
    t.add_ratings(tmp_path / "shop" / "scores.csv")
    assert t.mean_y == [8.0]
    assert t.skipped == {"ratings out of range": 1, "rated photos missing": 1,
                         "malformed rating rows": 1}
    t.add_ratings(tmp_path / "shop" / "stars.csv")
    assert t.mean_y == [8.0, 10.0, 1.0, 5.5]
    assert len(t.samples) == 3, "the same photo is one sample, whatever the source"
    (tmp_path / "bad.csv").write_text("file,rating\nx,1\n")
    with pytest.raises(ValueError, match="need columns"):
        Tasks().add_ratings(tmp_path / "bad.csv")


def test_pairs_and_damage_share_groups(tmp_path: Path) -> None:
    for i, name in enumerate(["x1.jpg", "x2.jpg", "y1.jpg", "y2.jpg", "lone.jpg"]):
        make_jpeg(tmp_path / "images" / name, seed=i)
    (tmp_path / "pairs.csv").write_text(
        "image_1,image_2,menu,n_voters,votes_1,votes_2,p_image1_preferred,winner\n"
        "x1.jpg,x2.jpg,Sushi,10,7,3,0.7,1\ny1.jpg,y2.jpg,Ramen,10,2,8,0.2,2\n"
        "y1.jpg,nope.jpg,Ramen,10,2,8,0.2,2\n")
    t = Tasks()
    t.add_pairs(tmp_path / "pairs.csv")
    assert t.pair_p == [0.7, 0.2] and t.skipped == {"paired photos missing": 1}
    t.add_damage(tmp_path / "images", per_photo=2, seed=0, group_of=t.groups_by_path())
    assert len(t.pair_a) == 2 + 5 * 2
    dmg = [i for i, k in enumerate(t.pair_kind) if k != "crowd"]
    assert all(t.pair_p[i] == 1.0 for i in dmg)
    assert all(t.samples[t.pair_b[i]].damage is not None for i in dmg)
    x1 = [t.pair_group[i] for i in dmg if t.samples[t.pair_a[i]].path.name == "x1.jpg"]
    assert set(x1) == {t.pair_group[0]}, "damage pairs of a crowd photo stay in its fold"
    assert len(t.samples) == 5 + 10


def _seed_ids() -> tuple[list[str], list[str]]:
    from importlib import resources

    from train.ava import read_id_list

    pkg = resources.files("train") / "splits"
    return (read_id_list(Path(str(pkg / "seed_fooddrink_train.txt"))),
            read_id_list(Path(str(pkg / "seed_fooddrink_test.txt"))))


def test_seed_split_and_json_progress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train_ids, test_ids = _seed_ids()
    assert len(train_ids) == 4400 and len(test_ids) == 600
    ids = train_ids[:8] + test_ids[:4]
    root = random_ava(tmp_path / "ava", ids, seed=1)
    out = tmp_path / "run"
    code = train_main(["fit", "--ava-root", str(root), "--split", "seed", "--out", str(out),
                       "--epochs", "20", "--crops", "1", "--progress", "json"])
    assert code == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done"
    assert {"progress", "epoch", "fold"} <= set(kinds)
    fold = next(e for e in events if e["event"] == "fold")
    assert fold["metrics"]["ava"]["n"] == 4.0, "evaluated on the 4 seed-split test photos"


def test_official_split_needs_its_lists(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ids = [str(500 + i) for i in range(8)]
    rows = [ava_row(i, x, [1, 2, 3, 4, 5, 4, 3, 2, 1, 1], 40) for i, x in enumerate(ids)]
    root = write_ava(tmp_path / "ava", rows, ids)
    args = ["fit", "--ava-root", str(root), "--split", "official", "--out",
            str(tmp_path / "run"), "--epochs", "5", "--crops", "1"]
    assert train_main(args) == 1
    assert "official split needs" in capsys.readouterr().err
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "fooddrink_train.jpgl").write_text("\n".join(ids[:6]))
    (lists / "fooddrink_test.jpgl").write_text("\n".join(ids[6:]))
    assert train_main([*args, "--lists-dir", str(lists)]) == 0
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["metrics"]["folds"][0]["ava"]["n"] == 2.0


def test_cli_resume_reuses_finished_folds(tmp_path: Path) -> None:
    ids = [str(700 + i) for i in range(6)]
    root = random_ava(tmp_path / "ava", ids, seed=2)
    out = tmp_path / "run"
    args = ["fit", "--ava-root", str(root), "--out", str(out), "--folds", "2", "--epochs", "10",
            "--crops", "1", "--progress", "none"]
    assert train_main(args) == 0
    fold0 = out / "folds" / "fold-0.json"
    done = json.loads(fold0.read_text())
    done["metrics"]["ava"]["srcc"] = 0.123456  # a mark only a reused fold can carry
    fold0.write_text(json.dumps(done))
    (out / "model.pt").unlink()
    assert train_main([*args, "--resume"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["metrics"]["folds"][0]["ava"]["srcc"] == 0.123456
    assert (out / "model.pt").is_file()


def test_unreadable_training_photo_is_skipped_and_reported(tmp_path: Path) -> None:
    ids = [str(800 + i) for i in range(7)]
    root = random_ava(tmp_path / "ava", ids, seed=4)
    (root / "images" / f"{ids[0]}.jpg").write_bytes(b"\xff\xd8 broken")
    out = tmp_path / "run"
    assert train_main(["fit", "--ava-root", str(root), "--out", str(out), "--folds", "2",
                       "--epochs", "5", "--crops", "1", "--progress", "none"]) == 0
    data = json.loads((out / "report.json").read_text())["training"]["data"]
    assert data["skipped"] == {"items with unreadable photos": 1}
    assert list(data["unreadable"].values()) == ["not a recognised image format"]


def test_finetune_last_blocks_end_to_end(tmp_path: Path) -> None:
    import torch

    from curator.modelfile import load_model_file
    from curator.score import PhotoScore, Scorer

    ids = [str(600 + i) for i in range(8)]
    root = random_ava(tmp_path / "ava", ids, seed=6)
    out = tmp_path / "run"
    assert train_main(["fit", "--ava-root", str(root), "--out", str(out), "--folds", "2",
                       "--epochs", "5", "--crops", "1", "--progress", "none",
                       "--finetune", "1", "--finetune-steps", "3", "--finetune-batch", "3"]) == 0
    mf = load_model_file(out / "model.pt")
    info = mf.metrics["finetune"]
    assert info["blocks"] == 1 and info["steps"] == 3
    assert np.isfinite(info["val_loss_before"]) and np.isfinite(info["val_loss_after"])
    raw = torch.load(out / "model.pt", weights_only=True)
    if info["kept"]:
        assert raw["format_version"] == 2 and "backbone_state" in raw
        frozen = load_model_file(out / "model.pt")
        frozen.backbone_state = None
        photo = tmp_path / "ava" / "images" / f"{ids[0]}.jpg"
        tuned = next(iter(Scorer(model_path=out / "model.pt").score([photo])))
        assert isinstance(tuned, PhotoScore)
        base = frozen.build()
        tuned_model = mf.build()
        changed = [k for k, v in tuned_model.backbone.state_dict().items()
                   if not torch.equal(v, base.backbone.state_dict()[k])]
        assert changed and all("_blocks.15" in k or "_conv_head" in k for k in changed)
    else:
        assert raw["format_version"] == 1 and "backbone_state" not in raw
