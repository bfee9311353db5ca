"""Synthetic photo damage: the kinds of flaw a restaurant owner expects a worse score for.

Used two ways: to train a ranking signal (RankIQA, Liu et al. 2017: an image should outrank its
own damaged copy) from photos that carry no human labels, and to check a model on held-out
photos.  Severity runs from 0 (mild but visible) to 1 (severe).
"""

from __future__ import annotations

import io
import logging
import random
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

log = logging.getLogger(__name__)


def blur(im: Image.Image, s: float, rng: random.Random) -> Image.Image:
    return im.filter(ImageFilter.GaussianBlur(max(im.size) * (0.004 + 0.012 * s)))


def dark(im: Image.Image, s: float, rng: random.Random) -> Image.Image:
    return ImageEnhance.Brightness(im).enhance(0.6 - 0.45 * s)


def blown_out(im: Image.Image, s: float, rng: random.Random) -> Image.Image:
    return ImageEnhance.Brightness(im).enhance(1.5 + 1.5 * s)


def noise(im: Image.Image, s: float, rng: random.Random) -> Image.Image:
    arr = np.asarray(im).astype(np.float32)
    arr += np.random.default_rng(rng.getrandbits(32)).normal(0, 8 + 35 * s, arr.shape)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def jpeg(im: Image.Image, s: float, rng: random.Random) -> Image.Image:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=max(2, round(20 - 17 * s)))
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def bad_crop(im: Image.Image, s: float, rng: random.Random) -> Image.Image:
    """An off-centre corner: the dish cut through, as a careless framing does."""
    w, h = im.size
    f = 0.65 - 0.25 * s
    cw, ch = max(1, int(w * f)), max(1, int(h * f))
    x = 0 if rng.random() < 0.5 else w - cw
    y = 0 if rng.random() < 0.5 else h - ch
    return im.crop((x, y, x + cw, y + ch))


def tilt(im: Image.Image, s: float, rng: random.Random) -> Image.Image:
    angle = (6 + 14 * s) * (1 if rng.random() < 0.5 else -1)
    return im.rotate(angle, resample=Image.Resampling.BILINEAR)


KINDS: dict[str, Callable[[Image.Image, float, random.Random], Image.Image]] = {
    "blur": blur,
    "dark": dark,
    "blown_out": blown_out,
    "noise": noise,
    "jpeg": jpeg,
    "bad_crop": bad_crop,
    "tilt": tilt,
}


def apply(kind: str, im: Image.Image, severity: float, rng: random.Random) -> Image.Image:
    """``im`` (RGB) damaged by ``kind`` at ``severity`` in [0, 1]."""
    return KINDS[kind](im.convert("RGB"), min(1.0, max(0.0, severity)), rng)
