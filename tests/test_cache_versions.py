"""A score cache of another version, or on a full disk: never re-marked, rebuilt or thrown away.

Kinds: a cache a newer Curator last wrote (read-only when its tables still fit, else bypassed,
with one note; the file byte-identical either way), and a disk that is full when the cache is
opened or fills while it is written ("disk full", scoring goes on uncached).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from curator.cache import (
    SCHEMA_VERSION,
    CachedScore,
    FileKey,
    ScoreCache,
    is_disk_full,
    open_cache,
)
from tests.conftest import REPO, make_jpeg

ENTRY = CachedScore(5.5, 1.2, tuple([0.1] * 10), 640, 480, None, 61.0, ("dark",))
SHARED_CASES = REPO.parent / "shared" / "cases"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def as_newer(db: Path, *, drop_score: bool = False) -> None:
    """Leave ``db`` as a newer Curator would: a higher user_version, a new column and table
    (and, with ``drop_score``, a column this version needs gone)."""
    c = sqlite3.connect(db, isolation_level=None)
    try:
        c.execute("ALTER TABLE photo_scores ADD COLUMN crop TEXT")
        c.execute("UPDATE photo_scores SET crop = '0,0,1,1'")
        c.execute("CREATE TABLE dish_tags (path TEXT NOT NULL, tag TEXT NOT NULL)")
        c.execute("INSERT INTO dish_tags VALUES ('plate.jpg', 'risotto')")
        if drop_score:
            c.execute("ALTER TABLE photo_scores DROP COLUMN score")
        c.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        c.close()


def newer_state(db: Path) -> tuple[int, int, list[tuple[str, str]]]:
    c = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return (c.execute("PRAGMA user_version").fetchone()[0],
                c.execute("SELECT COUNT(*) FROM photo_scores WHERE crop = '0,0,1,1'")
                .fetchone()[0],
                c.execute("SELECT * FROM dish_tags").fetchall())
    finally:
        c.close()


def test_a_newer_versions_cache_is_read_never_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "scores.sqlite3"
    keys = [FileKey(f"/p{i}.jpg", i, i) for i in range(3)]
    with ScoreCache(db) as cache:
        cache.put_many([(k, ENTRY) for k in keys[:2]], "m")
    as_newer(db)
    before = digest(db)
    with caplog.at_level(logging.WARNING, "curator.cache"):
        notes: list[str] = []
        cache = open_cache(tmp_path, notes=notes)
        assert cache is not None and cache.read_only is not None
        assert cache.get_many(keys, "m") == {k: ENTRY for k in keys[:2]}, "its scores are used"
        cache.put_many([(keys[2], ENTRY)], "m")  # nothing is written
        cache.put_embeddings([], "m")
        cache.close()
    assert digest(db) == before
    assert newer_state(db) == (SCHEMA_VERSION + 1, 2, [("plate.jpg", "risotto")])
    warned = [r.getMessage() for r in caplog.records if "newer Curator" in r.getMessage()]
    assert len(warned) == 1 and f"schema {SCHEMA_VERSION + 1}" in warned[0]
    assert notes == [cache.note] and "left as that version wrote it" in notes[0]
    assert not list(tmp_path.glob("scores.*-*[0-9]")), "never moved aside"


def test_a_newer_cache_this_version_cannot_read_is_bypassed_untouched(tmp_path: Path) -> None:
    db = tmp_path / "scores.sqlite3"
    with ScoreCache(db) as cache:
        cache.put_many([(FileKey("/p.jpg", 1, 1), ENTRY)], "m")
    as_newer(db, drop_score=True)
    before = digest(db)
    notes: list[str] = []
    assert open_cache(tmp_path, notes=notes) is None
    assert "newer Curator" in notes[0] and "left as it is" in notes[0]
    assert digest(db) == before and sorted(p.name for p in tmp_path.iterdir() if
                                           p.name.startswith("scores.sqlite3")
                                           and "-" in p.name[15:]) == []
    assert newer_state(db)[0] == SCHEMA_VERSION + 1


def test_a_newer_caches_unfinished_journal_is_not_folded_into_it(tmp_path: Path) -> None:
    """A newer Curator was killed mid-write: its WAL holds a change.  Opening the file
    read-write (even only to read its version) would checkpoint that WAL into it."""
    db = tmp_path / "scores.sqlite3"
    with ScoreCache(db) as cache:
        cache.put_many([(FileKey("/p.jpg", 1, 1), ENTRY)], "m")
    as_newer(db)
    code = ("import os, sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None);"
            "c.execute('PRAGMA wal_autocheckpoint=0');"
            "c.execute(\"INSERT INTO dish_tags VALUES ('tart.jpg', 'tiramisu')\");"
            "os._exit(0)")  # no close: the change stays in the WAL
    subprocess.run([sys.executable, "-c", code, str(db)], check=True)
    wal = Path(f"{db}-wal")
    before, wal_before = digest(db), wal.stat().st_size
    assert wal_before > 0
    cache = open_cache(tmp_path)
    assert cache is not None and cache.read_only is not None
    assert cache.get_many([FileKey("/p.jpg", 1, 1)], "m")
    cache.close()
    assert digest(db) == before and wal.stat().st_size == wal_before


@pytest.mark.slow
def test_shared_case_cache_newer_schema_holds(tmp_path: Path) -> None:
    make = SHARED_CASES / "cache-newer-schema" / "make.py"
    if not make.is_file():
        pytest.skip("../shared/cases is not present")
    photos, cache_dir = tmp_path / "photos", tmp_path / "C"
    subprocess.run([sys.executable, str(make), str(photos)], check=True, capture_output=True)
    curator = [sys.executable, "-m", "curator", "score", str(photos), "--cache-dir",
               str(cache_dir)]
    subprocess.run([*curator, "-q"], check=True, capture_output=True, timeout=300)
    db = cache_dir / "scores.sqlite3"
    subprocess.run([sys.executable, str(make), str(photos), "--bump", str(db)], check=True,
                   capture_output=True)
    before = digest(db)
    run = subprocess.run([*curator, "--json"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "Traceback" not in run.stderr
    import json

    doc = json.loads(run.stdout)
    assert len(doc["photos"]) == 4 and all(p["cached"] for p in doc["photos"])
    assert run.stderr.count("newer Curator") == 1
    assert digest(db) == before
    c = sqlite3.connect(db)
    assert c.execute("PRAGMA user_version").fetchone()[0] == 3
    assert c.execute("SELECT COUNT(*) FROM dish_tags").fetchone()[0] == 1
    assert c.execute("SELECT COUNT(crop) FROM photo_scores").fetchone()[0] == 4
    c.close()


# -- a full disk -------------------------------------------------------------------------------

@contextmanager
def small_disk(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``path`` (root only; the test is skipped otherwise)."""
    path.mkdir(parents=True, exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                      capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=False)


def fill(folder: Path) -> None:
    """Write until the disk is full (unbuffered: no flush can fail on close)."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for size in (65536, 4096, 512, 1):
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:
                continue
    finally:
        os.close(fd)


def test_a_cache_on_a_full_disk_says_disk_full_and_scoring_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with small_disk(tmp_path / "disk", "256k") as disk:
        cache_dir = disk / "cache"
        with ScoreCache.in_dir(cache_dir) as cache:  # an existing cache, WAL mode
            cache.put_many([(FileKey("/a.jpg", 1, 1), ENTRY)], "m")
        before = digest(cache_dir / "scores.sqlite3")
        fill(disk)
        notes: list[str] = []
        with caplog.at_level(logging.WARNING, "curator.cache"):
            cache = open_cache(cache_dir, notes=notes)
        assert cache is not None and cache.read_only is not None, "its scores are still read"
        assert cache.get_many([FileKey("/a.jpg", 1, 1)], "m") == {FileKey("/a.jpg", 1, 1): ENTRY}
        if cache is not None:  # nothing is written to it
            cache.put_many([(FileKey(f"/{i}.jpg", i, i), ENTRY) for i in range(200)], "m")
            notes.append(cache.note or "")
            cache.close()
        assert notes and "is full" in notes[0], notes
        assert "disk I/O error" not in " ".join(notes)
        text = " ".join(r.getMessage() for r in caplog.records)
        assert "is full" in text and "I/O error" not in text
        assert digest(cache_dir / "scores.sqlite3") == before, "nothing deleted or rebuilt"


def test_a_disk_that_fills_while_scores_are_saved(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "160k") as disk:
        cache = ScoreCache.in_dir(disk / "cache")
        blob = CachedScore(5.0, 1.0, tuple([0.1] * 10), 1, 1, "x" * 2000)
        for i in range(400):  # until the disk is full
            cache.put_many([(FileKey(f"/{i}-{j}.jpg", i, j), blob) for j in range(5)], "m")
            if cache.bypassed:
                break
        assert cache.bypassed == "full" and cache.note is not None and "is full" in cache.note
        assert cache.get_many([FileKey("/0-0.jpg", 0, 0)], "m") == {}  # bypassed: not read
        cache.close()
    assert is_disk_full(OSError(28, "No space left on device"), tmp_path)


@pytest.mark.slow
def test_cli_scores_with_its_cache_on_a_full_disk(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    for i in range(3):
        make_jpeg(photos / f"p{i}.jpg", seed=i)
    with small_disk(tmp_path / "disk", "256k") as disk:
        subprocess.run([sys.executable, "-m", "curator", "score", str(photos), "-q",
                        "--cache-dir", str(disk / "c")], check=True, capture_output=True,
                       timeout=300)
        fill(disk)
        os.utime(photos / "p0.jpg")  # one photo to score again: the cache must be written
        run = subprocess.run([sys.executable, "-m", "curator", "score", str(photos), "-q",
                              "--cache-dir", str(disk / "c")], capture_output=True, text=True,
                             timeout=300)
    assert run.returncode == 0, run.stderr
    assert "is full" in run.stderr and "I/O error" not in run.stderr
    assert run.stdout.count(".jpg") == 3, "every photo ranked"
