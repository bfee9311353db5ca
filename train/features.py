"""Backbone features of training photos: the views each photo gives, and a drop-in ``extract``.

The backbone is frozen, so its outputs are fixed per (file contents, damage, views, backbone,
preprocessing): they are extracted once into a sharded feature store (``train.store``,
``train.extract``; ``python -m train extract``) and head training then takes seconds per epoch
on a CPU.  Augmented views (random local crops, mirrored global view) are stored as extra rows;
training samples one combination per photo per epoch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from curator.loader import open_rgb, views_from_image
from curator.model import DCNN
from curator.preprocess import Preprocess
from train import damage
from train.store import FeatureStore, ImageFeatures

log = logging.getLogger(__name__)

__all__ = ["ImageFeatures", "Sample", "extract", "make_views", "views_for"]


@dataclass(frozen=True)
class Sample:
    """One training photo: a file, optionally with synthetic damage applied after decoding."""

    key: str
    path: Path
    damage: tuple[str, float] | None = None  # (kind, severity)


def views_for(s: Sample, pre: Preprocess, crops: int, seed: int) -> np.ndarray:
    """(2 + crops, V, V, 3) uint8: global, mirrored global, centre crop, random crops.

    The random crops (and the damage's own randomness) are seeded by ``seed`` and the sample's
    key, so a photo's views never depend on which process or worker decodes it.  Raises on an
    unreadable file (see ``curator.loader.describe_error``).
    """
    rng = random.Random(f"{seed}:{s.key}")
    im, _ = open_rgb(s.path, pre.local_short_side)
    if s.damage is not None:
        im = damage.apply(s.damage[0], im, s.damage[1], rng)
    g, centre, work = views_from_image(im, pre)
    views = [g, g[:, ::-1], centre]
    v = pre.view_size
    for _ in range(crops - 1):
        x, y = rng.randint(0, work.width - v), rng.randint(0, work.height - v)
        crop = np.asarray(work.crop((x, y, x + v, y + v)))
        views.append(crop[:, ::-1] if rng.random() < 0.5 else crop)
    return np.ascontiguousarray(np.stack(views))


def make_views(s: Sample, model: DCNN, crops: int, seed: int) -> np.ndarray:
    """``views_for`` with the model's preprocessing."""
    return views_for(s, model.pre, crops, seed)


def store_folder(cache_dir: Path, backbone: str, samples: Sequence[Sample], crops: int,
                 seed: int) -> Path:
    """Where ``extract`` keeps the store of this selection: one folder per selection."""
    h = hashlib.sha256(json.dumps([backbone, crops, seed]).encode())
    for s in samples:
        h.update(f"{s.key}|{s.path}|{s.damage}\0".encode())
    return Path(cache_dir) / f"{backbone}-{h.hexdigest()[:16]}"


def extract(
    model: DCNN,
    backbone: str,
    samples: Sequence[Sample],
    cache_dir: Path,
    crops: int = 4,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 2,
) -> tuple[FeatureStore, dict[str, str]]:
    """Features for each sample (a read-only mapping by key) and why each unreadable one failed.

    In-process (one rank) extraction into a store under ``cache_dir`` (``store_folder``),
    resumed if an earlier call was interrupted, reused as is when finished.  The mapping reads
    the memory-mapped store lazily.  For several processes, use ``python -m train extract``.
    """
    from train.extract import ExtractConfig, extract_store

    root = store_folder(cache_dir, backbone, samples, crops, seed)
    if not (root / "manifest.json").is_file():
        extract_store(model, backbone, samples, root,
                      ExtractConfig(crops=crops, seed=seed, workers=workers), progress)
    store = FeatureStore(root)
    if progress:
        progress(len(samples), len(samples))
    return store, dict(store.errors)
