"""Classic image measures behind some reasons: exposure, JPEG blocking, tilted lines.

The learned reason heads (``curator.reasons``) read the model's pooled features, which keep
little of where edges lie or how blocks line up: on held-out photos they almost never said
``compressed`` or ``tilted``.  These measures read the pixels directly, cost a few
milliseconds on the image the loader has already decoded, and each is compared with a
threshold chosen on photos apart from those it is judged on
(``scripts/choose_measure_thresholds.py``).  Pure numpy/Pillow: no Qt, no torch.

Measures (``measure(...)`` keys):

* ``bright_p99`` -- the 99th percentile of luma (0-255, Rec. 601 weights): even the
  brightest part of an underexposed photo stays dim.
* ``clipped`` -- the share of pixels whose luma is 250 or more (highlights washed to white).
* ``blockiness`` -- JPEG blocking (after Wang, Bovik and Evans, ICIP 2000): the mean absolute
  luma step across the 8-pixel grid divided by the mean step between other columns/rows,
  taking the grid offset with the largest ratio (a crop shifts the grid); ~1.0 without
  blocking.  Measured for files without a JPEG quantisation table (PNG, WebP, TIFF, HEIC:
  often re-saves of a JPEG) decoded at full resolution (``native``); ``nan`` otherwise.
* ``jpeg_quality`` -- the libjpeg quality factor (1-100) implied by the file's luminance
  quantisation table, for JPEG files; ``nan`` for other formats.
* ``fine_ratio`` -- how much of the finest detail survives: the mean squared Laplacian of the
  luma over that of the luma smoothed by a 1.5 px Gaussian, read in the window (up to 384 px
  square) of the decoded image with the most gradient energy, where the subject is in focus.
  A sharp photo keeps its top octave (~40 on camera photos, ~70 on web photos); a soft or
  shaken one loses it (~10-20).  Read at the decoded size, which for a 12 MP JPEG is its
  1/4-scale draft (1008 x 756): four times the model's view, not the full resolution (a full
  decode of every photo would triple the decode time; frames of one group are compared at
  full resolution in ``curator.bursts``).
* ``tilt_lines`` -- the strongest pair of perpendicular straight edges leaning 3-25 degrees
  off level and plumb, as a share of the long side (a table edge and a glass, a wall and a
  menu, the border a rotation leaves).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
from PIL import Image

from curator import filters

log = logging.getLogger(__name__)

#: Names of the measures ``measure`` returns, in a fixed order.
NAMES = ("bright_p99", "clipped", "blockiness", "jpeg_quality", "tilt_lines", "fine_ratio")

#: libjpeg's standard luminance quantisation table (ITU-T T.81 Annex K, Table K.1), in
#: natural (row-major) order.
_STD_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
], dtype=np.float64)

#: The standard table as libjpeg scales it for quality 1..100 (rows).
_Q = np.arange(1, 101, dtype=np.float64)
_SCALE = np.where(_Q < 50, 5000.0 / _Q, 200.0 - 2.0 * _Q)
_SCALED_LUMA = np.clip(np.floor((_STD_LUMA[None, :] * _SCALE[:, None] + 50.0) / 100.0), 1, 255)

#: Exposure and tilt are read from the photo scaled to at most this long side; blocking from
#: at most this square of the full-resolution centre.
_SMALL = 256
_BLOCK_CROP = 1024
#: ``fine_ratio``'s window side (px of the decoded image) and its smoothing (px).
_FINE_CROP = 384
_FINE_SIGMA = 1.5


def luma(im: Image.Image) -> np.ndarray:
    """Rec. 601 luma of an RGB image as float32, HxW, 0-255."""
    a = np.asarray(im.convert("RGB"), dtype=np.float32)
    return a[..., 0] * 0.299 + a[..., 1] * 0.587 + a[..., 2] * 0.114


def jpeg_quality(quantization: dict[int, Any] | None) -> float:
    """The libjpeg quality (1-100) whose scaled standard table best matches table 0.

    ``quantization`` is Pillow's ``JpegImageFile.quantization`` (tables in natural order in
    current Pillow).  libjpeg scales the standard table by ``S = 5000/q`` (q < 50) or
    ``200 - 2q``, per entry ``floor((std * S + 50) / 100)`` clamped to 1-255; the quality
    with the smallest mean absolute difference is returned.  ``nan`` when there is no table.
    """
    if not quantization or 0 not in quantization:
        return math.nan
    table = np.asarray(list(quantization[0]), dtype=np.float64)
    if table.shape != (64,):
        return math.nan
    err = np.abs(_SCALED_LUMA - table).mean(axis=1)
    return float(np.argmin(err) + 1)  # the first (lowest) quality on ties


def _block_box(w: int, h: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the centre ``_BLOCK_CROP`` square blocking is read from
    (the whole image when it is smaller)."""
    left, top = max(0, (w - _BLOCK_CROP) // 2), max(0, (h - _BLOCK_CROP) // 2)
    return left, top, min(w, left + _BLOCK_CROP), min(h, top + _BLOCK_CROP)


def blockiness(y: np.ndarray) -> float:
    """JPEG blocking of a full-resolution luma image (HxW); ~1.0 when there is none.

    For each axis: the mean |step| between neighbouring columns (rows) is taken per position
    modulo 16; a candidate grid offset k (0-7) scores the weaker of positions k and k+8 (JPEG
    blocks repeat every 8 px; a 16-px pattern does not); the best offset's score is divided by
    the median of the other fourteen positions.  The two axes are averaged.  Images over
    ``_BLOCK_CROP`` px are read from their centre.  ``nan`` for images under 32 px.
    """
    h, w = y.shape
    if h < 32 or w < 32:
        return math.nan
    left, top, right, bottom = _block_box(w, h)
    y = y[top:bottom, left:right]
    ratios = []
    for steps in (np.abs(np.diff(y, axis=1)).mean(axis=0),
                  np.abs(np.diff(y, axis=0)).mean(axis=1)):
        n = len(steps) // 16 * 16
        per = steps[:n].reshape(-1, 16).mean(axis=0)
        # JPEG steps repeat every 8 px: a boundary counts with the weaker of its two phases
        # in 16, so a pattern repeating every 16 px (a checked cloth) does not pass for blocks.
        both = np.minimum(per[:8], per[8:])
        k = int(np.argmax(both))
        rest = np.delete(per, [k, k + 8])
        ratios.append(float(both[k] / max(float(np.median(rest)), 1e-3)))
    return float(np.mean(ratios))


def tilt_lines(y: np.ndarray) -> float:
    """Support of the strongest pair of perpendicular straight edges 3-25 degrees off level and
    plumb, as a share of the image's long side (a Hough transform restricted by gradient
    direction): a rotated camera turns a table edge and a glass's side alike, a perspective
    edge has no perpendicular partner.

    ``y``: luma, HxW (a few hundred px).  The strongest 8 % of edge pixels (Sobel gradients of
    the luma smoothed with a 1-px Gaussian; ``curator.filters``) vote; for each line angle in
    0.5-degree steps, only pixels whose gradient is within 2 degrees of that line's normal
    vote, into 2-px distance bins; a line's support is its bin's count; the pair's support is
    the weaker line's.  Only angles where the support peaks (within 2.5 degrees) count, so a
    line 1.5 degrees off level is not read at the band's edge.  0 when there are too few
    edges.
    """
    if min(y.shape) < 16:
        return 0.0
    smooth = filters.gaussian(y, 1.0)  # Sobel after a little smoothing: the direction
    gx = filters.sobel(smooth, 1)[2:-2, 2:-2]  # of a jagged 1-px edge within ~1.5 degrees
    gy = filters.sobel(smooth, 0)[2:-2, 2:-2]
    mag = np.hypot(gx, gy)
    keep = mag > max(float(np.quantile(mag, 0.92)), 32.0)
    if keep.sum() < 50:
        return 0.0
    rows, cols = np.nonzero(keep)
    normal = np.mod(np.degrees(np.arctan2(gy[keep], gx[keep])), 180.0)
    order = np.argsort(normal)
    normal, rows, cols = normal[order], rows[order], cols[order]
    diag = math.hypot(*y.shape)
    thetas = np.arange(0.0, 180.0, 0.5)
    off = np.minimum(thetas % 90.0, 90.0 - thetas % 90.0)
    band = (off >= 3.0) & (off <= 25.0)
    # Support near level/plumb too (off <= 28), so a line at 1.5 degrees peaks there and is
    # not counted at the band's 3-degree edge; normals wrap at 180 (copies at -180/+180).
    wrap = np.concatenate([normal - 180.0, normal, normal + 180.0])
    rows, cols = np.tile(rows, 3), np.tile(cols, 3)
    lo = np.searchsorted(wrap, thetas - 2.0, side="left")
    hi = np.searchsorted(wrap, thetas + 2.0, side="right")
    angles = np.flatnonzero((off <= 28.0) & (hi > lo))
    support = np.zeros(len(thetas))
    if len(angles):
        # Every (angle, pixel) vote at once: pixel ranges [lo, hi) per angle, flattened.
        counts = hi[angles] - lo[angles]
        which = np.repeat(np.arange(len(angles)), counts)
        pix = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        pix += np.repeat(lo[angles], counts)
        t = np.radians(thetas[angles])  # cos and sin per angle, then per vote
        nbins = int((sum(y.shape) + diag) / 2.0) + 2  # rho + diag never reaches its end
        rho = ((cols[pix] * np.cos(t)[which] + rows[pix] * np.sin(t)[which] + diag) / 2.0
               ).astype(np.int64)
        votes = np.bincount(which * nbins + rho, minlength=len(angles) * nbins)
        support[angles] = votes.reshape(len(angles), nbins).max(axis=1)
    # A rotated camera turns level and plumb lines alike: a line and its perpendicular
    # partner (within 1 degree), the weaker of the two counting.
    near_best = np.maximum.reduce([np.roll(support, k) for k in (-2, -1, 0, 1, 2)])
    paired = np.minimum(support, np.roll(near_best, -180))  # theta + 90 degrees
    peak = support >= np.maximum.reduce([np.roll(support, k) for k in range(-5, 6)])
    ok = band & peak & (support > 0)
    return float(paired[ok].max()) / max(y.shape) if ok.any() else 0.0


def fine_ratio(y: np.ndarray) -> float:
    """Mean squared 3x3 Laplacian of luma ``y`` (HxW) over that of ``y`` smoothed by a
    ``_FINE_SIGMA`` px Gaussian (SciPy ``ndimage``'s filters, ``curator.filters``): the finest
    octave's share of the detail, unchanged by a gain of the luma.  ``nan`` for a flat or tiny
    image."""
    if min(y.shape) < 16:
        return math.nan
    fine = filters.laplace(y)[2:-2, 2:-2]
    coarse = filters.laplace(filters.gaussian(y, _FINE_SIGMA))[2:-2, 2:-2]
    den = float(np.mean(coarse.astype(np.float64) ** 2))
    return float(np.mean(fine.astype(np.float64) ** 2)) / den if den > 1e-6 else math.nan


def detail_window(ys: np.ndarray, scale: float, side: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom), in pixels of the image ``ys`` was made from (``scale`` =
    small / full), of the ``side``-px square whose gradient energy in the small luma ``ys``
    is largest (Gaussian gradient magnitude, sigma 1; window sums from an integral image)."""
    h, w = ys.shape
    s = max(2, min(h, w, round(side * scale)))
    g = filters.gradient_magnitude(ys, 1.0) ** 2
    ii = np.pad(g.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sums = ii[s:, s:] - ii[:-s, s:] - ii[s:, :-s] + ii[:-s, :-s]
    r, c = np.unravel_index(int(np.argmax(sums)), sums.shape)
    left, top = round(c / scale), round(r / scale)
    return left, top, left + side, top + side


def measures_image(im: Image.Image) -> Image.Image:
    """The small image exposure, tilt and the detail window are read from: ``im`` scaled to
    ``_SMALL`` px on its long side (bilinear after a box pre-shrink), or ``im`` itself when it
    is no larger."""
    if max(im.size) <= _SMALL:
        return im
    k = _SMALL / max(im.size)
    return im.resize((max(1, round(im.width * k)), max(1, round(im.height * k))),
                     Image.Resampling.BILINEAR, reducing_gap=3.0)


def measure(im: Image.Image, native: bool, quantization: dict[int, Any] | None = None,
            small: Image.Image | None = None) -> dict[str, float]:
    """All classic measures of one decoded RGB photo (``NAMES`` keys; see the module doc).

    ``native``: ``im`` is at the file's own resolution (no JPEG draft reduction), so JPEG
    blocks sit on an 8-pixel grid.  ``quantization``: the JPEG file's tables, if any (then
    ``jpeg_quality`` is read from them and ``blockiness`` is not measured).  ``small``:
    ``measures_image(im)`` when the caller has made it already.
    """
    small = measures_image(im) if small is None else small
    ys = luma(small)
    out = {
        "bright_p99": float(np.percentile(ys, 99)),
        "clipped": float((ys >= 250.0).mean()),
        "blockiness": math.nan,
        "jpeg_quality": jpeg_quality(quantization),
        "tilt_lines": tilt_lines(ys),
        "fine_ratio": math.nan,
    }
    side = min(im.size[0], im.size[1], _FINE_CROP)
    if side >= 16:
        left, top, _, _ = detail_window(ys, small.width / im.width, side)
        left, top = min(max(0, left), im.width - side), min(max(0, top), im.height - side)
        out["fine_ratio"] = fine_ratio(luma(im.crop((left, top, left + side, top + side))))
    if native and math.isnan(out["jpeg_quality"]):
        # A JPEG file's own table is the better evidence: at full resolution a camera JPEG
        # saved at quality 70 already shows faint blocks, which is not heavy compression.
        # Cropped before the luma, so a large photo's full-size luma is never made.
        out["blockiness"] = blockiness(luma(im.crop(_block_box(*im.size))))
    return out
