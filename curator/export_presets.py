"""Export for a destination: cropped, resized sRGB JPEGs that meet its published limits.

``curator export FOLDER --for uber-eats-cover --top 5`` and the export dialog's "For: …"
menu call ``export_for``.  It walks the ranked photos best first and, for each:

1. judges it for the destination (``curator.readiness``): size and the score's reasons at
   once, then (one decode, remembered in ``facts.sqlite3``) colour, text, faces and where the
   dish is; a photo failing a hard rule or a check the destination rejects is **left out**,
   with why, and the next photo is tried;
2. crops it to the destination's ratio where the owner moved the crop (``curator.cropstore``)
   or where ``curator.crop.propose_crop`` keeps the dish;
3. resizes it (Lanczos, never enlarged) to the exact-ratio output size, converts it to sRGB
   (the decoder applies the photo's ICC profile and EXIF orientation), and saves a JPEG with
   the sRGB profile embedded, no EXIF (so no orientation tag and no GPS position), at the
   highest quality that fits the destination's byte limit (binary search over quality);
4. writes it under a new name (``pizza-uber-eats-cover.jpg``; never overwriting, a taken
   name gets `` (2)``), reads it back and checks size, ratio, bytes and format against the
   destination before listing it in ``picks.csv`` (with the crop box and the checks).

Originals are only read.  Until ``top`` photos are written, or the ranking runs out.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageCms

from curator.crop import Box, propose_crop
from curator.cropstore import CropStore
from curator.destinations import Destination
from curator.export import (
    PICKS_CSV,
    ExportError,
    ExportFailure,
    _header,
    check_destination,
    copy_no_overwrite,
)
from curator.fsutil import atomic_write_bytes, default_mode, os_reason
from curator.fsutil import name_max as fs_name_max
from curator.names import CsvLines, csv_cell, path_text
from curator.readiness import FactsCache, PixelFacts, Readiness, analyse, check_photo
from curator.score import PhotoScore

log = logging.getLogger(__name__)

PRESET_COLUMNS = ["rank", "score", "reasons", "file", "source", "destination", "width",
                  "height", "bytes", "quality", "crop_left", "crop_top", "crop_right",
                  "crop_bottom", "checks", "exported_at"]

#: JPEG qualities tried (binary search between these), best first.
MAX_QUALITY, MIN_QUALITY = 95, 30

_SRGB_ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@dataclass(frozen=True)
class PresetPick:
    """One file written for a destination."""

    rank: int
    score: float
    source: Path
    dest: Path
    readiness: Readiness
    crop: Box
    size: tuple[int, int]
    bytes: int
    quality: int
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class LeftOut:
    """A photo not exported because it is not ready, and why (plain words)."""

    rank: int
    source: Path
    why: str
    #: The checks that left it out (``size``, ``text`` …; empty for a file that cannot fit).
    keys: tuple[str, ...] = ()


@dataclass
class PresetReport:
    """What ``export_for`` wrote (``picks``), left out, could not read, and why it stopped."""

    destination: Destination
    picks: list[PresetPick] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    failures: list[ExportFailure] = field(default_factory=list)
    stopped: str | None = None
    asked: int = 0

    def __len__(self) -> int:
        return len(self.picks)

    @property
    def ok(self) -> bool:
        return not self.failures and self.stopped is None

    def left_out_lines(self, name: Callable[[str], str], most: int = 1000) -> list[str]:
        """One line per photo left out, the ones only too small together in one line
        (``name`` makes a file name printable)."""
        d = self.destination
        small = [x for x in self.left_out if x.keys == ("size",)]
        others = [x for x in self.left_out if x.keys != ("size",)]
        lines = [f"#{x.rank} {name(x.source.name)}: {x.why}" for x in others[:most]]
        if len(others) > most:
            lines.append(f"… and {len(others) - most} more")
        if small:
            need = d.min_output()
            names = ", ".join(name(x.source.name) for x in small[:5])
            more = f", … (+{len(small) - 5})" if len(small) > 5 else ""
            lines.append(f"{len(small)} too small (the {d.ratio_text} crop is under {need[0]} × "
                         f"{need[1]} px; use full-size originals): {names}{more}")
        return lines

    def summary(self, dest_dir: Path) -> str:
        """The result in plain words, a few lines."""
        d = self.destination
        lines = [f"Wrote {len(self.picks)} of {self.asked} {d.name} photo(s) "
                 f"({d.ratio_text}, JPEG) to {path_text(dest_dir)}."]
        if self.left_out:
            lines.append(f"{len(self.left_out)} photo(s) left out as not ready for {d.name}:")
            lines += ["  " + line for line in self.left_out_lines(path_text, most=8)]
        if self.failures:
            lines.append(f"{len(self.failures)} could not be written: " + "; ".join(
                f"{path_text(f.source.name)}: {f.reason}" for f in self.failures[:3]))
        if self.stopped:
            lines.append(f"Stopped: {self.stopped}.")
        if len(self.picks) < self.asked and not self.stopped:
            lines.append(f"You asked for {self.asked}; only {len(self.picks)} ready photo(s) "
                         "were found.")
        return "\n".join(lines)


def default_preset_dir(folder: Path, dest: Destination) -> Path:
    """``<parent>/<folder> – <destination>``: beside the ranked folder, never inside it."""
    folder = Path(folder).resolve()
    return folder.parent / f"{folder.name} – {dest.name}"


def preset_name(source: Path, dest: Destination, rank: int | None = None, width: int = 2,
                name_max: int = 255) -> str:
    """``pizza-uber-eats-cover.jpg`` (``01 pizza-uber-eats-cover.jpg`` with a rank).

    A long stem is shortened, whole characters at a time, so the destination's part and a
    `` (2)`` still fit ``name_max`` bytes."""
    stem = source.stem
    lead = f"{rank:0{width}d} " if rank is not None else ""
    tail = f"-{dest.key}.jpg"
    while stem and len(os.fsencode(lead + stem + tail)) > name_max - 8:
        stem = stem[:-1]
    return lead + stem + tail


def encode_to_fit(im: Image.Image, max_bytes: int, min_bytes: int = 0) -> tuple[bytes, int]:
    """``im`` as a baseline sRGB JPEG at the highest quality (30–95) under ``max_bytes``.

    Returns the bytes and the quality; raises ``ValueError`` when even quality 30 is too big
    or even 95 is under ``min_bytes`` (a nearly blank photo).
    """
    def enc(q: int) -> bytes:
        opts = {"quality": q, "icc_profile": _SRGB_ICC,
                "subsampling": "4:2:0" if q < 90 else "4:4:4"}
        buf = io.BytesIO()
        try:  # optimised Huffman tables: a few % smaller
            im.save(buf, "JPEG", optimize=True, **opts)
        except OSError:  # Pillow sizes that buffer for photos: pure noise can overflow it
            buf = io.BytesIO()
            im.save(buf, "JPEG", **opts)
        return buf.getvalue()

    best = enc(MAX_QUALITY)
    if len(best) <= max_bytes:
        if len(best) < min_bytes:
            raise ValueError(f"only {len(best)} bytes even at quality {MAX_QUALITY}, "
                             f"{min_bytes} needed (a nearly plain photo)")
        return best, MAX_QUALITY
    lo, hi, found = MIN_QUALITY, MAX_QUALITY - 1, None
    while lo <= hi:
        q = (lo + hi) // 2
        data = enc(q)
        if len(data) <= max_bytes:
            found, lo = (data, q), q + 1
        else:
            hi = q - 1
    if found is None:
        raise ValueError(f"over {max_bytes} bytes even at JPEG quality {MIN_QUALITY}")
    if len(found[0]) < min_bytes:
        raise ValueError(f"cannot fit between {min_bytes} and {max_bytes} bytes")
    return found


def render(path: Path, dest: Destination, crop: Box, full_size: tuple[int, int]
           ) -> tuple[bytes, tuple[int, int], int]:
    """The destination's JPEG of ``crop`` (px of the photo as displayed, ``full_size``).

    Returns the JPEG bytes, the output size and the quality used; raises ``ValueError`` when
    the crop is too small or the bytes cannot fit, and what ``open_rgb`` raises.
    """
    from curator.loader import open_rgb

    cw, ch = crop[2] - crop[0], crop[3] - crop[1]
    out = dest.output_size(cw, ch)
    if out is None:
        raise ValueError(f"the crop is {round(cw)} × {round(ch)} px, under {dest.name}'s "
                         f"minimum")
    # Decode no larger than needed (JPEG draft), but never below the output's resolution.
    scale_needed = out[0] / cw
    im, size = open_rgb(path, math.ceil(min(full_size) * scale_needed) + 2)
    sx, sy = im.width / size[0], im.height / size[1]
    box = (crop[0] * sx, crop[1] * sy, crop[2] * sx, crop[3] * sy)
    if im.mode != "RGB":
        im = im.convert("RGB")
    res = im.resize(out, Image.Resampling.LANCZOS, box=box)
    data, quality = encode_to_fit(res, dest.max_bytes, dest.min_bytes)
    return data, out, quality


def verify_file(path: Path, dest: Destination, expected: tuple[int, int] | None = None
                ) -> list[str]:
    """What is wrong with an exported file for ``dest`` (empty when nothing): format, size
    against ``min_size`` and ``expected``, exact ratio, bytes, colour mode, EXIF orientation."""
    problems = []
    n = os.path.getsize(path)
    if n > dest.max_bytes or n < dest.min_bytes:
        problems.append(f"{n} bytes, outside {dest.min_bytes}–{dest.max_bytes}")
    with Image.open(path) as im:
        fmt = "JPEG" if im.format == "JPEG" else str(im.format)
        if fmt not in dest.formats:
            problems.append(f"format {fmt} not in {', '.join(dest.formats)}")
        w, h = im.size
        if expected is not None and (w, h) != expected:
            problems.append(f"{w} × {h} px, {expected[0]} × {expected[1]} expected")
        if w < dest.min_size[0] or h < dest.min_size[1]:
            problems.append(f"{w} × {h} px is under {dest.min_size[0]} × {dest.min_size[1]}")
        if w * dest.ratio[1] != h * dest.ratio[0]:
            problems.append(f"{w} × {h} is not exactly {dest.ratio_text}")
        if im.mode != "RGB":
            problems.append(f"colour mode {im.mode}, not RGB")
        orientation = im.getexif().get(0x0112)
        if orientation not in (None, 1):
            problems.append(f"EXIF orientation {orientation}")
    return problems


def _write_new(dest_dir: Path, name: str, data: bytes) -> Path:
    """Write ``data`` as ``name`` (or a free variant) in ``dest_dir``; never overwrites
    (``curator.export.copy_no_overwrite`` of a finished temp file)."""
    fd, tmp = tempfile.mkstemp(prefix=".curator-render-", suffix=".part", dir=dest_dir)
    try:
        os.chmod(tmp, default_mode())  # mkstemp's 0600 would make the copy private
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return copy_no_overwrite(Path(tmp), dest_dir, name)[0]
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def append_preset_csv(path: Path, picks: Sequence[PresetPick], stamp: str) -> None:
    """Add ``picks`` to ``picks.csv`` atomically (old rows kept byte for byte; new rows follow
    the header already there, so a plain export's file keeps its columns)."""
    old = path.read_bytes() if path.exists() else b""
    buf = io.StringIO()
    writer = CsvLines(buf)
    columns = _header(old) or PRESET_COLUMNS
    if not old:
        writer.writerow(PRESET_COLUMNS)
    for p in picks:
        row = {"rank": p.rank, "score": f"{p.score:.3f}", "reasons": ";".join(p.reasons),
               "file": csv_cell(path_text(p.dest.name)),
               "source": csv_cell(path_text(os.path.abspath(p.source))),
               "destination": p.readiness.destination.key, "width": p.size[0],
               "height": p.size[1], "bytes": p.bytes, "quality": p.quality,
               "crop_left": round(p.crop[0]), "crop_top": round(p.crop[1]),
               "crop_right": round(p.crop[2]), "crop_bottom": round(p.crop[3]),
               "checks": csv_cell(p.readiness.summary_keys()), "exported_at": stamp}
        writer.writerow([row.get(c, "") for c in columns])
    if old and not old.endswith(b"\n"):
        old += b"\n"
    atomic_write_bytes(path, old + buf.getvalue().encode("utf-8"))


def judge(s: PhotoScore, dest: Destination, facts: PixelFacts | None,
          crops: CropStore | None) -> Readiness:
    """``check_photo`` on the owner's remembered crop, else the proposed one."""
    size = (s.width, s.height) if s.width and s.height else None
    crop = None
    if size is not None:
        if crops is not None:
            crop = crops.crop(s.path, dest.ratio_text, size, dest.aspect)
        if crop is None and facts is not None:
            crop = propose_crop(size, dest.aspect, facts.dish_map())
    return check_photo(dest, size, s.reasons, facts, crop)


def export_for(
    ranked: Sequence[PhotoScore],
    dest_dir: Path,
    dest: Destination,
    top: int,
    *,
    min_score: float | None = None,
    scanned_root: Path | None = None,
    group_of: Callable[[PhotoScore], int] | None = None,
    facts: FactsCache | None = None,
    crops: CropStore | None = None,
    rank_prefix: bool = False,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> PresetReport:
    """Write up to ``top`` ready photos for ``dest`` into ``dest_dir`` (module docstring).

    ``ranked`` is best first; ``group_of`` (near-duplicate groups) keeps one photo per group
    (a group whose best is not ready gives way to its next).  Raises ``ExportError`` when the
    destination folder cannot be used at all.
    """
    dest_dir = Path(dest_dir)
    check_destination(dest_dir, scanned_root)
    created = not os.path.lexists(dest_dir)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {path_text(dest_dir)}: {os_reason(exc)}") from exc
    report = PresetReport(dest, asked=top)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    width = max(2, len(str(len(ranked))))
    used_groups: set[int] = set()
    for rank_no, s in enumerate(ranked, 1):
        if len(report.picks) >= top or (cancelled is not None and cancelled()):
            break
        if min_score is not None and s.rank_value < min_score:
            break  # ranked best first: none after this passes either
        group = group_of(s) if group_of is not None else None
        if group is not None and group in used_groups:
            continue
        quick = judge(s, dest, None, crops)
        if not quick.ready:
            report.left_out.append(LeftOut(rank_no, s.path, quick.why_not(),
                                           tuple(c.key for c in quick.rejections())))
            continue
        try:
            pixel = facts.facts_for(s.path) if facts is not None else analyse(s.path)
        except Exception as exc:
            from curator.loader import describe_error

            report.failures.append(ExportFailure(s.path, describe_error(s.path, exc)))
            continue
        ready = judge(s, dest, pixel, crops)
        if not ready.ready:
            report.left_out.append(LeftOut(rank_no, s.path, ready.why_not(),
                                           tuple(c.key for c in ready.rejections())))
            continue
        assert ready.crop is not None and s.width and s.height
        try:
            data, out, quality = render(s.path, dest, ready.crop, (s.width, s.height))
        except ValueError as exc:  # bytes cannot fit, or the decoded photo is smaller
            report.left_out.append(LeftOut(rank_no, s.path, str(exc)))
            continue
        except OSError as exc:
            from curator.loader import describe_error

            report.failures.append(ExportFailure(s.path, describe_error(s.path, exc)))
            continue
        name = preset_name(s.path, dest, rank_no if rank_prefix else None, width,
                           fs_name_max(dest_dir))
        try:
            target = _write_new(dest_dir, name, data)
        except OSError as exc:
            report.stopped = f"{os_reason(exc)} while writing {name} (nothing partial was left)"
            break
        problems = verify_file(target, dest, out)
        if problems:  # never expected: the file is removed rather than listed
            with contextlib.suppress(OSError):
                os.unlink(target)
            report.failures.append(ExportFailure(s.path, "written file failed its check: "
                                                 + "; ".join(problems)))
            continue
        pick = PresetPick(rank_no, s.rank_value, s.path, target, ready, ready.crop, out,
                          len(data), quality, s.reasons)
        try:
            append_preset_csv(dest_dir / PICKS_CSV, [pick], stamp)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(target)  # picks.csv must list exactly the files that exist
            report.stopped = (f"{PICKS_CSV} could not be updated ({os_reason(exc)}), so "
                              f"{path_text(target.name)} was removed again")
            break
        report.picks.append(pick)
        if group is not None:
            used_groups.add(group)
        if progress:
            progress(len(report.picks), top)
    if created and not report.picks:
        with contextlib.suppress(OSError):
            dest_dir.rmdir()
    log.info("exported %d photos for %s to %s", len(report.picks), dest.key,
             path_text(dest_dir))
    return report


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n / 1000:.0f} kB"


def cmd_export_for(args: Any) -> int:
    """``curator export FOLDER --for DESTINATION``: score, then ``export_for``; exit code as
    ``curator export`` (0 all done, 1 some file could not be read or written, 2 unusable)."""
    import sys

    from curator.cli import (
        _incomplete,
        photo_verdicts,
        run_scoring,
        write_skipped,
        writing_output,
    )
    from curator.culling import Flag
    from curator.destinations import get
    from curator.groups import group_photos
    from curator.names import display_text
    from curator.paths import default_cache_dir
    from curator.progress import ProgressBar
    from curator.score import PhotoError, rank

    dest = get(args.for_dest)
    unused = [flag for flag, attr in (("--xmp", "xmp"), ("--with-raw", "with_raw"))
              if getattr(args, attr, False)]
    if unused:  # the files are new renders, not copies: nothing to pair them with
        raise ExportError(f"{' and '.join(unused)} cannot be used with --for (it writes new "
                     "cropped JPEGs, not copies of the originals)")
    dest_dir = Path(args.dest) if args.dest is not None else default_preset_dir(args.folder,
                                                                                 dest)
    note = check_destination(dest_dir, args.folder)  # before minutes of scoring
    if note:
        sys.stderr.write(note + "\n")
    scorer, results, _elapsed = run_scoring(args)
    verdicts = photo_verdicts(args, rank(results))  # rejects never go, here either
    rejected = {p for p, v in verdicts.items() if v.flag == Flag.REJECT}
    ranked = [s for s in rank(results) if s.path not in rejected]
    groups = group_photos(ranked, args.prefs.group_config(), store=scorer.cache)
    facts = None if args.no_cache else FactsCache.in_dir(args.cache_dir or default_cache_dir())
    bar = ProgressBar(f"Preparing {dest.name} photos", enabled=False if args.quiet else None)
    try:
        with CropStore.in_dir() as crops:
            report = export_for(
                ranked, dest_dir, dest, args.top, min_score=args.min_score,
                scanned_root=args.folder, crops=crops, rank_prefix=args.rank_prefix,
                group_of=None if args.all_in_group else (lambda s: groups.group_of[s.path]),
                facts=facts, progress=bar)
    finally:
        bar.close()
        if facts is not None:
            facts.close()
    with writing_output():
        out = sys.stdout
        for p in report.picks:
            out.write(f"{p.rank:>4}  {p.score:5.1f}  {display_text(p.source)} -> "
                      f"{display_text(p.dest)}  ({p.size[0]} × {p.size[1]}, {_mb(p.bytes)}, "
                      f"JPEG quality {p.quality})\n")
            for c in p.readiness.warnings():
                out.write(f"           note: {display_text(c.text())}\n")
        if report.left_out:
            out.write(f"\nLeft out, not ready for {dest.name} ({len(report.left_out)}):\n")
            for line in report.left_out_lines(display_text):
                out.write(f"  {display_text(line)}\n")
        for f in report.failures:
            out.write(f"   -  not written: {display_text(f.source)}: {display_text(f.reason)}\n")
        errors = sorted((r for r in results if isinstance(r, PhotoError)),
                        key=lambda e: str(e.path))
        if errors:
            out.write(f"\n{len(errors)} file(s) could not be scored:\n")
            for e in errors:
                out.write(f"  {display_text(e.path)}: {display_text(e.reason)}\n")
        if rejected:
            out.write(f"Left out {len(rejected)} photo(s) rejected in their sidecars: "
                      f"{', '.join(display_text(p.name) for p in sorted(rejected)[:5])}\n")
        if report.stopped:
            out.write(f"\nStopped: {display_text(report.stopped)}.\n")
        listed = " (list in picks.csv)" if (dest_dir / PICKS_CSV).is_file() else ""
        short = (f"; only {len(report)} of the {args.top} asked for are ready"
                 if len(report) < args.top else "")
        out.write(f"\nWrote {len(report)} photo(s) for {dest.name} ({dest.ratio_text}, "
                  f"JPEG) to {display_text(dest_dir)}{listed}{short}.\n")
        write_skipped(out, list(getattr(args, "skipped", [])), args.folder)
    return 0 if report.ok and not _incomplete(args, results) else 1
