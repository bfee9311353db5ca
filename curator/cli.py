"""Command line: ``curator score FOLDER`` ranks photos; ``curator export`` copies the best.

``curator`` alone (or ``curator FOLDER``) is the desktop app's entry point.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from curator import __version__
from curator.cache import ScoreCache
from curator.paths import ModelFileError, default_cache_dir
from curator.progress import ProgressBar
from curator.scan import scan_folder
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

    ex = sub.add_parser("export", help="copy the best N photos to another folder")
    _add_scoring_options(ex)
    ex.add_argument("--top", type=int, default=10, help="how many photos (default 10)")
    ex.add_argument("--to", type=Path, required=True, dest="dest", help="destination folder")
    ex.add_argument("--min-score", type=float, help="skip photos scoring below this (0-100)")

    gui = sub.add_parser("gui", help="open the desktop app")
    gui.add_argument("folder", type=Path, nargs="?")
    return parser


def _make_scorer(args: argparse.Namespace) -> Scorer:
    cache = None if args.no_cache else ScoreCache.in_dir(args.cache_dir or default_cache_dir())
    return Scorer(args.model, cache, args.batch_size, args.workers, args.device)


def run_scoring(args: argparse.Namespace) -> tuple[Scorer, list[Result], float]:
    """Scan and score ``args.folder``; returns the scorer, all results and the elapsed time."""
    paths = scan_folder(args.folder, recursive=not args.no_recursive)
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
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _photo_dict(rank_no: int, s: PhotoScore) -> dict[str, Any]:
    return {
        "rank": rank_no,
        "path": str(s.path),
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
    }


def print_results(
    args: argparse.Namespace, scorer: Scorer, results: list[Result], elapsed: float
) -> None:
    ranked = rank(results)
    shown = ranked[: args.top] if args.top else ranked
    errors = sorted((r for r in results if isinstance(r, PhotoError)), key=lambda e: str(e.path))
    out = sys.stdout
    if args.json:
        doc = {
            "folder": os.path.abspath(args.folder),
            "model": {"path": str(scorer.model_path), "sha256": scorer.digest},
            "photos": [_photo_dict(i, s) for i, s in enumerate(shown, 1)],
            "errors": [{"path": str(e.path), "reason": e.reason} for e in errors],
        }
        json.dump(doc, out, indent=2)
        out.write("\n")
        return
    if args.csv:
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["rank", "score", "reasons", "ava_mean", "ava_sd", "path", "width", "height",
                    "error"])
        for i, s in enumerate(shown, 1):
            w.writerow([i, "" if s.score is None else f"{s.score:.2f}", ";".join(s.reasons),
                        f"{s.mean:.4f}", f"{s.sd:.4f}", s.path, s.width, s.height, ""])
        for e in errors:
            w.writerow(["", "", "", "", "", e.path, "", "", e.reason])
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


def _score_text(s: PhotoScore) -> str:
    """The score as people read it: a whole number 0–100 (AVA-style mean for old models)."""
    return f"{s.score:.0f}" if s.score is not None else f"{s.mean:.2f}"


def cmd_score(args: argparse.Namespace) -> int:
    scorer, results, elapsed = run_scoring(args)
    print_results(args, scorer, results, elapsed)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from curator.export import export_top

    _scorer, results, _elapsed = run_scoring(args)
    picks = export_top(rank(results), args.dest, args.top, args.min_score)
    for p in picks:
        why = f" ({', '.join(p.reasons)})" if p.reasons else ""
        print(f"{p.rank:>4}  {p.score:5.1f}{why}  {p.source} -> {p.dest}")
    errors = sum(1 for r in results if isinstance(r, PhotoError))
    print(f"\nExported {len(picks)} photo(s) to {args.dest} (list in picks.csv); "
          f"{errors} file(s) could not be scored.")
    return 0


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
    try:
        if args.command == "score":
            return cmd_score(args)
        if args.command == "export":
            return cmd_export(args)
        return cmd_gui(getattr(args, "folder", None))
    except (ModelFileError, NotADirectoryError) as exc:
        sys.stderr.write(f"curator: error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("\ncurator: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
