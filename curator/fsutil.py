"""Atomic file writes: a crash leaves the old file or the new one, never half of either."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

#: Bytes of the target's name kept in its temp file's name ("." + these + "." + 8 + ".tmp").
TEMP_STEM_BYTES = 240


class FileChanged(OSError):
    """The file changed (or appeared) between reading it and replacing it: nothing was written."""


@dataclass(frozen=True)
class FileState:
    """What ``os.stat`` says of a file's identity and contents (inode, size, mtime)."""

    dev: int
    ino: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileState:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def file_state(path: Path) -> FileState | None:
    """``path``'s ``FileState`` (links followed), or None when it does not exist."""
    try:
        return FileState.of(os.stat(path))
    except FileNotFoundError:
        return None


@contextlib.contextmanager
def atomic_writer(path: Path, mode: str = "wb", newline: str | None = None,
                  expect: FileState | bool | None = True) -> Iterator[IO]:
    """Yield a temp file beside ``path``; on success fsync it and move it into place.

    ``expect``: ``True`` (default) replaces whatever is there.  A ``FileState`` replaces
    ``path`` only if it is still that file, unchanged (checked just before the rename: a
    sidecar another program rewrote meanwhile is not clobbered); ``None`` creates ``path``
    only if it does not exist (a hard link, which cannot replace).  Either raises
    ``FileChanged`` and leaves ``path`` as it is.  The new file keeps the old one's mode
    and, when running as root, its owner.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The temp name starts with the target's (whose file it is stays readable) but is cut to
    # fit 255 bytes with mkstemp's 8 random characters and ".tmp" (a 250-byte target is fine).
    stem = os.fsdecode(os.fsencode(path.name)[:TEMP_STEM_BYTES])
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=".tmp", dir=path.parent)
    try:
        _take_metadata(tmp, path)
        with os.fdopen(fd, mode, newline=newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if expect is None:
            _link_new(tmp, path)
        else:
            if expect is not True and file_state(path) != expect:
                raise FileChanged(errno.EAGAIN, "changed by another program meanwhile",
                                  str(path))
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _take_metadata(tmp: str, path: Path) -> None:
    """Give the temp file the mode (and, as root, the owner) the file it replaces has.

    mkstemp makes the file private (0600); a new file gets the mode a normal write would have.
    """
    try:
        st = os.stat(path)
    except OSError:
        os.chmod(tmp, default_mode())
        return
    os.chmod(tmp, st.st_mode & 0o777)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        with contextlib.suppress(OSError):  # a sidecar of the owner's stays the owner's
            os.chown(tmp, st.st_uid, st.st_gid)


def _link_new(tmp: str, path: Path) -> None:
    """Move ``tmp`` to ``path`` only if nothing is there: a hard link fails rather than
    replaces; on file systems without hard links, claim the name with an exclusive create."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise FileChanged(errno.EEXIST, "created by another program meanwhile",
                          str(path)) from None
    except OSError:
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            raise FileChanged(errno.EEXIST, "created by another program meanwhile",
                              str(path)) from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def os_reason(exc: OSError, place: str = "the destination") -> str:
    """Why a write failed, in the owner's words: "the destination is full (no space left)",
    "… is read-only", "permission denied", "file name too long for …" (``place`` names
    what was written to)."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"{place} is full (no space left)"
    if exc.errno == errno.EROFS:
        return f"{place} is read-only"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.ENAMETOOLONG:
        return f"file name too long for {place}"
    return exc.strerror or str(exc)


def name_max(folder: Path) -> int:
    """The longest file name, in bytes, ``folder``'s file system takes (255 if it won't say)."""
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


def default_mode() -> int:
    """0666 less the process umask (read without changing it, via /proc when possible)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except OSError:
        pass
    return 0o644


def atomic_write_bytes(path: Path, data: bytes,
                       expect: FileState | bool | None = True) -> None:
    """Write ``data`` to ``path`` atomically (``expect``: see ``atomic_writer``)."""
    with atomic_writer(path, "wb", expect=expect) as fh:
        fh.write(data)
