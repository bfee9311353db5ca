"""Optional end-to-end fine-tuning of the backbone's last blocks (``--finetune N``).

Starts from the head trained on cached features, unfreezes the last ``N`` MBConv blocks and
the final 1x1 conv of EfficientNet-Lite, and trains them with the head on decoded photos
(random views each step), with the same multi-task losses.  Photos are decoded every step, so
this is slow on a CPU and meant for a GPU (``--device auto`` picks CUDA).  The fine-tuned
weights are kept only if the loss on the carved validation part improves.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from curator.model import DCNN
from curator.parallel import ordered_map
from train.data import Tasks
from train.features import Sample, make_views
from train.fit import (
    Arrays,
    HeadTrainConfig,
    losses_from_logits,
    reason_labels,
    ridge_penalty,
    seed_everything,
)

log = logging.getLogger(__name__)


@dataclass
class FinetuneConfig:
    """How much of the backbone to unfreeze and for how long."""

    blocks: int = 0  # 0 = keep the backbone frozen
    steps: int = 200
    batch: int = 8  # items per task per step
    lr: float = 1e-4


def unfreeze_last_blocks(model: DCNN, blocks: int) -> list[torch.nn.Parameter]:
    """Make the last ``blocks`` MBConv blocks and the head conv trainable; returns them."""
    net: Any = getattr(model.backbone, "net", None)
    if net is None or not hasattr(net, "_blocks"):
        raise ValueError("--finetune supports the EfficientNet-Lite backbones")
    modules = [*list(net._blocks)[-blocks:], net._conv_head]
    params: list[torch.nn.Parameter] = []
    for m in modules:
        for p in m.parameters():
            p.requires_grad_(True)
            params.append(p)
    return params


def _subset_arrays(tasks: Tasks, dist: Sequence[int], mean: Sequence[int],
                   pairs: Sequence[int], bins: Sequence[int] = ()) -> tuple[Arrays, list[int]]:
    """Index arrays for the chosen items, over the photos they use (returned in order)."""
    used = sorted({tasks.dist_idx[i] for i in dist} | {tasks.mean_idx[i] for i in mean}
                  | {tasks.pair_a[i] for i in pairs} | {tasks.pair_b[i] for i in pairs}
                  | {tasks.bin_idx[i] for i in bins})
    pos = {s: k for k, s in enumerate(used)}

    def idx(values: list[int]) -> torch.Tensor:
        return torch.tensor([pos[v] for v in values], dtype=torch.long)

    empty = torch.zeros(0)
    arr = Arrays(
        G=empty, L=empty,
        dist_idx=idx([tasks.dist_idx[i] for i in dist]),
        dist_y=torch.tensor(np.asarray([tasks.dist_y[i] for i in dist],
                                       dtype=np.float32).reshape(-1, 10)),
        mean_idx=idx([tasks.mean_idx[i] for i in mean]),
        mean_y=torch.tensor([tasks.mean_y[i] for i in mean], dtype=torch.float32),
        pair_a=idx([tasks.pair_a[i] for i in pairs]),
        pair_b=idx([tasks.pair_b[i] for i in pairs]),
        pair_p=torch.tensor([tasks.pair_p[i] for i in pairs], dtype=torch.float32),
        pair_kind=[tasks.pair_kind[i] for i in pairs],
        bin_idx=idx([tasks.bin_idx[i] for i in bins]),
        bin_y=torch.tensor([tasks.bin_y[i] for i in bins], dtype=torch.float32),
        reason_y=reason_labels([tasks.samples[i].damage for i in used]),
    )
    return arr, used


def _views(samples: list[Sample], model: DCNN, rng: random.Random | None,
           workers: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """(global, local) uint8 batches: random views with ``rng``, centre views without."""
    def one(s: Sample) -> tuple[np.ndarray, np.ndarray]:
        if rng is None:
            v = make_views(s, model, 1, 0)
            return v[0], v[2]
        seed = rng.getrandbits(31)
        v = make_views(s, model, 3, seed)
        pick = random.Random(seed)
        return v[pick.randint(0, 1)], v[2 + pick.randint(0, 2)]

    got = list(ordered_map(one, samples, workers, 2 * workers))
    g = torch.from_numpy(np.stack([x[0] for x in got]))
    loc = torch.from_numpy(np.stack([x[1] for x in got]))
    return g, loc


def _loss(model: DCNN, tasks: Tasks, items: tuple[Sequence[int], ...], cfg: HeadTrainConfig,
          rng: random.Random | None, device: torch.device) -> torch.Tensor:
    arr, used = _subset_arrays(tasks, *items)
    g, loc = _views([tasks.samples[i] for i in used], model, rng)
    logits = model(g.to(device), loc.to(device))
    return losses_from_logits(model.head, logits, arr.to(device), cfg)["total"]


def finetune(
    model: DCNN,
    tasks: Tasks,
    train_items: tuple[np.ndarray, ...],
    val_items: tuple[np.ndarray, ...],
    cfg: HeadTrainConfig,
    ft: FinetuneConfig,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Fine-tune ``model`` in place; returns before/after validation losses and whether kept.

    ``train_items``/``val_items`` are boolean masks over (AVA, ratings, pair[, post-worthy])
    items.
    """
    seed_everything(cfg.seed)
    device = torch.device(cfg.device)
    model.to(device)
    params = unfreeze_last_blocks(model, ft.blocks) + list(model.head.parameters())
    opt = torch.optim.AdamW(params, lr=ft.lr, weight_decay=cfg.weight_decay)
    rng = random.Random(cfg.seed)
    pools = [np.flatnonzero(m).tolist() for m in train_items]
    val = tuple(np.flatnonzero(m).tolist() for m in val_items)

    def val_loss() -> float:
        model.eval()
        with torch.no_grad():
            return float(_loss(model, tasks, val, cfg, None, device))

    before = val_loss() if any(len(v) for v in val) else float("nan")
    backup = {k: v.detach().clone() for k, v in model.state_dict().items()}
    for step in range(1, ft.steps + 1):
        model.train()
        model.backbone.eval()  # batch norm is folded: nothing to re-estimate
        batch = tuple(rng.sample(p, min(ft.batch, len(p))) for p in pools)
        opt.zero_grad()
        loss = _loss(model, tasks, batch, cfg, rng, device) + ridge_penalty(model.head, cfg)
        loss.backward()
        opt.step()
        if progress:
            progress(step, ft.steps)
    after = val_loss() if any(len(v) for v in val) else float("nan")
    kept = not (after > before)  # NaN (no validation items) keeps the fine-tuned weights
    if not kept:
        model.load_state_dict(backup)
    for p in model.parameters():
        p.requires_grad_(False)
    model.eval().cpu()
    log.info("fine-tuning: validation loss %.4f -> %.4f (%s)", before, after,
             "kept" if kept else "discarded")
    return {"blocks": ft.blocks, "steps": ft.steps, "val_loss_before": before,
            "val_loss_after": after, "kept": kept}
