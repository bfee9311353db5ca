"""Read the AVA dataset in its official layout, skipping (and counting) what cannot be used.

``AVA.txt`` rows: index, image id, votes for scores 1..10, semantic tag 1, tag 2, challenge id.
A bad row never crashes a run: malformed lines, zero-vote rows and missing images are counted
in a report so the user sees exactly what was left out.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

FOOD_AND_DRINK = 40


@dataclass(frozen=True)
class AvaItem:
    """One AVA photo with its vote histogram."""

    image_id: str
    votes: tuple[int, ...]  # counts for scores 1..10
    tags: tuple[int, int]
    challenge: int
    path: Path

    @property
    def distribution(self) -> np.ndarray:
        v = np.asarray(self.votes, dtype=np.float64)
        return v / v.sum()

    @property
    def mean(self) -> float:
        return float(self.distribution @ np.arange(1, 11))


@dataclass
class ReadReport:
    """What was read and what was skipped, by reason."""

    rows: int = 0
    kept: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        parts = [f"{self.kept} of {self.rows} rows used"]
        parts += [f"{n} {why}" for why, n in sorted(self.skipped.items())]
        return "; ".join(parts)


def read_tags(path: Path) -> dict[int, str]:
    """``tags.txt``: ``id name`` per line."""
    tags: dict[int, str] = {}
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        head, _, name = line.strip().partition(" ")
        if head.isdigit():
            tags[int(head)] = name.strip()
    return tags


def read_id_list(path: Path) -> list[str]:
    """An id list (``.jpgl`` or a split file): one image id per line."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    return [t.strip() for t in text.split() if t.strip().isdigit()]


def read_ava(
    root: Path, images_dir: Path | None = None, require_images: bool = True
) -> tuple[list[AvaItem], ReadReport]:
    """Parse ``root/AVA.txt``; images are looked up as ``images_dir/<id>.jpg``."""
    root = Path(root)
    ava_txt = root / "AVA.txt"
    if not ava_txt.is_file():
        raise FileNotFoundError(f"no AVA.txt in {root} (expected the official AVA layout)")
    images_dir = Path(images_dir) if images_dir else root / "images"
    report = ReadReport()
    items: list[AvaItem] = []
    seen: set[str] = set()
    for line in ava_txt.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        report.rows += 1
        parts = line.split()
        if len(parts) != 15 or not all(p.lstrip("-").isdigit() for p in parts):
            report.skipped["malformed lines"] += 1
            continue
        nums = [int(p) for p in parts]
        image_id, votes = str(nums[1]), tuple(nums[2:12])
        if any(v < 0 for v in votes) or sum(votes) == 0:
            report.skipped["rows without votes"] += 1
            continue
        if image_id in seen:
            report.skipped["duplicate ids"] += 1
            continue
        path = images_dir / f"{image_id}.jpg"
        if require_images and not path.is_file():
            report.skipped["missing images"] += 1
            continue
        seen.add(image_id)
        items.append(AvaItem(image_id, votes, (nums[12], nums[13]), nums[14], path))
    report.kept = len(items)
    log.info("AVA %s: %s", root, report.summary())
    return items, report


def select_tag(items: list[AvaItem], tag: int) -> list[AvaItem]:
    """Photos carrying semantic tag ``tag`` in either slot."""
    return [it for it in items if tag in it.tags]


def select_ids(items: list[AvaItem], ids: list[str]) -> list[AvaItem]:
    """Photos whose id is in ``ids`` (e.g. an official ``.jpgl`` list)."""
    wanted = set(ids)
    return [it for it in items if it.image_id in wanted]
