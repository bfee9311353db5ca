"""Find the photos in a folder tree, and say which image-like files are left out and why.

Selection is by extension only (cheap: no file is opened here); whether a file really is a
photo is decided by the loader, which reports bad ones instead of skipping them silently.

What a scan includes (README "What a scan includes"):

* every file with an extension Pillow (with pillow-heif) registers for a format it can open
  (``Image.registered_extensions()``), trailing spaces after the extension ignored;
* symlinked folders and files are followed; each real folder is visited once (no loops), and
  each real file is scored once (a second name of it is listed as "same file as …"); a
  folder reached through a link is also judged by its real path, so a link of any name to
  one of the folders below is skipped with that folder's reason;
* never: NAS/OS thumbnail and trash folders (``THUMBNAIL_DIRS``), application preview caches
  (``*.lrdata``), a Photos library outside its ``originals/``, AppleDouble ``._*`` files,
  hidden files and folders, and Curator's own export folders (a sub-folder holding
  ``picks.csv``, the file every export writes);
* problems (``Skipped.problem``, CLI exit 1): folders that cannot be opened or listed, broken
  links, FIFOs/devices named like photos — every filesystem probe survives ``OSError``;
* every image-like file that is left out comes back as a ``Skipped`` with a reason.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

import curator.loader  # noqa: F401  (registers the HEIC/HEIF opener before extensions are read)
from curator import raw
from curator.names import path_text
from curator.raw import RAW_EXTENSIONS

log = logging.getLogger(__name__)

#: Vector and page formats: never photos, whether or not Pillow has a plugin for them.
VECTOR_EXTENSIONS = frozenset((".svg", ".svgz", ".eps", ".ps", ".ai", ".pdf", ".wmf", ".emf"))
#: Extensions Pillow registers for things that are not pictures (video, science data).
NOT_PICTURES = {
    **{e: "video file (not a photo)" for e in (".mpeg", ".mpg")},
    **{e: "scientific data file (not a photo)" for e in (
        ".h5", ".hdf", ".grib", ".bufr", ".fit", ".fits", ".iim")},
}
#: Image formats this Pillow has no decoder for (named so they are reported, not dropped).
_KNOWN_UNDECODABLE = (
    ".avif", ".avifs", ".jp2", ".j2k", ".jpx", ".jpf", ".jpc", ".j2c", ".jxl", ".psd", ".psb",
    ".xcf", ".exr", ".hdr", ".wdp", ".jxr", ".hdp", ".bpg", ".heic", ".heif", ".heics",
    ".heifs", ".hif", ".webp", ".qoi", ".dds", ".apng", ".tga", ".ico", ".icns", ".pcx",
    ".ppm", ".pgm", ".pbm", ".pnm", ".pfm", ".xpm", ".xbm", ".dib", ".pjpeg", ".pjp", ".jps",
    ".mpo", ".palm", ".sgi", ".rgb", ".ras", ".cur")


def _decodable() -> frozenset[str]:
    """Every extension Pillow registers for a format it can open (plus MPO/pjpeg JPEGs)."""
    exts = {e.lower() for e, fmt in Image.registered_extensions().items()
            if fmt in Image.OPEN or fmt == "MPO"}
    if ".jpg" in exts:
        exts |= {".pjpeg", ".pjp", ".jps"}  # progressive JPEG / stereo JPEG names
    return frozenset(exts - RAW_EXTENSIONS - VECTOR_EXTENSIONS - set(NOT_PICTURES))


#: Whether camera RAW files are scored (from their embedded preview: ``curator.raw``).
RAW_SCORED = raw.available()
#: Extensions that are scored: every format this Pillow (with pillow-heif) can open, and
#: camera RAW files when LibRaw (rawpy) is installed.
PHOTO_EXTENSIONS = _decodable() | (RAW_EXTENSIONS if RAW_SCORED else frozenset())

#: Image-like extensions that are not scored, with the reason given for them.
UNSUPPORTED_EXTENSIONS: dict[str, str] = {
    **{e: "unsupported format (this Pillow cannot decode it)" for e in (
        *_KNOWN_UNDECODABLE, *Image.registered_extensions())},
    **NOT_PICTURES,
    **{e: "camera raw file (not supported here: install rawpy, or export a JPEG from your "
          "raw editor)" for e in RAW_EXTENSIONS},
    **{e: "vector image (not a photo)" for e in VECTOR_EXTENSIONS},
}
for _ext in PHOTO_EXTENSIONS:
    UNSUPPORTED_EXTENSIONS.pop(_ext, None)
IMAGE_LIKE_EXTENSIONS = PHOTO_EXTENSIONS | frozenset(UNSUPPORTED_EXTENSIONS)


def extension(name: str) -> str:
    """The lower-case extension of ``name``, trailing whitespace ignored (``a.jpg `` → .jpg)."""
    return os.path.splitext(name.rstrip())[1].lower()


#: Folders that NAS boxes, operating systems and archivers fill with thumbnails, previews,
#: metadata or deleted files (compared case-insensitively).  Synology (@eaDir, #recycle,
#: #snapshot, @SynoResource), QNAP (.@__thumb, @Recycle, .@__qini), Asustor/others (.@__thumb,
#: @Recently-Snapshot), macOS (__MACOSX in zips, .Spotlight-V100, .Trashes, .fseventsd),
#: freedesktop (.thumbnails, .cache/thumbnails), Windows ($RECYCLE.BIN, RECYCLER, Recycled on
#: FAT/Win9x, System Volume Information), WD My Cloud (.wdmc), Syncthing (.stversions), Adobe
#: Bridge (.BridgeCache).  (.picasaoriginals holds the user's originals: not listed.)
THUMBNAIL_DIRS = frozenset(n.lower() for n in (
    "@eaDir", "#recycle", "#snapshot", "@Recycle", "@Recently-Snapshot", "@sharebin",
    ".@__thumb", ".@__qini", "@__thumb", ".@__desc", "@tmp", "@SynoResource",
    "__MACOSX", ".Spotlight-V100", ".Trashes", ".Trash", ".fseventsd", ".TemporaryItems",
    ".thumbnails", ".thumbs", ".cache", "$RECYCLE.BIN", "System Volume Information",
    "lost+found", ".AppleDouble", ".AppleDB", ".AppleDesktop", "RECYCLER", "Recycled",
    ".wdmc",  # WD My Cloud thumbnails
    ".stversions", ".BridgeCache", ".dropbox.cache",
))
#: Folder-name endings of application caches full of previews: Lightroom's
#: ``… Previews.lrdata`` / ``Smart Previews.lrdata`` (every ``*.lrdata`` is a cache).
THUMBNAIL_DIR_SUFFIXES = (".lrdata",)
#: A macOS Photos / iPhoto library is a folder of its own: only its originals are photos
#: (``originals/`` since Photos 5, ``Masters/`` before); ``resources/derivatives``,
#: ``resources/proxies``, ``database`` … hold previews and are skipped with a reason.
PHOTOS_LIBRARY_SUFFIXES = (".photoslibrary", ".photolibrary")
PHOTOS_LIBRARY_ORIGINALS = frozenset(("originals", "masters"))

#: The file every Curator export writes; a sub-folder holding it is an export folder.
EXPORT_MARKER = "picks.csv"


@dataclass(frozen=True)
class Skipped:
    """An image-like file (or folder) the scan left out, and why (CLI, JSON and window).

    ``problem`` is True when something that should have been scored could not be (a folder
    that cannot be opened, a broken link, a FIFO named like a photo): the CLI then exits 1.
    """

    path: Path
    reason: str
    problem: bool = False


@dataclass
class ScanResult:
    """The photos to score (sorted) and every image-like file left out, with its reason.

    ``raw_of``: photo -> its RAW, for RAW+JPEG pairs (``pair_raws``); the RAW itself is not
    in ``photos`` (the pair is one entry, scored once from the photo), nor in ``skipped``.
    """

    photos: list[Path] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    raw_of: dict[Path, Path] = field(default_factory=dict)

    @property
    def problems(self) -> list[Skipped]:
        """Skipped entries that make the run incomplete (exit code 1)."""
        return [k for k in self.skipped if k.problem]


def by_reason(skipped: list[Skipped]) -> dict[str, list[Path]]:
    """Skipped files grouped by reason, in first-seen order (for summaries)."""
    groups: dict[str, list[Path]] = {}
    for k in skipped:
        groups.setdefault(k.reason, []).append(k.path)
    return groups


def is_photo_name(name: str) -> bool:
    """True for names with a scored photo extension (any case), hidden/AppleDouble excluded."""
    return not name.startswith(".") and extension(name) in PHOTO_EXTENSIONS


def _is_image_like(name: str) -> bool:
    return extension(name) in IMAGE_LIKE_EXTENSIONS


def _file_reason(name: str) -> str | None:
    """Why an image-like file in a scanned folder is not scored; None when it is scored."""
    if name.startswith("._"):
        return "AppleDouble metadata file (macOS resource fork, not a photo)"
    if name.startswith("."):
        return "hidden file"
    ext = extension(name)
    if ext in PHOTO_EXTENSIONS:
        return None
    return UNSUPPORTED_EXTENSIONS.get(ext)


def _os_reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


#: Why a hidden folder is not scanned (reached by its own name; a link to it is followed).
HIDDEN_REASON = "inside a hidden folder"


def _dir_reason(parent: Path, path: Path, name: str) -> str | None:
    """Why a sub-folder is not scanned; None when it is.  Never raises (probes may fail)."""
    low = name.lower()
    if low in THUMBNAIL_DIRS:
        return f"inside a NAS/OS thumbnail or trash folder ({name})"
    if low.endswith(THUMBNAIL_DIR_SUFFIXES):
        return f"inside an application's preview cache ({name})"
    if name.startswith("."):
        return f"{HIDDEN_REASON} ({name})"
    if parent.name.lower().endswith(PHOTOS_LIBRARY_SUFFIXES) and low not in \
            PHOTOS_LIBRARY_ORIGINALS:
        return (f"inside a Photos library's previews/database ({parent.name}/{name}; only "
                f"its originals are scanned)")
    try:
        marker = (path / EXPORT_MARKER).is_file()
    except OSError:  # a folder that cannot be entered: os.walk reports it
        marker = False
    if marker:
        return f"inside a Curator export folder ({name}, has {EXPORT_MARKER})"
    return None


def _real_path_reason(real_root: str, real: str) -> str | None:
    """Why a folder is not scanned, judged by its real path ``real`` (links resolved).

    Each folder of ``real`` below the part it shares with the scanned root's real path is
    judged like a sub-folder reached by its own name (``_dir_reason``), so a link called
    ``thumbs`` that resolves to ``…/@eaDir`` (or into one, or to a ``*.lrdata``, a Photos
    library's ``resources``, a Curator export folder …) gets the reason that folder gets.
    The root's own ancestors are never judged: scanning ``~/.photos/shoot`` stays allowed,
    and neither is a plain hidden folder: a link named ``phone`` to ``~/.var/…/Pictures`` was
    made to be scanned.
    """
    try:
        base = os.path.commonpath([real_root, real])
    except ValueError:  # another drive (Windows): judge the whole path below its anchor
        base = Path(real).anchor
    parent = Path(base)
    for name in Path(os.path.relpath(real, base)).parts:
        if name in (os.curdir, os.pardir):
            continue
        path = parent / name
        reason = _dir_reason(parent, path, name)
        if reason is not None and not reason.startswith(HIDDEN_REASON):
            return reason  # a plain hidden folder linked in by name is wanted: followed
        parent = path
    return None


def _linked_dir_reason(root: Path, real_root: str, here: Path, real_here: str,
                       name: str) -> str | None:
    """Why sub-folder ``name`` of ``here`` is not scanned when a symlink leads to it.

    None when no link is on the way from ``root`` (its name was already judged) or when its
    real path is of no skipped kind.  Never raises.
    """
    path = here / name
    try:
        real = os.path.realpath(path) if os.path.islink(path) else os.path.join(real_here, name)
        plain = os.path.join(real_root, os.path.relpath(path, root))
    except (OSError, ValueError):
        return None
    if os.path.normcase(real) == os.path.normcase(plain):
        return None
    reason = _real_path_reason(real_root, real)
    if reason is not None:
        log.info("%s: resolves to %s, not scanned (%s)", path_text(path), path_text(real),
                 reason)
    return reason


def _real(path: Path) -> str:
    """``path`` with every symlink resolved (``path`` itself when that fails)."""
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return str(path)


def _image_like_under(folder: Path) -> list[Path]:
    """Image-like files anywhere below a skipped folder (listing only, no symlinked folders)."""
    out: list[Path] = []
    for dirpath, _dirs, files in os.walk(folder, onerror=lambda e: None):
        out.extend(Path(dirpath, f) for f in files if _is_image_like(f))
    return out


def _not_a_photo_file(path: Path) -> tuple[str | None, tuple[int, int] | None]:
    """(why a photo-named entry cannot be scored or None, its (device, inode) when known).

    A broken symlink, a FIFO/device/socket (opening one could hang) and a name that cannot
    be looked at are reported; anything else is left to the loader.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            return "broken link (its target does not exist)", None
        return None, None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "broken link (a loop of links)", None
        if os.path.islink(path):
            return f"broken link ({_os_reason(exc)})", None
        return None, None  # the loader says why (permission denied, …)
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file (a FIFO, device or socket named like a photo)", None
    return None, (st.st_dev, st.st_ino)


def scan(root: Path, recursive: bool = True) -> ScanResult:
    """Photos under ``root`` plus the image-like files left out, each with a reason.

    Raises ``NotADirectoryError`` when ``root`` is not a folder or cannot be opened itself
    (one line: "cannot open folder ROOT: permission denied").  A sub-folder that cannot be
    opened or listed is reported as a ``Skipped`` problem ("cannot open folder: permission
    denied"): one locked folder must not hide the rest.  Two names for the same file (a
    symlink or hard link beside its target) are scored once: the first in path order, the
    other listed as "same file as …".
    """
    root = Path(root)
    try:
        st = os.stat(root)
    except FileNotFoundError:
        raise NotADirectoryError(f"not a folder: {path_text(root)}") from None
    except OSError as exc:  # e.g. inside a folder this user cannot enter
        raise NotADirectoryError(
            f"cannot open folder {path_text(root)}: {_os_reason(exc)}") from exc
    if not stat.S_ISDIR(st.st_mode):
        raise NotADirectoryError(f"not a folder: {path_text(root)}")
    try:
        os.scandir(root).close()
    except OSError as exc:
        raise NotADirectoryError(
            f"cannot open folder {path_text(root)}: {_os_reason(exc)}") from exc
    result = ScanResult()
    seen: set[tuple[int, int]] = set()
    real_root = _real(root)

    def on_error(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else root
        log.info("cannot open folder %s: %s", where, exc.strerror)
        result.skipped.append(Skipped(where, f"cannot open folder: {_os_reason(exc)}", True))

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=True):
        here = Path(dirpath)
        try:
            st = os.stat(here)
        except OSError as exc:
            result.skipped.append(Skipped(here, f"cannot open folder: {_os_reason(exc)}", True))
            dirnames.clear()
            continue
        if (st.st_dev, st.st_ino) in seen:  # reached again through a symlink: once is enough
            log.info("%s: already scanned through another path (symlink), not again", here)
            dirnames.clear()
            continue
        seen.add((st.st_dev, st.st_ino))
        keep = []
        real_here = _real(here) if recursive else dirpath
        for d in sorted(dirnames):
            reason = None
            if recursive:  # by its real path if a link leads to it, then by its name here
                reason = _linked_dir_reason(root, real_root, here, real_here, d) or \
                    _dir_reason(here, here / d, d)
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
    result.photos = _checked_once(sorted(result.photos), result.skipped)
    result.photos, result.raw_of = pair_raws(result.photos)
    result.skipped.sort(key=lambda s: s.path)
    return result


#: Which photo of a stem a RAW pairs with, best first (a camera's RAW+JPEG, RAW+HEIF).
_PAIR_PREFERENCE = (".jpg", ".jpeg", ".heic", ".heif", ".hif", ".tif", ".tiff", ".png")


def _pair_rank(p: Path) -> tuple[int, str]:
    ext = p.suffix.lower()
    return (_PAIR_PREFERENCE.index(ext) if ext in _PAIR_PREFERENCE else 99), p.name


def pair_raws(photos: list[Path]) -> tuple[list[Path], dict[Path, Path]]:
    """RAW+JPEG pairs among ``photos``: (the photos left to score, {photo: its RAW}).

    A RAW and a photo in the same folder whose names differ only in extension (case ignored:
    ``DSC_0042.NEF`` and ``DSC_0042.JPG``) are one pair, scored once from the photo; the
    photo chosen is a JPEG before a HEIF before a TIFF or PNG.  A RAW with no such photo
    (or a second RAW of one stem) is scored on its own, from its embedded preview.
    """
    by_stem: dict[tuple[Path, str], list[Path]] = {}
    for p in photos:
        by_stem.setdefault((p.parent, p.stem.casefold()), []).append(p)
    raw_of: dict[Path, Path] = {}
    for group in by_stem.values():
        raws = [p for p in group if raw.is_raw(p)]
        others = [p for p in group if not raw.is_raw(p)]
        if raws and others:
            raw_of[min(others, key=_pair_rank)] = min(raws, key=lambda p: p.name)
    paired = set(raw_of.values())
    return [p for p in photos if p not in paired], raw_of


def _checked_once(photos: list[Path], skipped: list[Skipped]) -> list[Path]:
    """``photos`` without broken links, non-regular files and second names of one file."""
    first: dict[tuple[int, int], Path] = {}
    out: list[Path] = []
    for p in photos:
        why, ident = _not_a_photo_file(p)
        if why is not None:
            skipped.append(Skipped(p, why, True))
            continue
        if ident is not None:
            if ident in first:
                skipped.append(Skipped(p, f"same file as {path_text(first[ident])}"))
                continue
            first[ident] = p
        out.append(p)
    return out


def scan_folder(root: Path, recursive: bool = True) -> list[Path]:
    """All photo files under ``root``, sorted for a stable order (see ``scan`` for the rules)."""
    return scan(root, recursive).photos
