"""Find the photos in a folder tree.

Selection is by extension only (cheap: no file is opened here); whether a file really is a
photo is decided by the loader, which reports bad ones instead of skipping them silently.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

PHOTO_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".tif", ".tiff", ".bmp",
     ".heic", ".heif", ".hif"}
)


def is_photo_name(name: str) -> bool:
    """True for names with a supported photo extension (any case), hidden files excluded."""
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in PHOTO_EXTENSIONS


def scan_folder(root: Path, recursive: bool = True) -> list[Path]:
    """All photo files under ``root``, sorted for a stable order; hidden folders are skipped.

    Unreadable sub-folders are logged and skipped: one locked folder must not hide the rest.
    """
    root = Path(root)
    if not root.is_dir():
        raise NotADirectoryError(f"not a folder: {root}")
    found: list[Path] = []

    def on_error(exc: OSError) -> None:
        log.warning("cannot list %s: %s", exc.filename, exc.strerror)

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if not recursive:
            dirnames.clear()
        found.extend(Path(dirpath, f) for f in filenames if is_photo_name(f))
    found.sort()
    return found
