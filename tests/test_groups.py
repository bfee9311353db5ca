"""Near-duplicate groups: the clustering itself, the CLI's group fields, one-per-group export."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from curator.cache import FileKey, ScoreCache
from curator.cli import main
from curator.groups import EMBED_DIM, GroupConfig, capture_time, cluster
from tests.conftest import make_jpeg
from tests.shoot import chowdown_sources, make_shoot, sample_sources


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.standard_normal((n, EMBED_DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def jitter(x: np.ndarray, rng: np.random.Generator, size: float) -> np.ndarray:
    y = x + rng.standard_normal(x.shape).astype(np.float32) * size / np.sqrt(EMBED_DIM)
    return y / np.linalg.norm(y, axis=1, keepdims=True)


def test_cluster_groups_near_copies_and_keeps_distinct_apart() -> None:
    rng = np.random.default_rng(0)
    centres = unit(rng, 30)
    x = np.concatenate([jitter(centres, rng, 0.2) for _ in range(3)])  # 3 takes of 30 scenes
    labels = cluster(x.astype(np.float16))
    truth = np.tile(np.arange(30), 3)
    for t in range(30):
        assert len(set(labels[truth == t])) == 1
    assert len(set(labels.tolist())) == 30


def test_capture_time_only_splits() -> None:
    rng = np.random.default_rng(1)
    c = unit(rng, 1)
    x = np.concatenate([jitter(c, rng, 0.1) for _ in range(4)])
    assert len(set(cluster(x).tolist())) == 1  # no times: from pixels alone
    times: list[float | None] = [0.0, 2.0, None, 7200.0]
    labels = cluster(x, times, GroupConfig(time_gap_s=1800))
    assert labels[0] == labels[1] == labels[2] != labels[3]


def test_average_linkage_does_not_chain() -> None:
    # A slow pan: each step close to the next, the ends far apart.
    rng = np.random.default_rng(2)
    a, b = unit(rng, 2)
    steps = np.stack([(1 - t) * a + t * b for t in np.linspace(0, 1, 12)])
    steps /= np.linalg.norm(steps, axis=1, keepdims=True)
    labels = cluster(steps, cfg=GroupConfig(threshold=0.2))
    assert len(set(labels.tolist())) > 1
    assert labels[0] != labels[-1]


def test_capture_time_from_exif(tmp_path: Path) -> None:
    from PIL import Image

    p = make_jpeg(tmp_path / "a.jpg")
    assert capture_time(p) is None
    im = Image.open(p)
    exif = im.getexif()
    exif.get_ifd(0x8769)[36867] = "2024:05:01 12:30:15"
    exif.get_ifd(0x8769)[37521] = "5"
    im.save(tmp_path / "b.jpg", exif=exif)
    t = capture_time(tmp_path / "b.jpg")
    assert t is not None and t % 60 == pytest.approx(15.5)


def _score_json(capsys: pytest.CaptureFixture[str], folder: Path) -> list[dict]:
    assert main(["score", str(folder), "--json", "-q"]) == 0
    return list(json.loads(capsys.readouterr().out)["photos"])


def check_groups(photos: list[dict], truth: dict[Path, int]) -> None:
    """Same dish = same group, different dishes = different groups, one best per group."""
    by_group: dict[int, list[dict]] = {}
    for p in photos:
        by_group.setdefault(p["group"], []).append(p)
    for members in by_group.values():
        assert sum(m["group_best"] for m in members) == 1
        best = next(m for m in members if m["group_best"])
        assert best["rank"] == min(m["rank"] for m in members)
        assert len({truth[Path(m["path"])] for m in members}) == 1
    assert len(by_group) == len(set(truth.values()))


def test_score_json_groups_a_shoot_of_the_bundled_samples(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    truth = make_shoot(sample_sources(), tmp_path / "shoot")
    photos = _score_json(capsys, tmp_path / "shoot")
    assert len(photos) == len(truth)
    check_groups(photos, truth)
    # Re-opening: everything (embeddings too) comes from the cache, same groups.
    again = _score_json(capsys, tmp_path / "shoot")
    assert all(p["cached"] for p in again)
    assert [(p["path"], p["group"], p["group_best"]) for p in again] == [
        (p["path"], p["group"], p["group_best"]) for p in photos]


@pytest.mark.slow
def test_export_top_takes_one_per_dish(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, shared_data: Path
) -> None:
    """20 dishes x 4 near-copies: --top 10 exports 10 different dishes."""
    truth = make_shoot(chowdown_sources(shared_data, 20), tmp_path / "shoot")
    assert len(set(truth.values())) == 20
    dest = tmp_path / "best"
    assert main(["export", str(tmp_path / "shoot"), "--top", "10", "--to", str(dest), "-q"]) == 0
    assert "best of each near-duplicate group" in capsys.readouterr().out
    names = sorted(p.name for p in dest.glob("*.jpg"))
    assert len(names) == 10
    dishes = Counter(truth[tmp_path / "shoot" / n] for n in names)
    assert len(dishes) == 10, dishes
    photos = _score_json(capsys, tmp_path / "shoot")
    check_groups(photos, truth)
    # --all-in-group: the plain top 10, near-copies and all.
    dest2 = tmp_path / "all"
    assert main(["export", str(tmp_path / "shoot"), "--top", "10", "--to", str(dest2),
                 "--all-in-group", "-q"]) == 0
    plain = [Path(p["path"]).name for p in photos[:10]]
    assert sorted(p.name for p in dest2.glob("*.jpg")) == sorted(plain)
    assert len({truth[tmp_path / "shoot" / n] for n in plain}) < 10


def test_embeddings_table_round_trip(tmp_path: Path) -> None:
    from curator.cache import CachedEmbedding

    p = make_jpeg(tmp_path / "a.jpg")
    key = FileKey.of(p)
    vec = np.linspace(-1, 1, EMBED_DIM).astype(np.float16)
    with ScoreCache(tmp_path / "c.sqlite3") as cache:
        cache.put_embeddings([(key, CachedEmbedding(vec, 12.5))], "m")
        got = cache.get_embeddings([key], "m")[key]
        assert np.array_equal(got.vector, vec) and got.captured == 12.5
        assert cache.get_embeddings([key], "other") == {}
        p.write_bytes(p.read_bytes() + b"\0")  # the file changed: the row no longer counts
        assert cache.get_embeddings([FileKey.of(p)], "m") == {}


def test_similar_plates_at_other_tables_are_split_out_of_a_stack_by_their_pixels(
        shared_data: Path) -> None:
    """Customer photos of three restaurants (yelp-food: la_cueva, luna, zona_rosa; 140 photos,
    scored for real, no capture times).  The embedding alone stacks a luna plate with a
    la_cueva one and four pairs of other plates at la_cueva (at the 0.20 cut); comparing the
    frames' pixels (``curator.bursts.split_group``) splits every one of them and keeps the one
    true copy, zona_rosa's re-posted photo (the same plate, by eye)."""
    import csv

    from curator.groups import group_photos
    from curator.score import PhotoScore, Scorer, rank

    with open(shared_data / "yelp-food" / "labels.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh)
                if r["restaurant"] in ("la_cueva", "luna", "zona_rosa")]
    where = {shared_data / "yelp-food" / "images" / r["file"]: r["restaurant"] for r in rows}
    ranked = rank(r for r in Scorer(cache=None).score(list(where)) if isinstance(r, PhotoScore))
    assert len(ranked) == len(rows) == 140

    def stacks(compare: bool) -> list[list[Path]]:
        groups = group_photos(ranked, compare=compare)
        members: dict[int, list[Path]] = {}
        for s in ranked:
            members.setdefault(groups.group_of[s.path], []).append(s.path)
        return [m for m in members.values() if len(m) > 1]

    images = shared_data / "yelp-food" / "images"
    copy = {images / "y4b7df2e5bd56.jpg", images / "y04a88eb9b5bb.jpg"}
    alone = stacks(compare=False)  # the embedding's groups, as without pixel access
    assert any(len({where[p] for p in m}) > 1 for m in alone), alone
    assert len(alone) >= 3 and set(map(frozenset, alone)) >= {frozenset(copy)}, alone
    assert [set(m) for m in stacks(compare=True)] == [copy]


@pytest.mark.slow
def test_a_cached_reopen_stacks_the_same_photos_as_the_first_scoring(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, shared_data: Path) -> None:
    """yelp-food's la_cueva and zona_rosa photos (85, no capture times) scored by the CLI with
    a cache, the same-scene check's remembered verdicts forgotten (``curator.bursts``' memos:
    a new process), then scored again: the second run reads every embedding back from the
    cache (stored as float16) and must stack exactly what the first did — zona_rosa's
    re-posted photo with its original, the la_cueva plates the embedding alone pairs split
    apart by their pixels."""
    import csv
    import shutil

    from curator.bursts import MEMO, SPLIT_MEMO

    with open(shared_data / "yelp-food" / "labels.csv", newline="") as fh:
        files = [r["file"] for r in csv.DictReader(fh)
                 if r["restaurant"] in ("la_cueva", "zona_rosa")]
    folder = tmp_path / "shoot"
    folder.mkdir()
    for f in files:
        shutil.copy2(shared_data / "yelp-food" / "images" / f, folder / f)
    cache = tmp_path / "cache"

    def stacks() -> tuple[set[frozenset[str]], int]:
        MEMO.clear()
        SPLIT_MEMO.clear()
        assert main(["score", str(folder), "--json", "-q", "--cache-dir", str(cache)]) == 0
        doc = json.loads(capsys.readouterr().out)
        groups: dict[int, set[str]] = {}
        for p in doc["photos"]:
            groups.setdefault(p["group"], set()).add(Path(p["path"]).name)
        return ({frozenset(g) for g in groups.values() if len(g) > 1},
                sum(1 for p in doc["photos"] if p["cached"]))

    first, cached_first = stacks()
    again, cached_again = stacks()
    assert cached_first == 0 and cached_again == len(files) == 85
    assert again == first == {frozenset({"y4b7df2e5bd56.jpg", "y04a88eb9b5bb.jpg"})}, first


@pytest.mark.slow
def test_the_named_restaurants_photos_stack_no_other_restaurants_plate_and_copies_still_stack(
        tmp_path: Path, shared_data: Path) -> None:
    """The issue's target at the default setting: yelp-food's 503 photos of its 16 named
    restaurants (customer photos of similar dishes, no capture times) plus near-copies of 20
    of them (5 % crop, x1.15 brighter, a 1 degree turn, re-saved at quality 75) grouped for
    real: at most 1 same-stack pair of two restaurants per 200 photos, and at least 97 % of
    the copies' pairs in one stack."""
    import csv
    import itertools

    from PIL import Image, ImageEnhance

    from curator.groups import group_photos
    from curator.score import PhotoScore, Scorer, rank

    images = shared_data / "yelp-food" / "images"
    with open(shared_data / "yelp-food" / "labels.csv", newline="") as fh:
        where = {images / r["file"]: r["restaurant"] for r in csv.DictReader(fh)
                 if r["restaurant"] != "unknown"}
    assert len(where) == 503
    dish: dict[Path, Path] = {}
    for src in sorted(where)[::25][:20]:
        im = Image.open(src).convert("RGB")
        w, h = im.size
        edits = {"crop": im.crop((w // 20, h // 20, w, h)),
                 "brighter": ImageEnhance.Brightness(im).enhance(1.15),
                 "turn": im.rotate(1.0, Image.Resampling.BICUBIC).crop(
                     (w // 50, h // 50, w - w // 50, h - h // 50)),
                 "resave": im}
        dish[src] = src
        for name, e in edits.items():
            out = tmp_path / f"{src.stem}-{name}.jpg"
            e.save(out, quality=75 if name == "resave" else 90)
            where[out], dish[out] = where[src], src
    ranked = rank(r for r in Scorer(cache=None).score(list(where)) if isinstance(r, PhotoScore))
    assert len(ranked) == len(where) == 583
    group_of = group_photos(ranked).group_of
    across = sum(1 for a, b in itertools.combinations(where, 2)
                 if where[a] != where[b] and group_of[a] == group_of[b])
    pairs = [(a, b) for a, b in itertools.combinations(dish, 2) if dish[a] == dish[b]]
    found = sum(group_of[a] == group_of[b] for a, b in pairs)
    assert len(pairs) == 200
    assert across <= len(where) / 200, across
    assert found / len(pairs) >= 0.97, found
