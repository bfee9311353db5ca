"""Command line: ``curator score FOLDER`` ranks photos; ``curator export`` copies the best.

``curator`` alone (or ``curator FOLDER``) is the desktop app's entry point.

Exit codes (README "Exit codes"): 0 everything was scored/copied; 1 the run finished but some
files could not be scored or copied (listed); 2 usage error or nothing could be done (bad
folder, model, destination).  130 after Ctrl-C.  Output cut short by the reader (``| head``)
ends quietly.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from curator import __version__
from curator.cache import open_cache
from curator.groups import Groups, group_photos
from curator.names import path_bytes_b64, path_text
from curator.paths import ModelFileError, default_cache_dir
from curator.progress import ProgressBar
from curator.scan import Skipped, by_reason, scan
from curator.score import PhotoError, PhotoScore, Result, Scorer, rank

log = logging.getLogger(__name__)


def _add_scoring_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", type=Path, help="folder of photos (searched recursively)")
    p.add_argument("--model", type=Path, help="model file (default: $CURATOR_MODEL or bundled)")
    p.add_argument("--cache-dir", type=Path, help="score cache folder (default: $CURATOR_CACHE_DIR "
                   "or the per-user cache dir)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the score cache")
    p.add_argument("--no-recursive", action="store_true", help="only the folder itself")
    p.add_argument("--batch-size", type=int, default=16, help="photos per model batch")
    p.add_argument("--workers", type=int, help="decode threads (default: up to 4)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


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
    sc.add_argument("--top", type=int, help="show only the best N")
    sc.add_argument("--xmp", action="store_true",
                    help="write each photo's score and stars into its XMP sidecar")

    ex = sub.add_parser("export", help="copy the best N photos to another folder")
    _add_scoring_options(ex)
    ex.add_argument("--top", type=int, default=10, help="how many photos (default 10)")
    ex.add_argument("--to", type=Path, required=True, dest="dest", help="destination folder")
    ex.add_argument("--min-score", type=float, help="skip photos scoring below this (0-100)")
    ex.add_argument("--rank-prefix", action="store_true",
                    help="name copies '01 pizza.jpg', '02 …' so a file manager lists them "
                         "best first")
    ex.add_argument("--all-in-group", action="store_true",
                    help="take every photo of a near-duplicate group, not just its best")
    ex.add_argument("--xmp", action="store_true",
                    help="write an XMP sidecar (score, stars) next to each copy")

    gui = sub.add_parser("gui", help="open the desktop app")
    gui.add_argument("folder", type=Path, nargs="?")
    return parser


def _make_scorer(args: argparse.Namespace) -> Scorer:
    cache = None if args.no_cache else open_cache(args.cache_dir or default_cache_dir())
    return Scorer(args.model, cache, args.batch_size, args.workers, args.device)


def run_scoring(args: argparse.Namespace) -> tuple[Scorer, list[Result], float]:
    """Scan and score ``args.folder``; returns the scorer, all results and the elapsed time."""
    found = scan(args.folder, recursive=not args.no_recursive)
    args.skipped = found.skipped  # image-like files left out, with reasons (for the summary)
    paths = found.photos
    scorer = _make_scorer(args)
    bar = ProgressBar("Scoring", enabled=False if args.quiet else None)
    t0 = time.perf_counter()
    try:
        results = list(scorer.score(paths, progress=bar))
    finally:
        bar.close()
    return scorer, results, time.perf_counter() - t0


def _display_path(path: Path, root: Path) -> str:
    try:
        return path_text(path.relative_to(root))
    except ValueError:
        return path_text(path)


def _path_fields(path: Path) -> dict[str, str]:
    """``path`` as UTF-8 text (``\\xNN`` for non-UTF-8 bytes) + ``path_bytes`` (base64) then."""
    raw = path_bytes_b64(path)
    return {"path": path_text(path), **({"path_bytes": raw} if raw else {})}


def _photo_dict(rank_no: int, s: PhotoScore, groups: Groups) -> dict[str, Any]:
    return {
        "rank": rank_no,
        **_path_fields(s.path),
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
    }


def print_results(
    args: argparse.Namespace, scorer: Scorer, results: list[Result], elapsed: float
) -> None:
    ranked = rank(results)
    groups = group_photos(ranked)
    shown = ranked[: args.top] if args.top else ranked
    errors = sorted((r for r in results if isinstance(r, PhotoError)), key=lambda e: str(e.path))
    out = sys.stdout
    if args.json:
        doc = {
            "folder": path_text(os.path.abspath(args.folder)),
            "model": {"path": str(scorer.model_path), "sha256": scorer.digest},
            "photos": [_photo_dict(i, s, groups) for i, s in enumerate(shown, 1)],
            "errors": [{**_path_fields(e.path), "reason": e.reason} for e in errors],
            "skipped": [{**_path_fields(k.path), "reason": k.reason} for k in _skipped(args)],
        }
        json.dump(doc, out, indent=2)
        out.write("\n")
        return
    if args.csv:
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["rank", "score", "reasons", "ava_mean", "ava_sd", "path", "width", "height",
                    "error", "group", "group_best"])
        for i, s in enumerate(shown, 1):
            w.writerow([i, "" if s.score is None else f"{s.score:.2f}", ";".join(s.reasons),
                        f"{s.mean:.4f}", f"{s.sd:.4f}", path_text(s.path), s.width, s.height, "",
                        groups.group_of[s.path], int(groups.is_best(s.path))])
        for e in errors:
            w.writerow(["", "", "", "", "", path_text(e.path), "", "", e.reason, "", ""])
        for k in _skipped(args):
            w.writerow(["", "", "", "", "", path_text(k.path), "", "", f"not scored: {k.reason}",
                        "", ""])
        return
    root = args.folder
    out.write(f"{'Rank':>4}  {'Score':>5}  {'Why not higher':<22}  File\n")
    for i, s in enumerate(shown, 1):
        out.write(f"{i:>4}  {_score_text(s):>5}  {', '.join(s.reasons) or '-':<22}  "
                  f"{_display_path(s.path, root)}\n")
    cached = sum(1 for r in results if isinstance(r, PhotoScore) and r.cached)
    rate = len(results) / elapsed if elapsed > 0 else 0.0
    out.write(
        f"\n{len(ranked)} photos scored ({cached} from cache) in {elapsed:.1f} s "
        f"({rate:.1f} photos/s) with {scorer.model_path}\n"
    )
    if errors:
        out.write(f"{len(errors)} file(s) could not be scored:\n")
        for e in errors:
            out.write(f"  {_display_path(e.path, root)}: {e.reason}\n")
    write_skipped(out, _skipped(args), root)


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
        out.write(f"  {len(items)} {reason}: {names}{more}\n")


def write_score_sidecars(pairs: Sequence[tuple[PhotoScore, Path]], digest: str) -> int:
    """Merge each photo's score and stars into the sidecar of the given path; count written."""
    from curator.culling import score_percent, stars_for
    from curator.sidecar import SidecarError, score_fields, update_sidecar

    written = 0
    for s, target in pairs:
        pct = score_percent(s)
        try:
            update_sidecar(target, score_fields(pct, stars_for(pct), digest), keep_rating=True)
            written += 1
        except (SidecarError, OSError) as exc:
            sys.stderr.write(f"curator: sidecar for {path_text(target)} not written: {exc}\n")
    return written


def _score_text(s: PhotoScore) -> str:
    """The score as people read it: a whole number 0–100 (AVA-style mean for old models)."""
    return f"{s.score:.0f}" if s.score is not None else f"{s.mean:.2f}"


def cmd_score(args: argparse.Namespace) -> int:
    scorer, results, elapsed = run_scoring(args)
    print_results(args, scorer, results, elapsed)
    if args.xmp:
        ranked = rank(results)
        n = write_score_sidecars([(s, s.path) for s in ranked], scorer.digest)
        sys.stderr.write(f"Wrote {n} XMP sidecar(s) (score, stars; ratings people gave kept).\n")
    return 1 if any(isinstance(r, PhotoError) for r in results) else 0


def cmd_export(args: argparse.Namespace) -> int:
    from curator.export import check_destination, export_top

    # Before scoring: a destination that cannot be written fails now, not after minutes.
    note = check_destination(args.dest, args.folder)
    if note:
        sys.stderr.write(note + "\n")
    scorer, results, _elapsed = run_scoring(args)
    ranked = rank(results)
    groups = group_photos(ranked)
    keep = None if args.all_in_group else (lambda s: groups.is_best(s.path))
    report = export_top(ranked, args.dest, args.top, args.min_score,
                        scanned_root=args.folder, rank_prefix=args.rank_prefix, keep=keep)
    for p in report:
        why = f" ({', '.join(p.reasons)})" if p.reasons else ""
        print(f"{p.rank:>4}  {p.score:5.1f}{why}  {path_text(p.source)} -> {path_text(p.dest)}")
    for f in report.failures:
        print(f"   -  not copied: {path_text(f.source)}: {f.reason}")
    if args.xmp:
        from curator.sidecar import copy_sidecar

        by_path = {s.path: s for s in ranked}
        for p in report:
            copy_sidecar(p.source, p.dest)  # the original's keywords and ratings travel along
        n = write_score_sidecars([(by_path[p.source], p.dest) for p in report], scorer.digest)
        print(f"Wrote {n} XMP sidecar(s) next to the copies.")
    errors = sum(1 for r in results if isinstance(r, PhotoError))
    if report.stopped:
        print(f"\nStopped: {report.stopped}.")
    per_group = "" if args.all_in_group else ", the best of each near-duplicate group"
    print(f"\nExported {len(report)} photo(s){per_group} to {path_text(args.dest)} "
          f"(list in picks.csv); "
          f"{errors} file(s) could not be scored.")
    write_skipped(sys.stdout, _skipped(args), args.folder)
    return 0 if report.ok and not errors else 1


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


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # ``curator FOLDER`` opens the app on that folder, like ``curator gui FOLDER``.
    if argv and not argv[0].startswith("-") and argv[0] not in {"score", "export", "gui"}:
        argv = ["gui", *argv]
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
    )
    # Imaging-library warnings are logged with the file's name (curator.loader): show each
    # one, not only the first of its kind, so every affected file is named.
    warnings.filterwarnings("always", module=r"PIL\.")
    from curator.export import ExportError

    try:
        if args.command == "score":
            code = cmd_score(args)
        elif args.command == "export":
            code = cmd_export(args)
        else:
            return cmd_gui(getattr(args, "folder", None))
        sys.stdout.flush()  # a reader that went away shows up here, not at interpreter exit
        return code
    except (ModelFileError, NotADirectoryError, ExportError) as exc:
        sys.stderr.write(f"curator: error: {exc}\n")
        return 2
    except (ImportError, MemoryError) as exc:  # e.g. torch cannot load under a memory cap
        sys.stderr.write(f"curator: error: cannot load the model runtime: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("\ncurator: interrupted\n")
        return 130
    except BrokenPipeError:
        return _quiet_broken_pipe()


def _quiet_broken_pipe() -> int:
    """The reader went away (``curator score … | head``): stop quietly, exit 0.

    stdout is pointed at /dev/null so the interpreter's final flush cannot raise again.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is not a real file (tests): nothing to flush
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
