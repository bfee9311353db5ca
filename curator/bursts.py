"""The best frame of a near-duplicate group, chosen by comparing the frames with each other.

A burst of one dish gives near-identical frames, some a little soft.  Mild softness of a
12 MP photo is invisible in the model's 224 px views, so the absolute score cannot see it, but
frames of the same scene can be compared directly, which is a far easier question.  For each
group of two or more photos (``curator.groups``):

0. **The same scene?** (``split_group``) The embedding that formed the group knows what is
   in a photo, not where: two plates of tacos at two tables are as close to it as two takes
   of one plate (``scripts/eval_groups.py``: at the 0.20 cut, 4 same-group pairs across
   restaurants of ``yelp-food`` and 14 of other plates within one).  Every frame read below
   also gives its ORB keypoints (OpenCV: FAST corners with binary descriptors, scale and
   rotation invariant) on its luma at ``MATCH_SIDE`` px; a frame stays in the group when at
   least ``GroupConfig.min_inliers`` of its keypoint matches with the group's top-ranked
   frame agree on one shift, scale and rotation (RANSAC, ``cv2.estimateAffinePartial2D``).
   Near-copies share hundreds (re-saves, exposure and white-balance changes, crops, zooms,
   small rotations, soft or shaken frames: the matches come from the 512 px luma, where a
   burst's blur is under a pixel); different plates share 0-9 chance matches.  The frames that
   fail form groups of their own the same way (the top-ranked of them first).  A frame that
   cannot be read, or too plain to have keypoints, stays as the embedding grouped it.
1. **Where to look.** The group's top-scored frame is decoded at full resolution (the one
   read this costs; no photo outside a group is read again).  Its luma at 256 px shows where
   the fine detail is; the square window (40 % of the short side, 512-1024 px at full
   resolution) with the most gradient energy is the crop: where the subject is in focus.
2. **Aligned crops.** Every other frame is decoded at full resolution too, its 256 px luma
   aligned to the reference's by phase correlation (NumPy FFT), and the same window, moved by
   that shift, cropped.  Frames whose coarse crops do not match (normalised cross-correlation
   under ``BurstConfig.min_match``: a different dish stacked by mistake, another angle) are
   not compared: they keep the model's order and get no verdict.
3. **Relative sharpness.** ``detail`` = mean squared Laplacian of the full-resolution crop's
   luma (after a 0.7 px Gaussian, so JPEG and sensor noise do not pass for detail) over the
   crop's luma variance (SciPy ``ndimage``'s filters, run by OpenCV: ``curator.filters``;
   the variance cancels an exposure change, so a brighter take does not read as sharper).
   The classic variance-of-Laplacian focus measure (Pech-Pacheco et al., ICPR 2000), here
   only ever compared between frames of one scene.
4. **Order.** Frames with at least ``tie`` of the sharpest frame's detail count as equally
   sharp; among them a frame with clearly worse exposure (``clip_margin`` more of the frame
   blown to white, or ``crush_margin`` more crushed to black, than the best-exposed sibling)
   goes after the others, then the model's score decides.  Softer frames follow, sharpest
   first.  A frame under ``softer`` of the sharpest frame's detail gets ``blur`` ("softer than
   the best frame of its group"), also when its absolute sharpness looks fine.

Thresholds were chosen on bursts made from ``food-pairs`` and ``yelp-food`` photos and judged
on bursts made from ``food-photos-hires`` and ``food-photos`` (``scripts/eval_bursts.py``).
Pure NumPy/SciPy/Pillow: no Qt, no torch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np
from PIL import Image, ImageOps

from curator import filters

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The Gaussian (px) ``detail`` smooths with before its Laplacian.
NOISE_SIGMA = 0.7
#: Side of the coarse luma used to find the subject, align frames and judge exposure (px).
COARSE = 256
#: Long side (px) of the luma the same-scene check finds its keypoints on (never enlarged).
MATCH_SIDE = 512
#: ORB keypoints kept per frame (the strongest by FAST corner response).
MATCH_FEATURES = 500
#: Lowe's ratio test: a match counts when its distance is under this share of the second best.
MATCH_RATIO = 0.8
#: RANSAC's reprojection tolerance, as a share of the long side (5 px at 512 px).
MATCH_TOLERANCE = 0.01
#: A frame with fewer keypoints than this cannot be judged (a plain or blank frame).
MATCH_MIN_KEYPOINTS = 50


@dataclass(frozen=True)
class BurstConfig:
    """How frames of one group are compared (module docstring: what each step does)."""

    #: Frames with at least this share of the sharpest frame's detail are "as sharp".
    tie: float = 0.85
    #: Frames under this share of the sharpest frame's detail get ``blur``.
    softer: float = 0.75
    #: Worse exposure: this much more of the frame at luma >= 250 (or <= 5, ``crush_margin``)
    #: than the best-exposed comparable sibling.
    clip_margin: float = 0.10
    crush_margin: float = 0.10
    #: Coarse crops must correlate at least this well to be compared at all.
    min_match: float = 0.6
    #: The crop: this share of the short side, kept within [crop_min, crop_max] px.
    crop_share: float = 0.4
    crop_min: int = 512
    crop_max: int = 1024


@dataclass(frozen=True)
class Frame:
    """What the comparison read from one frame.

    ``detail``: fine-detail energy of the aligned full-resolution crop (None: not compared);
    ``clipped``/``crushed``: shares (0-1) of the frame's coarse luma at >= 250 / <= 5;
    ``match``: correlation of its coarse crop with the reference's (1.0 for the reference);
    ``keypoints``: its ``Keypoints`` when asked for (``measure_frames(keypoints=True)``; None:
    not asked, or the frame could not be read).
    """

    path: Path
    detail: float | None
    clipped: float = 0.0
    crushed: float = 0.0
    match: float = 0.0
    keypoints: Keypoints | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Verdict:
    """One group's comparison: ``order`` best first; ``softer`` the frames that get ``blur``;
    ``why`` a short sentence per frame (what decided its place); ``sharpness`` each compared
    frame's detail as a share (0-1) of the sharpest frame's."""

    order: tuple[Path, ...]
    softer: frozenset[Path] = frozenset()
    why: dict[Path, str] = field(default_factory=dict)
    sharpness: dict[Path, float] = field(default_factory=dict)


def luma(a: np.ndarray) -> np.ndarray:
    """Rec. 601 luma (HxW float32, 0-255) of an HxWx3 uint8 array (an HxW one is taken as
    luma already)."""
    x = a.astype(np.float32)
    if x.ndim == 2:
        return x
    return x[..., 0] * 0.299 + x[..., 1] * 0.587 + x[..., 2] * 0.114


def detail(y: np.ndarray) -> float:
    """Fine-detail energy of a luma crop (HxW): mean squared 3x3 Laplacian of the luma after a
    0.7 px Gaussian (which keeps JPEG and sensor noise from passing for detail: without it a
    dimmed take read 1.3x sharper), over the luma's variance (dimensionless; unchanged by a
    gain or offset of the luma).  0 for a flat crop."""
    var = float(np.var(y))
    if var < 1e-3 or min(y.shape) < 8:
        return 0.0
    smooth = filters.gaussian(y, NOISE_SIGMA)
    lap = filters.laplace(smooth)[2:-2, 2:-2]
    return float(np.mean(lap.astype(np.float64) ** 2) / var)


def _coarse(im: Image.Image, size: tuple[int, int]) -> np.ndarray:
    return luma(np.asarray(im.resize(size, Image.Resampling.BOX, reducing_gap=2.0)))


def coarse_size(w: int, h: int) -> tuple[int, int]:
    """The coarse luma's size for a ``w`` x ``h`` frame: long side ``COARSE`` (never larger)."""
    k = min(1.0, COARSE / max(w, h))
    return max(8, round(w * k)), max(8, round(h * k))


def subject_window(y: np.ndarray, side: int) -> tuple[int, int]:
    """Top-left (row, col) of the ``side`` x ``side`` window of coarse luma ``y`` with the most
    gradient energy (Gaussian gradient magnitude, sigma 1): where the in-focus subject is."""
    h, w = y.shape
    side = min(side, h, w)
    g = filters.gradient_magnitude(y, 1.0) ** 2
    # Window sums from an integral image: every top-left corner at once.
    ii = np.pad(g.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sums = ii[side:, side:] - ii[:-side, side:] - ii[side:, :-side] + ii[:-side, :-side]
    r, c = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return int(r), int(c)


def phase_shift(ref: np.ndarray, other: np.ndarray) -> tuple[int, int]:
    """(dy, dx) such that ``other[y + dy, x + dx]`` shows what ``ref[y, x]`` shows, by phase
    correlation of two equal-size luma images (Hann-windowed, NumPy FFT); whole pixels."""
    win = np.outer(np.hanning(ref.shape[0]), np.hanning(ref.shape[1])).astype(np.float32)
    fa = np.fft.rfft2((ref - ref.mean()) * win)
    fb = np.fft.rfft2((other - other.mean()) * win)
    cross = fb * np.conj(fa)
    corr = np.fft.irfft2(cross / np.maximum(np.abs(cross), 1e-9), s=ref.shape)
    dy, dx = np.unravel_index(int(np.argmax(corr)), corr.shape)
    h, w = ref.shape
    return (int(dy) - h if dy > h // 2 else int(dy)), (int(dx) - w if dx > w // 2 else int(dx))


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape or a.size < 16:
        return 0.0
    a = filters.gaussian(a, 1.5)
    b = filters.gaussian(b, 1.5)
    a, b = a - a.mean(), b - b.mean()
    den = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
    return float((a * b).sum() / den) if den > 1e-6 else 0.0


@dataclass(frozen=True)
class Keypoints:
    """A frame's ORB keypoints for the same-scene check: ``points`` (K, 2) float32 (x, y) px on
    the luma scaled to ``side`` px long side; ``descriptors`` (K, 32) uint8 (K may be 0)."""

    points: np.ndarray
    descriptors: np.ndarray
    side: int


_ORB = threading.local()


def keypoints(im: Image.Image) -> Keypoints:
    """ORB keypoints (``MATCH_FEATURES`` at most) of ``im``'s luma scaled to ``MATCH_SIDE`` px
    long side (never enlarged; a box filter).  OpenCV's ORB (Rublee et al., ICCV 2011).
    Raises ImportError without OpenCV."""
    import cv2

    orb = getattr(_ORB, "orb", None)
    if orb is None:  # one detector per thread: OpenCV objects are not shared across threads
        orb = _ORB.orb = cv2.ORB.create(nfeatures=MATCH_FEATURES)
    y = im if im.mode == "L" else im.convert("L")
    k = min(1.0, MATCH_SIDE / max(y.size))
    if k < 1.0:
        y = y.resize((max(1, round(y.width * k)), max(1, round(y.height * k))),
                     Image.Resampling.BOX, reducing_gap=2.0)
    kps, desc = orb.detectAndCompute(np.asarray(y), None)
    pts = np.array([kp.pt for kp in kps], np.float32).reshape(-1, 2)
    d = desc if desc is not None else np.zeros((0, 32), np.uint8)
    return Keypoints(pts, d, max(y.size))


def scene_inliers(a: Keypoints, b: Keypoints) -> int | None:
    """How many of ``a``'s and ``b``'s keypoint matches agree on one similarity transform
    (shift, scale, rotation): brute-force Hamming matches kept by Lowe's ratio test
    (``MATCH_RATIO``), then RANSAC (``cv2.estimateAffinePartial2D``, tolerance
    ``MATCH_TOLERANCE`` of the long side, seeded so a run repeats).  None when either has
    fewer than ``MATCH_MIN_KEYPOINTS`` keypoints (cannot tell)."""
    import cv2

    if min(len(a.points), len(b.points)) < MATCH_MIN_KEYPOINTS:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(a.descriptors, b.descriptors, k=2)
    good = [m[0] for m in pairs if len(m) == 2 and m[0].distance < MATCH_RATIO * m[1].distance]
    if len(good) < 3:
        return len(good)
    src = a.points[[m.queryIdx for m in good]]
    dst = b.points[[m.trainIdx for m in good]] * (a.side / b.side)  # one scale for the tolerance
    cv2.setRNGSeed(0)  # RANSAC draws from OpenCV's per-thread generator
    model, inliers = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=MATCH_TOLERANCE * a.side)
    return 0 if model is None or inliers is None else int(inliers.sum())


def scene_sets(kps: Sequence[Keypoints | None], min_inliers: int) -> list[list[int]]:
    """Split one group's frames (``kps`` in rank order) into the sets that show one scene.

    The first set holds frame 0 and every frame sharing at least ``min_inliers`` inliers with it
    (``scene_inliers``), plus every frame that cannot be judged (None: unreadable; too few
    keypoints); the frames left form sets the same way, the top-ranked of them as reference.
    Greedy, not transitive: a frame is compared with its set's reference only (n - 1 checks for
    a true burst of n).  Indices in rank order within each set; everything in one set when frame
    0 cannot be judged (the group as the embedding made it).  Pure but for OpenCV.
    """
    n = len(kps)
    ref = kps[0] if n else None
    if ref is None or len(ref.points) < MATCH_MIN_KEYPOINTS:
        return [list(range(n))] if n else []
    sets: list[list[int]] = []
    left = list(range(n))
    first = True
    while left:
        r, rest = left[0], left[1:]
        rk = kps[r]
        same: list[int] = [r]
        apart: list[int] = []
        for i in rest:
            ki = kps[i]
            judged = None if rk is None or ki is None else scene_inliers(rk, ki)
            if judged is None:
                (same if first else apart).append(i)  # cannot tell: stays where it was
            elif judged >= min_inliers:
                same.append(i)
            else:
                apart.append(i)
        sets.append(same)
        left, first = apart, False
    return sets


Reader = Callable[[Path], Image.Image]


def read_full(path: Path) -> Image.Image:
    """The photo's luma (mode ``L``) at full resolution, as displayed (EXIF orientation).

    A JPEG is decoded straight to its luma channel (libjpeg skips the chroma upsampling and
    colour conversion: half the time of an RGB decode, 25 ms for 6 MP here); other formats go
    through ``curator.loader.decode`` (sRGB) and are converted.  Raises on a bad file.
    """
    from curator.loader import MAX_PIXELS, decode, decoding

    with decoding(path), Image.open(path) as im:
        if im.format == "JPEG" and im.mode in ("RGB", "L", "YCbCr"):
            if im.size[0] * im.size[1] > MAX_PIXELS:
                raise Image.DecompressionBombError(f"{im.size[0]}x{im.size[1]} pixels")
            im.draft("L", im.size)  # full scale, luma only
            im.load()
            out = ImageOps.exif_transpose(im)
            return out if out.mode == "L" else out.convert("L")
    return decode(path, 1 << 30).image.convert("L")


@dataclass(frozen=True)
class _Ref:
    coarse: np.ndarray  # reference coarse luma (h, w)
    window: tuple[float, float, float]  # (top, left, side) as shares of the coarse h, w, short


def _exposure(y: np.ndarray) -> tuple[float, float]:
    return float((y >= 250.0).mean()), float((y <= 5.0).mean())


def _reference(im: Image.Image, cfg: BurstConfig) -> tuple[_Ref, np.ndarray]:
    y = _coarse(im, coarse_size(*im.size))
    short = min(im.size)
    side_full = min(short, max(cfg.crop_min, min(cfg.crop_max, round(cfg.crop_share * short))))
    side = max(4, round(side_full / short * min(y.shape)))
    r, c = subject_window(y, side)
    h, w = y.shape
    return _Ref(y, (r / h, c / w, side_full / short)), y


def _measure(path: Path, im: Image.Image, ref: _Ref, is_ref: bool) -> Frame:
    """Align ``im`` to the reference, crop the window at full resolution, measure it."""
    h, w = ref.coarse.shape
    y = _coarse(im, (w, h))  # the reference's coarse size: frames of one scene line up
    clipped, crushed = _exposure(y)
    dy, dx = (0, 0) if is_ref else phase_shift(ref.coarse, y)
    top, left, side_share = ref.window
    side_c = max(4, round(side_share * min(h, w)))
    r0 = min(max(0, round(top * h) + dy), h - side_c)
    c0 = min(max(0, round(left * w) + dx), w - side_c)
    rr, cr = round(top * h), round(left * w)
    match = 1.0 if is_ref else _ncc(ref.coarse[rr:rr + side_c, cr:cr + side_c],
                                    y[r0:r0 + side_c, c0:c0 + side_c])
    fw, fh = im.size
    side_full = min(fw, fh, round(side_share * min(fw, fh)))
    x0 = min(max(0, round(c0 / w * fw)), fw - side_full)
    y0 = min(max(0, round(r0 / h * fh)), fh - side_full)
    crop = np.asarray(im.crop((x0, y0, x0 + side_full, y0 + side_full)))
    return Frame(path, detail(luma(crop)), clipped, crushed, match)


def _keypoints_or_none(path: Path, im: Image.Image) -> Keypoints | None:
    try:
        return keypoints(im)
    except Exception as exc:  # OpenCV missing or failing: the frame cannot be judged
        log.warning("same-scene check unavailable for %s: %s", path, exc)
        return None


def measure_frames(paths: Sequence[Path], cfg: BurstConfig | None = None,
                   reader: Reader = read_full, workers: int = 1,
                   with_keypoints: bool = False) -> list[Frame]:
    """Read each frame's aligned full-resolution crop; ``paths[0]`` is the reference.

    A frame that cannot be read, or whose coarse crop does not match the reference's, comes
    back with ``detail`` None.  If the reference cannot be read, none is compared.  ``workers``
    threads decode the other frames (Pillow releases the GIL while decoding).
    ``with_keypoints``: each readable frame also carries its ``Keypoints`` (from the same read).
    """
    cfg = cfg or BurstConfig()
    try:
        first = reader(paths[0])
        ref, _ = _reference(first, cfg)
        frames = [_measure(paths[0], first, ref, True)]
        if with_keypoints:
            frames[0] = replace(frames[0], keypoints=_keypoints_or_none(paths[0], first))
        del first
    except Exception as exc:  # an unreadable reference: nothing to compare against
        log.debug("burst reference %s unreadable: %s", paths[0], exc)
        return [Frame(p, None) for p in paths]

    def one(p: Path) -> Frame:
        try:
            im = reader(p)
            f = _measure(p, im, ref, False)
        except Exception as exc:
            log.debug("burst frame %s unreadable: %s", p, exc)
            return Frame(p, None)
        if with_keypoints:
            f = replace(f, keypoints=_keypoints_or_none(p, im))
        if f.match < cfg.min_match:
            return replace(f, detail=None)
        return f

    rest = list(paths[1:])
    if workers > 1 and len(rest) > 1:
        from curator.parallel import ordered_map

        frames += list(ordered_map(one, rest, workers, window=workers * 2,
                                   name="curator-burst"))
    else:
        frames += [one(p) for p in rest]
    return frames


def decide(frames: Sequence[Frame], scores: Sequence[float],
           cfg: BurstConfig | None = None) -> Verdict:
    """Order one group's ``frames`` (each with the model's ``scores``, same order) best first.

    Pure: ``measure_frames`` did the reading.  Frames without ``detail`` sort among the
    equally sharp ones by score and never get ``blur``.
    """
    cfg = cfg or BurstConfig()
    compared = [f for f in frames if f.detail is not None]
    top = max((f.detail or 0.0 for f in compared), default=0.0)
    if len(compared) < 2 or top <= 0.0:
        order = sorted(range(len(frames)), key=lambda i: (-scores[i], str(frames[i].path)))
        return Verdict(tuple(frames[i].path for i in order),
                       why={frames[order[0]].path: "highest score (frames not compared)"})
    share = {f.path: (f.detail or 0.0) / top for f in compared}
    clip0 = min(f.clipped for f in compared)
    crush0 = min(f.crushed for f in compared)

    def badly_exposed(f: Frame) -> bool:
        return f.detail is not None and (f.clipped > clip0 + cfg.clip_margin
                                         or f.crushed > crush0 + cfg.crush_margin)

    def key(i: int) -> tuple[int, int, float, str]:
        f = frames[i]
        s = share.get(f.path)
        sharp = s is None or s >= cfg.tie
        return (0 if sharp else 1, int(sharp and badly_exposed(f)),
                -scores[i] if sharp else -(s or 0.0), str(f.path))

    order = sorted(range(len(frames)), key=key)
    paths = tuple(frames[i].path for i in order)
    softer = frozenset(p for p, s in share.items() if s < cfg.softer)
    why: dict[Path, str] = {}
    best = frames[order[0]]
    n_sharp = sum(1 for s in share.values() if s >= cfg.tie)
    if best.path not in share:
        why[best.path] = "highest score (could not be compared with the others)"
    elif n_sharp == 1:
        why[best.path] = "the sharpest frame of its group"
    elif any(badly_exposed(frames[i]) for i in order if share.get(frames[i].path, 0) >= cfg.tie):
        why[best.path] = "as sharp as the sharpest, better exposed, highest score"
    else:
        why[best.path] = "as sharp as the sharpest frame, and the highest score"
    for i in order[1:]:
        f = frames[i]
        s = share.get(f.path)
        if s is None:
            why[f.path] = "not compared (its framing differs from the best frame's)"
        elif s < cfg.softer:
            why[f.path] = (f"softer than the best frame of its group ({s:.0%} of that "
                           "frame's fine detail)")
        elif s < cfg.tie:
            why[f.path] = (f"a little softer than the sharpest frame ({s:.0%} of that "
                           "frame's fine detail)")
        elif badly_exposed(f):
            why[f.path] = "as sharp, but more of it blown out or crushed than a sibling"
        else:
            why[f.path] = "as sharp as the best frame, lower score"
    return Verdict(paths, softer, why, share)


class VerdictMemo(Generic[T]):
    """Verdicts of groups already compared in this process, keyed by their members' file
    identities (path, size, mtime), so re-ranking an unchanged folder reads nothing again."""

    def __init__(self, size: int = 4096) -> None:
        self._items: OrderedDict[tuple[object, ...], T] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> T | None:
        with self._lock:
            v = self._items.get(key)
            if v is not None:
                self._items.move_to_end(key)
            return v

    def put(self, key: tuple[object, ...], v: T) -> None:
        with self._lock:
            self._items[key] = v
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget every verdict (benchmarks: the next grouping reads its frames again)."""
        with self._lock:
            self._items.clear()


MEMO: VerdictMemo[Verdict] = VerdictMemo()
#: ``split_group``'s verdicts (one tuple per embedding group).
SPLIT_MEMO: VerdictMemo[tuple[Verdict, ...]] = VerdictMemo()


def _identity(paths: Sequence[Path]) -> tuple[object, ...] | None:
    import os

    try:
        return tuple((os.path.abspath(p), (st := os.stat(p)).st_size, st.st_mtime_ns)
                     for p in paths)
    except OSError:
        return None


#: The version of what comparing a group decides (``split_group``, ``decide``): raise it when
#: either changes, so verdicts remembered on disk by an older Curator are not used.
VERDICTS_VERSION = 1


def verdict_key(paths: Sequence[Path], scores: Sequence[float], min_inliers: int,
                cfg: BurstConfig | None = None) -> str | None:
    """A digest (64 hex chars) naming one group's comparison: its members' file identities
    (absolute path, size, mtime), their scores (4 decimals), the settings and
    ``VERDICTS_VERSION``; None when a member cannot be stat'ed.  The key a score cache keeps
    ``split_group``'s verdicts under (``ScoreCache.get_verdicts``)."""
    ident = _identity(paths)
    if ident is None:
        return None
    what = (VERDICTS_VERSION, ident, tuple(round(s, 4) for s in scores), cfg or BurstConfig(),
            min_inliers)
    return hashlib.sha256(repr(what).encode()).hexdigest()


def encode_verdicts(paths: Sequence[Path], verdicts: Sequence[Verdict]) -> str:
    """``verdicts`` of the group ``paths`` as JSON, members named by their index in ``paths``
    (so the text does not depend on how a path is spelled)."""
    at = {p: i for i, p in enumerate(paths)}
    return json.dumps([{"order": [at[p] for p in v.order],
                        "softer": sorted(at[p] for p in v.softer),
                        "why": {str(at[p]): w for p, w in v.why.items()},
                        "sharpness": {str(at[p]): x for p, x in v.sharpness.items()}}
                       for v in verdicts])


def decode_verdicts(paths: Sequence[Path], text: str) -> tuple[Verdict, ...] | None:
    """The verdicts ``encode_verdicts`` wrote for ``paths``; None when ``text`` is not that
    (damaged, or of another group): every member must be in exactly one set."""
    try:
        out = tuple(Verdict(tuple(paths[i] for i in d["order"]),
                            frozenset(paths[i] for i in d["softer"]),
                            {paths[int(i)]: str(w) for i, w in d["why"].items()},
                            {paths[int(i)]: float(x) for i, x in d["sharpness"].items()})
                    for d in json.loads(text))
    except (ValueError, TypeError, KeyError, IndexError):
        return None
    placed = [p for v in out for p in v.order]
    return out if len(placed) == len(paths) and set(placed) == set(paths) else None


def compare_group(paths: Sequence[Path], scores: Sequence[float],
                  cfg: BurstConfig | None = None, reader: Reader = read_full,
                  workers: int = 1) -> Verdict:
    """Compare one group's frames (``paths`` best-scored first, with their ``scores``) and
    order them best first (``decide``); verdicts are remembered per file identity (``MEMO``)
    when the default reader is used."""
    key = _identity(paths) if reader is read_full else None
    if key is not None:
        key = (*key, tuple(round(s, 4) for s in scores), cfg)
        hit = MEMO.get(key)
        if hit is not None:
            return hit
    v = decide(measure_frames(paths, cfg, reader, workers), scores, cfg)
    if key is not None:
        MEMO.put(key, v)
    return v


def split_group(paths: Sequence[Path], scores: Sequence[float], min_inliers: int,
                cfg: BurstConfig | None = None, reader: Reader = read_full,
                workers: int = 1) -> tuple[Verdict, ...]:
    """Split one embedding group (``paths`` best-ranked first, with their ``scores``) into the
    sets of frames that show one scene (``scene_sets``, at least ``min_inliers`` RANSAC inliers
    with the set's reference) and compare each set's frames (``decide``).

    Returns one ``Verdict`` per set, the set holding ``paths[0]`` first, then in the rank order
    of their best-ranked frames; a set of one is a ``Verdict`` of one path with no ``why``.
    Each frame is read once (``measure_frames``); only the frames of a second or later set of
    two or more are read again, to be compared with their own reference.  A frame that cannot
    be read stays in the first set; when ``paths[0]`` cannot be read, the group stays whole.
    Remembered per file identity like ``compare_group``.
    """
    key = _identity(paths) if reader is read_full else None
    if key is not None:
        key = (*key, tuple(round(s, 4) for s in scores), cfg, min_inliers)
        hit = SPLIT_MEMO.get(key)
        if hit is not None:
            return hit
    frames = measure_frames(paths, cfg, reader, workers, with_keypoints=True)
    sets = scene_sets([f.keypoints for f in frames], min_inliers)
    out: list[Verdict] = []
    for k, members in enumerate(sets):
        if len(members) == 1:
            out.append(Verdict((paths[members[0]],)))
            continue
        if k == 0:  # measured against paths[0], this set's reference already
            got = [replace(frames[i], keypoints=None) for i in members]
        else:
            got = measure_frames([paths[i] for i in members], cfg, reader, workers)
        out.append(decide(got, [scores[i] for i in members], cfg))
    if len(sets) > 1:
        log.debug("group of %d split into %s by the same-scene check (%s first)",
                  len(paths), [len(m) for m in sets], paths[0])
    verdicts = tuple(out)
    if key is not None:
        SPLIT_MEMO.put(key, verdicts)
    return verdicts
