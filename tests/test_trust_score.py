"""The 0–100 score and its reasons: sources, grouped folds, calibration, model file, output."""

from __future__ import annotations

import itertools
import json
import random
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from curator.cache import CachedScore, FileKey, ScoreCache
from curator.calibration import (
    Calibration,
    expected_calibration_error,
    fit_calibration,
    reliability_table,
)
from curator.cli import main as curator_main
from curator.model import Head, HeadConfig
from curator.modelfile import ModelFile, load_model_file, save_model_file
from curator.preprocess import Preprocess
from curator.reasons import REASONS, choose_threshold, output_name, pick_reasons
from curator.scan import scan_folder
from curator.score import PhotoScore, Scorer, rank
from tests.conftest import make_jpeg
from train import damage
from train.__main__ import FitArgs, assign_folds, selections
from train.data import Tasks
from train.fit import group_folds


def _yelp_tree(root: Path, places: dict[str, int], unknown: int) -> Path:
    """A yelp-food-shaped folder: labels.csv (file,postworthy,restaurant) and images/."""
    rows = ["file,postworthy,restaurant"]
    n = 0
    for place, count in [*places.items(), ("unknown", unknown)]:
        for _ in range(count):
            name = f"y{n:04d}.jpg"
            make_jpeg(root / "images" / name, 120, 90, seed=n)
            rows.append(f"{name},{n % 2},{place}")
            n += 1
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    return root


def test_yelp_source_groups_by_restaurant_each_unknown_alone(tmp_path: Path) -> None:
    root = _yelp_tree(tmp_path / "yelp", {"compa": 5, "luna": 3}, unknown=4)
    with open(root / "labels.csv", "a") as fh:
        fh.write("missing.jpg,1,compa\nbroken.jpg,maybe,luna\ny0000.jpg,2,compa\n")
    t = Tasks()
    t.add_yelp(root)
    assert len(t.bin_idx) == 12 and t.bin_y.count(1.0) == 6
    assert t.skipped == {"labelled photos missing": 1, "malformed label rows": 1,
                         "labels not 0 or 1": 1}
    groups = t.bin_group
    assert groups.count("yelp:compa") == 5 and groups.count("yelp:luna") == 3
    unknown = [g for g in groups if g.startswith("yelp:photo:")]
    assert len(unknown) == len(set(unknown)) == 4, "each unknown photo is its own group"


def test_labelled_folder_and_csv_sources(tmp_path: Path) -> None:
    for i, sub in enumerate(["good", "good", "bad", "Keep", "reject", "reject"]):
        make_jpeg(tmp_path / "mine" / sub / f"p{i}.jpg", seed=i)
    t = Tasks()
    t.add_labelled(tmp_path / "mine")
    got = sorted((t.samples[i].path.name, y) for i, y in zip(t.bin_idx, t.bin_y, strict=True))
    assert got == [("p0.jpg", 1.0), ("p1.jpg", 1.0), ("p2.jpg", 0.0), ("p3.jpg", 1.0),
                   ("p4.jpg", 0.0), ("p5.jpg", 0.0)]
    assert len(set(t.bin_group)) == 6
    (tmp_path / "mine" / "verdicts.csv").write_text(
        "Path,Label\ngood/p0.jpg,keep\nbad/p2.jpg,0\nreject/p4.jpg,maybe\nnope.jpg,1\n")
    t2 = Tasks()
    t2.add_labelled(tmp_path / "mine" / "verdicts.csv")
    assert t2.bin_y == [1.0, 0.0]
    assert t2.skipped == {"labels not understood": 1, "labelled photos missing": 1}
    (tmp_path / "plain").mkdir()
    with pytest.raises(ValueError, match="good/ and bad/"):
        Tasks().add_labelled(tmp_path / "plain")
    (tmp_path / "x.csv").write_text("file,verdict\na.jpg,1\n")
    with pytest.raises(ValueError, match="path and label"):
        Tasks().add_labelled(tmp_path / "x.csv")


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_no_restaurant_on_both_sides_of_any_fold(tmp_path: Path, seed: int) -> None:
    """Every fold's test photos come from restaurants (and their damaged copies) that the
    fold's training part never holds."""
    places = {f"r{i}": 2 + 3 * i for i in range(8)}
    root = _yelp_tree(tmp_path / "yelp", places, unknown=6)
    t = Tasks()
    t.add_yelp(root)
    t.add_damage(root / "images", per_photo=2, seed=seed, group_of=t.groups_by_path())
    place_of = {}
    for line in (root / "labels.csv").read_text().splitlines()[1:]:
        name, _, place = line.split(",")
        place_of[name] = place if place != "unknown" else f"unknown:{name}"
    fold_of, folds = assign_folds(t, FitArgs(out=tmp_path / "run", folds=5), {})
    assert folds == list(range(5))

    def places_in(masks: tuple[np.ndarray, ...]) -> set[str]:
        _, _, pairs, bins = masks
        used = [t.bin_idx[i] for i in np.flatnonzero(bins)]
        used += [t.pair_a[i] for i in np.flatnonzero(pairs)]
        used += [t.pair_b[i] for i in np.flatnonzero(pairs)]
        return {place_of[t.samples[i].path.name] for i in used}

    seen_test: set[str] = set()
    for k in folds:
        train_places = places_in(selections(t, fold_of, k, include=False))
        test_places = places_in(selections(t, fold_of, k, include=True))
        assert test_places, f"fold {k} tests nothing"
        assert not train_places & test_places, f"fold {k}: {train_places & test_places}"
        seen_test |= test_places
    assert seen_test == set(place_of.values()), "every restaurant is tested once"


def test_group_folds_balance_items_not_just_groups() -> None:
    groups = ["yelp:big"] * 60 + [f"yelp:s{i}" for i in range(40) for _ in range(2)]
    fold = group_folds(groups, 5, seed=3)
    sizes = np.bincount([fold[g] for g in groups], minlength=5)
    assert sizes.max() == 60, "a group is never split"
    small = sorted(sizes)[:4]
    assert max(small) - min(small) <= 2, sizes


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_calibration_is_monotone_within_0_100_and_round_trips(method: str) -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, 2000)
    y = (rng.random(2000) < 1 / (1 + np.exp(-(0.5 * z + 0.3)))).astype(float)
    cal = fit_calibration(z, y, method)
    grid = np.linspace(-30, 30, 1001)
    scores = [cal.score(float(v)) for v in grid]
    assert all(0.0 <= s <= 100.0 for s in scores)
    assert all(b >= a for a, b in itertools.pairwise(scores)), "never decreasing"
    assert scores[-1] - scores[0] > 80, "spans the range"
    if method == "platt":
        assert cal.a == pytest.approx(0.5, abs=0.1) and cal.b == pytest.approx(0.3, abs=0.15)
    p = cal.probability(z)
    assert expected_calibration_error(p, y) < 0.04
    assert expected_calibration_error(np.clip(p * 0.4 + 0.6, 0, 1), y) > 0.15
    back = Calibration.from_dict(json.loads(json.dumps(cal.to_dict())))
    assert back == cal
    with pytest.raises(ValueError):
        fit_calibration(z, np.ones_like(z))


def test_reliability_table_counts_every_photo() -> None:
    p = np.array([0.05, 0.15, 0.15, 0.95, 1.0])
    y = np.array([0, 0, 1, 1, 1])
    rows = reliability_table(p, y, 10)
    assert [r["n"] for r in rows] == [1, 2, 2]
    assert rows[1]["observed"] == 0.5 and rows[2]["predicted"] == pytest.approx(0.975)


def test_reason_thresholds_and_picking() -> None:
    rng = np.random.default_rng(1)
    neg, pos = rng.normal(-3, 1, 1000), rng.normal(2, 1, 200)
    z = np.concatenate([neg, pos])
    lab = np.r_[np.zeros(1000, bool), np.ones(200, bool)]
    t = choose_threshold(z, lab, alpha=0.03)
    assert np.mean(neg >= t) <= 0.03 and np.mean(pos >= t) > 0.9
    got = pick_reasons({"blur": 2.0, "dark": 5.0, "noisy": -1.0}, {"blur": 1.0, "dark": 1.0,
                                                                   "noisy": 0.0})
    assert got == ("dark", "blur"), "strongest first, below-threshold left out"
    assert pick_reasons({"tilted": 9.0}, {}) == (), "no threshold, no reason"


def test_the_dropped_cropped_reason_is_never_given_even_by_a_file_that_has_its_head() -> None:
    from curator.modelfile import load_model_file
    from curator.paths import BUNDLED_MODEL

    assert "cropped" not in REASONS
    assert pick_reasons({"cropped": 9.0, "blur": 2.0}, {"cropped": 0.0, "blur": 1.0}) == ("blur",)
    mf = load_model_file(BUNDLED_MODEL)
    heads = {n: 50.0 for n in mf.head_config.outputs if n.startswith("reason:")}
    _, reasons = mf.read_outputs(heads)
    assert "cropped" not in reasons and "blur" in reasons


def _scored_model_file() -> ModelFile:
    outputs = ("postworthy", *(output_name(k) for k in REASONS))
    cfg = HeadConfig(in_features=12, hidden=0, dropout=0.0, outputs=outputs)
    head = Head(cfg)
    return ModelFile(backbone="efficientnet-lite0-ml", head_config=cfg,
                     head_state=head.state_dict(),
                     preprocess=Preprocess(mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25)),
                     metrics={"score": {"ece": np.float64(0.03)}},
                     calibration=Calibration("platt", 0.8, -0.1, n=900, positive_rate=0.52),
                     reason_thresholds={k: 1.5 + i for i, k in enumerate(REASONS)})


def test_model_file_round_trip_with_score_fields(tmp_path: Path) -> None:
    mf = _scored_model_file()
    save_model_file(tmp_path / "m.pt", mf)
    raw = torch.load(tmp_path / "m.pt", weights_only=True)  # plain values only
    assert raw["format_version"] == 3 and raw["calibration"]["method"] == "platt"
    back = load_model_file(tmp_path / "m.pt")
    n = 10 + 1 + len(REASONS)  # vote bins, the post-worthy logit, one per reason
    assert back.head_config == mf.head_config and back.head_config.n_outputs == n
    assert back.calibration == mf.calibration
    assert back.reason_thresholds == mf.reason_thresholds
    assert back.metrics["score"]["ece"] == pytest.approx(0.03)
    logits = Head(back.head_config)(torch.zeros(2, 12))
    assert logits.shape == (2, n)


def test_old_model_files_still_load_and_rank_by_mean(tmp_path: Path) -> None:
    cfg = HeadConfig(in_features=12, hidden=0, dropout=0.0)
    old = ModelFile(backbone="efficientnet-lite0-ml", head_config=cfg,
                    head_state=Head(cfg).state_dict(),
                    preprocess=Preprocess(mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25)))
    raw = old.to_dict()
    del raw["config"]["head"]["outputs"]  # as version-1 files were written
    assert raw["format_version"] == 1 and "calibration" not in raw
    torch.save(raw, tmp_path / "old.pt")
    back = load_model_file(tmp_path / "old.pt")
    assert back.head_config.outputs == () and back.calibration is None
    d = (0.1,) * 10
    ranked = rank([PhotoScore(Path("a"), 5.0, 1, d), PhotoScore(Path("b"), 6.0, 1, d)])
    assert [r.path.name for r in ranked] == ["b", "a"], "no score: rank by the AVA mean"


def test_score_ranks_over_ava_mean() -> None:
    d = (0.1,) * 10
    rs = [PhotoScore(Path("a"), 7.0, 1, d, score=20.0), PhotoScore(Path("b"), 4.0, 1, d,
                                                                    score=80.0)]
    assert [r.path.name for r in rank(rs)] == ["b", "a"]


def test_version_1_cache_rows_are_recomputed_not_misread(tmp_path: Path) -> None:
    p = make_jpeg(tmp_path / "a.jpg")
    key = FileKey.of(p)
    db = tmp_path / "c.sqlite3"
    con = sqlite3.connect(db)
    con.execute("""CREATE TABLE scores (path TEXT NOT NULL, model TEXT NOT NULL,
                size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, mean REAL, sd REAL, dist TEXT,
                width INTEGER, height INTEGER, error TEXT, updated REAL NOT NULL,
                PRIMARY KEY (path, model))""")
    con.execute("INSERT INTO scores VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (key.path, "m", key.size, key.mtime_ns, 5.5, 1.0, None, 320, 240, None, 0.0))
    con.commit()
    con.close()
    cache = ScoreCache(db)
    assert cache.get_many([key], "m") == {}, "an old row has no score: rescore the photo"
    entry = CachedScore(5.5, 1.2, (0.1,) * 10, 320, 240, None, 73.25, ("blur", "dark"))
    cache.put_many([(key, entry)], "m")
    assert cache.get_many([key], "m") == {key: entry}


def _textured(w: int, h: int, seed: int) -> Image.Image:
    """A generated photo with sharp detail: a plate of coloured shapes on a patterned cloth."""
    rng = random.Random(seed)
    im = Image.new("RGB", (w, h), (200, 190, 170))
    d = ImageDraw.Draw(im)
    for x in range(0, w, 16):
        d.line([(x, 0), (x, h)], fill=(150, 60, 50), width=2)
    for y in range(0, h, 16):
        d.line([(0, y), (w, y)], fill=(150, 60, 50), width=2)
    d.ellipse([w * 0.2, h * 0.15, w * 0.8, h * 0.85], fill=(245, 245, 240), outline=(90, 90, 90))
    for _ in range(60):
        x, y = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
        r = rng.uniform(3, 12)
        d.ellipse([x - r, y - r, x + r, y + r],
                  fill=(rng.randint(60, 255), rng.randint(60, 200), rng.randint(0, 120)))
    return im


@pytest.mark.slow
def test_reasons_name_the_damage_on_generated_photos(tmp_path: Path) -> None:
    """The bundled model's reasons on generated photos and their damaged copies.

    Every flaw with a reason key is expected by name (a bad crop has none: ``cropped`` was
    dropped); the learned heads and the classic measures together.
    """
    expect = {"blur": "blur", "dark": "dark", "blown_out": "overexposed", "noise": "noisy",
              "jpeg": "compressed", "tilt": "tilted"}
    made: dict[Path, str] = {}
    for seed in range(3):
        im = _textured(480, 360, seed)
        im.save(tmp_path / f"orig{seed}.png")
        for kind in expect:
            out = tmp_path / f"{kind}{seed}.png"
            damage.apply(kind, im, 0.8, random.Random(seed)).save(out)
            made[out] = expect[kind]
    results = {r.path: r for r in Scorer().score(scan_folder(tmp_path))
               if isinstance(r, PhotoScore)}
    hits = [made[p] in results[p].reasons for p in made]
    assert np.mean(hits) >= 0.75, {p.name: results[p].reasons for p in made}
    lower = []
    for seed in range(3):
        orig = results[tmp_path / f"orig{seed}.png"]
        assert orig.score is not None and orig.reasons == (), orig.reasons
        for kind in ("blur", "dark", "blown_out", "noise", "tilt"):  # not JPEG: the pattern
            dmg = results[tmp_path / f"{kind}{seed}.png"]  # is generated, not a photo
            assert dmg.score is not None
            lower.append(dmg.score < orig.score)
    # Blown-out is the weakest kind (95 % on real food photos): allow one near-tie in 15.
    assert np.mean(lower) >= 0.9, lower


def test_score_json_has_a_0_100_score_and_a_reasons_list(
    mixed_folder: tuple[Path, list[str], list[str]], capsys: pytest.CaptureFixture[str],
) -> None:
    root, good, _ = mixed_folder
    assert curator_main(["score", str(root), "--json", "-q"]) == 1  # 1: it has broken files
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["photos"]) == len(good)
    for rec in doc["photos"]:
        assert isinstance(rec["score"], int | float) and 0 <= rec["score"] <= 100
        assert isinstance(rec["reasons"], list)
        assert all(k in REASONS for k in rec["reasons"])
        assert 1 <= rec["ava_mean"] <= 10 and rec["ava_sd"] > 0
    scores = [rec["score"] for rec in doc["photos"]]
    assert scores == sorted(scores, reverse=True), "ranked by the score"
    assert curator_main(["score", str(root), "--csv", "-q"]) == 1  # from the cache now
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("rank,score,reasons,ava_mean,ava_sd,path")
    assert [float(line.split(",")[1]) for line in lines[1: len(good) + 1]] == pytest.approx(
        scores, abs=0.01)


@pytest.mark.slow
def test_real_food_photo_scores_spread(shared_data: Path) -> None:
    photos = scan_folder(shared_data / "food-photos")
    scores = [r.score for r in Scorer().score(photos) if isinstance(r, PhotoScore)]
    assert len(scores) == len(photos) and all(s is not None for s in scores)
    s = np.asarray(scores, dtype=float)
    assert s.max() - s.min() >= 40, f"a band, not a spread: {np.round(np.sort(s))}"
    assert s.std() >= 10


def test_damage_max_photos_keeps_the_same_copies(tmp_path: Path) -> None:
    for i in range(5):
        make_jpeg(tmp_path / "imgs" / f"p{i}.jpg", seed=i)
    full, part = Tasks(), Tasks()
    full.add_damage(tmp_path / "imgs", per_photo=3, seed=4)
    part.add_damage(tmp_path / "imgs", per_photo=3, seed=4, max_photos=2)
    keys = [s.key for s in part.samples]
    assert len(keys) == 2 * 4 and keys == [s.key for s in full.samples][: len(keys)]


def test_export_ranks_and_filters_by_the_0_100_score(tmp_path: Path) -> None:
    from curator.export import export_top

    d = (0.1,) * 10
    ranked = [PhotoScore(make_jpeg(tmp_path / "in" / f"p{i}.jpg", seed=i), 6.0 - i, 1.0, d,
                         score=90.0 - 30 * i, reasons=("blur",) if i else ())
              for i in range(3)]
    picks = export_top(ranked, tmp_path / "out", top=3, min_score=50)
    assert [p.score for p in picks] == [90.0, 60.0]
    rows = (tmp_path / "out" / "picks.csv").read_text().splitlines()
    assert rows[0].startswith("rank,score,reasons,ava_mean,ava_sd,file")
    assert rows[2].split(",")[1:4] == ["60.000", "blur", "5.000"]


def test_model_file_reads_score_and_reasons_from_logits() -> None:
    mf = _scored_model_file()  # Platt a=0.8, b=-0.1; thresholds blur 1.5, dark 2.5, ...
    score, reasons = mf.read_outputs({"postworthy": 0.0, "reason:blur": 2.0,
                                      "reason:dark": 2.0, "reason:noisy": 99.0})
    assert score == pytest.approx(100 / (1 + np.exp(0.1)))
    assert reasons == ("noisy", "blur")
    assert mf.read_outputs({"reason:blur": 0.0}) == (None, ())
