"""SQLite score cache, so re-opening an unchanged folder decodes nothing.

Keyed by (absolute path, model digest); an entry counts only while the file's size and mtime
still match, so an edited photo is rescored and its stale row replaced rather than piling up.
WAL mode plus a busy timeout lets the GUI and a CLI run share one cache file safely.

Faults, as kinds (README "When things go wrong"):

* **busy** (another process holds the lock: a second Curator, a hung run, a network share):
  waited for ``wait_s`` seconds, then *bypassed for this run* with one warning.  A busy cache
  is never renamed, deleted or rewritten.
* **corrupt** (SQLite reports ``SQLITE_CORRUPT``/``SQLITE_NOTADB``, confirmed by
  ``PRAGMA quick_check`` on a fresh connection): moved aside to ``scores.corrupt-<time>`` and
  a new cache started; the warning says where the old file went.
* **unavailable** (folder read-only, missing and not creatable): no cache for this run, one
  warning.
* **disk full** (``SQLITE_FULL``, or an I/O error while the disk has no space left, which is
  how SQLite reports a full disk when it opens a WAL database): said as "disk full", with the
  space left; scoring goes on without the cache.  Nothing is deleted.
* **newer** (``PRAGMA user_version`` above ``SCHEMA_VERSION``: written by a newer Curator on
  a shared profile, or before going back to an older release): opened *read-only* when its
  tables still hold the columns this version reads, else bypassed; either way one note, and it
  is never re-marked, migrated down, moved aside or rebuilt, so the newer version finds it as
  it left it.
Non-UTF-8 file names are keyed by their raw bytes (see ``curator.names``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curator.names import db_key
from curator.paths import default_cache_dir

log = logging.getLogger(__name__)

#: 2: rows carry the 0–100 ``score`` and the ``reasons``.  They live in a new table
#: (``photo_scores``): version-1 rows (table ``scores``) have neither, so they are never read
#: again (their photos are rescored once) instead of being misread as "no score, no reasons".
SCHEMA_VERSION = 2
_CHUNK = 500  # stay far below SQLite's host-parameter limit
#: How long to wait for another process's lock before going on without the cache (seconds).
BUSY_WAIT_S = 3.0

# SQLite primary result codes (sqlite3.h) used to tell busy from broken.
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_CORRUPT, _SQLITE_NOTADB = 5, 6, 11, 26
_SQLITE_IOERR, _SQLITE_FULL = 10, 13
#: Below this much free space an I/O error is taken for a full disk (SQLite says "disk I/O
#: error", SQLITE_IOERR_SHMSIZE, when it cannot size the WAL index on a full disk).
_NEARLY_FULL = 1 << 20


class CacheUnavailable(RuntimeError):
    """The cache cannot be used for this run (busy, read-only, missing); nothing was changed."""


class CacheBusy(CacheUnavailable):
    """Another process holds the cache's lock longer than we are willing to wait."""


def _code(exc: sqlite3.Error) -> int:
    return int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


def is_busy(exc: sqlite3.Error) -> bool:
    """True for "database is locked/busy" errors: someone else is using the file."""
    text = str(exc).lower()
    return _code(exc) in (_SQLITE_BUSY, _SQLITE_LOCKED) or "locked" in text or "busy" in text


def free_bytes(folder: Path) -> int | None:
    """Bytes an unprivileged user may still write on ``folder``'s file system, or None."""
    try:
        st = os.statvfs(folder)
    except (OSError, AttributeError):
        return None
    return st.f_bavail * st.f_frsize


def is_disk_full(exc: BaseException, folder: Path) -> bool:
    """True when ``exc`` means the cache's disk is full: ``SQLITE_FULL``, ``ENOSPC``/
    ``EDQUOT``, or an SQLite I/O error while less than 1 MiB is free on ``folder``'s disk."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if not isinstance(exc, sqlite3.Error):
        return False
    code = _code(exc)
    if code == _SQLITE_FULL or "disk is full" in str(exc).lower():
        return True
    left = free_bytes(folder)
    return code == _SQLITE_IOERR and left is not None and left < _NEARLY_FULL


def disk_full_text(path: Path) -> str:
    """"the disk holding score cache X is full (12 kB left)": for warnings and notes."""
    left = free_bytes(Path(path).parent)
    shown = "" if left is None else f" ({_size(left)} left)"
    return f"the disk holding the score cache {path} is full{shown}"


def _read_only_fs(folder: Path) -> bool:
    """Whether ``folder`` is on a file system mounted read-only."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def _size(n: int) -> str:
    """A byte count as people read it: 512 bytes, 12.3 kB, 4.1 MB."""
    if n < 1000:
        return f"{n} bytes"
    value = float(n)
    for unit in ("kB", "MB", "GB"):
        value /= 1000
        if value < 1000:
            return f"{value:.1f} {unit}"
    return f"{value / 1000:.1f} TB"


def is_corrupt(exc: sqlite3.Error) -> bool:
    """True for errors that mean the file's contents are damaged (not busy, not read-only)."""
    text = str(exc).lower()
    return _code(exc) in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or "malformed" in text or (
        "not a database" in text
    )


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
    #: The learned reasons alone and the classic measures (``curator.measures``), so the
    #: reasons can be given again at another strictness without decoding (None: not kept).
    learned: tuple[str, ...] | None = None
    measures: dict[str, float] | None = None


@dataclass(frozen=True)
class CachedEmbedding:
    """A photo's near-duplicate embedding (1-D float16 array) and EXIF capture time."""

    vector: Any  # numpy float16 array, shape (curator.groups.EMBED_DIM,)
    captured: float | None


class NewerSchema(Exception):
    """The cache was last written by a newer Curator (its ``user_version`` is higher)."""

    def __init__(self, version: int) -> None:
        super().__init__(f"schema version {version}")
        self.version = version


class ForeignSchema(Exception):
    """The file is an SQLite database, but its tables are not this cache's (missing columns).

    Unusable, but not busy and not damaged: set aside like a damaged cache (named
    ``<name>.unusable-<unix time>``) and replaced by a fresh one, so it does not warn on every
    run forever.
    """


#: The columns each table must have (a file that lacks any is a ``ForeignSchema``).
_COLUMNS = {
    "scores": {"path", "model", "size", "mtime_ns", "mean", "sd", "dist", "width", "height",
               "error", "updated"},  # version 1 (dropped on upgrade)
    "photo_scores": {"path", "model", "size", "mtime_ns", "mean", "sd", "dist", "width",
                     "height", "error", "updated", "score", "reasons"},
    "embeddings": {"path", "model", "size", "mtime_ns", "vec", "captured"},
    "photo_measures": {"path", "model", "size", "mtime_ns", "learned", "measures"},
    "group_verdicts": {"key", "verdicts", "updated"},
}


class ScoreCache:
    """A process-safe score cache in one SQLite file."""

    def __init__(self, path: Path, wait_s: float | None = None) -> None:
        """Open or create the cache at ``path``.

        Raises ``CacheBusy`` when another process holds the lock for more than ``wait_s``
        seconds and ``CacheUnavailable`` when the file or folder cannot be used; in both cases
        the file is left exactly as it was.  Only a file that fails SQLite's integrity check is
        moved aside (to ``<name>.corrupt-<unix time>``, logged) and replaced by a new cache.
        """
        self.path = Path(path)
        self.wait_s = max(0.0, BUSY_WAIT_S if wait_s is None else wait_s)
        #: Why this run stopped using the cache (busy or failing mid-run), or None.
        self.bypassed: str | None = None
        #: Why the cache is only read this run (written by a newer Curator), or None.
        self.read_only: str | None = None
        existed = self.path.exists()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            if is_disk_full(exc, self.path.parent):
                raise CacheUnavailable(disk_full_text(self.path)) from exc
            raise CacheUnavailable(
                f"cannot create the cache folder {self.path.parent}: {exc.strerror or exc}"
            ) from exc
        try:
            self._conn = self._open()
        except NewerSchema as exc:
            self._conn = self._open_newer(exc.version)
        except ForeignSchema as exc:
            try:
                self._set_aside(exc, "is not a Curator score cache this version can use",
                                "unusable")
            except OSError as mv:
                raise CacheUnavailable(
                    f"score cache {self.path} {exc} and cannot be moved aside: {mv}"
                ) from exc
            self._conn = self._open()
        except sqlite3.Error as exc:
            if is_busy(exc):
                raise CacheBusy(
                    f"score cache {self.path} is busy (locked by another process for over "
                    f"{self.wait_s:g} s)"
                ) from exc
            if is_disk_full(exc, self.path.parent):
                if not existed:
                    self._remove_empty()  # a 0-byte file this run began is no cache
                    raise CacheUnavailable(disk_full_text(self.path)) from exc
                # The scores already there are still good: read them, save nothing.
                self._conn = self._open_read_only(
                    disk_full_text(self.path), "but new ones are not saved this run",
                    immutable=True)
                return
            if self._cannot_write() and not is_corrupt(exc):
                # A read-only disk or folder: the scores already there are still good.
                self._conn = self._open_read_only(
                    f"score cache {self.path} cannot be written (its disk or folder is "
                    "read-only)", "but new ones are not saved this run")
                return
            if not (is_corrupt(exc) and self._fails_integrity_check()):
                raise CacheUnavailable(f"cannot use score cache {self.path}: {exc}") from exc
            try:
                self._set_aside(exc)
            except OSError as mv:
                raise CacheUnavailable(
                    f"score cache {self.path} is damaged and cannot be moved aside: {mv}"
                ) from exc
            self._conn = self._open()

    def _open_newer(self, version: int) -> sqlite3.Connection:
        """Open a cache a newer Curator wrote, read-only; raise ``CacheUnavailable`` (the
        file untouched) when its tables lack what this version reads."""
        return self._open_read_only(
            f"score cache {self.path} was last written by a newer Curator (schema {version}; "
            f"this version knows {SCHEMA_VERSION})",
            "but nothing is written to it, so the newer version finds it as it left it")

    def _read_only_connection(self, immutable: bool = False) -> sqlite3.Connection:
        """A read-only connection; on a read-only disk or folder, where SQLite cannot make
        the WAL's shared-memory file, one that skips locking (``immutable``: nothing can
        write there)."""
        uri = self.path.resolve().as_uri()
        try:
            conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=self.wait_s,
                                   isolation_level=None)
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.Error:
            if not immutable and os.access(self.path.parent, os.W_OK) and \
                    not _read_only_fs(self.path.parent):
                raise
        return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, timeout=self.wait_s,
                               isolation_level=None)

    def _open_read_only(self, why: str, so: str, immutable: bool = False) -> sqlite3.Connection:
        try:
            conn = self._read_only_connection(immutable)
        except sqlite3.Error as exc:
            raise CacheUnavailable(f"{why} and cannot be opened read-only ({exc}); it is "
                                   "left as it is") from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.wait_s * 1000)}")
            for table in ("photo_scores", "embeddings"):
                have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
                if not _COLUMNS[table] <= have:
                    raise CacheUnavailable(f"{why} in a form this version cannot read; it is "
                                           "left as it is")
        except sqlite3.Error as exc:
            conn.close()
            raise CacheUnavailable(f"{why} and cannot be read ({exc}); it is left as it "
                                   "is") from exc
        except CacheUnavailable:
            conn.close()
            raise
        self.read_only = f"{why}: its scores are used, {so}"
        log.warning("%s", self.read_only)
        return conn

    def _remove_empty(self) -> None:
        for side in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
            with contextlib.suppress(OSError):
                if side.stat().st_size == 0:
                    side.unlink()

    def _cannot_write(self) -> bool:
        """Whether the cache file exists but this process cannot write it or its folder."""
        if not self.path.is_file():
            return False
        return (_read_only_fs(self.path.parent) or not os.access(self.path, os.W_OK)
                or not os.access(self.path.parent, os.W_OK))

    def _set_aside(self, exc: Exception, what: str = "failed its integrity check",
                   tag: str = "corrupt") -> Path:
        """Move a file that failed the integrity check (and its WAL) aside; say where."""
        aside = self.path.with_name(f"{self.path.stem}.{tag}-{int(time.time())}")
        os.replace(self.path, aside)
        for extra in ("-wal", "-shm"):  # its journal goes with it, never onto a new DB
            side = Path(f"{self.path}{extra}")
            if side.exists():
                os.replace(side, Path(f"{aside}{extra}"))
        log.warning("score cache %s %s (%s); moved it to %s (a new cache replaces it)",
                    self.path, what, exc, aside)
        return aside

    def _fails_integrity_check(self) -> bool:
        """Confirm damage on a fresh read-only connection with ``PRAGMA quick_check``."""
        try:
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                   timeout=self.wait_s)
        except sqlite3.Error:
            return False
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
            return [tuple(r) for r in rows] != [("ok",)]
        except sqlite3.Error as exc:
            return is_corrupt(exc)
        finally:
            conn.close()

    @classmethod
    def in_dir(cls, directory: Path | None = None, wait_s: float | None = None) -> ScoreCache:
        return cls((directory or default_cache_dir()) / "scores.sqlite3", wait_s)

    def _peek_version(self) -> int | None:
        """The file's ``user_version`` read without writing (a read-write connection would
        checkpoint a newer version's WAL into it when closed), or None when unknown."""
        if not self.path.is_file():
            return None
        try:
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                   timeout=self.wait_s, isolation_level=None)
        except sqlite3.Error:
            return None
        try:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.Error:
            return None
        finally:
            conn.close()

    def _open(self) -> sqlite3.Connection:
        version = self._peek_version()
        if version is not None and version > SCHEMA_VERSION:
            raise NewerSchema(version)
        conn = sqlite3.connect(self.path, timeout=self.wait_s, isolation_level=None)
        try:
            return self._prepare(conn)
        except BaseException:
            conn.close()
            raise

    def _prepare(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        conn.execute(f"PRAGMA busy_timeout = {int(self.wait_s * 1000)}")
        # Before any write: a newer version's cache is never re-marked or changed here.
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise NewerSchema(version)
        # Before any write (WAL, new tables): a file that is not ours is left byte for byte.
        for table, cols in _COLUMNS.items():
            have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
            if have and not cols <= have:
                raise ForeignSchema(f"table {table} lacks {', '.join(sorted(cols - have))}")
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
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
        # The learned reasons and classic measures behind each row's reasons, so another
        # strictness gives its reasons from the cache (Preferences); a new table, not a new
        # column: caches of the same schema stay readable both ways.
        conn.execute(
            """CREATE TABLE IF NOT EXISTS photo_measures (
                path TEXT NOT NULL, model TEXT NOT NULL,
                size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
                learned TEXT, measures TEXT,
                PRIMARY KEY (path, model))"""
        )
        # What comparing a near-duplicate group's frames decided (``curator.bursts``: the
        # same-scene split and each set's order), keyed by a digest of the members' file
        # identities, scores and settings, so a re-opened folder reads no frame again.
        conn.execute(
            """CREATE TABLE IF NOT EXISTS group_verdicts (
                key TEXT PRIMARY KEY, verdicts TEXT NOT NULL, updated REAL NOT NULL)"""
        )
        if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            # Writes only when needed (a read-only or busy cache still opens for reading).
            conn.execute("DROP TABLE IF EXISTS scores")  # version 1 rows: no score, no reasons
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        return conn

    def _bypass(self, exc: sqlite3.Error, doing: str) -> None:
        """Stop using the cache for the rest of this run after ``exc``; warn once."""
        if self.bypassed is None:
            if is_disk_full(exc, self.path.parent):
                self.bypassed = "full"
                log.warning("%s while %s; scoring goes on without the cache this run "
                            "(nothing was deleted)", disk_full_text(self.path), doing)
                return
            if self.read_only is None and is_corrupt(exc) and not is_busy(exc) and \
                    self._fails_integrity_check():
                self._conn.close()
                try:
                    self._set_aside(exc)
                    # What the warning promises: a new cache, from this run on (the photos
                    # scored from here are not scored again next time).
                    self._conn = self._open()
                    return
                except (OSError, sqlite3.Error, ForeignSchema):
                    self.bypassed = f"damaged ({exc})"
                    self._conn = sqlite3.connect(":memory:")  # close() stays valid
                return
            if is_busy(exc):
                why = f"busy (locked by another process for over {self.wait_s:g} s)"
            else:
                why = f"failing ({exc})"
            self.bypassed = why
            log.warning("score cache %s is %s while %s; this run goes on without it "
                        "(the file is left as it is)", self.path, why, doing)

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
            by_path: dict[str | bytes, FileKey] = {db_key(k.path): k for k in chunk}
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT path, size, mtime_ns, {columns} FROM {table} "
                f"WHERE model = ? AND path IN ({marks})",
                [model, *by_path],
            ).fetchall()
            for path, size, mtime_ns, *rest in rows:
                key = by_path[path]
                if key.size == size and key.mtime_ns == mtime_ns:  # else: changed since
                    yield key, tuple(rest)

    def get_many(self, keys: Sequence[FileKey], model: str) -> dict[FileKey, CachedScore]:
        """Entries still valid for these files under ``model`` (missing or stale ones left out)."""
        found: dict[FileKey, CachedScore] = {}
        if self.bypassed is not None:
            return found
        try:
            rows = self._valid_rows(
                "photo_scores", "mean, sd, dist, width, height, error, score, reasons", keys, model)
            for key, (mean, sd, dist, width, height, error, score, why) in rows:
                found[key] = CachedScore(
                    mean, sd, tuple(json.loads(dist)) if dist else None, width, height, error,
                    score, tuple(json.loads(why)) if why else (),
                )
            if found and self._has_table("photo_measures"):
                for key, (learned, measures) in self._valid_rows(
                        "photo_measures", "learned, measures", list(found), model):
                    found[key] = dataclasses.replace(
                        found[key], learned=tuple(json.loads(learned or "[]")),
                        measures=json.loads(measures) if measures else None)
        except sqlite3.Error as exc:
            self._bypass(exc, "reading")
        return found

    def _has_table(self, name: str) -> bool:
        """Whether the cache has table ``name`` (a newer version's, read-only, may not)."""
        row = self._conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                                 "name = ?", (name,)).fetchone()
        return row is not None

    @property
    def note(self) -> str | None:
        """What the owner should know about the cache this run (one short line for the
        window's status bar; the log has the details), or None when all is well."""
        if self.bypassed == "full":
            left = free_bytes(self.path.parent)
            shown = "" if left is None else f" ({_size(left)} left)"
            return f"The disk holding the score cache is full{shown}: scores are not saved."
        if self.bypassed is not None:
            return f"The score cache is {self.bypassed}: scores are not saved this run."
        if self.read_only is not None and " is full" in self.read_only:
            return ("The disk holding the score cache is full: its scores are used, new ones "
                    "are not saved.")
        if self.read_only is not None and "newer Curator" in self.read_only:
            return ("The score cache was written by a newer Curator: its scores are used, "
                    "and it is left as that version wrote it.")
        if self.read_only is not None:
            return "The score cache cannot be written: its scores are used, new ones not saved."
        return None

    def put_many(self, items: Iterable[tuple[FileKey, CachedScore]], model: str) -> None:
        """Store results in one short transaction (skipped once the cache is bypassed, or
        when it is read-only)."""
        if self.bypassed is not None or self.read_only is not None:
            return
        items = list(items)
        now = time.time()
        rows = [
            (
                db_key(k.path), model, k.size, k.mtime_ns, v.mean, v.sd,
                json.dumps([round(p, 6) for p in v.distribution]) if v.distribution else None,
                v.width, v.height, v.error, now, v.score,
                json.dumps(list(v.reasons)) if v.reasons else None,
            )
            for k, v in items
        ]
        if not rows:
            return
        extra = [(db_key(k.path), model, k.size, k.mtime_ns, json.dumps(list(v.learned or ())),
                  json.dumps(v.measures)) for k, v in items if v.measures is not None]
        try:
            with self._transaction():
                self._conn.executemany(
                    "INSERT OR REPLACE INTO photo_scores VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows
                )
                if extra:
                    self._conn.executemany(
                        "INSERT OR REPLACE INTO photo_measures VALUES (?,?,?,?,?,?)", extra)
        except sqlite3.Error as exc:
            self._bypass(exc, "saving scores")

    def get_embeddings(
        self, keys: Sequence[FileKey], model: str
    ) -> dict[FileKey, CachedEmbedding]:
        """Embeddings still valid for these files under ``model`` (stale ones left out)."""
        import numpy as np

        if self.bypassed is not None:
            return {}
        try:
            return {key: CachedEmbedding(np.frombuffer(vec, dtype="<f2"), captured)
                    for key, (vec, captured) in self._valid_rows("embeddings", "vec, captured",
                                                                 keys, model)}
        except sqlite3.Error as exc:
            self._bypass(exc, "reading")
            return {}

    def put_embeddings(self, items: Iterable[tuple[FileKey, CachedEmbedding]], model: str) -> None:
        """Store embeddings (little-endian float16 bytes) in one short transaction."""
        import numpy as np

        if self.bypassed is not None or self.read_only is not None:
            return
        rows = [
            (db_key(k.path), model, k.size, k.mtime_ns,
             np.asarray(v.vector, dtype="<f2").tobytes(), v.captured)
            for k, v in items if v.vector is not None
        ]
        if not rows:
            return
        try:
            with self._transaction():
                self._conn.executemany(
                    "INSERT OR REPLACE INTO embeddings VALUES (?,?,?,?,?,?)", rows
                )
        except sqlite3.Error as exc:
            self._bypass(exc, "saving embeddings")

    def get_verdicts(self, keys: Sequence[str]) -> dict[str, str]:
        """Remembered group verdicts (``curator.bursts.verdict_key`` -> their JSON) of those
        ``keys`` the cache holds; {} when it has none or cannot be read now."""
        found: dict[str, str] = {}
        if self.bypassed is not None or not keys or not self._has_table("group_verdicts"):
            return found
        try:
            for i in range(0, len(keys), _CHUNK):
                chunk = list(keys[i : i + _CHUNK])
                marks = ",".join("?" * len(chunk))
                found.update(self._conn.execute(
                    f"SELECT key, verdicts FROM group_verdicts WHERE key IN ({marks})",
                    chunk).fetchall())
        except sqlite3.Error as exc:
            self._bypass(exc, "reading group verdicts")
        return found

    def put_verdicts(self, items: dict[str, str]) -> None:
        """Remember group verdicts (key -> JSON) in one short transaction (nothing when the
        cache is read-only, full or bypassed)."""
        if self.bypassed is not None or self.read_only is not None or not items:
            return
        now = time.time()
        try:
            with self._transaction():
                self._conn.executemany("INSERT OR REPLACE INTO group_verdicts VALUES (?,?,?)",
                                       [(k, v, now) for k, v in items.items()])
        except sqlite3.Error as exc:
            self._bypass(exc, "saving group verdicts")

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


def open_cache(directory: Path | None = None, wait_s: float | None = None,
               notes: list[str] | None = None) -> ScoreCache | None:
    """The score cache in ``directory``, or ``None`` (one warning) when it cannot be used now.

    What the CLI and the window call: a busy, read-only, full or newer cache never stops a
    run.  ``notes`` gains the one line the owner should see about it (the window's status).
    """
    try:
        cache = ScoreCache.in_dir(directory, wait_s)
    except CacheUnavailable as exc:
        log.warning("%s; scoring without the cache this run (nothing was deleted)", exc)
        if notes is not None:
            notes.append(f"{exc}; scoring without the cache this run (nothing was deleted)")
        return None
    if notes is not None and cache.note is not None:
        notes.append(cache.note)
    return cache
