"""The minimal train package: AVA parsing, metrics, and a fit that curator can load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from curator.modelfile import load_model_file
from curator.score import PhotoScore, Scorer
from tests.conftest import make_jpeg
from train import ava, metrics
from train.__main__ import main as train_main
from train.fit import Arrays, HeadTrainConfig, evaluate, fit_head, make_arrays


def write_ava(root: Path, rows: list[str], images: list[str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "AVA.txt").write_text("\n".join(rows) + "\n")
    (root / "tags.txt").write_text("20 Macro\n40 Food and Drink\n")
    for i, image_id in enumerate(images):
        make_jpeg(root / "images" / f"{image_id}.jpg", 300 + 7 * i, 220, seed=i)
    return root


def ava_row(idx: int, image_id: str, votes: list[int], tag1: int = 0, tag2: int = 0) -> str:
    return " ".join(map(str, [idx, image_id, *votes, tag1, tag2, 1396]))


def random_ava(root: Path, ids: list[str], seed: int, tag: int = 40) -> Path:
    """An AVA-format tree: real JPEGs for ``ids`` with seeded random vote histograms."""
    rng = np.random.default_rng(seed)
    rows = [ava_row(i, x, list(rng.integers(1, 20, 10)), tag) for i, x in enumerate(ids)]
    return write_ava(root, rows, ids)


def test_reader_skips_and_counts_bad_rows(tmp_path: Path) -> None:
    v = [0, 1, 2, 5, 9, 7, 3, 1, 0, 0]
    root = write_ava(tmp_path / "ava", [
        ava_row(1, "100", v, 40), ava_row(2, "101", v, 20, 40), ava_row(3, "102", v, 20),
        ava_row(4, "103", [0] * 10, 40),           # no votes
        "5 104 1 2 3",                              # malformed
        ava_row(6, "105", v, 40),                   # image missing
        ava_row(7, "100", v, 40),                   # duplicate id
        "", "garbage line with words in it 1 2 3 4 5 6 7 8",
    ], ["100", "101", "102", "103"])
    items, rep = ava.read_ava(root)
    assert [it.image_id for it in items] == ["100", "101", "102"]
    assert rep.rows == 8 and rep.kept == 3
    assert rep.skipped == {"rows without votes": 1, "malformed lines": 2, "missing images": 1,
                           "duplicate ids": 1}
    assert [it.image_id for it in ava.select_tag(items, 40)] == ["100", "101"]
    assert items[0].mean == pytest.approx(np.dot(v, range(1, 11)) / sum(v))
    assert ava.read_tags(root / "tags.txt")[40] == "Food and Drink"


def test_id_lists(tmp_path: Path) -> None:
    (tmp_path / "x.jpgl").write_text("100\n 102 \n\nabc\n")
    assert ava.read_id_list(tmp_path / "x.jpgl") == ["100", "102"]


def test_metrics_on_toy_arrays() -> None:
    t = np.array([1.0, 2.0, 3.0, 4.0])
    assert metrics.l1(t + 0.5, t) == 0.5
    assert metrics.l2(t + 0.5, t) == 0.25
    assert metrics.srcc(t ** 2, t) == pytest.approx(1.0)
    assert metrics.srcc(-t, t) == pytest.approx(-1.0)
    assert metrics.srcc(np.array([1, 1, 2, 2.0]), t) == pytest.approx(0.894427, abs=1e-5)
    assert metrics.plcc(np.ones(4), t) == 0.0
    acc = metrics.binary_accuracy(np.array([4.0, 6, 6]), np.array([4.5, 5.5, 4.9]))
    assert acc == pytest.approx(2 / 3)
    p = np.eye(10)[[0]]
    q = np.eye(10)[[9]]
    assert metrics.emd(p, p) == 0.0
    assert metrics.emd(p, q) == pytest.approx(np.sqrt(0.9))
    r = metrics.report(np.vstack([p, q]), np.vstack([p, q]), train_mean=5.5)
    assert r["l1"] == 0 and r["l1_naive"] == pytest.approx(4.5) and r["srcc"] == pytest.approx(1)


def test_fit_exports_a_model_curator_scores_with(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    ids = [str(1000 + i) for i in range(10)]
    rows = [ava_row(i, image_id, list(rng.integers(0, 20, 10)), 20 if i % 2 else 40)
            for i, image_id in enumerate(ids)]
    root = write_ava(tmp_path / "ava", rows, ids)
    out = tmp_path / "run"
    assert train_main(["fit", "--ava-root", str(root), "--tag", "99", "--out", str(out)]) == 1
    assert "0 images in selection" in capsys.readouterr().err
    args = ["fit", "--ava-root", str(root), "--all", "--out", str(out), "--folds", "2",
            "--epochs", "30", "--crops", "2", "--hidden", "16"]
    assert train_main(args) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["metrics"]["evaluation"] == "kfold"
    assert len(report["metrics"]["folds"]) == 2
    assert report["metrics"]["summary"]["ava.srcc"]["folds"] == 2
    assert report["training"]["data"]["sources"][0]["images"] == 10
    assert (out / "report.svg").read_text().startswith("<svg")
    dest = tmp_path / "exported.pt"
    assert train_main(["export", str(out), "--to", str(dest)]) == 0
    mf = load_model_file(dest)
    assert mf.head_config.hidden == 16
    photo = make_jpeg(tmp_path / "new.jpg", 400, 300, seed=42)
    [result] = list(Scorer(model_path=dest).score([photo]))
    assert isinstance(result, PhotoScore) and 1 <= result.mean <= 10
    # A second run reuses the cached features and gives the same model.
    first = (out / "model.pt").read_bytes()
    assert train_main(args) == 0
    mf2 = load_model_file(out / "model.pt")
    for k, v in mf.head_state.items():
        assert np.allclose(v.numpy(), mf2.head_state[k].numpy()), k
    assert first  # the file existed before the rerun


def _toy_arrays(n: int = 40, seed: int = 0) -> tuple[Arrays, Arrays]:
    """Features where the first dimension carries the score: a learnable toy problem."""
    from train.data import Tasks
    from train.features import ImageFeatures

    rng = np.random.default_rng(seed)
    tasks, feats = Tasks(), []
    for i in range(n):
        quality = rng.uniform(3, 8)
        g = torch.tensor(rng.normal(0, 1, (2, 8)), dtype=torch.float32)
        g[:, 0] = quality
        feats.append(ImageFeatures(g, g.clone()))
        votes = np.exp(-((np.arange(1, 11) - quality) ** 2) / 2)
        tasks.dist_idx.append(tasks.photo(Path(f"/toy/{i}.jpg")))
        tasks.dist_y.append(votes / votes.sum())
        tasks.dist_group.append(str(i))
    for i in range(0, n - 1, 2):
        tasks.pair_a.append(i)
        tasks.pair_b.append(i + 1)
        qa, qb = float(feats[i].global_feat[0, 0]), float(feats[i + 1].global_feat[0, 0])
        tasks.pair_p.append(1.0 if qa > qb else 0.0)
        tasks.pair_kind.append("crowd")
        tasks.pair_group.append(str(i))
    half = np.arange(n) < n // 2
    pairs = np.arange(len(tasks.pair_a)) < len(tasks.pair_a) // 2
    none = np.zeros(0, dtype=bool)
    return (make_arrays(feats, tasks, half, none, pairs),
            make_arrays(feats, tasks, ~half, none, ~pairs))


def test_multitask_head_learns_and_evaluates() -> None:
    train, test = _toy_arrays()
    head, info = fit_head(train, HeadTrainConfig(epochs=300, hidden=16, dropout=0.0,
                                                 weight_decay=0.0, lr=1e-2), val=test)
    assert info["curve"][-1]["train_loss"] < info["curve"][0]["train_loss"]
    report = evaluate(head, test, train_mean=5.5)
    assert report["ava"]["srcc"] > 0.8
    assert report["crowd"]["agreement"] >= 0.8
    # No leakage: the test arrays hold only the test photos.
    assert test.G.shape[0] == 20 and train.G.shape[0] == 20


def test_interrupted_fit_resumes_to_the_same_head(tmp_path: Path) -> None:
    train, val = _toy_arrays(seed=1)
    cfg = HeadTrainConfig(epochs=50, hidden=8, patience=1000)
    whole, _ = fit_head(train, cfg, val)
    ckpt = tmp_path / "fit.ckpt"
    fit_head(train, HeadTrainConfig(epochs=25, hidden=8, patience=1000), val, checkpoint=ckpt)
    assert ckpt.is_file()
    resumed, info = fit_head(train, cfg, val, checkpoint=ckpt)
    assert info["curve"][0]["epoch"] == 1 and len(info["curve"]) == 50
    for k, v in whole.state_dict().items():
        assert torch.allclose(v.float(), resumed.state_dict()[k].float()), k


def test_spread_term_pulls_unvoted_photos_towards_ava_spread() -> None:
    import dataclasses

    from curator.model import distribution_stats
    from train.fit import losses

    train, _ = _toy_arrays(seed=5)
    # Photos 10..19 lose their vote histograms: only their pair constraints remain.
    partial = dataclasses.replace(train, dist_idx=train.dist_idx[:10], dist_y=train.dist_y[:10])
    target = float(distribution_stats(partial.dist_y)[1].mean())

    def unvoted_spread(w: float) -> float:
        head, _ = fit_head(partial, HeadTrainConfig(epochs=150, hidden=16, dropout=0.0,
                                                    weight_decay=0.0, lr=1e-2, w_spread=w))
        with torch.no_grad():
            probs = head(torch.cat([partial.G[10:, 0], partial.L[10:, 0]], dim=1)).softmax(-1)
        return float(distribution_stats(probs)[1].mean())

    x = torch.cat([partial.G[:, 0], partial.L[:, 0]], dim=1)
    head, _ = fit_head(partial, HeadTrainConfig(epochs=1, hidden=8))
    assert "spread" in losses(head, x, partial, HeadTrainConfig(w_spread=1.0))
    assert "spread" not in losses(head, x, partial, HeadTrainConfig(w_spread=0.0))
    assert abs(unvoted_spread(5.0) - target) < abs(unvoted_spread(0.0) - target)


def test_ridge_penalty_shrinks_a_linear_head_that_still_learns() -> None:
    """hidden=0 is a linear head; --l2 shrinks the weights reading the features."""
    from train.fit import first_linear

    train, test = _toy_arrays(seed=3)
    norms = {}
    for l2 in (0.0, 1.0):
        head, _ = fit_head(train, HeadTrainConfig(epochs=200, hidden=0, dropout=0.0,
                                                  weight_decay=0.0, lr=1e-2, l2=l2))
        assert first_linear(head).in_features == train.G.shape[2] * 2
        assert sum(isinstance(m, torch.nn.Linear) for m in head.modules()) == 1
        norms[l2] = float(first_linear(head).weight.detach().norm())
        report = evaluate(head, test, train_mean=5.5)
        assert report["ava"]["srcc"] > 0.6, (l2, report)
    assert norms[1.0] < 0.5 * norms[0.0]


def _refit_arrays(n: int, seed: int) -> Arrays:
    """Photos whose feature 0 decides the label, feature 1 the crowd's taste, feature 2 the
    damage (copies low): each objective is readable from its own dimension."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (n, 6)).astype(np.float32)
    g = torch.tensor(np.stack([x, x], 1))
    pa = np.arange(0, n - 1, 2)
    pb = pa + 1
    crowd = pa < n // 2
    p = np.where(crowd, (x[pa, 1] > x[pb, 1]) * 0.8 + 0.1, 1.0).astype(np.float32)
    x[pb[~crowd], 2] = x[pa[~crowd], 2] - 1.5  # the damaged copy
    g = torch.tensor(np.stack([x, x], 1))
    return Arrays(G=g, L=g.clone(), dist_idx=torch.zeros(0, dtype=torch.long),
                  dist_y=torch.zeros(0, 10), mean_idx=torch.zeros(0, dtype=torch.long),
                  mean_y=torch.zeros(0), pair_a=torch.tensor(pa), pair_b=torch.tensor(pb),
                  pair_p=torch.tensor(p),
                  pair_kind=["crowd" if c else "blur" for c in crowd],
                  bin_idx=torch.arange(n), bin_y=torch.tensor((x[:, 0] > 0).astype(np.float32)))


def test_score_refit_fits_the_postworthy_row_alone_on_labels_and_pairs() -> None:
    """``--score-refit``: a convex logistic fit of the post-worthy row, folded back into the
    linear layer.  Labels follow feature 0, so held-out photos rank by it; the crowd and
    damage pairs are followed only when they carry weight; the other rows are untouched."""
    from curator.model import Head, HeadConfig
    from train.fit import predict_outputs, refit_score

    train, test = _refit_arrays(400, 0), _refit_arrays(400, 1)
    head = Head(HeadConfig(12, 0, 10, 0.0, ("postworthy", "reason:blur")))
    with torch.no_grad():  # BatchNorm statistics of the training photos, as after a fit
        head.train()
        head(torch.cat([train.G[:, 0], train.L[:, 0]], 1))
    head.eval()
    before = {k: v.clone() for k, v in head.state_dict().items()}

    def refit(crowd: float, damage: float) -> dict[str, np.ndarray]:
        h = Head(head.cfg)
        h.load_state_dict(before)
        h.eval()
        facts = refit_score(h, train, HeadTrainConfig(score_c=1.0, score_crowd=crowd,
                                                      score_damage=damage))
        assert facts["refit"] and facts["photos"] == 400
        w = h.net[-1].weight
        assert torch.equal(w[:10], before["net.2.weight"][:10])  # vote rows untouched
        assert torch.equal(w[11], before["net.2.weight"][11])  # reason row untouched
        return predict_outputs(h, test)

    def crowd_and_damage(z: np.ndarray) -> tuple[float, float]:
        a, b, p = test.pair_a.numpy(), test.pair_b.numpy(), test.pair_p.numpy()
        c = np.asarray(test.pair_kind) == "crowd"
        return (float(np.mean((z[a[c]] > z[b[c]]) == (p[c] > 0.5))),
                float(np.mean(z[a[~c]] > z[b[~c]])))

    labels_only = refit(0.0, 0.0)["postworthy"]
    assert metrics.auc(labels_only, test.bin_y.numpy()) > 0.95
    c0, d0 = crowd_and_damage(labels_only)
    c1, _ = crowd_and_damage(refit(4.0, 0.0)["postworthy"])
    _, d1 = crowd_and_damage(refit(0.0, 4.0)["postworthy"])
    assert c1 > c0 + 0.2 and c1 > 0.85, (c0, c1)
    assert d1 > d0 + 0.2 and d1 > 0.95, (d0, d1)
    with pytest.raises(ValueError):
        refit_score(Head(HeadConfig(12, 4, 10, 0.0, ("postworthy",))), train, HeadTrainConfig())
