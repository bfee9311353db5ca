"""Atomic file writes: a crash leaves the old file or the new one, never half of either."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

#: Bytes of the target's name kept in its temp file's name ("." + these + "." + 8 + ".tmp").
TEMP_STEM_BYTES = 240


@contextlib.contextmanager
def atomic_writer(path: Path, mode: str = "wb", newline: str | None = None) -> Iterator[IO]:
    """Yield a temp file beside ``path``; on success fsync it and ``os.replace`` it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The temp name starts with the target's (whose file it is stays readable) but is cut to
    # fit 255 bytes with mkstemp's 8 random characters and ".tmp" (a 250-byte target is fine).
    stem = os.fsdecode(os.fsencode(path.name)[:TEMP_STEM_BYTES])
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file private (0600); give it the mode a normal write would have.
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else _default_mode())
        with os.fdopen(fd, mode, newline=newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def name_max(folder: Path) -> int:
    """The longest file name, in bytes, ``folder``'s file system takes (255 if it won't say)."""
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


def _default_mode() -> int:
    """0666 less the process umask (read without changing it, via /proc when possible)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except OSError:
        pass
    return 0o644


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_writer(path, "wb") as fh:
        fh.write(data)
