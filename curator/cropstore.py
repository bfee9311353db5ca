"""The crops the owner moved by hand, remembered per photo and ratio.

One SQLite table in the per-user *data* folder (``crops.sqlite3``; ``CURATOR_DATA_DIR``
overrides it): a choice a person made is data, not cache.  A crop is kept as its centre in
fractions of the photo, per ratio (``5:4``), so it applies to the photo at any size and to
every destination of that ratio (an Uber Eats cover and a menu item share it).  Each change
is one SQLite transaction (atomic); several processes may share the file.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

from curator.crop import Box, crop_centre_fraction, crop_from_fractions
from curator.names import db_key

log = logging.getLogger(__name__)


class CropStore:
    """Remembered crop centres: ``(photo, ratio) -> (x, y)`` fractions."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None,
                                     check_same_thread=False)
        self._conn.execute("PRAGMA busy_timeout = 30000")
        self._conn.execute("CREATE TABLE IF NOT EXISTS crops (path NOT NULL, ratio TEXT NOT NULL,"
                           " cx REAL NOT NULL, cy REAL NOT NULL, updated REAL NOT NULL,"
                           " PRIMARY KEY (path, ratio))")
        self._lock = threading.Lock()

    @classmethod
    def in_dir(cls, directory: Path | None = None) -> CropStore:
        from curator.paths import user_data_dir

        return cls((directory or user_data_dir()) / "crops.sqlite3")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> CropStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _key(path: Path) -> str | bytes:
        return db_key(os.path.abspath(path))

    def centre(self, path: Path, ratio: str) -> tuple[float, float] | None:
        """The remembered centre (fractions) of ``path``'s ``ratio`` crop, or ``None``."""
        with self._lock:
            row = self._conn.execute("SELECT cx, cy FROM crops WHERE path = ? AND ratio = ?",
                                     (self._key(path), ratio)).fetchone()
        return None if row is None else (float(row[0]), float(row[1]))

    def crop(self, path: Path, ratio: str, size: tuple[int, int], aspect: float) -> Box | None:
        """The remembered crop as a box on a photo of ``size``, or ``None``."""
        c = self.centre(path, ratio)
        return None if c is None else crop_from_fractions(size, aspect, c)

    def remember(self, path: Path, ratio: str, size: tuple[int, int], crop: Box) -> None:
        """Keep ``crop`` (a box on the photo of ``size``) for ``path`` at ``ratio``."""
        cx, cy = crop_centre_fraction(size, crop)
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO crops VALUES (?,?,?,?,?)",
                               (self._key(path), ratio, min(1.0, max(0.0, cx)),
                                min(1.0, max(0.0, cy)), time.time()))

    def forget(self, path: Path, ratio: str) -> None:
        """Go back to the proposed crop for ``path`` at ``ratio``."""
        with self._lock:
            self._conn.execute("DELETE FROM crops WHERE path = ? AND ratio = ?",
                               (self._key(path), ratio))
