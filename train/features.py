"""Backbone features, extracted once per image, view and damage, and cached on disk.

The backbone is frozen, so its outputs are fixed per (file contents, damage, views, backbone,
preprocessing): caching them makes head training take seconds per epoch on a CPU, and repeat
runs skip the expensive part.  Augmented views (random local crops, mirrored global view) are
cached as extra rows; training samples one combination per photo per epoch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from curator.fsutil import atomic_writer
from curator.loader import describe_error, open_rgb, views_from_image
from curator.model import DCNN
from curator.parallel import ordered_map
from train import damage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sample:
    """One training photo: a file, optionally with synthetic damage applied after decoding."""

    key: str
    path: Path
    damage: tuple[str, float] | None = None  # (kind, severity)


@dataclass
class ImageFeatures:
    """Backbone features of one photo: global views (as is, mirrored) and K local crops."""

    global_feat: torch.Tensor  # (2, D)
    local_feat: torch.Tensor  # (K, D), centre crop first


def _folder_key(model: DCNN, backbone: str, crops: int, seed: int) -> str:
    cfg = {"backbone": backbone, "pre": model.pre.to_dict(), "crops": crops, "seed": seed,
           "version": 2}
    return hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:16]


def _file_name(s: Sample) -> str:
    st = os.stat(s.path)
    ident = f"{Path(s.path).absolute()}|{st.st_size}|{st.st_mtime_ns}|{s.damage}"
    return hashlib.sha1(ident.encode()).hexdigest()[:24] + ".pt"


def make_views(s: Sample, model: DCNN, crops: int, seed: int) -> np.ndarray:
    """(2 + crops, V, V, 3) uint8: global, mirrored global, centre crop, random crops."""
    pre = model.pre
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


def extract(
    model: DCNN,
    backbone: str,
    samples: Sequence[Sample],
    cache_dir: Path,
    crops: int = 4,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 2,
) -> tuple[dict[str, ImageFeatures], dict[str, str]]:
    """Features for each sample (by key) and a reason for each one that could not be read."""
    folder = Path(cache_dir) / f"{backbone}-{_folder_key(model, backbone, crops, seed)}"
    folder.mkdir(parents=True, exist_ok=True)
    device = next(model.parameters()).device
    out: dict[str, ImageFeatures] = {}
    errors: dict[str, str] = {}

    def load(s: Sample) -> tuple[Sample, Path | None, np.ndarray | dict | str]:
        try:
            fpath = folder / _file_name(s)
            if fpath.is_file():
                return s, None, torch.load(fpath, weights_only=True)
            return s, fpath, make_views(s, model, crops, seed)
        except Exception as exc:
            return s, None, describe_error(s.path, exc)

    model.eval()
    for i, (s, fpath, got) in enumerate(ordered_map(load, samples, workers, 4 * workers), 1):
        if isinstance(got, str):
            errors[s.key] = got
        elif isinstance(got, dict):
            out[s.key] = ImageFeatures(got["global"], got["local"])
        else:
            with torch.inference_mode():
                batch = torch.from_numpy(got).to(device)
                f = model.embed(batch).float().cpu()
            feats = ImageFeatures(f[:2].clone(), f[2:].clone())
            assert fpath is not None
            with atomic_writer(fpath) as fh:
                torch.save({"global": feats.global_feat, "local": feats.local_feat}, fh)
            out[s.key] = feats
        if progress:
            progress(i, len(samples))
    if errors:
        log.warning("%d of %d photos could not be read", len(errors), len(samples))
    return out, errors
