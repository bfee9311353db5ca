"""XMP sidecars: where Curator's verdicts go so Lightroom, digiKam and darktable can read them.

Naming: one sidecar per photo.  Curator *creates* ``name.ext.xmp`` (``pizza.jpg.xmp``: the
darktable and digiKam default, and unambiguous when ``pizza.jpg`` and ``pizza.cr2`` sit side by
side), and *reads and updates* ``name.xmp`` (Lightroom, Capture One, Bridge) when that is the one
that exists.  If both exist, ``name.ext.xmp`` is the one used.  Nothing else is ever created in
the photo's folder (no backup, no lock file; the temp file of an atomic write lives for
milliseconds beside its target), and the photo itself is never opened for writing.

What is written (fields; who reads them):

- ``xmp:Rating``: stars 0–5, and ``-1`` for a reject (Lightroom, Bridge, darktable,
  digiKam, most DAMs; darktable and Bridge show -1 as "rejected").
- ``digiKam:PickLabel``: 3 = pick (accepted), 1 = reject, 0 = no flag (digiKam's pick
  label; Lightroom keeps its pick flags in its catalogue and reads none from XMP, so a
  Lightroom user sees the stars and the -1 reject).
- ``curator:Score`` (0–100), ``curator:Stars`` (the stars that score maps to), ``curator:Model``
  (the model file's SHA-256, first 16 hex digits), namespace ``NS_URI``, prefix ``curator``.

Merge, never clobber: the existing sidecar is parsed with Exiv2 (pyexiv2, the library digiKam
uses), only the fields above are set, and the packet is re-serialised, so keywords, titles,
history and other tools' namespaces survive.  ``curator score --xmp`` sets ``xmp:Rating`` only
where there is none yet or where it still holds the stars Curator wrote last time
(``curator:Stars``): a rating a person gave is never overwritten by a model.  Writes are
atomic (temp file + rename, ``curator.fsutil``).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from curator.fsutil import atomic_write_bytes, name_max

log = logging.getLogger(__name__)

NS_URI = "https://github.com/curator-photo/ns/1.0/"
NS_PREFIX = "curator"
RATING = "Xmp.xmp.Rating"
PICK_LABEL = "Xmp.digiKam.PickLabel"
SCORE = f"Xmp.{NS_PREFIX}.Score"
STARS = f"Xmp.{NS_PREFIX}.Stars"
MODEL = f"Xmp.{NS_PREFIX}.Model"
PICK_ACCEPTED, PICK_REJECTED, PICK_NONE = 3, 1, 0

_EMPTY_PACKET = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"></rdf:RDF>'
    "</x:xmpmeta>\n"
    '<?xpacket end="w"?>'
).encode()
_lock = threading.Lock()  # Exiv2's namespace registry is global: one writer at a time
_registered = False


class SidecarError(RuntimeError):
    """A sidecar exists but cannot be parsed or written; it is left untouched."""


@dataclass(frozen=True)
class SidecarInfo:
    """What Curator reads back from a photo's sidecar (None: field absent)."""

    path: Path | None  # the sidecar file, or None when the photo has none
    rating: int | None  # xmp:Rating, -1..5
    pick_label: int | None  # digiKam:PickLabel, 0..3
    score: float | None  # curator:Score, 0..100
    stars: int | None  # curator:Stars


def sidecar_candidates(photo: Path) -> tuple[Path, Path]:
    """(``name.ext.xmp``, ``name.xmp``): the two names read, in order of preference."""
    photo = Path(photo)
    return photo.with_name(photo.name + ".xmp"), photo.with_suffix(".xmp")


def _is_file(path: Path) -> bool:
    """``Path.is_file`` that says False for a name the file system cannot hold (a 252-byte
    photo name plus ``.xmp`` is over the 255-byte limit: ENAMETOOLONG), not raise."""
    try:
        return path.is_file()
    except OSError:
        return False


def _fits(path: Path) -> bool:
    """Whether ``path``'s last component fits its folder's name limit (``fsutil.name_max``)."""
    return len(os.fsencode(path.name)) <= name_max(path.parent)


def existing_sidecar(photo: Path) -> Path | None:
    """The photo's sidecar if it has one (either naming), else None."""
    for p in sidecar_candidates(photo):
        if _is_file(p):
            return p
    return None


def sidecar_path(photo: Path) -> Path:
    """Where Curator writes: the existing sidecar, else ``name.ext.xmp`` -- or ``name.xmp``
    when the photo's name is too long for ``name.ext.xmp`` to fit the file system and no other
    file shares its stem.  Raises ``SidecarError`` when neither can be used."""
    found = existing_sidecar(photo)
    if found is not None:
        return found
    own, short = sidecar_candidates(photo)
    if _fits(own):
        return own
    if _fits(short) and not _stem_shared(photo):
        return short
    raise SidecarError(f"the name of {photo.name!r} is too long for a sidecar of its own "
                       "beside it")


def _stem_shared(photo: Path) -> bool:
    """Whether another file beside ``photo`` has its stem (``dish.jpg`` and ``dish.png``):
    then ``dish.xmp`` would be both photos' sidecar, and one's verdict the other's."""
    stem = photo.stem + "."
    try:
        with os.scandir(photo.parent) as it:
            return any(e.name.startswith(stem) and e.name != photo.name
                       and not e.name.lower().endswith(".xmp") for e in it)
    except OSError:
        return True  # cannot tell: do not risk sharing


def _pyexiv2() -> object:
    global _registered
    import pyexiv2

    if not _registered:
        pyexiv2.set_log_level(4)  # mute Exiv2's own stderr chatter; errors still raise
        pyexiv2.registerNs(NS_URI, NS_PREFIX)
        _registered = True
    return pyexiv2


def _read_xmp(data: bytes) -> dict[str, object]:
    pyexiv2 = _pyexiv2()
    img = pyexiv2.ImageData(data)  # type: ignore[attr-defined]
    try:
        return dict(img.read_xmp())
    finally:
        img.close()


def _int(v: object) -> int | None:
    try:
        return int(float(str(v)))
    except (TypeError, ValueError):
        return None


def _float(v: object) -> float | None:
    try:
        return float(str(v))
    except (TypeError, ValueError):
        return None


def read_sidecar(photo: Path) -> SidecarInfo:
    """Rating, pick label and Curator's fields from the photo's sidecar.

    A photo without a sidecar gives all-None; an unreadable one logs a warning and does too.
    """
    path = existing_sidecar(photo)
    if path is None:
        return SidecarInfo(None, None, None, None, None)
    try:
        with _lock:
            xmp = _read_xmp(path.read_bytes())
    except Exception as exc:
        log.warning("cannot read sidecar %s: %s", path, exc)
        return SidecarInfo(path, None, None, None, None)
    return SidecarInfo(path, _int(xmp.get(RATING)), _int(xmp.get(PICK_LABEL)),
                       _float(xmp.get(SCORE)), _int(xmp.get(STARS)))


def update_sidecar(photo: Path, fields: dict[str, str | None],
                   keep_rating: bool = False) -> Path:
    """Merge ``fields`` (Exiv2 keys -> values; None deletes) into the photo's sidecar.

    ``keep_rating``: leave ``xmp:Rating`` alone if someone other than Curator set it (it is
    present and differs from ``curator:Stars``).  Returns the sidecar's path.  Raises
    ``SidecarError`` (and changes nothing) when an existing sidecar cannot be parsed.
    """
    target = sidecar_path(photo)
    with _lock:
        pyexiv2 = _pyexiv2()
        old = target.read_bytes() if _is_file(target) else _EMPTY_PACKET
        try:
            img = pyexiv2.ImageData(old)  # type: ignore[attr-defined]
        except Exception as exc:
            raise SidecarError(f"cannot parse {target}: {exc}") from exc
        try:
            current = dict(img.read_xmp())
            fields = dict(fields)
            if keep_rating and RATING in fields:
                theirs = current.get(RATING)
                if theirs is not None and str(theirs) != str(current.get(STARS)):
                    fields.pop(RATING)
            img.modify_xmp(fields)
            data = img.get_bytes()
        except Exception as exc:
            raise SidecarError(f"cannot update {target}: {exc}") from exc
        finally:
            img.close()
        atomic_write_bytes(target, data)
    log.debug("wrote %s", target)
    return target


def verdict_fields(flag: int, stars: int) -> dict[str, str | None]:
    """Sidecar fields for a person's verdict: ``flag`` 1 pick, -1 reject, 0 none; stars 0–5."""
    if flag < 0:
        return {RATING: "-1", PICK_LABEL: str(PICK_REJECTED)}
    return {RATING: str(max(0, min(5, stars))),
            PICK_LABEL: str(PICK_ACCEPTED if flag > 0 else PICK_NONE)}


def score_fields(score: float, stars: int, model_digest: str) -> dict[str, str | None]:
    """Sidecar fields for a model score: Curator's namespace plus the derived rating."""
    return {SCORE: f"{score:.1f}", STARS: str(stars), MODEL: model_digest[:16],
            RATING: str(stars)}


def copy_sidecar(src_photo: Path, dest_photo: Path) -> Path | None:
    """Copy ``src_photo``'s sidecar (if any) beside ``dest_photo`` (``sidecar_path``'s name);
    returns it or None.

    Used by export, so a copy carries the original's keywords and ratings.  Never overwrites.
    """
    src = existing_sidecar(src_photo)
    if src is None:
        return None
    try:
        dest = sidecar_path(dest_photo)
    except SidecarError as exc:
        log.warning("%s: its sidecar was not copied", exc)
        return None
    if _is_file(dest):
        return dest
    data = src.read_bytes()
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return dest
