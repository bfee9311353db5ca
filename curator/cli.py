"""Command line: ``curator score FOLDER`` ranks photos; ``curator export`` copies the best.

``curator`` alone (or ``curator FOLDER``) is the desktop app's entry point.

Exit codes (README "Exit codes"): 0 everything was scored/copied; 1 the run finished but some
files could not be scored or copied (listed); 2 usage error or nothing could be done (bad
folder, model, destination).  130 after Ctrl-C.  Output cut short by the reader (``| head``)
ends quietly.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curator import __version__, precision
from curator.cache import open_cache
from curator.culling import Flag, Verdict
from curator.groups import Groups, group_photos
from curator.names import CsvLines, csv_cell, display_text, path_bytes_b64, path_text
from curator.pairs import rescue_broken_pairs
from curator.paths import ModelFileError, default_cache_dir
from curator.prefs import (
    SIMILARITY,
    STRICTNESS_ALPHA,
    Prefs,
    PrefsError,
    load_prefs,
    with_overrides,
)
from curator.progress import ProgressBar
from curator.scan import PHOTO_EXTENSIONS, Skipped, by_reason, scan
from curator.score import PhotoError, PhotoScore, Result, Scorer, rank
from curator.verdicts import VerdictReader

if TYPE_CHECKING:
    from curator.sidecar import SidecarSummary
    from curator.sidecar_paths import SidecarNote

log = logging.getLogger(__name__)


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1 (``--top 0`` is a usage error, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def device_choice(text: str) -> str:
    """argparse type for ``--device``: auto, cpu, cuda, cuda:N or mps, and present here.

    Checked before anything is scanned or loaded, so a wrong device is a usage error (exit 2)
    even when every score would come from the cache.  Only cuda/mps import torch here.
    """
    name = text.strip().lower()
    if name in ("auto", "cpu"):
        return name
    if name == "cuda" or (name.startswith("cuda:") and name[5:].isdigit()):
        import torch

        if not torch.cuda.is_available():
            raise argparse.ArgumentTypeError(f"{text}: no CUDA GPU is available on this "
                                             f"machine (use cpu or auto)")
        if ":" in name and int(name[5:]) >= torch.cuda.device_count():
            raise argparse.ArgumentTypeError(
                f"{text}: this machine has {torch.cuda.device_count()} CUDA GPU(s)")
        return name
    if name == "mps":
        import torch

        if not torch.backends.mps.is_available():
            raise argparse.ArgumentTypeError(f"{text}: Apple MPS is not available here "
                                             f"(use cpu or auto)")
        return name
    raise argparse.ArgumentTypeError(f"unknown device {text!r} (auto, cpu, cuda, cuda:N, mps)")


def _add_scoring_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", type=Path, help="folder of photos (searched recursively)")
    p.add_argument("--model", type=Path, help="model file (default: $CURATOR_MODEL or bundled)")
    p.add_argument("--cache-dir", type=Path, help="score cache folder (default: $CURATOR_CACHE_DIR "
                   "or the per-user cache dir)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the score cache")
    p.add_argument("--no-recursive", action="store_true", help="only the folder itself")
    p.add_argument("--batch-size", type=positive_int, default=16, help="photos per model batch")
    p.add_argument("--workers", type=positive_int, help="decode threads (default: up to 4)")
    p.add_argument("--device", type=device_choice, default="auto",
                   help="auto, cpu, cuda, cuda:N or mps")
    _add_precision(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _add_prefs(p)


def _add_prefs(p: argparse.ArgumentParser) -> None:
    """The culling settings (``curator.prefs``): saved by the window's Preferences; these
    flags change them for this run only."""
    g = p.add_argument_group("culling settings (default: as saved in Preferences)")
    g.add_argument("--similarity", choices=list(SIMILARITY),
                   help="how alike photos must be to stack as near-duplicates")
    g.add_argument("--capture-gap", type=float, metavar="MINUTES", dest="time_gap_min",
                   help="photos taken further apart than this never stack")
    g.add_argument("--blur-strictness", choices=list(STRICTNESS_ALPHA), dest="blur",
                   help="how readily the blur reason is given")
    g.add_argument("--exposure-strictness", choices=list(STRICTNESS_ALPHA), dest="exposure",
                   help="how readily dark / overexposed are given")


def label_choice(text: str) -> tuple[float | None, float | None]:
    """argparse type for ``--labels``: ``GREEN,RED`` scores (``80,30``), one of them empty
    (``80,``), or ``none``."""
    if text.strip().lower() == "none":
        return None, None
    parts = text.split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError("give GREEN,RED scores (e.g. 80,30) or none")
    try:
        green, red = (float(x) if x.strip() else None for x in parts)
        Prefs(label_green_at=green, label_red_at=red)
    except (ValueError, PrefsError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return green, red


def _add_label_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--labels", type=label_choice, metavar="GREEN,RED",
                   help="with --xmp: colour label Green at or above the first score, Red at or "
                        "below the second (e.g. 80,30), or none (default: as saved)")
    p.add_argument("--no-stars", action="store_false", dest="stars", default=None,
                   help="with --xmp: do not write the score as stars (xmp:Rating)")


def run_prefs(args: argparse.Namespace) -> Prefs:
    """The saved settings with this run's flags over them."""
    labels = getattr(args, "labels", None)
    return with_overrides(
        load_prefs(), similarity=getattr(args, "similarity", None),
        time_gap_min=getattr(args, "time_gap_min", None), blur=getattr(args, "blur", None),
        exposure=getattr(args, "exposure", None),
        keep_per_group=getattr(args, "keep_per_group", None), stars=getattr(args, "stars", None),
        **({} if labels is None else {"label_green_at": labels[0],
                                      "label_red_at": labels[1]}))


def precision_choice(text: str) -> str:
    """argparse type for ``--precision``: auto, fp32 or bf16 (any case; float32, bfloat16)."""
    value = precision.parse(text)
    if value is None:
        raise argparse.ArgumentTypeError(
            f"unknown precision {text!r} ({', '.join(precision.CHOICES)})")
    return value


def _add_precision(p: argparse.ArgumentParser) -> None:
    p.add_argument("--precision", type=precision_choice, default=None,
                   help="backbone number format on a CPU: auto (bfloat16 where the CPU has "
                        "native support, else float32; the default, or $CURATOR_PRECISION), "
                        "fp32 (scores exactly as on any float32 machine), bf16. Scores already "
                        "in the cache are reused whichever was used; --no-cache recomputes")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="curator", description="Rank food and drink photos: the score (0-100) is the "
        "chance a food-photo editor would post the photo; reasons say what holds one back."
    )
    parser.add_argument("--version", action="version", version=f"curator {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    sub = parser.add_subparsers(dest="command")

    sc = sub.add_parser("score", help="score and rank every photo in a folder")
    _add_scoring_options(sc)
    fmt = sc.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="JSON on stdout")
    fmt.add_argument("--csv", action="store_true", help="CSV on stdout")
    sc.add_argument("--top", type=positive_int, help="show only the best N")
    sc.add_argument("--xmp", action="store_true",
                    help="write each photo's score and stars into its XMP sidecar")
    _add_label_options(sc)

    ex = sub.add_parser("export", help="copy the best N photos to another folder")
    _add_scoring_options(ex)
    ex.add_argument("--top", type=positive_int, default=10, help="how many photos (default 10)")
    ex.add_argument("--to", type=Path, dest="dest",
                    help="destination folder (with --for: default '<folder> – <destination>' "
                         "beside it)")
    ex.add_argument("--for", type=destination_choice, dest="for_dest", metavar="DESTINATION",
                    help="write cropped, resized JPEGs ready for one destination: "
                         + ", ".join(destination_names()))
    ex.add_argument("--min-score", type=float, help="skip photos scoring below this (0-100)")
    ex.add_argument("--rank-prefix", action="store_true",
                    help="name copies '01 pizza.jpg', '02 …' so a file manager lists them "
                         "best first")
    ex.add_argument("--all-in-group", action="store_true",
                    help="take every photo of a near-duplicate group, not just its best")
    ex.add_argument("--xmp", action="store_true",
                    help="write an XMP sidecar (score, stars) next to each copy")
    ex.add_argument("--embed-xmp", action="store_true",
                    help="write stars and colour label into each copy itself (Lightroom "
                         "reads them from inside a JPEG; the originals are never written)")
    ex.add_argument("--per-group", type=positive_int, dest="keep_per_group", metavar="N",
                    help="take the best N of each near-duplicate group (default: as saved, 1)")
    _add_label_options(ex)
    ex.add_argument("--with-raw", action="store_true",
                    help="copy each photo's RAW file (DSC_0042.NEF beside DSC_0042.JPG) "
                         "with it, under the same name, with the RAW's sidecar")

    gui = sub.add_parser("gui", help="open the desktop app")
    gui.add_argument("folder", type=Path, nargs="?")
    _add_precision(gui)
    return parser


def _make_scorer(args: argparse.Namespace) -> Scorer:
    cache = None if args.no_cache else open_cache(args.cache_dir or default_cache_dir())
    scorer = Scorer(args.model, cache, args.batch_size, args.workers, args.device,
                    precision=args.precision)
    prefs = args.prefs
    if (prefs.blur, prefs.exposure) != ("default", "default"):  # reasons at that strictness
        scorer.measure_thresholds = prefs.measure_thresholds(
            dict(scorer.model_file.measure_thresholds))
    return scorer


def run_scoring(args: argparse.Namespace) -> tuple[Scorer, list[Result], float]:
    """Scan and score ``args.folder``; returns the scorer, all results and the elapsed time."""
    found = scan(args.folder, recursive=not args.no_recursive)
    args.skipped = found.skipped  # image-like files left out, with reasons (for the summary)
    args.raw_of = found.raw_of  # RAW+JPEG pairs: photo -> its RAW
    paths = found.photos
    if not paths:
        sys.stderr.write(f"curator: no photos found in {display_text(args.folder)} "
                         f"(Curator opens {opened_formats()})\n")
    scorer = _make_scorer(args)
    bar = ProgressBar("Scoring", enabled=False if args.quiet else None)
    t0 = time.perf_counter()
    try:
        results = list(scorer.score(paths, progress=bar))
        rescued = rescue_broken_pairs(results, args.raw_of)  # a broken JPEG: its RAW alone
        if rescued:
            results += scorer.score([raw for _photo, raw in rescued])
    finally:
        bar.close()
    return scorer, results, time.perf_counter() - t0


def opened_formats() -> str:
    """The common formats Curator scores, for messages ("JPEG, PNG, HEIC, …")."""
    common = (("JPEG", ".jpg"), ("PNG", ".png"), ("HEIC", ".heic"), ("WebP", ".webp"),
              ("TIFF", ".tif"), ("AVIF", ".avif"), ("GIF", ".gif"), ("BMP", ".bmp"))
    return ", ".join(n for n, e in common if e in PHOTO_EXTENSIONS) + ", …"


def _display_path(path: Path, root: Path) -> str:
    """A path for the terminal: relative to ``root`` when inside it, controls escaped."""
    try:
        return display_text(path.relative_to(root))
    except ValueError:
        return display_text(path)


def _path_fields(path: Path | str, key: str = "path") -> dict[str, str]:
    """``path``, absolute, as UTF-8 text (``\\xNN`` for non-UTF-8 bytes), plus
    ``<key>_bytes`` (base64 of the exact bytes) when it is not valid UTF-8 (README "File
    names in picks.csv and JSON")."""
    full = os.path.abspath(path)
    raw = path_bytes_b64(full)
    return {key: path_text(full), **({f"{key}_bytes": raw} if raw else {})}


def _photo_dict(rank_no: int, s: PhotoScore, groups: Groups, raw: Path | None = None,
                sidecars: SidecarSummary | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rank": rank_no,
        **_path_fields(s.path),
        # A RAW+JPEG pair: the RAW scored with this photo as one entry (README "RAW files").
        "raw": None if raw is None else _path_fields(raw),
        # 0-100: the calibrated chance a food-photo editor would post it (null only for
        # model files without a post-worthy output).
        "score": None if s.score is None else round(s.score, 2),
        "reasons": list(s.reasons),
        "ava_mean": round(s.mean, 4),
        "ava_sd": round(s.sd, 4),
        "mean": round(s.mean, 4),  # kept for scripts written against earlier versions
        "sd": round(s.sd, 4),
        "distribution": [round(p, 5) for p in s.distribution],
        "width": s.width,
        "height": s.height,
        "cached": s.cached,
        "group": groups.group_of[s.path],
        "group_best": groups.is_best(s.path),
        # Why it is (or is not) its group's best: sharpness, exposure, score (curator.bursts).
        "group_why": groups.why.get(s.path),
    }
    if sidecars is not None:  # --xmp: the sidecars that now hold this photo's score
        out["sidecars"] = [_path_fields(p) for p in sidecars.by_photo.get(s.path, [])]
    return out


def _verdict_dict(v: Verdict) -> dict[str, Any]:
    """A person's verdict in JSON: ``{"flag": "pick"|"reject"|"none", "stars": 0-5}``."""
    return {"flag": {Flag.PICK: "pick", Flag.REJECT: "reject"}.get(v.flag, "none"),
            "stars": v.stars}


def _sidecar_dict(n: SidecarNote) -> dict[str, Any]:
    return {**_path_fields(n.sidecar), **_path_fields(n.photo, "photo"), "kind": "sidecar",
            "reason": f"{n.reason}; left as it is"}


def print_results(
    args: argparse.Namespace, scorer: Scorer, results: list[Result], elapsed: float,
    sidecars: SidecarSummary | None = None,
) -> None:
    """The ranking on stdout as a table, JSON (``--json``) or CSV (``--csv``).

    ``sidecars``: what ``--xmp`` wrote; the sidecars it left alone are listed in JSON
    ``skipped`` (``"kind": "sidecar"``, with the ``photo``) and as CSV rows.
    """
    ranked = rank(results)
    groups = group_photos(ranked, args.prefs.group_config(), store=scorer.cache)
    ranked = groups.with_reasons(ranked)  # + blur for frames softer than their group's best
    shown = ranked[: args.top] if args.top else ranked
    errors = sorted((r for r in results if isinstance(r, PhotoError)), key=lambda e: str(e.path))
    raw_of: dict[Path, Path] = getattr(args, "raw_of", {})
    notes = sidecars.notes if sidecars is not None else []
    out = sys.stdout
    if args.json:
        verdicts = photo_verdicts(args, shown)
        doc: dict[str, Any] = {
            **_path_fields(args.folder, "folder"),
            "model": {**_path_fields(scorer.model_path), "sha256": scorer.digest,
                      # What this run computed in; null when every score came from the cache.
                      "precision": scorer.precision_used},
            "photos": [{**_photo_dict(i, s, groups, raw_of.get(s.path), sidecars),
                        "verdict": _verdict_dict(verdicts[s.path])}
                       for i, s in enumerate(shown, 1)],
            "errors": [{**_path_fields(e.path), "reason": e.reason} for e in errors],
            "skipped": [{**_path_fields(k.path), "kind": "file", "reason": k.reason}
                        for k in _skipped(args)]
            # A pair's RAW is not scored on its own: listed, with the photo it goes with.
            + [{**_path_fields(r), **_path_fields(p, "photo"), "kind": "pair",
                "reason": f"the RAW of {path_text(p.name)}: scored with it, as one pair"}
               for p, r in sorted(raw_of.items())]
            + [_sidecar_dict(n) for n in notes],
        }
        if sidecars is not None:
            doc["sidecars"] = {"written": sidecars.written, "left_alone": len(notes),
                               "ratings_kept": sidecars.ratings_kept}
        json.dump(doc, out, indent=2)
        out.write("\n")
        return
    if args.csv:
        w = CsvLines(out)
        w.writerow(["rank", "score", "reasons", "ava_mean", "ava_sd", "path", "width", "height",
                    "error", "group", "group_best", "raw", "path_bytes"])
        for i, s in enumerate(shown, 1):
            raw = raw_of.get(s.path)
            w.writerow([i, "" if s.score is None else f"{s.score:.2f}", ";".join(s.reasons),
                        f"{s.mean:.4f}", f"{s.sd:.4f}", _csv_path(s.path), s.width,
                        s.height, "", groups.group_of[s.path], int(groups.is_best(s.path)),
                        "" if raw is None else _csv_path(raw), _b64(s.path)])
        for e in errors:
            w.writerow(["", "", "", "", "", _csv_path(e.path), "", "",
                        csv_cell(e.reason), "", "", "", _b64(e.path)])
        for k in _skipped(args):
            w.writerow(["", "", "", "", "", _csv_path(k.path), "", "",
                        csv_cell(f"not scored: {k.reason}"), "", "", "", _b64(k.path)])
        for n in notes:
            w.writerow(["", "", "", "", "", _csv_path(n.sidecar), "", "",
                        csv_cell(f"sidecar of {path_text(n.photo.name)} {n.reason}; left as "
                                 f"it is"), "", "", "", _b64(n.sidecar)])
        return
    root = args.folder
    if shown:
        out.write(f"{'Rank':>4}  {'Score':>5}  {'Why not higher':<22}  File\n")
    for i, s in enumerate(shown, 1):
        raw = raw_of.get(s.path)
        pair = f" (+ {display_text(raw.name)})" if raw is not None else ""
        out.write(f"{i:>4}  {_score_text(s):>5}  {', '.join(s.reasons) or '-':<22}  "
                  f"{_display_path(s.path, root)}{pair}\n")
    cached = sum(1 for r in results if isinstance(r, PhotoScore) and r.cached)
    rate = len(results) / elapsed if elapsed > 0 else 0.0
    out.write(
        f"\n{len(ranked)} photos scored ({cached} from cache) in {elapsed:.1f} s "
        f"({rate:.1f} photos/s) with {display_text(scorer.model_path)}\n"
    )
    if raw_of:
        out.write(f"{len(raw_of)} of them are RAW+JPEG pairs, each scored once from its photo "
                  f"(export --with-raw copies the RAW too)\n")
    if errors:
        out.write(f"{len(errors)} file(s) could not be scored:\n")
        for e in errors:
            out.write(f"  {_display_path(e.path, root)}: {display_text(e.reason)}\n")
    write_skipped(out, _skipped(args), root)


def _csv_path(path: Path) -> str:
    """CSV's ``path`` cell: the absolute path as UTF-8 text, guarded against formulas."""
    return csv_cell(path_text(os.path.abspath(path)))


def _b64(path: Path) -> str:
    """CSV's ``path_bytes`` cell: base64 of the absolute path's bytes when not UTF-8."""
    return path_bytes_b64(os.path.abspath(path)) or ""


def _skipped(args: argparse.Namespace) -> list[Skipped]:
    return list(getattr(args, "skipped", []))


def write_skipped(out: Any, skipped: list[Skipped], root: Path, per_reason: int = 5) -> None:
    """Image-like files the scan left out, grouped by reason (a few names each)."""
    if not skipped:
        return
    out.write(f"{len(skipped)} image file(s) not scored:\n")
    for reason, items in by_reason(skipped).items():
        names = ", ".join(_display_path(p, root) for p in items[:per_reason])
        more = f", … (+{len(items) - per_reason}, all in --json)" if len(items) > per_reason else ""
        out.write(f"  {len(items)} {display_text(reason)}: {names}{more}\n")


def score_sidecars(pairs: Sequence[tuple[PhotoScore, Path]], digest: str,
                   raw_of: dict[Path, Path] | None = None,
                   prefs: Prefs | None = None) -> SidecarSummary:
    """Merge each photo's score and stars into the sidecars of the given path (``raw_of``:
    RAW+JPEG pairs, whose RAW's sidecar gets no model score)."""
    from curator.culling import score_percent
    from curator.sidecar import write_score_sidecars

    return write_score_sidecars([(target, score_percent(s)) for s, target in pairs], digest,
                                raw_of, prefs)


def _write_sidecar_lines(out: Any, summary: SidecarSummary) -> None:
    for line in summary.lines():
        out.write(display_text(line) + "\n")


def _score_text(s: PhotoScore) -> str:
    """The score as people read it: a whole number 0–100 (AVA-style mean for old models)."""
    return f"{s.score:.0f}" if s.score is not None else f"{s.mean:.2f}"


class OutputError(Exception):
    """stdout cannot take the results (disk full, a closed or broken file): exit 2."""


@contextlib.contextmanager
def writing_output() -> Iterator[None]:
    """Turn a failed write to stdout (``> /dev/full``) into ``OutputError``; flush at the end.

    A reader that went away (``BrokenPipeError``) is passed on as it is (quiet exit 0).
    """
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OutputError(exc.strerror or str(exc)) from exc


def cmd_score(args: argparse.Namespace) -> int:
    scorer, results, elapsed = run_scoring(args)
    sidecars = None
    if args.xmp:  # before the output, so JSON/CSV can list the sidecars left as they are
        sidecars = score_sidecars([(s, s.path) for s in rank(results)], scorer.digest,
                                  args.raw_of, args.prefs)
    with writing_output():
        print_results(args, scorer, results, elapsed, sidecars)
    if sidecars is not None:
        _write_sidecar_lines(sys.stderr, sidecars)
    return 1 if _incomplete(args, results) else 0


def _incomplete(args: argparse.Namespace, results: list[Result]) -> bool:
    """True when a photo could not be scored or a folder/link/file could not be looked at."""
    return any(isinstance(r, PhotoError) for r in results) or any(
        k.problem for k in _skipped(args))


def destination_names() -> list[str]:
    from curator.destinations import destinations

    return list(destinations())


def destination_choice(text: str) -> str:
    """argparse type for ``--for``: a destination of ``curator/destinations.toml``."""
    from curator.destinations import DestinationError, get

    try:
        return get(text).key
    except DestinationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_export(args: argparse.Namespace) -> int:
    from curator.export import check_destination, export_top

    if args.for_dest is not None:
        from curator.export_presets import cmd_export_for

        return cmd_export_for(args)

    # Before scoring: a destination that cannot be written fails now, not after minutes.
    note = check_destination(args.dest, args.folder)
    if note:
        sys.stderr.write(note + "\n")
    scorer, results, _elapsed = run_scoring(args)
    # Verdicts people gave (sidecars, or the window's remembered choices): rejects never go,
    # and a rejected best of a near-duplicate group gives way to the next best of it.
    verdicts = photo_verdicts(args, rank(results))
    args.rejected = [p for p, v in verdicts.items() if v.flag == Flag.REJECT]
    out = set(args.rejected)
    ranked = [s for s in rank(results) if s.path not in out]
    groups = group_photos(ranked, args.prefs.group_config(), store=scorer.cache)
    ranked = groups.with_reasons(ranked)
    kept = groups.kept(ranked, args.prefs.keep_per_group)
    keep = None if args.all_in_group else (lambda s: s.path in kept)
    embed = embedder(args, ranked, verdicts) if args.embed_xmp else None
    report = export_top(ranked, args.dest, args.top, args.min_score,
                        scanned_root=args.folder, rank_prefix=args.rank_prefix, keep=keep,
                        raw_of=args.raw_of if args.with_raw else None, sidecars=args.xmp,
                        embed=embed)
    args.left_for = {} if args.all_in_group else left_out_for(report, ranked, groups, kept)
    with writing_output():
        return _report_export(args, scorer, results, ranked, report)


def left_out_for(report: Any, ranked: list[PhotoScore], groups: Groups,
                 kept: set[Path]) -> dict[Path, list[Path]]:
    """For each exported photo, the near-copies of its group left out because it (and any
    other kept ones) went: what the output names."""
    out: dict[Path, list[Path]] = {}
    by_group: dict[int, list[Path]] = {}
    for s in ranked:
        if s.path not in kept:
            by_group.setdefault(groups.group_of.get(s.path, -1), []).append(s.path)
    for p in report:
        left = by_group.pop(groups.group_of.get(p.source, -1), None)
        if left:
            out[p.source] = left
    return out


def embedder(args: argparse.Namespace, ranked: list[PhotoScore], verdicts: dict[Path, Verdict]
             ) -> Callable[[PhotoScore], dict[str, str | None]]:
    """``--embed-xmp``: the XMP fields each copy gets (``curator.sidecar.embedded_fields``)."""
    from curator.culling import score_percent
    from curator.sidecar import embedded_fields

    labels = photo_labels(args, ranked)

    def fields(s: PhotoScore) -> dict[str, str | None]:
        v = verdicts.get(s.path, Verdict())
        return embedded_fields(int(v.flag), v.stars, score_percent(s), args.prefs,
                               labels.get(s.path))
    return fields


def photo_labels(args: argparse.Namespace, ranked: list[PhotoScore]) -> dict[Path, str]:
    """The colour label a person gave each photo in its sidecar (not the mapping's own)."""
    from curator.sidecar import read_sidecar

    out = {}
    for s in ranked:
        info = read_sidecar(s.path)
        if info.label and not info.model_label:
            out[s.path] = info.label
    return out


def photo_verdicts(args: argparse.Namespace, ranked: list[PhotoScore]) -> dict[Path, Verdict]:
    """Each ranked photo's verdict (``curator.verdicts``: its sidecars, else a newer choice
    the window remembered in the cache folder)."""
    reader = VerdictReader.with_choices(args.cache_dir or default_cache_dir())
    raw_of: dict[Path, Path] = getattr(args, "raw_of", {})
    return {s.path: reader.verdict(s.path, raw_of.get(s.path)) for s in ranked}


def _report_export(args: argparse.Namespace, scorer: Scorer, results: list[Result],
                   ranked: list[PhotoScore], report: Any) -> int:
    for p in report:
        why = f" ({', '.join(p.reasons)})" if p.reasons else ""
        pair = f" (+ {display_text(p.raw_dest.name)})" if p.raw_dest is not None else ""
        print(f"{p.rank:>4}  {p.score:5.1f}{why}  {display_text(p.source)} -> "
              f"{display_text(p.dest)}{pair}")
        left = getattr(args, "left_for", {}).get(p.source)
        if left:
            names = ", ".join(display_text(x.name) for x in left[:4])
            more = f", … (+{len(left) - 4})" if len(left) > 4 else ""
            print(f"         left out, near-copies of it: {names}{more}")
    for src, there in report.already:
        print(f"   =  already there: {display_text(src)} is {display_text(there.name)} "
              f"(the same file): not copied again")
    for f in report.failures:
        print(f"   -  not copied: {display_text(f.source)}: {display_text(f.reason)}")
    if args.xmp:  # the originals' sidecars were copied with them (export_top): add the score
        by_path = {s.path: s for s in ranked}
        summary = score_sidecars([(by_path[p.source], p.dest) for p in report], scorer.digest,
                                 {p.dest: p.raw_dest for p in report if p.raw_dest is not None},
                                 args.prefs)
        print(f"Wrote {summary.written} XMP sidecar(s) next to the copies.")
        for n in summary.notes:  # a copied RAW's own sidecar, left to it, needs no word
            if not n.reason.startswith("is the sidecar of its RAW"):
                print(f"  {display_text(n.text())}")
    if args.with_raw:
        pairs = sum(1 for p in report if p.raw_dest is not None)
        print(f"Copied {pairs} RAW file(s) with their photos.")
    errors = sum(1 for r in results if isinstance(r, PhotoError))
    if report.stopped:
        print(f"\nStopped: {display_text(report.stopped)}.")
    if args.rejected:
        names = ", ".join(display_text(p.name) for p in sorted(args.rejected)[:5])
        more = f", … (+{len(args.rejected) - 5})" if len(args.rejected) > 5 else ""
        print(f"Left out {len(args.rejected)} photo(s) rejected in their sidecars: "
              f"{names}{more}")
    n = args.prefs.keep_per_group
    per_group = "" if args.all_in_group else (
        ", the best of each near-duplicate group" if n == 1 else
        f", the best {n} of each near-duplicate group")
    listed = " (list in picks.csv)" if (args.dest / "picks.csv").is_file() else ""
    print(f"\nExported {len(report)} photo(s){per_group} to {display_text(args.dest)}"
          f"{listed}; {errors} file(s) could not be scored.")
    write_skipped(sys.stdout, _skipped(args), args.folder)
    return 0 if report.ok and not _incomplete(args, results) else 1


def cmd_gui(folder: Path | None) -> int:
    try:
        from curator.gui.app import run_gui
    except ImportError:
        sys.stderr.write(
            "The Curator desktop window is not part of this version yet.\n"
            "Rank photos from the command line instead:\n"
            "  curator score FOLDER          ranked list with scores\n"
            "  curator export FOLDER --top 10 --to PICKS\n"
        )
        return 2
    return int(run_gui(folder))


def _top_level_option(arg: str) -> bool:
    """``-h``, ``--help``, ``--version``, ``-v``/``-vv``…, ``--verbose``: options of
    ``curator`` itself, not of a command."""
    return arg in {"-h", "--help", "--version", "--verbose"} or (
        len(arg) > 1 and arg[0] == "-" and set(arg[1:]) == {"v"})


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # ``curator FOLDER`` opens the app on that folder, like ``curator gui FOLDER`` (and
    # ``curator --precision fp32 FOLDER`` like ``curator gui --precision fp32 FOLDER``).
    if argv and argv[0] not in {"score", "export", "gui"} and not _top_level_option(argv[0]):
        argv = ["gui", *argv]
    args = parser.parse_args(argv)
    if args.command == "export" and args.dest is None and args.for_dest is None:
        parser.error("export needs --to FOLDER (or --for DESTINATION)")
    try:
        args.prefs = run_prefs(args)
    except PrefsError as exc:
        parser.error(str(exc))
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
    )
    # Imaging-library warnings are logged with the file's name (curator.loader): show each
    # one, not only the first of its kind, so every affected file is named.
    warnings.filterwarnings("always", module=r"PIL\.")
    from curator.export import ExportError

    if args.command in ("score", "export") and sys.stdout is None:
        # fd 1 was closed (``>&-``): nothing can be shown, and a file opened later could
        # take fd 1 and receive the output.  Stop before anything is opened.
        sys.stderr.write("curator: error: cannot write output: standard output is closed\n")
        return 2
    try:
        if args.command == "score":
            code = cmd_score(args)
        elif args.command == "export":
            code = cmd_export(args)
        else:
            if args.precision:  # the window's scorer reads it from the environment
                os.environ[precision.ENV] = args.precision
            return cmd_gui(getattr(args, "folder", None))
        with writing_output():
            sys.stdout.flush()  # a reader that went away shows up here, not at interpreter exit
        return code
    except (ModelFileError, NotADirectoryError, ExportError) as exc:
        sys.stderr.write(f"curator: error: {display_text(str(exc))}\n")
        return 2
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except OutputError as exc:
        _drop_stdout()
        sys.stderr.write(f"curator: error: cannot write output: {exc}\n")
        return 2
    except (ImportError, MemoryError) as exc:  # e.g. torch cannot load under a memory cap
        sys.stderr.write(f"curator: error: cannot load the model runtime: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("\ncurator: interrupted\n")
        return 130


def _quiet_broken_pipe() -> int:
    """The reader went away (``curator score … | head``): stop quietly, exit 0.

    stdout is pointed at /dev/null so the interpreter's final flush cannot raise again.
    """
    _drop_stdout()
    return 0


def _drop_stdout() -> None:
    """Point fd 1 at /dev/null: output still buffered is dropped without a second error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests)
        pass


if __name__ == "__main__":
    sys.exit(main())
