"""A shoot made from real photos: each dish photographed several times (near-copies).

The dishes are real, distinct photos (the bundled samples, or ../shared's recipe photos):
generated abstract patterns all look alike to an ImageNet backbone, which is not what a
restaurant's shoot looks like.  The copies are generated: shifted, brighter, slightly rotated.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageEnhance, ImageOps

from tests.conftest import REPO

SAMPLES = REPO / "assets" / "samples"


def near_copy(im: Image.Image, k: int) -> Image.Image:
    """Take ``k`` of a burst: 0 the shot, then shifted, brighter (x1.15), slightly rotated."""
    w, h = im.size
    if k == 0:
        return im
    if k == 1:
        return im.crop((int(w * 0.06), int(h * 0.04), w, h)).resize((w, h))
    if k == 2:
        return ImageEnhance.Brightness(im).enhance(1.15)
    r = im.rotate(2.5, Image.Resampling.BICUBIC)
    return r.crop((int(w * 0.05), int(h * 0.05), int(w * 0.95), int(h * 0.95))).resize((w, h))


def make_shoot(sources: list[Path], root: Path, copies: int = 4,
               size: int = 480) -> dict[Path, int]:
    """``copies`` JPEGs of each source (scaled to ``size`` px) under ``root``: {path: dish}."""
    root.mkdir(parents=True, exist_ok=True)
    truth: dict[Path, int] = {}
    for i, src in enumerate(sources):
        with Image.open(src) as raw:
            raw.draft("RGB", (size, size))
            base = ImageOps.exif_transpose(raw).convert("RGB")
        base.thumbnail((size, size))
        for k in range(copies):
            p = root / f"dish{i:02d}-take{k}.jpg"
            near_copy(base, k).save(p, "JPEG", quality=90)
            truth[p] = i
    return truth


def sample_sources() -> list[Path]:
    return sorted(SAMPLES.glob("*.jpg"))


def chowdown_sources(shared: Path, n: int = 20) -> list[Path]:
    """``n`` distinct dishes from the chowdown recipe photos (no re-shoots among them)."""
    return sorted((shared / "food-photos-hires" / "recipes_chowdown").glob("*.jpg"))[:n]
