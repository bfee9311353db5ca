"""Optional end-to-end fine-tuning of the backbone's last blocks (``--finetune N``), under DDP.

Starts from the head trained on stored features, unfreezes the last ``N`` MBConv blocks and the
final 1x1 conv of EfficientNet-Lite, and trains them with the head on decoded photos (random
views each epoch), with the same multi-task losses.  One process, or every rank of a
``torchrun`` job: the model is wrapped in ``DistributedDataParallel`` (gloo on CPUs, NCCL on
GPUs, bf16 autocast on GPUs), a ``DistributedSampler`` gives each rank its share of every
global batch, and photos are decoded in ``DataLoader`` worker processes.

Same answer at any scale: ``batch`` is items per process per step, so a global step holds
``batch x processes`` items, and each task's loss is divided by its item count in the *global*
batch (counts all-reduced), so DDP's gradient average equals the gradient of the 1-process loss
over the same items.  Batch norm and dropout stay in eval mode (per-rank batch statistics would
make the answer depend on the split).  Rank 0 alone writes the checkpoint (every
``ckpt_every`` steps: weights, optimiser state, step); a rerun resumes from it and gives the
same weights as an uninterrupted run, because the data order is a function of (seed, epoch)
and each photo's views of (seed, epoch, item).  The fine-tuned weights are kept only if the
loss on the carved validation part improves.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from curator.fsutil import atomic_writer
from curator.model import DCNN
from curator.preprocess import Preprocess
from train.data import Tasks
from train.features import views_for
from train.fit import (
    Arrays,
    HeadTrainConfig,
    losses_from_logits,
    reason_labels,
    ridge_penalty,
    seed_everything,
)

log = logging.getLogger(__name__)

#: Loss terms that are means over items of one kind, and so add up exactly across ranks.
#: Loss terms averaged over items (or, for ``reasons``, over photos); each is scaled by its
#: share of the *global* batch so N processes step exactly like one.
ITEM_TERMS = ("emd", "mse", "crowd", "damage", "binary", "score_crowd", "score_damage", "reasons")


@dataclass
class FinetuneConfig:
    """How much of the backbone to unfreeze and for how long."""

    blocks: int = 0  # 0 = keep the backbone frozen
    steps: int = 200  # global optimiser steps
    batch: int = 24  # items per process per step (all tasks mixed)
    lr: float = 1e-4
    ckpt_every: int = 25  # steps between checkpoints (rank 0)
    workers: int = 2  # decoding processes per rank


def unfreeze_last_blocks(model: DCNN, blocks: int) -> list[torch.nn.Parameter]:
    """Make the last ``blocks`` MBConv blocks and the head conv trainable (and nothing else
    of the backbone); returns them."""
    net: Any = getattr(model.backbone, "net", None)
    if net is None or not hasattr(net, "_blocks"):
        raise ValueError("--finetune supports the EfficientNet-Lite backbones")
    for p in model.backbone.parameters():  # fusing batch norm made fresh, trainable convs
        p.requires_grad_(False)
    modules = [*list(net._blocks)[-blocks:], net._conv_head]
    params: list[torch.nn.Parameter] = []
    for m in modules:
        for p in m.parameters():
            p.requires_grad_(True)
            params.append(p)
    return params


Item = tuple[str, int]  # ("dist" | "mean" | "pair" | "bin", index into that task's lists)


def items_of(tasks: Tasks, masks: tuple[np.ndarray, ...]) -> list[Item]:
    """The selected (AVA, ratings, pair[, post-worthy]) items as one list, in a fixed order."""
    kinds = ("dist", "mean", "pair", "bin")[: len(masks)]
    return [(k, int(i)) for k, m in zip(kinds, masks, strict=True) for i in np.flatnonzero(m)]


class ItemViews(Dataset[dict[str, Any]]):
    """Each item with its photos' decoded views: random ones seeded by (seed, epoch, item),
    or the centre views (``random_views=False``, for validation)."""

    def __init__(self, tasks: Tasks, items: list[Item], pre: Preprocess, seed: int,
                 random_views: bool) -> None:
        self.tasks, self.items, self.pre = tasks, items, pre
        self.seed, self.random_views, self.epoch = seed, random_views, 0

    def __len__(self) -> int:
        return len(self.items)

    def _views(self, sample_idx: int, j: int, slot: int) -> tuple[np.ndarray, np.ndarray]:
        s = self.tasks.samples[sample_idx]
        if not self.random_views:
            v = views_for(s, self.pre, 1, 0)
            return v[0], v[2]
        pick = random.Random(f"{self.seed}:{self.epoch}:{j}:{slot}")
        v = views_for(s, self.pre, 3, pick.getrandbits(31))
        return v[pick.randint(0, 1)], v[2 + pick.randint(0, 2)]

    def __getitem__(self, j: int) -> dict[str, Any]:
        kind, i = self.items[j]
        t = self.tasks
        if kind == "pair":
            a, b = t.pair_a[i], t.pair_b[i]
            photos = [self._views(a, j, 0), self._views(b, j, 1)]
            return {"kind": kind, "views": photos, "p": t.pair_p[i], "pk": t.pair_kind[i],
                    "dmg": [t.samples[a].damage, t.samples[b].damage]}
        y_i: Any
        if kind == "dist":
            photo, y_i = t.dist_idx[i], np.asarray(t.dist_y[i], dtype=np.float32)
        elif kind == "bin":
            photo, y_i = t.bin_idx[i], t.bin_y[i]
        else:
            photo, y_i = t.mean_idx[i], t.mean_y[i]
        return {"kind": kind, "views": [self._views(photo, j, 0)], "y": y_i,
                "dmg": [t.samples[photo].damage]}


def collate(batch: list[dict[str, Any]]) -> tuple[torch.Tensor, torch.Tensor, Arrays]:
    """(global views, local views) of every photo of the batch, and the items indexing them."""
    g: list[np.ndarray] = []
    loc: list[np.ndarray] = []
    idx: dict[str, list[int]] = {"dist": [], "mean": [], "a": [], "b": [], "bin": []}
    dist_y: list[np.ndarray] = []
    mean_y: list[float] = []
    bin_y: list[float] = []
    damage: list[tuple[str, float] | None] = []
    pair_p: list[float] = []
    pair_kind: list[str] = []
    for it in batch:
        first = len(g)
        for gv, lv in it["views"]:
            g.append(gv)
            loc.append(lv)
        damage.extend(it["dmg"])
        if it["kind"] == "pair":
            idx["a"].append(first)
            idx["b"].append(first + 1)
            pair_p.append(float(it["p"]))
            pair_kind.append(it["pk"])
        elif it["kind"] == "dist":
            idx["dist"].append(first)
            dist_y.append(it["y"])
        elif it["kind"] == "bin":
            idx["bin"].append(first)
            bin_y.append(float(it["y"]))
        else:
            idx["mean"].append(first)
            mean_y.append(float(it["y"]))

    def t(x: list[int]) -> torch.Tensor:
        return torch.tensor(x, dtype=torch.long)

    arr = Arrays(G=torch.zeros(0), L=torch.zeros(0), dist_idx=t(idx["dist"]),
                 dist_y=torch.tensor(np.asarray(dist_y, dtype=np.float32).reshape(-1, 10)),
                 mean_idx=t(idx["mean"]), mean_y=torch.tensor(mean_y, dtype=torch.float32),
                 pair_a=t(idx["a"]), pair_b=t(idx["b"]),
                 pair_p=torch.tensor(pair_p, dtype=torch.float32), pair_kind=pair_kind,
                 bin_idx=t(idx["bin"]), bin_y=torch.tensor(bin_y, dtype=torch.float32),
                 reason_y=reason_labels(damage))
    return torch.from_numpy(np.stack(g)), torch.from_numpy(np.stack(loc)), arr


def _counts(a: Arrays) -> torch.Tensor:
    """Items per loss term (``ITEM_TERMS``) in ``a``."""
    crowd = sum(k == "crowd" for k in a.pair_kind)
    damage = len(a.pair_kind) - crowd
    return torch.tensor([len(a.dist_idx), len(a.mean_idx), crowd, damage, len(a.bin_idx),
                         crowd, damage, len(a.reason_y)], dtype=torch.float64)


def _all_reduce(x: torch.Tensor, distributed: bool) -> torch.Tensor:
    if distributed:
        dist.all_reduce(x)
    return x


def _weights(cfg: HeadTrainConfig) -> dict[str, float]:
    return {"emd": cfg.w_dist, "mse": cfg.w_mean, "crowd": cfg.w_crowd, "damage": cfg.w_damage,
            "binary": cfg.w_binary, "score_crowd": cfg.w_score_crowd,
            "score_damage": cfg.w_score_damage, "reasons": cfg.w_reasons,
            "spread": cfg.w_spread}


def _logits(model: torch.nn.Module, g: torch.Tensor, loc: torch.Tensor, device: torch.device
            ) -> torch.Tensor:
    """The head's full output (vote bins, then the named extras), in float32."""
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        logits = model(g.to(device, non_blocking=True), loc.to(device, non_blocking=True))
    return logits.float()


@dataclass
class _Run:
    model: DCNN
    tasks: Tasks
    cfg: HeadTrainConfig
    ft: FinetuneConfig
    device: torch.device
    rank: int
    world: int

    @property
    def distributed(self) -> bool:
        return self.world > 1

    def loader(self, ds: ItemViews, indices: list[int], batch: int) -> DataLoader:
        return DataLoader(ds, batch_size=batch, sampler=indices, collate_fn=collate,
                          num_workers=self.ft.workers, pin_memory=self.device.type == "cuda")

    def val_loss(self, items: list[Item]) -> float:
        """Validation loss over all ranks' shares, equal to the 1-process figure."""
        if not items:
            return float("nan")
        self.model.eval()
        ds = ItemViews(self.tasks, items, self.model.pre, self.cfg.seed, random_views=False)
        sums = torch.zeros(len(ITEM_TERMS) + 1, dtype=torch.float64)
        counts = torch.zeros(len(ITEM_TERMS), dtype=torch.float64)
        with torch.no_grad():
            for g, loc, arr in self.loader(ds, list(range(self.rank, len(items), self.world)),
                                           32):
                out = losses_from_logits(self.model.head,
                                         _logits(self.model, g, loc, self.device),
                                         arr.to(self.device), self.cfg)
                n = _counts(arr)
                counts += n
                for k, term in enumerate(ITEM_TERMS):
                    if term in out:
                        sums[k] += float(out[term]) * float(n[k])
                sums[-1] += float(out.get("spread", torch.zeros(()))) / self.world
        _all_reduce(sums, self.distributed)
        _all_reduce(counts, self.distributed)
        w = _weights(self.cfg)
        total = sum(w[term] * float(sums[k] / counts[k])
                    for k, term in enumerate(ITEM_TERMS) if counts[k] > 0)
        return float(total + w["spread"] * float(sums[-1]))

    def step_loss(self, ddp: torch.nn.Module, g: torch.Tensor, loc: torch.Tensor, arr: Arrays
                  ) -> torch.Tensor:
        """This rank's share of the global batch loss (DDP's average makes it the whole)."""
        logits = _logits(ddp, g, loc, self.device)
        out = losses_from_logits(self.model.head, logits, arr.to(self.device), self.cfg)
        local = _counts(arr)
        glob = _all_reduce(local.clone(), self.distributed)
        w = _weights(self.cfg)
        loss = 0.0 * logits.sum()  # keeps every parameter in the graph
        for k, term in enumerate(ITEM_TERMS):
            if term in out and glob[k] > 0:
                loss = loss + w[term] * out[term] * float(local[k] / glob[k] * self.world)
        if "spread" in out:
            loss = loss + w["spread"] * out["spread"]
        return loss + ridge_penalty(self.model.head, self.cfg)


def finetune(
    model: DCNN,
    tasks: Tasks,
    train_items: tuple[np.ndarray, ...],
    val_items: tuple[np.ndarray, ...],
    cfg: HeadTrainConfig,
    ft: FinetuneConfig,
    progress: Callable[[int, int], None] | None = None,
    checkpoint: Path | None = None,
    rank: int = 0,
    world: int = 1,
    resume: bool = True,
) -> dict[str, Any]:
    """Fine-tune ``model`` in place; returns before/after validation losses and whether kept.

    ``train_items``/``val_items`` are boolean masks over (AVA, ratings, pair[, post-worthy])
    items.  With
    ``world > 1`` the default process group must be initialised (``train.extract
    .init_distributed``) and every rank calls this with the same arguments.  ``checkpoint``:
    rank 0 saves there every ``ft.ckpt_every`` steps and, with ``resume``, every rank resumes
    from it.
    """
    seed_everything(cfg.seed)
    device = torch.device(cfg.device)
    model.to(device)
    params = unfreeze_last_blocks(model, ft.blocks) + list(model.head.parameters())
    for p in model.head.parameters():
        p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=ft.lr, weight_decay=cfg.weight_decay)
    run = _Run(model, tasks, cfg, ft, device, rank, world)
    train_list, val_list = items_of(tasks, train_items), items_of(tasks, val_items)
    backup = {k: v.detach().clone() for k, v in model.state_dict().items()}
    step, before = 0, None
    if resume and checkpoint is not None and checkpoint.is_file():
        ck = torch.load(checkpoint, map_location=device, weights_only=True)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, before = int(ck["step"]), float(ck["before"])
        backup = ck["backup"]
        log.info("fine-tuning resumed from %s at step %d", checkpoint, step)
    if before is None:
        before = run.val_loss(val_list)
    ddp: torch.nn.Module = model
    if world > 1:
        ddp = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda"
                                      else None)
    n = len(train_list)
    batch = max(1, min(ft.batch, n // world))
    per_epoch = max(1, n // (batch * world))
    ds = ItemViews(tasks, train_list, model.pre, cfg.seed, random_views=True)
    sampler: DistributedSampler[int] = DistributedSampler(
        ds, num_replicas=world, rank=rank, shuffle=True, seed=cfg.seed)
    while step < ft.steps:
        epoch, skip = divmod(step, per_epoch)
        sampler.set_epoch(epoch)
        ds.epoch = epoch
        order = list(sampler)[skip * batch:per_epoch * batch]
        order = order[:(ft.steps - step) * batch]
        model.eval()  # batch norm folded or frozen, dropout off: see the module docstring
        for g, loc, arr in run.loader(ds, order, batch):
            opt.zero_grad()
            run.step_loss(ddp, g, loc, arr).backward()
            opt.step()
            step += 1
            if checkpoint is not None and rank == 0 and (step % ft.ckpt_every == 0):
                with atomic_writer(checkpoint) as fh:
                    torch.save({"model": model.state_dict(), "opt": opt.state_dict(),
                                "step": step, "before": before, "backup": backup}, fh)
            if progress:
                progress(step, ft.steps)
    after = run.val_loss(val_list)
    kept = not (after > before)  # NaN (no validation items) keeps the fine-tuned weights
    if not kept:
        model.load_state_dict(backup)
    for p in model.parameters():
        p.requires_grad_(False)
    model.eval().cpu()
    log.info("fine-tuning: validation loss %.4f -> %.4f (%s)", before, after,
             "kept" if kept else "discarded")
    return {"blocks": ft.blocks, "steps": ft.steps, "batch_per_process": batch,
            "processes": world, "val_loss_before": before, "val_loss_after": after,
            "kept": kept}
