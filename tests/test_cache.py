"""Score cache: hits, misses, invalidation, corruption, and two processes at once."""

from __future__ import annotations

import multiprocessing as mp
import os
from pathlib import Path

import pytest

import curator.score as score_mod
from curator.cache import CachedScore, FileKey, ScoreCache
from curator.score import PhotoScore, Scorer
from tests.conftest import make_jpeg

ENTRY = CachedScore(5.5, 1.2, tuple([0.1] * 10), 640, 480, None)


def test_hit_miss_and_invalidation(tmp_path: Path) -> None:
    p = make_jpeg(tmp_path / "a.jpg")
    cache = ScoreCache(tmp_path / "c.sqlite3")
    key = FileKey.of(p)
    assert cache.get_many([key], "m1") == {}
    cache.put_many([(key, ENTRY)], "m1")
    assert cache.get_many([key], "m1") == {key: ENTRY}
    assert cache.get_many([key], "m2") == {}, "another model never reuses scores"
    st = p.stat()
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert cache.get_many([FileKey.of(p)], "m1") == {}, "touched file is stale"
    make_jpeg(p, 330, 240)  # rewritten: new size
    assert cache.get_many([FileKey.of(p)], "m1") == {}
    cache.put_many([(FileKey.of(p), ENTRY)], "m1")
    assert cache.count("m1") == 1, "stale row replaced, not piled up"


def test_corrupt_cache_is_set_aside(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite3"
    db.write_bytes(b"this is not a database" * 200)
    cache = ScoreCache(db)
    key = FileKey("/x.jpg", 1, 2)
    cache.put_many([(key, ENTRY)], "m")
    assert cache.get_many([key], "m") == {key: ENTRY}
    assert list(tmp_path.glob("c.sqlite3.corrupt-*")) or list(tmp_path.glob("c.corrupt-*"))


def _writer(db: str, worker: int, n: int) -> None:
    cache = ScoreCache(Path(db))
    for i in range(n):
        cache.put_many([(FileKey(f"/w{worker}/{i}.jpg", i, i), ENTRY)], "m")
    cache.close()


def test_two_processes_share_one_cache(tmp_path: Path) -> None:
    db = tmp_path / "shared.sqlite3"
    ScoreCache(db).close()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(db), w, 150)) for w in range(2)]
    for pr in procs:
        pr.start()
    for pr in procs:
        pr.join(60)
        assert pr.exitcode == 0
    assert ScoreCache(db).count("m") == 300


def test_rescan_of_unchanged_folder_decodes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = [make_jpeg(tmp_path / f"p{i}.jpg", 300, 200, seed=i) for i in range(4)]
    cache = ScoreCache(tmp_path / "c.sqlite3")
    first = list(Scorer(cache=cache).score(paths))
    assert all(isinstance(r, PhotoScore) and not r.cached for r in first)

    def no_decoding(*a: object, **k: object) -> None:
        raise AssertionError("a cached photo was decoded again")

    monkeypatch.setattr(score_mod, "load_photo", no_decoding)
    again = Scorer(cache=cache)
    second = list(again.score(paths))
    assert all(isinstance(r, PhotoScore) and r.cached for r in second)
    assert again._model is None, "model never loaded for a fully cached folder"
    by_path = {r.path: r for r in first}
    for r in second:
        assert isinstance(r, PhotoScore)
        assert r.mean == pytest.approx(by_path[r.path].mean, abs=1e-6)  # type: ignore[union-attr]


def test_same_file_by_another_name_is_one_cache_entry(tmp_path: Path) -> None:
    p = make_jpeg(tmp_path / "sub" / "a.jpg")
    cache = ScoreCache(tmp_path / "c.sqlite3")
    cache.put_many([(FileKey.of(p), ENTRY)], "m")
    detour = tmp_path / "sub" / ".." / "sub" / "a.jpg"
    assert cache.get_many([FileKey.of(detour)], "m") == {FileKey.of(p): ENTRY}
