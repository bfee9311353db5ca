"""The owner's choices (picks, rejects, stars), kept across folders for learning from them.

One SQLite table in the cache folder: the latest verdict per photo (absolute path), with the
model score it had when the choice was made, and whether a sidecar took it.  ``Model ▸ Learn
From My Choices`` reads it; the sidecars stay the record other software sees, and a verdict
no sidecar could take (read-only, damaged) is read back from here (``curator.verdicts``).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from curator.culling import Flag, Verdict
from curator.names import db_key
from curator.paths import default_cache_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Choice:
    """One remembered verdict."""

    path: Path
    verdict: Verdict
    score: float | None  # the model's score when the choice was made
    when: float  # Unix time
    #: Whether a sidecar holds it too (rows of older versions: assumed so).
    saved: bool = True


class ChoiceStore:
    """The owner's verdicts, latest per photo."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        self._conn.execute("PRAGMA busy_timeout = 30000")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS choices (path TEXT PRIMARY KEY, flag INTEGER NOT NULL,"
            " stars INTEGER NOT NULL, score REAL, updated REAL NOT NULL, saved INTEGER)")
        cols = {r[1] for r in self._conn.execute("PRAGMA table_info(choices)")}
        if "saved" not in cols:  # a store of an earlier version: its rows count as saved
            self._conn.execute("ALTER TABLE choices ADD COLUMN saved INTEGER")

    @classmethod
    def in_dir(cls, directory: Path | None = None) -> ChoiceStore:
        return cls((directory or default_cache_dir()) / "choices.sqlite3")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> ChoiceStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(self, path: Path, verdict: Verdict, score: float | None = None,
               saved: bool = True) -> None:
        """Remember ``verdict`` for ``path`` (an empty verdict forgets the photo); ``saved``:
        whether a sidecar took it too."""
        key = db_key(os.path.abspath(path))  # text, or the raw bytes of a non-UTF-8 name
        if verdict.empty:
            self._conn.execute("DELETE FROM choices WHERE path = ?", (key,))
            return
        self._conn.execute(
            "INSERT OR REPLACE INTO choices (path, flag, stars, score, updated, saved) "
            "VALUES (?,?,?,?,?,?)",
            (key, int(verdict.flag), verdict.stars, score, time.time(), int(saved)))

    @classmethod
    def read_all(cls, directory: Path | None = None) -> list[Choice]:
        """Every remembered choice in ``directory``'s store, opened read-only (nothing is
        created; no store means no choices)."""
        path = (directory or default_cache_dir()) / "choices.sqlite3"
        if not path.is_file():
            return []
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
        try:
            cols = {r[1] for r in conn.execute("PRAGMA table_info(choices)")}
            saved = "saved" if "saved" in cols else "1"
            rows = conn.execute(f"SELECT path, flag, stars, score, updated, {saved} FROM choices")
            return [Choice(_path(p), Verdict(Flag(f), s), sc, t, sv is None or bool(sv))
                    for p, f, s, sc, t, sv in rows]
        finally:
            conn.close()

    def all(self) -> list[Choice]:
        rows = self._conn.execute(
            "SELECT path, flag, stars, score, updated FROM choices ORDER BY path")
        return [Choice(_path(p), Verdict(Flag(f), s), sc, t) for p, f, s, sc, t in rows]


def _path(key: str | bytes) -> Path:
    """A stored key back as a path (a BLOB key is a name that is not UTF-8)."""
    return Path(os.fsdecode(key)) if isinstance(key, bytes) else Path(key)
