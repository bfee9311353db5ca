"""SQLite score cache, so re-opening an unchanged folder decodes nothing.

Keyed by (absolute path, model digest); an entry counts only while the file's size and mtime
still match, so an edited photo is rescored and its stale row replaced rather than piling up.
WAL mode plus a busy timeout lets the GUI and a CLI run share one cache file safely.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from curator.paths import default_cache_dir

log = logging.getLogger(__name__)

#: 2: rows carry the 0–100 ``score`` and the ``reasons``.  They live in a new table
#: (``photo_scores``): version-1 rows (table ``scores``) have neither, so they are never read
#: again (their photos are rescored once) instead of being misread as "no score, no reasons".
SCHEMA_VERSION = 2
_CHUNK = 500  # stay far below SQLite's host-parameter limit


@dataclass(frozen=True)
class FileKey:
    """Identity of one file's contents, as far as a cheap ``stat`` can tell."""

    path: str  # absolute
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileKey:
        st = os.stat(path)
        # abspath also folds "..": one file, one cache key, however the folder was named.
        return cls(os.path.abspath(path), st.st_size, st.st_mtime_ns)


@dataclass(frozen=True)
class CachedScore:
    """What the cache remembers about one file under one model."""

    mean: float | None
    sd: float | None
    distribution: tuple[float, ...] | None
    width: int | None
    height: int | None
    error: str | None
    score: float | None = None
    reasons: tuple[str, ...] = ()


class ScoreCache:
    """A process-safe score cache in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = self._open()
        except sqlite3.DatabaseError as exc:
            # A cache is disposable: set a corrupt one aside rather than refusing to work.
            aside = self.path.with_suffix(f".corrupt-{int(time.time())}")
            log.warning("score cache %s is unreadable (%s); moved to %s", self.path, exc, aside)
            os.replace(self.path, aside)
            self._conn = self._open()

    @classmethod
    def in_dir(cls, directory: Path | None = None) -> ScoreCache:
        return cls((directory or default_cache_dir()) / "scores.sqlite3")

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(
            """CREATE TABLE IF NOT EXISTS photo_scores (
                path TEXT NOT NULL, model TEXT NOT NULL,
                size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
                mean REAL, sd REAL, dist TEXT, width INTEGER, height INTEGER, error TEXT,
                updated REAL NOT NULL, score REAL, reasons TEXT,
                PRIMARY KEY (path, model))"""
        )
        conn.execute("DROP TABLE IF EXISTS scores")  # version 1 rows: no score, no reasons
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        return conn

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> ScoreCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _chunks(items: Sequence[FileKey]) -> Iterator[Sequence[FileKey]]:
        for i in range(0, len(items), _CHUNK):
            yield items[i : i + _CHUNK]

    def get_many(self, keys: Sequence[FileKey], model: str) -> dict[FileKey, CachedScore]:
        """Entries still valid for these files under ``model`` (missing or stale ones left out)."""
        found: dict[FileKey, CachedScore] = {}
        for chunk in self._chunks(keys):
            by_path = {k.path: k for k in chunk}
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT path, size, mtime_ns, mean, sd, dist, width, height, error, score, "
                f"reasons FROM photo_scores "
                f"WHERE model = ? AND path IN ({marks})",
                [model, *by_path],
            )
            for path, size, mtime_ns, mean, sd, dist, width, height, error, score, why in rows:
                key = by_path[path]
                if key.size != size or key.mtime_ns != mtime_ns:
                    continue  # the file changed since it was scored
                found[key] = CachedScore(
                    mean, sd, tuple(json.loads(dist)) if dist else None, width, height, error,
                    score, tuple(json.loads(why)) if why else (),
                )
        return found

    def put_many(self, items: Iterable[tuple[FileKey, CachedScore]], model: str) -> None:
        """Store results in one short transaction."""
        now = time.time()
        rows = [
            (
                k.path, model, k.size, k.mtime_ns, v.mean, v.sd,
                json.dumps([round(p, 6) for p in v.distribution]) if v.distribution else None,
                v.width, v.height, v.error, now, v.score,
                json.dumps(list(v.reasons)) if v.reasons else None,
            )
            for k, v in items
        ]
        if not rows:
            return
        with self._transaction():
            self._conn.executemany(
                "INSERT OR REPLACE INTO photo_scores VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows
            )

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def count(self, model: str | None = None) -> int:
        if model is None:
            return int(self._conn.execute("SELECT COUNT(*) FROM photo_scores").fetchone()[0])
        q = "SELECT COUNT(*) FROM photo_scores WHERE model = ?"
        return int(self._conn.execute(q, (model,)).fetchone()[0])
