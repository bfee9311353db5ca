"""Find the photos in a folder tree, and say which image-like files are left out and why.

Selection is by extension only (cheap: no file is opened here); whether a file really is a
photo is decided by the loader, which reports bad ones instead of skipping them silently.

What a scan includes (README "What a scan includes"):

* every file with an extension Pillow can decode here (JPEG, PNG, WebP, TIFF, BMP, GIF,
  HEIC/HEIF with pillow-heif, AVIF and JPEG 2000 when this Pillow has them);
* symlinked folders and files are followed; each real folder is visited once (no loops);
* never: NAS/OS thumbnail and trash folders (``THUMBNAIL_DIRS``), AppleDouble ``._*`` files,
  hidden files and folders, and Curator's own export folders (a sub-folder holding
  ``picks.csv``, the file every export writes);
* every image-like file that is left out comes back as a ``Skipped`` with a reason.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from PIL import features

log = logging.getLogger(__name__)

_ALWAYS = {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif",
           ".heic", ".heif", ".hif"}
_OPTIONAL = {".avif": "avif", ".jp2": "jpg_2000", ".j2k": "jpg_2000", ".jpx": "jpg_2000"}


def _decodable() -> frozenset[str]:
    exts = set(_ALWAYS)
    for ext, feature in _OPTIONAL.items():
        try:
            if features.check(feature):
                exts.add(ext)
        except ValueError:  # a feature name this Pillow does not know
            pass
    return frozenset(exts)


#: Extensions that are scored (what this Pillow can decode).
PHOTO_EXTENSIONS = _decodable()

#: Image-like extensions that are not scored, with the reason given for them.
UNSUPPORTED_EXTENSIONS: dict[str, str] = {
    **{e: "camera raw file (not supported: export a JPEG from your raw editor)" for e in (
        ".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".orf", ".rw2",
        ".raf", ".pef", ".srw", ".x3f", ".3fr", ".iiq", ".erf", ".kdc", ".mrw", ".raw")},
    **{e: "unsupported format (this Pillow cannot decode it)" for e in (
        ".avif", ".jp2", ".j2k", ".jpx", ".jxl", ".psd", ".psb", ".xcf", ".exr", ".hdr",
        ".ico", ".icns", ".tga", ".pcx", ".ppm", ".pgm", ".pbm", ".wdp", ".jxr", ".bpg")},
    **{e: "vector image (not a photo)" for e in (".svg", ".svgz", ".eps", ".ai", ".pdf")},
}
IMAGE_LIKE_EXTENSIONS = PHOTO_EXTENSIONS | frozenset(UNSUPPORTED_EXTENSIONS)

#: Folders that NAS boxes, operating systems and archivers fill with thumbnails, previews,
#: metadata or deleted files (compared case-insensitively).  Synology (@eaDir, #recycle,
#: #snapshot), QNAP (.@__thumb, @Recycle, .@__qini), Asustor/others (.@__thumb, @Recently-
#: Snapshot), macOS (__MACOSX in zips, .Spotlight-V100, .Trashes, .fseventsd), freedesktop
#: (.thumbnails, .cache/thumbnails), Windows ($RECYCLE.BIN, RECYCLER, System Volume
#: Information), WD My Cloud (.wdmc).  (.picasaoriginals holds the user's originals: not listed.)
THUMBNAIL_DIRS = frozenset(n.lower() for n in (
    "@eaDir", "#recycle", "#snapshot", "@Recycle", "@Recently-Snapshot", "@sharebin",
    ".@__thumb", ".@__qini", "@__thumb", ".@__desc", "@tmp",
    "__MACOSX", ".Spotlight-V100", ".Trashes", ".Trash", ".fseventsd", ".TemporaryItems",
    ".thumbnails", ".thumbs", ".cache", "$RECYCLE.BIN", "System Volume Information",
    "lost+found", ".AppleDouble", ".AppleDB", ".AppleDesktop", "RECYCLER",
    ".wdmc",  # WD My Cloud thumbnails
))

#: The file every Curator export writes; a sub-folder holding it is an export folder.
EXPORT_MARKER = "picks.csv"


@dataclass(frozen=True)
class Skipped:
    """An image-like file that the scan left out, and why (shown by the CLI, JSON and window)."""

    path: Path
    reason: str


@dataclass
class ScanResult:
    """The photos to score (sorted) and every image-like file left out, with its reason."""

    photos: list[Path] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def by_reason(skipped: list[Skipped]) -> dict[str, list[Path]]:
    """Skipped files grouped by reason, in first-seen order (for summaries)."""
    groups: dict[str, list[Path]] = {}
    for k in skipped:
        groups.setdefault(k.reason, []).append(k.path)
    return groups


def is_photo_name(name: str) -> bool:
    """True for names with a scored photo extension (any case), hidden/AppleDouble excluded."""
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in PHOTO_EXTENSIONS


def _is_image_like(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_LIKE_EXTENSIONS


def _file_reason(name: str) -> str | None:
    """Why an image-like file in a scanned folder is not scored; None when it is scored."""
    if name.startswith("._"):
        return "AppleDouble metadata file (macOS resource fork, not a photo)"
    if name.startswith("."):
        return "hidden file"
    ext = os.path.splitext(name)[1].lower()
    if ext in PHOTO_EXTENSIONS:
        return None
    return UNSUPPORTED_EXTENSIONS.get(ext)


def _dir_reason(path: Path, name: str) -> str | None:
    """Why a sub-folder is not scanned; None when it is."""
    if name.lower() in THUMBNAIL_DIRS:
        return f"inside a NAS/OS thumbnail or trash folder ({name})"
    if name.startswith("."):
        return f"inside a hidden folder ({name})"
    if (path / EXPORT_MARKER).is_file():
        return f"inside a Curator export folder ({name}, has {EXPORT_MARKER})"
    return None


def _image_like_under(folder: Path) -> list[Path]:
    """Image-like files anywhere below a skipped folder (listing only, no symlinked folders)."""
    out: list[Path] = []
    for dirpath, _dirs, files in os.walk(folder, onerror=lambda e: None):
        out.extend(Path(dirpath, f) for f in files if _is_image_like(f))
    return out


def scan(root: Path, recursive: bool = True) -> ScanResult:
    """Photos under ``root`` plus the image-like files left out, each with a reason.

    Raises ``NotADirectoryError`` when ``root`` is not a folder.  Unreadable sub-folders are
    logged and skipped: one locked folder must not hide the rest.
    """
    root = Path(root)
    if not root.is_dir():
        raise NotADirectoryError(f"not a folder: {root}")
    result = ScanResult()
    seen: set[tuple[int, int]] = set()

    def on_error(exc: OSError) -> None:
        log.warning("cannot list %s: %s", exc.filename, exc.strerror)

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=True):
        here = Path(dirpath)
        try:
            st = os.stat(here)
        except OSError:
            dirnames.clear()
            continue
        if (st.st_dev, st.st_ino) in seen:  # reached again through a symlink: once is enough
            log.info("%s: already scanned through another path (symlink), not again", here)
            dirnames.clear()
            continue
        seen.add((st.st_dev, st.st_ino))
        keep = []
        for d in sorted(dirnames):
            reason = _dir_reason(here / d, d) if recursive else None
            if reason is None:
                keep.append(d)
            else:
                result.skipped.extend(Skipped(p, reason) for p in _image_like_under(here / d))
        dirnames[:] = keep if recursive else []
        for f in filenames:
            if not _is_image_like(f):
                continue
            reason = _file_reason(f)
            if reason is None:
                result.photos.append(here / f)
            else:
                result.skipped.append(Skipped(here / f, reason))
    result.photos.sort()
    result.skipped.sort(key=lambda s: s.path)
    return result


def scan_folder(root: Path, recursive: bool = True) -> list[Path]:
    """All photo files under ``root``, sorted for a stable order (see ``scan`` for the rules)."""
    return scan(root, recursive).photos
