"""Whose sidecar is it?  Which ``.xmp`` files belong to a photo, decided before any write.

Two names are in use for a photo's sidecar (``curator.sidecar``): ``name.ext.xmp``
(``pizza.jpg.xmp``: darktable, digiKam) and ``stem.xmp`` (``pizza.xmp``: Lightroom, Capture
One, Bridge).  Names are compared case-insensitively on every file system (cameras and Windows
tools write ``DSC_0043.XMP``), from one listing of the folder.

``name.ext.xmp`` is always the photo's own.  ``stem.xmp`` is the photo's only when nothing else
claims it:

* its ``photoshop:SidecarForExtension`` names the extension of the file it belongs to
  (Lightroom writes it): ``NEF`` makes it the ``.NEF``'s, whatever else is in the folder;
* else, for a RAW, it is the RAW's (Lightroom's convention for RAW+JPEG pairs), unless another
  RAW shares the stem;
* else, when another photo or video shares the stem (``DSC_0042.NEF`` beside ``DSC_0042.JPG``,
  ``dish.heic`` beside ``dish.jpg``), it is not this photo's: it belongs to the RAW, or it is
  shared and nobody's to rewrite;
* else it is the photo's.

Two files whose names differ only in case (``a.xmp`` and ``a.XMP`` on Linux) are both left
alone: which one another program reads cannot be known.  What is not the photo's comes back as
a ``SidecarNote`` that names it and says why; ``curator.sidecar`` never writes it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from curator.fsutil import name_max
from curator.names import display_text
from curator.raw import is_raw
from curator.xmp_packet import PacketError, read_packet

log = logging.getLogger(__name__)

#: Video files: a camera's or phone's clip beside a photo of the same stem (Live Photos, a
#: RAW+MOV) also claims ``stem.xmp`` (Lightroom writes sidecars for videos too).
VIDEO_EXTENSIONS = frozenset((
    ".mov", ".mp4", ".m4v", ".avi", ".mts", ".m2ts", ".3gp", ".mkv", ".mpg", ".mpeg", ".wmv",
    ".insv", ".360"))
#: Read at most this much of a ``stem.xmp`` to learn whose it is (a sidecar is a few kB).
_MAX_PEEK = 16 * 1024 * 1024


@dataclass(frozen=True)
class SidecarNote:
    """A sidecar Curator did not write for ``photo``, and why (``reason`` reads after the
    file's name: "is read-only", "is the sidecar of DSC_0042.NEF …")."""

    sidecar: Path
    photo: Path
    reason: str
    #: False for a sidecar that does not exist (it could not be created): nothing was left.
    exists: bool = True

    def text(self) -> str:
        """One line for the owner: the sidecar's name, why, and that it was left as it is."""
        tail = ": left as it is" if self.exists else ""
        return f"{display_text(self.sidecar.name)} {self.reason}{tail}"


class FolderListing:
    """The names in one folder, looked up case-insensitively (one ``scandir`` a folder)."""

    def __init__(self, folder: Path, names: list[str]) -> None:
        self.folder = Path(folder)
        self._by_name: dict[str, list[str]] = {}
        self._by_stem: dict[str, list[str]] = {}
        for n in sorted(names):
            self._by_name.setdefault(n.casefold(), []).append(n)
            self._by_stem.setdefault(os.path.splitext(n)[0].casefold(), []).append(n)

    @classmethod
    def of(cls, folder: Path) -> FolderListing:
        """List ``folder`` now (an unreadable folder lists as empty)."""
        try:
            with os.scandir(folder) as it:
                return cls(folder, [e.name for e in it])
        except OSError as exc:
            log.info("cannot list %s: %s", folder, exc)
            return cls(folder, [])

    def named(self, name: str) -> list[str]:
        """Entries whose name equals ``name`` ignoring case."""
        return list(self._by_name.get(name.casefold(), ()))

    def with_stem(self, stem: str) -> list[str]:
        """Entries whose name without its last extension equals ``stem`` ignoring case."""
        return list(self._by_stem.get(stem.casefold(), ()))


class Listings:
    """``FolderListing``s made once per folder, for a run that plans many photos."""

    def __init__(self) -> None:
        self._cache: dict[Path, FolderListing] = {}

    def of(self, folder: Path) -> FolderListing:
        folder = Path(folder)
        if folder not in self._cache:
            self._cache[folder] = FolderListing.of(folder)
        return self._cache[folder]


@dataclass(frozen=True)
class SidecarPlan:
    """Where ``photo``'s sidecar is: the existing ones that are its own (``targets``, its own
    name first), else the name Curator may create (``create``; None when none may be), and
    the sidecars beside it that are not its own (``notes``)."""

    photo: Path
    targets: tuple[Path, ...] = ()
    create: Path | None = None
    notes: tuple[SidecarNote, ...] = field(default_factory=tuple)

    @property
    def read_from(self) -> Path | None:
        """The sidecar the photo's rating and label are read from (its own name first)."""
        return self.targets[0] if self.targets else None


def _is_media(name: str) -> bool:
    """Whether a file of this name is a photo, RAW or video (one that owns a ``stem.xmp``)."""
    from curator.scan import IMAGE_LIKE_EXTENSIONS

    ext = os.path.splitext(name.rstrip())[1].lower()
    return not name.startswith(".") and (ext in IMAGE_LIKE_EXTENSIONS or
                                         ext in VIDEO_EXTENSIONS)


def _sidecar_for(path: Path) -> str | None:
    """``photoshop:SidecarForExtension`` of a sidecar, or None (absent or unreadable)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(_MAX_PEEK)
        return read_packet(data).sidecar_for
    except (OSError, PacketError):
        return None


def _fits(path: Path) -> bool:
    """Whether ``path``'s last component fits its folder's name limit (``fsutil.name_max``)."""
    return len(os.fsencode(path.name)) <= name_max(path.parent)


def _case_twins(folder: Path, names: list[str], photo: Path) -> list[SidecarNote]:
    shown = ", ".join(display_text(n) for n in names)
    return [SidecarNote(folder / n, photo, f"has a twin whose name differs only in case "
                        f"({shown}); which one other programs read cannot be told")
            for n in names]


def _stem_owner(photo: Path, sidecar: Path, siblings: list[str]) -> str | None:
    """Why ``stem.xmp`` is not ``photo``'s (a clause after its name), or None when it is."""
    ext = photo.suffix[1:]
    claimed = _sidecar_for(sidecar)
    if claimed:
        if claimed.lstrip(".").casefold() == ext.casefold():
            return None
        owner = next((n for n in siblings
                      if os.path.splitext(n)[1][1:].casefold() == claimed.lstrip(".").casefold()),
                     f"a .{claimed.lstrip('.')} file")
        return (f"is the sidecar of {display_text(owner)} (it says so: "
                f"photoshop:SidecarForExtension={display_text(claimed)})")
    raws = [n for n in siblings if is_raw(n)]
    if is_raw(photo):
        if raws:
            return (f"is shared by {display_text(photo.name)} and "
                    f"{', '.join(display_text(n) for n in raws)}, so it is neither's alone")
        return None
    if raws:
        return (f"is the sidecar of {display_text(raws[0])} (the name Lightroom gives a RAW's "
                f"sidecar)")
    if siblings:
        return (f"is shared by {', '.join(display_text(n) for n in [photo.name, *siblings])}"
                f", so it is no one photo's")
    return None


def plan_sidecars(photo: Path, listing: FolderListing | None = None) -> SidecarPlan:
    """Decide which sidecars are ``photo``'s (see the module docstring); never raises.

    ``listing``: the photo's folder, listed once for many photos (``Listings``).
    """
    photo = Path(photo)
    folder = photo.parent
    listing = listing if listing is not None else FolderListing.of(folder)
    notes: list[SidecarNote] = []
    targets: list[Path] = []
    blocked = False
    own = listing.named(photo.name + ".xmp")
    if len(listing.named(photo.name)) > 1:
        # DUO.DNG and DUO.dng side by side (a case-sensitive disk): names must match exactly.
        own = [n for n in own if n == photo.name + ".xmp"]
    if len(own) > 1:
        notes += _case_twins(folder, own, photo)
        blocked = True
    elif own:
        targets.append(folder / own[0])
    stem_names = listing.named(photo.stem + ".xmp") if photo.suffix else []
    siblings = [n for n in listing.with_stem(photo.stem)
                if n != photo.name and _is_media(n)] if photo.suffix else []
    if len(stem_names) > 1:
        notes += _case_twins(folder, stem_names, photo)
        blocked = True
    elif stem_names:
        path = folder / stem_names[0]
        why = _stem_owner(photo, path, siblings)
        if why is None:
            targets.append(path)
        else:
            notes.append(SidecarNote(path, photo, why))
    create = None
    if not targets and not blocked:
        create = _new_name(photo, bool(stem_names), siblings)
        if create is None:
            notes.append(SidecarNote(photo.with_name(photo.name + ".xmp"), photo,
                                     "cannot be created: the photo's name is too long for a "
                                     "sidecar of its own beside it", exists=False))
    return SidecarPlan(photo, tuple(targets), create, tuple(notes))


def _new_name(photo: Path, stem_taken: bool, siblings: list[str]) -> Path | None:
    """The sidecar Curator creates for a photo that has none: ``stem.xmp`` for a RAW (the
    name Lightroom, Capture One and Bridge read) unless another RAW shares its stem or it is
    a DNG (Lightroom keeps a DNG's metadata inside it and reads no sidecar), else
    ``name.ext.xmp`` -- or ``stem.xmp`` when that is too long and no other file shares the
    stem.  None when neither fits."""
    own = photo.with_name(photo.name + ".xmp")
    short = photo.with_name(photo.stem + ".xmp")
    lightroom_reads = is_raw(photo) and photo.suffix.lower() != ".dng"  # DNG: XMP inside
    if lightroom_reads and not stem_taken and not any(is_raw(n) for n in siblings) \
            and _fits(short):
        return short
    if _fits(own):
        return own
    if not stem_taken and not siblings and _fits(short):
        return short
    return None
