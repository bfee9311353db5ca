"""XMP sidecars: where Curator's verdicts go so Lightroom, digiKam and darktable can read them.

Which files are a photo's sidecars is decided first, in ``curator.sidecar_paths``: its own
``name.ext.xmp``, and ``stem.xmp`` only when no other file claims it (a RAW's Lightroom
sidecar, a ``photoshop:SidecarForExtension`` naming another extension, a stem shared with a
HEIC).  Curator *creates* ``name.ext.xmp`` (``pizza.jpg.xmp``: darktable and digiKam's
default, unambiguous beside ``pizza.cr2``), or ``stem.xmp`` for a RAW (Lightroom's name), and
*updates* every existing sidecar that is the photo's.  Nothing else is ever created in the
photo's folder (the temp file of an atomic write lives for milliseconds beside its target),
and the photo itself is never opened for writing.

What is written (fields; who reads them):

- ``xmp:Rating``: stars 0–5, and ``-1`` for a reject (Lightroom, Bridge, darktable,
  digiKam, most DAMs; darktable and Bridge show -1 as "rejected").
- ``digiKam:PickLabel``: 3 = pick (accepted), 1 = reject, 0 = no flag.
- ``curator:Score`` (0–100), ``curator:Stars`` (the stars that score maps to), ``curator:Model``
  (the model file's SHA-256, first 16 hex digits), namespace ``NS_URI``, prefix ``curator``.
- ``xmp:MetadataDate``: when the sidecar's metadata last changed (set on every write, as the
  XMP specification asks of every writer).
- ``curator:RatingSource`` = ``model`` and ``curator:RatingDate``: only while ``xmp:Rating``
  holds stars the *model* derived (``curator score --xmp``).

Whose rating is it?  ``curator score --xmp`` changes ``xmp:Rating`` only where there is none,
or where it is still the model's own: ``curator:RatingSource`` says ``model``, the rating
equals ``curator:Stars``, ``xmp:MetadataDate`` is still the ``curator:RatingDate`` Curator
wrote with it (Lightroom, darktable and digiKam move ``xmp:MetadataDate`` when they change a
sidecar), and the file was not modified more than ``_TOUCHED_S`` after it (exiftool leaves
``xmp:MetadataDate`` alone, but not the file's time).
Anything else -- no mark, a mark from an older Curator, a rating a person gave in Curator's
window, Lightroom or darktable -- is a person's and is never overwritten by a model; a
person's verdict removes the mark.

Never clobbered (each a ``SidecarNote`` naming the file and why; the file stays
byte-identical): a sidecar that is not the photo's; one that is read-only, not a regular file,
a link to nothing, or hard-linked elsewhere; one Exiv2 cannot read *completely* (cut short,
UTF-16, damaged XML, fields Exiv2 drops: ``curator.xmp_packet``); one whose merge would change
any field but Curator's; one another program changes while Curator writes it (checked just
before the atomic rename).  Merge, never clobber: the sidecar is parsed with Exiv2 (pyexiv2,
the library digiKam uses), only the fields above are set, and the packet is re-serialised, so
keywords, titles, history and other tools' namespaces survive.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from curator.fsutil import FileChanged, FileState, atomic_write_bytes, os_reason
from curator.names import display_text, path_text
from curator.prefs import Prefs
from curator.raw import is_raw
from curator.sidecar_paths import FolderListing, SidecarNote, SidecarPlan, plan_sidecars
from curator.xmp_packet import lost_fields, packet_problem

log = logging.getLogger(__name__)

NS_URI = "https://github.com/curator-photo/ns/1.0/"
NS_PREFIX = "curator"
RATING = "Xmp.xmp.Rating"
PICK_LABEL = "Xmp.digiKam.PickLabel"
METADATA_DATE = "Xmp.xmp.MetadataDate"
SCORE = f"Xmp.{NS_PREFIX}.Score"
STARS = f"Xmp.{NS_PREFIX}.Stars"
MODEL = f"Xmp.{NS_PREFIX}.Model"
RATING_SOURCE = f"Xmp.{NS_PREFIX}.RatingSource"
RATING_DATE = f"Xmp.{NS_PREFIX}.RatingDate"
SIDECAR_FOR = "Xmp.photoshop.SidecarForExtension"
LABEL = "Xmp.xmp.Label"
#: The colour label Curator's mapping wrote, and when (``curator.prefs``' label mapping).
LABEL_MINE = f"Xmp.{NS_PREFIX}.Label"
LABEL_DATE = f"Xmp.{NS_PREFIX}.LabelDate"
PICK_ACCEPTED, PICK_REJECTED, PICK_NONE = 3, 1, 0
#: Tries at a merge when another program keeps changing the sidecar meanwhile.
_ATTEMPTS = 3
#: A sidecar modified this long (seconds) after Curator stamped its model rating was changed
#: since by someone else (clock steps and slow network shares stay well inside it).
_TOUCHED_S = 5.0

_EMPTY_PACKET = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"></rdf:RDF>'
    "</x:xmpmeta>\n"
    '<?xpacket end="w"?>'
).encode()
_lock = threading.Lock()  # Exiv2's namespace registry is global: one writer at a time
_registered = False

__all__ = ["SidecarError", "SidecarInfo", "SidecarNote", "SidecarResult", "SidecarSummary",
           "copy_sidecar", "existing_sidecar", "read_sidecar", "score_fields", "sidecar_path",
           "update_sidecar", "verdict_fields", "write_score_sidecars", "write_sidecars"]


class SidecarError(RuntimeError):
    """No sidecar could be written for a photo; the message says why (one line)."""


@dataclass(frozen=True)
class SidecarInfo:
    """What Curator reads back from a photo's sidecar (None: field absent).

    ``model_rating``: the rating is stars Curator's model wrote, not a person's (see the
    module docstring).  ``problem``: why the sidecar could not be read completely (then every
    field is None and Curator will not write it).
    """

    path: Path | None  # the sidecar file, or None when the photo has none
    rating: int | None  # xmp:Rating, -1..5
    pick_label: int | None  # digiKam:PickLabel, 0..3
    score: float | None  # curator:Score, 0..100
    stars: int | None  # curator:Stars
    model_rating: bool = False
    problem: str | None = None
    #: xmp:Label (a colour label: Lightroom's, digiKam's, or Curator's mapping's) and whether
    #: it is the mapping's own (``is_model_label``).
    label: str | None = None
    model_label: bool = False


@dataclass
class SidecarResult:
    """What ``write_sidecars`` did for one photo: the sidecars written, the ones left as they
    are (with why), and whether a person's rating was kept instead of the model's stars."""

    photo: Path
    written: list[Path] = field(default_factory=list)
    notes: list[SidecarNote] = field(default_factory=list)
    rating_kept: bool = False
    #: Of ``written``: the ones that already held these fields (the file was not rewritten).
    unchanged: list[Path] = field(default_factory=list)


def sidecar_candidates(photo: Path) -> tuple[Path, Path]:
    """(``name.ext.xmp``, ``name.xmp``): the two names a sidecar can have, own name first."""
    photo = Path(photo)
    return photo.with_name(photo.name + ".xmp"), photo.with_suffix(".xmp")


def existing_sidecar(photo: Path) -> Path | None:
    """The photo's own sidecar if it has one (``name.ext.xmp`` first), else None; a
    ``stem.xmp`` that belongs to another file (``sidecar_paths``) is not the photo's."""
    return plan_sidecars(photo).read_from


def sidecar_path(photo: Path) -> Path:
    """Where Curator writes first for ``photo``: its own existing sidecar, else the name it
    would create.  Raises ``SidecarError`` when there is neither."""
    plan = plan_sidecars(photo)
    target = plan.read_from or plan.create
    if target is None:
        raise SidecarError(plan.notes[0].text() if plan.notes else
                           f"no sidecar can be written for {photo.name!r}")
    return target


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


def is_model_rating(xmp: dict[str, object], mtime: float | None = None) -> bool:
    """Whether the packet's ``xmp:Rating`` is stars Curator's model wrote (module docstring).

    ``mtime``: the sidecar file's modification time (seconds); a file changed more than
    ``_TOUCHED_S`` after Curator's ``curator:RatingDate`` was changed by someone else (exiftool
    and others do not move ``xmp:MetadataDate``), so its rating counts as a person's.
    """
    rating = xmp.get(RATING)
    if not (rating is not None and str(xmp.get(RATING_SOURCE)) == "model"
            and str(rating) == str(xmp.get(STARS))
            and xmp.get(METADATA_DATE) is not None
            and str(xmp.get(METADATA_DATE)) == str(xmp.get(RATING_DATE))):
        return False
    if mtime is None:
        return True
    try:
        written = datetime.fromisoformat(str(xmp.get(RATING_DATE))).timestamp()
    except ValueError:
        return False
    return mtime <= written + _TOUCHED_S


def is_model_label(xmp: dict[str, object], mtime: float | None = None) -> bool:
    """Whether the packet's ``xmp:Label`` is the one Curator's label mapping wrote: it
    equals ``curator:Label`` and ``xmp:MetadataDate`` is still ``curator:LabelDate`` (and the
    file was not touched since: as ``is_model_rating``)."""
    label = xmp.get(LABEL)
    if label is None or str(label) != str(xmp.get(LABEL_MINE)) or \
            xmp.get(METADATA_DATE) is None or \
            str(xmp.get(METADATA_DATE)) != str(xmp.get(LABEL_DATE)):
        return False
    if mtime is None:
        return True
    try:
        written = datetime.fromisoformat(str(xmp.get(LABEL_DATE))).timestamp()
    except ValueError:
        return False
    return mtime <= written + _TOUCHED_S


def _parse_whole(data: bytes) -> dict[str, object]:
    """Exiv2's reading of a sidecar that is whole (``xmp_packet``); raises ``ValueError``
    with the reason otherwise."""
    try:
        with _lock:
            xmp = _read_xmp(data) if data.strip() else {}
    except Exception as exc:
        why = packet_problem(data, [])
        raise ValueError(why or f"cannot be parsed by Exiv2 ({exc})") from exc
    why = packet_problem(data, xmp)
    if why is not None:
        raise ValueError(why)
    return xmp


def read_sidecar(photo: Path, plan: SidecarPlan | None = None) -> SidecarInfo:
    """Rating, pick label and Curator's fields from the photo's own sidecar (``plan``:
    ``sidecar_paths.plan_sidecars(photo)``, made here when not given).

    A photo without a sidecar gives all-None; one that cannot be read completely gives
    all-None with ``problem`` set (and a log line).
    """
    plan = plan or plan_sidecars(photo)
    path = plan.read_from
    if path is None:
        return SidecarInfo(None, None, None, None, None)
    try:
        mtime = os.stat(path).st_mtime
        xmp = _parse_whole(path.read_bytes())
    except (OSError, ValueError) as exc:
        why = str(exc) if isinstance(exc, ValueError) else (exc.strerror or str(exc))
        log.warning("cannot read sidecar %s: %s", path_text(path), why)
        return SidecarInfo(path, None, None, None, None, problem=why)
    return SidecarInfo(path, _int(xmp.get(RATING)), _int(xmp.get(PICK_LABEL)),
                       _float(xmp.get(SCORE)), _int(xmp.get(STARS)),
                       is_model_rating(xmp, mtime),
                       label=None if xmp.get(LABEL) is None else str(xmp.get(LABEL)),
                       model_label=is_model_label(xmp, mtime))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _fields_for(current: dict[str, object], mtime: float | None,
                fields: dict[str, str | None], keep_rating: bool,
                stamp: str) -> tuple[dict[str, str | None], bool]:
    """The fields to set in a packet holding ``current`` (a file last modified at ``mtime``),
    and whether a person's rating was kept (``keep_rating``: the model's stars never replace
    a rating that is not its own)."""
    out = dict(fields)
    kept = False
    model_rating = is_model_rating(current, mtime)
    if keep_rating and RATING in out:
        if current.get(RATING) is None or model_rating:
            out.update({RATING_SOURCE: "model", RATING_DATE: stamp})
        else:
            out.pop(RATING)
            kept = True
            out.update({RATING_SOURCE: None, RATING_DATE: None})
    elif model_rating and RATING not in out:
        out[RATING_DATE] = stamp  # still the model's: this write moves MetadataDate too
    model_label = is_model_label(current, mtime)
    if LABEL in out:  # the label mapping: only where there is none or it is Curator's own
        if current.get(LABEL) is None or model_label:
            value = out[LABEL]
            out.update({LABEL_MINE: value, LABEL_DATE: None if value is None else stamp})
        else:
            out.pop(LABEL)
            kept = True
    elif model_label:
        out[LABEL_DATE] = stamp
    out[METADATA_DATE] = stamp
    return out, kept


def _folder_problem(folder: Path) -> str | None:
    """Why nothing may be written in ``folder``: a read-only disk, or a folder its owner
    write-protected (its mode has no write bit: respected as root too, who could write)."""
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return "is on a read-only disk"
        st = os.stat(folder)
    except (OSError, AttributeError):
        return None
    if not st.st_mode & 0o222 or not os.access(folder, os.W_OK | os.X_OK):
        return "is in a write-protected folder"
    return None


def _why_not_writable(path: Path, st: os.stat_result) -> str | None:
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    folder = _folder_problem(path.parent)
    if folder is not None:
        return folder
    if not st.st_mode & 0o222 or not os.access(path, os.W_OK):
        return "is read-only (write-protected by its owner)"
    if st.st_nlink > 1:
        return (f"has {st.st_nlink} hard links: replacing it would split them, so the "
                f"others would keep the old fields")
    return None


def _real_target(path: Path) -> tuple[Path | None, str | None]:
    """The file to rewrite for sidecar ``path`` (a link's target) or None, and why not."""
    try:
        if os.path.islink(path):
            try:
                os.stat(path)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    return None, "is a link that loops back on itself"
                return None, "is a link to a file that does not exist"
            return Path(os.path.realpath(path)), None
    except OSError as exc:
        return None, f"cannot be looked at ({exc.strerror or exc})"
    return path, None


@dataclass(frozen=True)
class _Merged:
    """One sidecar's outcome: done (written, or already holding those fields: ``changed``
    False), else the note saying why it was left alone; whether a person's rating was kept."""

    ok: bool
    note: SidecarNote | None = None
    kept: bool = False
    changed: bool = True


def _unchanged(current: dict[str, object], todo: dict[str, str | None]) -> bool:
    """Whether the packet already holds every field of ``todo`` (dates aside): then the file
    is not rewritten, so Lightroom does not see "metadata changed" after every run."""
    for key, value in todo.items():
        if key in (METADATA_DATE, RATING_DATE, LABEL_DATE):
            continue
        have = current.get(key)
        if (value is None) != (have is None) or (value is not None and str(have) != value):
            return False
    return True


def _merge_into(target: Path, photo: Path, fields: dict[str, str | None],
                keep_rating: bool) -> _Merged:
    """Merge ``fields`` into the existing sidecar ``target`` (or create it when missing)."""
    real, why = _real_target(target)
    if real is None:
        return _Merged(False, SidecarNote(target, photo, why or "cannot be used"))
    for _attempt in range(_ATTEMPTS):
        try:
            st = os.stat(real)
        except FileNotFoundError:
            st = None
        except OSError as exc:
            return _Merged(False, SidecarNote(target, photo, f"cannot be looked at "
                                                             f"({exc.strerror or exc})"))
        if st is not None:
            why = _why_not_writable(real, st)
            if why is not None:
                return _Merged(False, SidecarNote(target, photo, why))
            try:
                old = real.read_bytes()
            except OSError as exc:
                return _Merged(False, SidecarNote(target, photo, f"cannot be read "
                                                                 f"({exc.strerror or exc})"))
        else:
            folder = _folder_problem(real.parent)
            if folder is not None:
                return _Merged(False, SidecarNote(target, photo, f"could not be created: it "
                                                  f"{folder}", exists=False))
            old = _EMPTY_PACKET
        try:
            current = _parse_whole(old)
        except ValueError as exc:
            return _Merged(False, SidecarNote(target, photo, str(exc)))
        stamp = _now()
        todo, kept = _fields_for(current, None if st is None else st.st_mtime, fields,
                                 keep_rating, stamp)
        if st is not None and _unchanged(current, todo):
            return _Merged(True, kept=kept, changed=False)
        try:
            with _lock:
                img = _pyexiv2().ImageData(  # type: ignore[attr-defined]
                    old if old.strip() else _EMPTY_PACKET)
                try:
                    img.modify_xmp(todo)
                    data = img.get_bytes()
                finally:
                    img.close()
            after = _parse_whole(data)
        except Exception as exc:
            return _Merged(False, SidecarNote(target, photo,
                                              f"cannot be updated by Exiv2 ({exc})"))
        lost = lost_fields(current, after, todo)
        if lost:
            return _Merged(False, SidecarNote(target, photo, "would lose or change other "
                                              f"fields in a merge ({', '.join(lost[:4])})"))
        try:
            atomic_write_bytes(real, data, expect=None if st is None else FileState.of(st))
        except FileChanged:
            continue  # another program wrote it meanwhile: merge into its version
        except OSError as exc:
            verb = "could not be created" if st is None else "could not be written"
            return _Merged(False, SidecarNote(target, photo,
                                              f"{verb} ({os_reason(exc, 'the disk')})",
                                              exists=st is not None))
        log.debug("wrote %s", real)
        return _Merged(True, kept=kept)
    return _Merged(False, SidecarNote(target, photo, "kept changing while Curator was writing "
                                      "it (another program is saving it)"))


def write_sidecars(photo: Path, fields: dict[str, str | None], keep_rating: bool = False,
                   *, raw: Path | None = None,
                   listing: FolderListing | None = None) -> SidecarResult:
    """Merge ``fields`` (Exiv2 keys -> values; None deletes) into ``photo``'s sidecars.

    Every existing sidecar that is the photo's is updated; if it has none, one is created
    (``sidecar_paths``).  ``raw``: the photo's RAW (a RAW+JPEG pair): its sidecars get the
    same fields, so a verdict reaches both files.  ``keep_rating``: the model's stars never
    replace a person's ``xmp:Rating``.  Never raises for a sidecar that cannot be written:
    each is a ``SidecarNote`` in the result, and that file is left byte-identical.
    """
    photo = Path(photo)
    plans = [plan_sidecars(photo, listing)]
    if raw is not None:
        plans.append(plan_sidecars(Path(raw), listing if listing is not None and
                                   Path(raw).parent == listing.folder else None))
    result = SidecarResult(photo)
    done: set[Path] = set()
    for plan in plans:
        for target in plan.targets or ((plan.create,) if plan.create else ()):
            if target in done:
                continue
            done.add(target)
            todo = fields
            if target == plan.create and is_raw(plan.photo):
                # Say whose it is, as Lightroom does: no later run can take it for another's.
                todo = {**fields, SIDECAR_FOR: plan.photo.suffix[1:].upper()}
            merged = _merge_into(target, plan.photo, todo, keep_rating)
            if merged.ok:
                result.written.append(target)
                result.rating_kept |= merged.kept
                if not merged.changed:
                    result.unchanged.append(target)
            elif merged.note is not None:
                result.notes.append(merged.note)
    for plan in plans:  # what was not the photo's, unless its RAW's plan wrote it after all
        result.notes += [n for n in plan.notes if n.sidecar not in done]
    return result


def update_sidecar(photo: Path, fields: dict[str, str | None],
                   keep_rating: bool = False) -> Path:
    """``write_sidecars`` for one photo that must get a sidecar: returns the first one
    written; raises ``SidecarError`` (first note's text) when none was."""
    result = write_sidecars(photo, fields, keep_rating)
    if not result.written:
        raise SidecarError(result.notes[0].text() if result.notes else
                           f"no sidecar written for {Path(photo).name!r}")
    return result.written[0]


def verdict_fields(flag: int, stars: int) -> dict[str, str | None]:
    """Sidecar fields for a person's verdict: ``flag`` 1 pick, -1 reject, 0 none; stars 0–5.

    The rating is then the person's: the model's mark (``curator:RatingSource``) is removed.
    """
    mine: dict[str, str | None] = {RATING_SOURCE: None, RATING_DATE: None}
    if flag < 0:
        return {RATING: "-1", PICK_LABEL: str(PICK_REJECTED), **mine}
    return {RATING: str(max(0, min(5, stars))),
            PICK_LABEL: str(PICK_ACCEPTED if flag > 0 else PICK_NONE), **mine}


def score_fields(score: float, stars: int, model_digest: str, *, rating: bool = True,
                 label: str | None = None, labels: bool = False) -> dict[str, str | None]:
    """Sidecar fields for a model score: Curator's namespace plus the derived rating (written
    with ``keep_rating=True``, so only where the rating is the model's own; ``rating`` False:
    no ``xmp:Rating``) and, with ``labels``, the colour ``label`` the mapping gives (None
    removes one the mapping wrote before; a person's label is never touched)."""
    out: dict[str, str | None] = {SCORE: f"{score:.1f}", STARS: str(stars),
                                  MODEL: model_digest[:16]}
    if rating:
        out[RATING] = str(stars)
    if labels:
        out[LABEL] = label
    return out


def embedded_fields(flag: int, stars: int, score: float | None, prefs: Prefs,
                    label: str | None = None) -> dict[str, str | None]:
    """XMP fields written *into* an exported copy (Lightroom reads them from inside a JPEG,
    never from a JPEG's sidecar): the person's verdict (``flag`` 1 pick, 0 none; ``stars``)
    where there is one, else the stars the 0–100 ``score`` maps to (when ``prefs.stars``);
    the person's colour ``label``, else the one the label mapping gives."""
    from curator.culling import stars_for

    out: dict[str, str | None] = {}
    if stars or flag:
        out.update(verdict_fields(flag, stars))
        out.pop(RATING_SOURCE, None)
        out.pop(RATING_DATE, None)
    elif score is not None and prefs.stars:
        out[RATING] = str(stars_for(score))
    chosen = label or prefs.label_for(score)
    if chosen:
        out[LABEL] = chosen
    if score is not None:
        out[SCORE] = f"{score:.1f}"
    return out


def copy_sidecar(src_photo: Path, dest_photo: Path,
                 src_sidecars: Iterable[Path] | None = None) -> list[Path]:
    """Copy each of ``src_photo``'s own sidecars (byte for byte) beside ``dest_photo`` as
    ``dest_photo``'s: ``name.ext.xmp`` where the source had the photo's own name, ``stem.xmp``
    where it had Lightroom's.  Returns the copies made (or already there).  Never
    overwrites; a sidecar that is another file's (a RAW's ``stem.xmp`` beside a JPEG) is
    never copied as this photo's.  Raises ``OSError`` when one cannot be written.

    Used by export, so a copy carries the original's keywords, ratings and develop settings.
    """
    sources = list(src_sidecars) if src_sidecars is not None else \
        list(plan_sidecars(src_photo).targets)
    dest_photo = Path(dest_photo)
    made: list[Path] = []
    for src in sources:
        own_name = src.name.casefold() == (Path(src_photo).name + ".xmp").casefold()
        dest = dest_photo.with_name(dest_photo.name + ".xmp" if own_name
                                    else dest_photo.stem + ".xmp")
        # Already there (a second export of the same copy): never replaced.
        with contextlib.suppress(FileChanged):
            atomic_write_bytes(dest, src.read_bytes(), expect=None)
        made.append(dest)
    return made


@dataclass
class SidecarSummary:
    """Many photos' ``SidecarResult``s added up, for a run's summary line."""

    written: int = 0
    photos: int = 0
    ratings_kept: int = 0
    unchanged: int = 0
    notes: list[SidecarNote] = field(default_factory=list)
    #: photo -> the sidecars written for it (unchanged ones included).
    by_photo: dict[Path, list[Path]] = field(default_factory=dict)

    def add(self, result: SidecarResult) -> None:
        self.photos += 1
        self.written += len(result.written) - len(result.unchanged)
        self.unchanged += len(result.unchanged)
        self.ratings_kept += int(result.rating_kept)
        seen = {n.sidecar for n in self.notes}  # one shared sidecar: one line, not one a photo
        self.notes += [n for n in result.notes if n.sidecar not in seen]
        self.by_photo[result.photo] = list(result.written)

    def lines(self) -> list[str]:
        """What the owner reads: how many were written, whose ratings were kept, and one line
        for each sidecar left as it is."""
        head = f"Wrote {self.written} XMP sidecar(s) (score and stars"
        if self.ratings_kept:
            head += (f"; {self.ratings_kept} rating(s) or label(s) a person gave kept as "
                     "they were")
        if self.unchanged:
            head += f"; {self.unchanged} already up to date, not rewritten"
        out = [head + ")."]
        if self.notes:
            out.append(f"{len(self.notes)} sidecar(s) left as they are:")
            out += [f"  {n.text()}" for n in self.notes]
        return out


def write_score_sidecars(items: Iterable[tuple[Path, float]], digest: str,
                         raw_of: Mapping[Path, Path] | None = None,
                         prefs: Prefs | None = None) -> SidecarSummary:
    """Merge each (photo, 0–100 score) into the photo's sidecars: ``curator:Score``, the stars
    it maps to, and ``xmp:Rating`` where the rating is the model's own (``keep_rating``).

    ``digest``: the model file's SHA-256.  One folder listing serves every photo of a folder.
    A RAW+JPEG pair's model score goes to the JPEG's sidecar only (``raw_of``: photo -> its
    RAW): the RAW's sidecar holds what its raw editor keeps, and a model's stars are not a
    verdict; its note says so in the pair's words.  ``prefs``: whether stars are written
    and which colour label each score maps to (``curator.prefs``; default: stars, no labels).
    """
    from curator.culling import stars_for
    from curator.sidecar_paths import Listings

    listings = Listings()
    summary = SidecarSummary()
    prefs = prefs or Prefs()
    for photo, pct in items:
        photo = Path(photo)
        listing = listings.of(photo.parent)
        fields = score_fields(pct, stars_for(pct), digest, rating=prefs.stars,
                              label=prefs.label_for(pct), labels=prefs.labels)
        result = write_sidecars(photo, fields, keep_rating=True, listing=listing)
        raw = (raw_of or {}).get(photo)
        if raw is not None:  # say it in the pair's own words
            theirs = set(plan_sidecars(raw, listing).targets)
            result.notes = [SidecarNote(n.sidecar, n.photo, f"is the sidecar of its RAW, "
                                        f"{display_text(raw.name)}: a model's score is never "
                                        "written there (your picks and stars are)")
                            if n.sidecar in theirs else n for n in result.notes]
        summary.add(result)
    return summary
