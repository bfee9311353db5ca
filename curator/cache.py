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
from typing import Any

from curator.paths import default_cache_dir

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
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


@dataclass(frozen=True)
class CachedEmbedding:
    """A photo's near-duplicate embedding (1-D float16 array) and EXIF capture time."""

    vector: Any  # numpy float16 array, shape (curator.groups.EMBED_DIM,)
    captured: float | None


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
            """CREATE TABLE IF NOT EXISTS scores (
                path TEXT NOT NULL, model TEXT NOT NULL,
                size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
                mean REAL, sd REAL, dist TEXT, width INTEGER, height INTEGER, error TEXT,
                updated REAL NOT NULL,
                PRIMARY KEY (path, model))"""
        )
        # Near-duplicate embeddings live beside the scores, keyed the same way (the model
        # digest names the backbone that made them); a scored photo without a row here is
        # scored again once, so old caches fill in by themselves.
        conn.execute(
            """CREATE TABLE IF NOT EXISTS embeddings (
                path TEXT NOT NULL, model TEXT NOT NULL,
                size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
                vec BLOB NOT NULL, captured REAL,
                PRIMARY KEY (path, model))"""
        )
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

    def _valid_rows(
        self, table: str, columns: str, keys: Sequence[FileKey], model: str
    ) -> Iterator[tuple[FileKey, tuple[Any, ...]]]:
        """(key, the other columns) of ``table``'s rows for ``keys`` under ``model`` whose
        file still has the size and mtime it had when the row was written."""
        for chunk in self._chunks(keys):
            by_path = {k.path: k for k in chunk}
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT path, size, mtime_ns, {columns} FROM {table} "
                f"WHERE model = ? AND path IN ({marks})",
                [model, *by_path],
            )
            for path, size, mtime_ns, *rest in rows:
                key = by_path[path]
                if key.size == size and key.mtime_ns == mtime_ns:  # else: changed since
                    yield key, tuple(rest)

    def get_many(self, keys: Sequence[FileKey], model: str) -> dict[FileKey, CachedScore]:
        """Entries still valid for these files under ``model`` (missing or stale ones left out)."""
        found: dict[FileKey, CachedScore] = {}
        rows = self._valid_rows("scores", "mean, sd, dist, width, height, error", keys, model)
        for key, (mean, sd, dist, width, height, error) in rows:
            found[key] = CachedScore(
                mean, sd, tuple(json.loads(dist)) if dist else None, width, height, error
            )
        return found

    def put_many(self, items: Iterable[tuple[FileKey, CachedScore]], model: str) -> None:
        """Store results in one short transaction."""
        now = time.time()
        rows = [
            (
                k.path, model, k.size, k.mtime_ns, v.mean, v.sd,
                json.dumps([round(p, 6) for p in v.distribution]) if v.distribution else None,
                v.width, v.height, v.error, now,
            )
            for k, v in items
        ]
        if not rows:
            return
        with self._transaction():
            self._conn.executemany(
                "INSERT OR REPLACE INTO scores VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows
            )

    def get_embeddings(
        self, keys: Sequence[FileKey], model: str
    ) -> dict[FileKey, CachedEmbedding]:
        """Embeddings still valid for these files under ``model`` (stale ones left out)."""
        import numpy as np

        return {key: CachedEmbedding(np.frombuffer(vec, dtype="<f2"), captured)
                for key, (vec, captured) in self._valid_rows("embeddings", "vec, captured",
                                                             keys, model)}

    def put_embeddings(self, items: Iterable[tuple[FileKey, CachedEmbedding]], model: str) -> None:
        """Store embeddings (little-endian float16 bytes) in one short transaction."""
        import numpy as np

        rows = [
            (k.path, model, k.size, k.mtime_ns,
             np.asarray(v.vector, dtype="<f2").tobytes(), v.captured)
            for k, v in items if v.vector is not None
        ]
        if not rows:
            return
        with self._transaction():
            self._conn.executemany(
                "INSERT OR REPLACE INTO embeddings VALUES (?,?,?,?,?,?)", rows
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
            return int(self._conn.execute("SELECT COUNT(*) FROM scores").fetchone()[0])
        q = "SELECT COUNT(*) FROM scores WHERE model = ?"
        return int(self._conn.execute(q, (model,)).fetchone()[0])
