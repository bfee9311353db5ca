"""Copy the top-N photos to a folder, never overwriting anything and never touching originals.

Each copy is written to a temp file and then hard-linked to a free name, which fails instead of
replacing when another file took that name meanwhile; ``picks.csv`` gains rows, never loses them.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from curator.fsutil import atomic_write_bytes
from curator.score import PhotoScore

log = logging.getLogger(__name__)

PICKS_CSV = "picks.csv"
#: ``score``: the 0–100 score the photos were ranked by (the AVA-style mean for model files
#: without one); ``reasons``: its flaw keys, ``;``-separated; ``ava_mean``/``ava_sd``: the
#: AVA-style vote mean and spread.
PICKS_COLUMNS = ["rank", "score", "reasons", "ava_mean", "ava_sd", "file", "source",
                 "exported_at"]


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


def select_top(
    ranked: Sequence[PhotoScore], top: int, min_score: float | None = None
) -> list[tuple[int, PhotoScore]]:
    """(rank, photo) for the best ``top`` photos at or above ``min_score`` (on the ranking
    score: 0–100, or the AVA-style mean for model files without one); rank is 1-based."""
    picks = [(i + 1, s) for i, s in enumerate(ranked)]
    if min_score is not None:
        picks = [(r, s) for r, s in picks if s.rank_value >= min_score]
    return picks[: max(0, top)]


def free_name(dest_dir: Path, name: str, attempt: int) -> Path:
    """``name`` for attempt 1, then ``stem (2).ext``, ``stem (3).ext`` …"""
    if attempt <= 1:
        return dest_dir / name
    stem, ext = os.path.splitext(name)
    return dest_dir / f"{stem} ({attempt}){ext}"


def copy_no_overwrite(src: Path, dest_dir: Path) -> Path:
    """Copy ``src`` into ``dest_dir`` under a name nobody has; returns the path used."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".curator-", suffix=".part", dir=dest_dir)
    os.close(fd)
    try:
        shutil.copy2(src, tmp)  # data and timestamps; the source is only read
        for attempt in range(1, 100_000):
            target = free_name(dest_dir, src.name, attempt)
            if target.exists():
                continue
            try:
                os.link(tmp, target)  # atomic, and fails rather than replaces
                return target
            except FileExistsError:
                continue
            except OSError:
                # No hard links on this file system (FAT, some network shares): claim the name
                # with an exclusive create, then move the finished copy over our own claim.
                try:
                    os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
                except FileExistsError:
                    continue
                os.replace(tmp, target)
                return target
        raise FileExistsError(f"no free name for {src.name} in {dest_dir}")
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def export_top(
    ranked: Sequence[PhotoScore],
    dest_dir: Path,
    top: int,
    min_score: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[ExportedPick]:
    """Copy the best photos into ``dest_dir`` and append them to its ``picks.csv``."""
    dest_dir = Path(dest_dir)
    chosen = select_top(ranked, top, min_score)
    done: list[ExportedPick] = []
    for i, (rank_no, s) in enumerate(chosen, 1):
        dest = copy_no_overwrite(s.path, dest_dir)
        done.append(ExportedPick(rank_no, s.rank_value, s.sd, s.path, dest, s.mean, s.reasons))
        if progress:
            progress(i, len(chosen))
    if done:
        append_picks_csv(dest_dir / PICKS_CSV, done)
    log.info("exported %d photos to %s", len(done), dest_dir)
    return done


def append_picks_csv(path: Path, picks: Sequence[ExportedPick]) -> None:
    """Rewrite ``picks.csv`` atomically with its old rows followed by the new ones."""
    old = path.read_bytes().decode("utf-8") if path.exists() else ""
    buf = io.StringIO()
    if old:
        buf.write(old if old.endswith("\n") else old + "\n")
    writer = csv.writer(buf, lineterminator="\n")
    if not old:
        writer.writerow(PICKS_COLUMNS)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    for p in picks:
        writer.writerow(
            [p.rank, f"{p.score:.3f}", ";".join(p.reasons), f"{p.mean:.3f}", f"{p.sd:.3f}",
             p.dest.name, os.path.abspath(p.source), stamp]
        )
    atomic_write_bytes(path, buf.getvalue().encode("utf-8"))
