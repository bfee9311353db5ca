"""Copy the top-N photos to a folder, never overwriting anything and never touching originals.

Each copy is written to a temp file and then hard-linked to a free name, which fails instead of
replacing when another file took that name meanwhile; ``picks.csv`` gains rows, never loses them.

Destination faults, as kinds (README "When things go wrong"):

* checked before anything is scored (``check_destination``): a read-only file system, a folder
  without write permission, a file in the way, or the scanned folder itself raise
  ``ExportError`` with a one-line message; a sub-folder of the scanned folder is allowed (later
  scans skip it: it holds ``picks.csv``) and gets a note;
* during the copy: the disk filling up (or turning read-only) stops the run with a message
  saying how many were copied; a source that vanished or cannot be read is reported for that
  file and the rest go on; a name too long once `` (2)`` is added is shortened to fit;
* no partial file is ever left (each copy is a temp file until complete), and ``picks.csv`` is
  updated after each copy, so it lists exactly the copies that exist: when even ``picks.csv``
  cannot be written, the copy just made is removed again.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import errno
import hashlib
import io
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from curator.fsutil import atomic_write_bytes, os_reason
from curator.fsutil import name_max as fs_name_max
from curator.names import CsvLines, csv_cell, csv_uncell, path_bytes_b64, path_text
from curator.score import PhotoScore

log = logging.getLogger(__name__)

PICKS_CSV = "picks.csv"
#: ``score``: the 0–100 score the photos were ranked by (the AVA-style mean for model files
#: without one); ``reasons``: its flaw keys, ``;``-separated; ``ava_mean``/``ava_sd``: the
#: AVA-style vote mean and spread.
#: ``raw``: the name of the RAW copied with the photo (``--with-raw``), else empty;
#: ``file_bytes``/``source_bytes``/``raw_bytes``: base64 of the name's/path's bytes, only when
#: not UTF-8; ``source_sha256``: the original's SHA-256 when copied (a later export of the same
#: bytes into this folder is skipped, even when the copy holds embedded XMP)
#: (``curator.names``), so a program can find the file.
PICKS_COLUMNS = ["rank", "score", "reasons", "ava_mean", "ava_sd", "file", "source",
                 "exported_at", "raw", "file_bytes", "source_bytes", "raw_bytes",
                 "source_sha256"]


@dataclass(frozen=True)
class ExportedPick:
    """One copied photo: its rank and score, where it came from and where it went."""

    rank: int
    score: float
    sd: float
    source: Path
    dest: Path
    mean: float = 0.0
    reasons: tuple[str, ...] = ()
    #: The RAW copied beside the photo (a RAW+JPEG pair exported ``with_raw``), or None.
    raw_source: Path | None = None
    raw_dest: Path | None = None
    #: The original's SHA-256 (hex) when copied, or "" when unknown.
    sha256: str = ""


@dataclass(frozen=True)
class ExportOptions:
    """How copies are made (``export_top``'s keyword options, carried across threads)."""

    rank_prefix: bool = False
    raw_of: Mapping[Path, Path] | None = None
    sidecars: bool = False
    #: photo -> the XMP fields written into its copy (``export_top``'s ``embed``), or None.
    embed: Mapping[Path, dict[str, str | None]] | None = None


class ExportError(RuntimeError):
    """The export cannot start (or go on): a one-line reason for the user, no traceback."""


@dataclass(frozen=True)
class ExportFailure:
    """A photo that was not copied, and why (the run went on with the others)."""

    source: Path
    reason: str


class ExportReport(list[ExportedPick]):
    """The copies made (a list of ``ExportedPick``), plus what was not copied and why.

    ``failures``: per-file problems (source vanished, unreadable); ``stopped``: why the run
    ended early (disk full, destination turned read-only), or ``None``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.failures: list[ExportFailure] = []
        self.stopped: str | None = None
        self.planned = 0
        #: (original, the copy already in the folder): the same bytes, not copied again.
        self.already: list[tuple[Path, Path]] = []

    @property
    def ok(self) -> bool:
        return not self.failures and self.stopped is None

    def summary(self, dest_dir: Path) -> str:
        """One line: how many were copied, where, and what went wrong."""
        text = f"Copied {len(self)} of {self.planned} photo(s) to {path_text(dest_dir)}"
        if self.already:
            text += (f"; {len(self.already)} already there (the same file), not copied again")
        if self.stopped:
            text += f"; stopped: {self.stopped}"
        if self.failures:
            text += f"; {len(self.failures)} not copied (" + "; ".join(
                f"{path_text(f.source.name)}: {f.reason}" for f in self.failures[:3]) + (
                ", …" if len(self.failures) > 3 else "") + ")"
        return text + "."


def _nearest_existing(path: Path) -> Path:
    p = path
    while not p.exists() and p.parent != p:
        p = p.parent
    return p


def _same_or_inside(path: Path, root: Path) -> tuple[bool, bool]:
    a, b = os.path.realpath(path), os.path.realpath(root)
    return a == b, a.startswith(b.rstrip(os.sep) + os.sep)


def check_destination(dest_dir: Path, scanned_root: Path | None = None) -> str | None:
    """Raise ``ExportError`` unless photos can be copied into ``dest_dir``; nothing is created.

    Checked: not a file, not the scanned folder itself, the file system is not read-only, and
    the folder (or the nearest existing parent it would be created in) is writable -- probed
    with a temp file when the folder exists.  Returns a note for a destination inside the
    scanned folder (allowed: later scans skip a folder holding ``picks.csv``), else ``None``.
    """
    dest_dir = Path(dest_dir)
    shown = path_text(dest_dir)
    if dest_dir.exists() and not dest_dir.is_dir():
        raise ExportError(f"destination {shown} is a file, not a folder")
    if dest_dir.is_symlink() and not dest_dir.exists():
        target = path_text(Path(os.readlink(dest_dir)))
        raise ExportError(f"destination {shown} is a link to {target}, which does not exist")
    note = None
    if scanned_root is not None:
        same, inside = _same_or_inside(dest_dir, scanned_root)
        if same:
            raise ExportError(f"destination {shown} is the scanned folder itself; choose "
                              "another folder (a new sub-folder is fine)")
        if inside:
            note = (f"note: {shown} is inside the scanned folder; later scans skip it "
                    f"(it holds {PICKS_CSV})")
    base = _nearest_existing(dest_dir)
    if not base.is_dir():
        raise ExportError(f"cannot export to {shown}: {path_text(base)} is a file, not a folder")
    try:
        read_only = bool(os.statvfs(base).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        read_only = False
    if read_only:
        raise ExportError(f"cannot export to {shown}: {path_text(base)} is on a read-only "
                          "file system (write-protected card or share?)")
    if not os.access(base, os.W_OK | os.X_OK):
        raise ExportError(f"cannot export to {shown}: no permission to write in "
                          f"{path_text(base)}")
    if base == dest_dir:
        try:
            fd, probe = tempfile.mkstemp(prefix=".curator-probe-", dir=dest_dir)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise ExportError(f"cannot export to {shown}: {os_reason(exc)}") from exc
    return note


def select_top(
    ranked: Sequence[PhotoScore], top: int, min_score: float | None = None,
    keep: Callable[[PhotoScore], bool] | None = None,
) -> list[tuple[int, PhotoScore]]:
    """(rank, photo) for the best ``top`` photos at or above ``min_score`` (on the ranking
    score: 0–100, or the AVA-style mean for model files without one); rank is 1-based.

    ``keep`` filters after ranking (e.g. one photo per near-duplicate group), so a photo keeps
    its rank in the whole folder.
    """
    picks = [(i + 1, s) for i, s in enumerate(ranked)]
    if min_score is not None:
        picks = [(r, s) for r, s in picks if s.rank_value >= min_score]
    if keep is not None:
        picks = [(r, s) for r, s in picks if keep(s)]
    return picks[: max(0, top)]


def free_name(dest_dir: Path, name: str, attempt: int, name_max: int = 255) -> Path:
    """``name`` for attempt 1, then ``stem (2).ext``, ``stem (3).ext`` …

    The stem is shortened (whole characters) so the name fits ``name_max`` bytes: a 250-byte
    name still gets its `` (2)``, and names from file systems with longer limits still copy.
    """
    stem, ext = os.path.splitext(name)
    suffix = f" ({attempt})" if attempt > 1 else ""
    while stem and len(os.fsencode(stem + suffix + ext)) > name_max:
        stem = stem[:-1]
    return dest_dir / f"{stem}{suffix}{ext}"


def ranked_name(rank_no: int, name: str, width: int = 2) -> str:
    """``01 pizza.jpg``: the rank in front, zero-padded so a file manager lists best first."""
    return f"{rank_no:0{max(1, width)}d} {name}"


def copy_no_overwrite(src: Path, dest_dir: Path, name: str | None = None,
                      raw: Path | None = None) -> tuple[Path, Path | None]:
    """Copy ``src`` into ``dest_dir`` as ``name`` (default: its own) or a free variant of it;
    with ``raw`` (the photo's RAW) copy that too, under the same stem, so the pair stays a
    pair (``01 DSC_0042.jpg`` and ``01 DSC_0042.NEF``; both get `` (2)`` if either name is
    taken).  Returns the paths used (photo, RAW or None).
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    name_max = fs_name_max(dest_dir)
    name = name or src.name
    sources = [src] if raw is None else [src, raw]
    temps: list[str] = []
    try:
        for source in sources:
            fd, tmp = tempfile.mkstemp(prefix=".curator-", suffix=".part", dir=dest_dir)
            os.close(fd)
            temps.append(tmp)
            _copy_file(source, Path(tmp))  # data and timestamps; the source is only read
        for attempt in range(1, 100_000):
            target = free_name(dest_dir, name, attempt, name_max)
            raw_target = None if raw is None else target.with_name(target.stem + raw.suffix)
            if target.exists() or (raw_target is not None and raw_target.exists()):
                continue
            if not _claim(temps[0], target):
                continue
            if raw_target is not None and not _claim(temps[1], raw_target):
                os.unlink(target)  # the RAW's name was taken meanwhile: try the next pair
                continue
            return target, raw_target
        raise FileExistsError(f"no free name for {name} in {dest_dir}")
    finally:
        for tmp in temps:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def _claim(tmp: str, target: Path) -> bool:
    """Put the finished copy ``tmp`` at ``target`` unless that name is taken (False then)."""
    try:
        os.link(tmp, target)  # atomic, and fails rather than replaces
        return True
    except FileExistsError:
        return False
    except OSError:
        # No hard links on this file system (FAT, some network shares): claim the name with
        # an exclusive create, then move the finished copy over our own claim.
        try:
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        os.replace(tmp, target)
        return True


def _copy_file(src: Path, dst: Path) -> None:
    """``shutil.copy2`` (one seam, so tests can make the destination fill up part-way)."""
    shutil.copy2(src, dst)


#: Errors that mean the destination as a whole cannot take more: the run stops there.
_RUN_LEVEL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})


def _per_file_reason(exc: OSError, src: Path) -> str | None:
    """Why this one photo could not be copied, or None when the destination itself failed.

    (shutil's sendfile path tags even ENOSPC with the *source* name, so errno decides first.)
    """
    if exc.errno in _RUN_LEVEL:
        return None
    if isinstance(exc, FileNotFoundError) and not os.path.lexists(src):
        return "the original is gone (moved or deleted since scoring)"
    if exc.errno == errno.EFBIG:
        return "too large for the destination's file system (FAT32 stops at 4 GB)"
    if exc.errno == errno.ENAMETOOLONG:
        return os_reason(exc)
    if exc.errno == errno.EINVAL:  # FAT/exFAT refuse \\ : * ? " < > | in names
        return "name not allowed by the destination's file system"
    same = exc.filename is not None and os.fsencode(exc.filename) == os.fsencode(src)
    if same and getattr(exc, "filename2", None) is None:
        return f"cannot read the original: {os_reason(exc)}"
    return None


def export_top(
    ranked: Sequence[PhotoScore],
    dest_dir: Path,
    top: int,
    min_score: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    scanned_root: Path | None = None,
    *,
    rank_prefix: bool = False,
    keep: Callable[[PhotoScore], bool] | None = None,
    raw_of: Mapping[Path, Path] | None = None,
    sidecars: bool = False,
    embed: Callable[[PhotoScore], dict[str, str | None]] | None = None,
) -> ExportReport:
    """Copy the best photos into ``dest_dir``, adding each to its ``picks.csv`` as it lands.

    Raises ``ExportError`` (one line) when the destination cannot be used at all; problems
    with single photos and a destination that fills up part-way are in the returned report.
    Originals are only read. With ``rank_prefix`` each copy is named ``01 pizza.jpg``
    (``ranked_name``), the rank zero-padded to the width of the largest rank exported.
    ``keep``: see ``select_top`` (e.g. only the best of each near-duplicate group).
    ``raw_of``: photo -> its RAW for the pairs to copy together (``curator.scan``'s
    ``raw_of``, given for ``--with-raw``); each RAW lands beside its photo under its stem (a
    RAW gone since scoring is reported, and its photo copied alone).  ``sidecars``: each
    copy gets a copy of its original's own sidecar (stars, keywords, a raw editor's
    settings), the RAW's beside the RAW; never another file's.  ``embed``: XMP fields to
    write *into* each copy (``embed_xmp``: stars and colour label, which Lightroom reads from
    inside a JPEG); the copies are Curator's own files, the originals are never opened for
    writing.  A photo whose very bytes are already in ``dest_dir`` from an earlier export
    (``picks.csv`` says so, or a file of its name) is not copied again: ``report.already``.
    Rank prefixes number the copies 01..N in export order, without gaps.
    """
    dest_dir = Path(dest_dir)
    check_destination(dest_dir, scanned_root)
    created = not os.path.lexists(dest_dir)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {path_text(dest_dir)}: {os_reason(exc)}") from exc
    chosen = select_top(ranked, top, min_score, keep)
    report = ExportReport()
    report.planned = len(chosen)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    width = max(2, len(str(len(chosen))))
    earlier = _earlier_copies(dest_dir)
    number = 0
    for i, (rank_no, s) in enumerate(chosen, 1):
        there = _same_copy(s.path, dest_dir, earlier.get(os.fsencode(os.path.abspath(s.path)),
                                                         []))
        if there is not None:
            report.already.append((s.path, there))
            if progress:
                progress(i, len(chosen))
            continue
        number += 1
        name = ranked_name(number, s.path.name, width) if rank_prefix else None
        raw = (raw_of or {}).get(s.path)
        try:
            try:
                dest, raw_dest = copy_no_overwrite(s.path, dest_dir, name, raw)
            except OSError as exc:
                raw_why = None if raw is None else _per_file_reason(exc, raw)
                if raw is None or raw_why is None or not _about(exc, raw):
                    raise
                # The RAW's own fault (moved away since scoring): the photo goes alone.
                report.failures.append(ExportFailure(
                    raw, f"{raw_why}; {path_text(s.path.name)} was copied without it"))
                dest, raw_dest = copy_no_overwrite(s.path, dest_dir, name)
        except OSError as exc:
            why = _per_file_reason(exc, s.path)
            if why is not None:
                report.failures.append(ExportFailure(s.path, why))
                log.info("not copied: %s: %s", path_text(s.path), why)
                if progress:
                    progress(i, len(chosen))
                continue
            report.stopped = (f"{os_reason(exc)} while copying {path_text(s.path.name)} "
                              f"(nothing partial was left)")
            break
        try:
            sha = _sha256(dest)  # the copy, still byte for byte the original's
        except OSError:
            sha = ""
        pick = ExportedPick(rank_no, s.rank_value, s.sd, s.path, dest, s.mean, s.reasons,
                            raw if raw_dest is not None else None, raw_dest, sha)
        try:
            append_picks_csv(dest_dir / PICKS_CSV, [pick], stamp)
        except OSError as exc:
            for made in (dest, raw_dest):  # picks.csv must list exactly the copies that exist
                if made is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(made)
            report.stopped = (f"{PICKS_CSV} could not be updated ({os_reason(exc)}), so the "
                              f"copy of {path_text(s.path.name)} was removed again")
            break
        report.append(pick)
        if sidecars:
            _copy_sidecars(pick, report)
        if embed is not None:
            _embed(dest, embed(s), report)
        if progress:
            progress(i, len(chosen))
    if created and not len(report):
        with contextlib.suppress(OSError):  # only if this run made it and it is still empty
            dest_dir.rmdir()
    if report.stopped:
        log.info("export to %s stopped: %s", path_text(dest_dir), report.stopped)
    log.info("exported %d photos to %s", len(report), path_text(dest_dir))
    return report


def _earlier_copies(dest_dir: Path) -> dict[bytes, list[tuple[str, str]]]:
    """{original's path bytes: (name of a copy, the original's SHA-256 then or "")} from
    ``dest_dir``'s ``picks.csv``."""
    path = dest_dir / PICKS_CSV
    out: dict[bytes, list[tuple[str, str]]] = {}
    try:
        text = path.read_bytes().decode("utf-8", "surrogateescape")
    except OSError:
        return out
    for row in csv.DictReader(io.StringIO(text, newline="")):
        src = row.get("source_bytes") or ""
        key = base64.b64decode(src) if src else os.fsencode(csv_uncell(row.get("source") or ""))
        name = base64.b64decode(row["file_bytes"]) if row.get("file_bytes") else \
            os.fsencode(csv_uncell(row.get("file") or ""))
        if key and name:
            out.setdefault(key, []).append((os.fsdecode(name), row.get("source_sha256") or ""))
    return out


def _same_copy(src: Path, dest_dir: Path, earlier: list[tuple[str, str]]) -> Path | None:
    """A copy of ``src`` as it is now already in ``dest_dir``: one ``picks.csv`` lists with
    the same SHA-256 of the original, or a file (listed, or of its own name) with exactly its
    bytes.  None when there is none (or ``src`` cannot be read)."""
    try:
        size = os.stat(src).st_size
        digest = _sha256(src) if earlier or (dest_dir / src.name).is_file() else ""
    except OSError:
        return None
    for name, sha in earlier:
        if sha and sha == digest and (dest_dir / name).is_file():
            return dest_dir / name
    for name in dict.fromkeys([*(n for n, _ in earlier), src.name]):
        there = dest_dir / name
        try:
            if there.is_file() and there.stat().st_size == size and _sha256(there) == digest:
                return there
        except OSError:
            continue
    return None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def embed_xmp(path: Path, fields: dict[str, str | None]) -> None:
    """Write XMP ``fields`` into the image file ``path`` itself (a copy Curator made: never an
    original), atomically; raises ``OSError``/``ValueError`` when its format cannot hold XMP."""
    from curator.fsutil import atomic_write_bytes as write
    from curator.sidecar import _pyexiv2

    pyexiv2 = _pyexiv2()
    img = pyexiv2.ImageData(Path(path).read_bytes())  # type: ignore[attr-defined]
    try:
        img.modify_xmp({k: v for k, v in fields.items() if v is not None})
        data = img.get_bytes()
    except Exception as exc:
        raise ValueError(f"cannot hold XMP ({exc})") from exc
    finally:
        img.close()
    write(Path(path), data)


def _embed(dest: Path, fields: dict[str, str | None], report: ExportReport) -> None:
    if not fields:
        return
    try:
        embed_xmp(dest, fields)
    except (OSError, ValueError) as exc:
        report.failures.append(ExportFailure(dest, f"stars and label not written into the "
                                             f"copy: {exc}"))


def _about(exc: OSError, path: Path) -> bool:
    """Whether ``exc`` names ``path`` (its source side), not the destination."""
    return exc.filename is not None and os.fsencode(exc.filename) == os.fsencode(path) and \
        getattr(exc, "filename2", None) is None


def _copy_sidecars(pick: ExportedPick, report: ExportReport) -> None:
    """Copy the original's (and its RAW's) own sidecar beside the copies; a failure is a
    note in the report, never a reason to undo the copy."""
    from curator.sidecar import copy_sidecar
    from curator.sidecar_paths import plan_sidecars

    pairs = [(pick.source, pick.dest)]
    if pick.raw_source is not None and pick.raw_dest is not None:
        pairs.append((pick.raw_source, pick.raw_dest))
    for src, dst in pairs:
        own = plan_sidecars(src).targets
        try:
            copy_sidecar(src, dst, own)
        except OSError as exc:
            report.failures.append(ExportFailure(own[0], f"its sidecar was not copied beside "
                                                 f"{path_text(dst.name)} ({os_reason(exc)})"))


def _header(old: bytes) -> list[str] | None:
    """The column names of an existing ``picks.csv`` (None when it has no Curator header)."""
    first = old.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    names: list[str] = next(csv.reader([first]), [])
    return names if names[:1] == ["rank"] and "file" in names else None


def append_picks_csv(path: Path, picks: Sequence[ExportedPick], stamp: str | None = None) -> None:
    """Rewrite ``picks.csv`` atomically with its old bytes followed by the new rows.

    Old rows are kept byte for byte (whatever encoding an editor saved them in); new rows are
    UTF-8, names written with ``curator.names.path_text`` (``\\xNN`` for non-UTF-8 bytes) and
    guarded against spreadsheet formulas with ``curator.names.csv_cell`` (a leading ``'``
    before ``=``, ``+``, ``-``, ``@``, tab, CR; ``csv_uncell`` undoes it).
    """
    old = path.read_bytes() if path.exists() else b""
    buf = io.StringIO()
    writer = CsvLines(buf)
    # New rows follow the header already there (an older Curator's columns stay readable).
    columns = _header(old) or PICKS_COLUMNS
    if not old:
        writer.writerow(PICKS_COLUMNS)
    stamp = stamp or datetime.now(UTC).isoformat(timespec="seconds")
    for p in picks:
        source = os.path.abspath(p.source)
        row = {"rank": p.rank, "score": f"{p.score:.3f}", "reasons": ";".join(p.reasons),
               "ava_mean": f"{p.mean:.3f}", "ava_sd": f"{p.sd:.3f}", "sd": f"{p.sd:.3f}",
               "file": csv_cell(path_text(p.dest.name)),
               "source": csv_cell(path_text(source)), "exported_at": stamp,
               "raw": "" if p.raw_dest is None else csv_cell(path_text(p.raw_dest.name)),
               "file_bytes": path_bytes_b64(p.dest.name) or "",
               "source_bytes": path_bytes_b64(source) or "",
               "raw_bytes": "" if p.raw_dest is None else path_bytes_b64(p.raw_dest.name) or "",
               "source_sha256": p.sha256}
        writer.writerow([row.get(c, "") for c in columns])
    if old and not old.endswith(b"\n"):
        old += b"\n"
    atomic_write_bytes(path, old + buf.getvalue().encode("utf-8"))
