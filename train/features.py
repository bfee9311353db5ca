"""Backbone features, extracted once per image and view and cached on disk.

The backbone is frozen, so its outputs are fixed per (image, view, backbone, preprocessing):
caching them makes head training take seconds per epoch on a CPU, and repeat runs skip the
expensive part.  Augmented local views (random crops, flips) are cached as extra rows.
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
import torch

from curator.fsutil import atomic_writer
from curator.loader import describe_error, open_rgb, views_from_image
from curator.model import DCNN

log = logging.getLogger(__name__)


@dataclass
class ImageFeatures:
    """Backbone features of one image: the global view and K local crops (centre crop first)."""

    global_feat: torch.Tensor  # (2, D): as is, and mirrored
    local_feat: torch.Tensor  # (K, D)


def _cache_key(model: DCNN, backbone: str, crops: int, seed: int) -> str:
    cfg = {"backbone": backbone, "pre": model.pre.to_dict(), "crops": crops, "seed": seed}
    return hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:16]


def _views(path: Path, model: DCNN, crops: int, rng: random.Random) -> tuple[np.ndarray, ...]:
    pre = model.pre
    im, _ = open_rgb(path, pre.local_short_side)
    g, centre, work = views_from_image(im, pre)
    locals_ = [centre]
    v = pre.view_size
    for _ in range(crops - 1):
        box = (rng.randint(0, work.width - v), rng.randint(0, work.height - v))
        crop = np.asarray(work.crop((box[0], box[1], box[0] + v, box[1] + v)))
        locals_.append(crop[:, ::-1] if rng.random() < 0.5 else crop)
    return g, g[:, ::-1], *locals_


def extract(
    model: DCNN,
    backbone: str,
    items: Sequence[tuple[str, Path]],
    cache_dir: Path,
    crops: int = 4,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, ImageFeatures], dict[str, str]]:
    """Features for each (key, path); returns them and the per-key errors for unreadable files."""
    folder = Path(cache_dir) / f"{backbone}-{_cache_key(model, backbone, crops, seed)}"
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, ImageFeatures] = {}
    errors: dict[str, str] = {}
    model.eval()
    for i, (key, path) in enumerate(items, 1):
        fpath = folder / f"{hashlib.sha1(str(path).encode()).hexdigest()[:20]}.pt"
        if fpath.is_file():
            d = torch.load(fpath, weights_only=True)
            out[key] = ImageFeatures(d["global"], d["local"])
        else:
            rng = random.Random(f"{seed}:{key}")
            try:
                views = _views(path, model, crops, rng)
            except Exception as exc:
                errors[key] = describe_error(path, exc)
                continue
            batch = torch.from_numpy(np.ascontiguousarray(np.stack(views)))
            with torch.inference_mode():
                f = model.backbone(model._prep(batch)).float().cpu()
            feats = ImageFeatures(f[:2].clone(), f[2:].clone())
            with atomic_writer(fpath) as fh:
                torch.save({"global": feats.global_feat, "local": feats.local_feat}, fh)
            out[key] = feats
        if progress:
            progress(i, len(items))
    return out, errors
