"""Feature extraction into a sharded store: one process, or one rank of a ``torchrun`` job.

Each rank takes the shards ``i`` with ``i % world_size == rank`` (``torch.distributed``
environment: ``RANK``, ``WORLD_SIZE``, ``LOCAL_WORLD_SIZE`` as ``torchrun`` sets them), decodes
its photos in ``DataLoader`` worker processes, runs the frozen backbone on them in fixed
batches, and writes each finished shard atomically.  Shards already finished (by an earlier
run, or another rank) are skipped, so an interrupted extraction resumes where it stopped.
Shard boundaries and batches depend only on the selection, never on the number of processes,
so the features do not depend on it either (up to float rounding of the thread count).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset

from curator.loader import describe_error
from curator.model import DCNN
from curator.preprocess import Preprocess
from train.features import Sample, views_for
from train.store import ShardPlan, StoreConfig, StoreWriter, plan_shards, selection_digest

log = logging.getLogger(__name__)


@dataclass
class ExtractConfig:
    """How to extract: views per photo, shard size and the work split of this process."""

    crops: int = 4
    seed: int = 0
    shard_mb: float = 256.0  # features per shard, MB of float16
    batch: int = 8  # photos per backbone call
    workers: int = 2  # DataLoader decoding processes per rank (0 = decode in this process)
    rank: int = 0
    world: int = 1


@dataclass
class DistEnv:
    """This process's place in a ``torchrun`` job (1 process: rank 0 of 1)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    local_world: int = 1

    @classmethod
    def from_environ(cls) -> DistEnv:
        e = os.environ
        return cls(int(e.get("RANK", 0)), int(e.get("WORLD_SIZE", 1)),
                   int(e.get("LOCAL_RANK", 0)), int(e.get("LOCAL_WORLD_SIZE", 1)))

    def default_threads(self) -> int:
        """Intra-op threads that do not fight: the cores shared among this node's ranks."""
        return max(1, (os.cpu_count() or 1) // max(1, self.local_world))

    def device(self, want: str) -> torch.device:
        """``auto``: this rank's GPU (``cuda:LOCAL_RANK``) when there is one, else the CPU."""
        if want == "auto":
            want = "cuda" if torch.cuda.is_available() else "cpu"
        if want == "cuda":
            return torch.device("cuda", self.local_rank % max(1, torch.cuda.device_count()))
        return torch.device(want)


def init_distributed(env: DistEnv, device: torch.device, hours: float = 12.0) -> bool:
    """Join the ``torchrun`` process group (NCCL on GPUs, gloo on CPUs); False for 1 process.

    The timeout is long because ranks wait at barriers for each other's share of the work.
    """
    if env.world <= 1 or dist.is_initialized():
        return dist.is_initialized()
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend, timeout=timedelta(hours=hours))
    return True


def identity(s: Sample) -> str:
    """A sample's identity in the store's digest: key, damage, and the file's size and mtime."""
    try:
        st = os.stat(s.path)
        stamp = f"{st.st_size}|{st.st_mtime_ns}"
    except OSError:
        stamp = "missing"
    return f"{s.key}|{s.path}|{s.damage}|{stamp}"


class ViewsDataset(Dataset[tuple[int, np.ndarray | str]]):
    """Decoded views of each sample (or why it could not be read): run in DataLoader workers."""

    def __init__(self, samples: Sequence[Sample], pre: Preprocess, crops: int, seed: int) -> None:
        self.samples, self.pre, self.crops, self.seed = list(samples), pre, crops, seed

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> tuple[int, np.ndarray | str]:
        s = self.samples[i]
        try:
            return i, views_for(s, self.pre, self.crops, self.seed)
        except Exception as exc:
            return i, describe_error(s.path, exc)


def _one_thread(_: int) -> None:
    torch.set_num_threads(1)  # workers decode with Pillow; torch threads would only compete


def _identity_collate(batch: Any) -> Any:
    return batch


@dataclass
class ExtractResult:
    """What one process did: shards written and skipped, photos per second."""

    written: int
    skipped: int
    photos: int
    seconds: float

    @property
    def photos_per_s(self) -> float:
        return self.photos / self.seconds if self.seconds > 0 else 0.0


def store_config(model: DCNN, backbone: str, crops: int, seed: int) -> StoreConfig:
    from curator.backbones import get_spec

    return StoreConfig(backbone=backbone, preprocess=model.pre.to_dict(), crops=crops, seed=seed,
                       dim=get_spec(backbone).feature_dim)


def make_writer(model: DCNN, backbone: str, samples: Sequence[Sample], root: Path,
                cfg: ExtractConfig) -> StoreWriter:
    """The store's writer for this selection (same plan in every process)."""
    scfg = store_config(model, backbone, cfg.crops, cfg.seed)
    shards = plan_shards(len(samples), scfg.row_bytes, cfg.shard_mb)
    digest = selection_digest(scfg, [identity(s) for s in samples], shards)
    return StoreWriter(root, scfg, shards, digest, len(samples))


def extract_shards(
    model: DCNN,
    samples: Sequence[Sample],
    writer: StoreWriter,
    cfg: ExtractConfig,
    progress: Callable[[int, int], None] | None = None,
) -> ExtractResult:
    """Extract this rank's unfinished shards (``i % cfg.world == cfg.rank``) into ``writer``.

    ``progress(done, total)`` counts this rank's photos.  An exception (or a kill) loses only
    the shard in progress.
    """
    t0 = time.perf_counter()
    mine = [s for s in writer.shards if s.index % cfg.world == cfg.rank]
    todo = [s for s in mine if not writer.done(s)]
    total = sum(s.stop - s.start for s in mine)
    done = total - sum(s.stop - s.start for s in todo)
    if progress:
        progress(done, total)
    if not todo:
        return ExtractResult(0, len(mine), 0, time.perf_counter() - t0)
    device = next(model.parameters()).device
    scfg = writer.cfg
    ds = ViewsDataset(samples, model.pre, scfg.crops, scfg.seed)
    order = [i for s in todo for i in range(s.start, s.stop)]
    loader = DataLoader(ds, batch_size=None, sampler=order, num_workers=cfg.workers,
                        collate_fn=_identity_collate, worker_init_fn=_one_thread,
                        prefetch_factor=4 if cfg.workers else None)
    shard_of = {i: s for s in todo for i in range(s.start, s.stop)}
    model.eval()
    buf: list[tuple[int, np.ndarray]] = []  # (sample index, views) waiting for the backbone
    rows: dict[int, np.ndarray] = {}
    errors: dict[str, str] = {}
    photos = 0

    def run_batch() -> None:
        if not buf:
            return
        views = torch.from_numpy(np.concatenate([v for _, v in buf])).to(device)
        with torch.inference_mode():
            f = model.embed(views).float().cpu().numpy().astype(np.float16)
        for j, (i, _) in enumerate(buf):
            rows[i] = f[j * scfg.views:(j + 1) * scfg.views]
        buf.clear()

    def finish(shard: ShardPlan) -> None:
        keys = [samples[i].key for i in range(shard.start, shard.stop) if i in rows]
        feats = np.stack([rows.pop(i) for i in range(shard.start, shard.stop) if i in rows]) \
            if keys else np.zeros((0, scfg.views, scfg.dim), np.float16)
        errs = {samples[i].key: errors.pop(samples[i].key)
                for i in range(shard.start, shard.stop) if samples[i].key in errors}
        writer.write(shard, feats, keys, errs)
        log.info("rank %d wrote %s (%d rows)", cfg.rank, shard.name, len(keys))

    for i, got in loader:
        shard = shard_of[i]
        if isinstance(got, str):
            errors[samples[i].key] = got
        else:
            buf.append((i, got))
        # Batches restart at every shard and every ``batch`` photos of it: the same batches
        # whatever the number of processes.
        if (i - shard.start + 1) % cfg.batch == 0 or i == shard.stop - 1:
            run_batch()
        if i == shard.stop - 1:
            finish(shard)
        photos += 1
        done += 1
        if progress:
            progress(done, total)
    return ExtractResult(len(todo), len(mine) - len(todo), photos, time.perf_counter() - t0)


def extract_store(
    model: DCNN,
    backbone: str,
    samples: Sequence[Sample],
    root: Path,
    cfg: ExtractConfig,
    progress: Callable[[int, int], None] | None = None,
    barrier: Callable[[], None] | None = None,
) -> ExtractResult:
    """Extract ``samples`` into the store at ``root`` (this rank's share) and, on rank 0 once all
    ranks are done (``barrier``), write its manifest.  Returns this rank's figures."""
    writer = make_writer(model, backbone, samples, root, cfg)
    if cfg.rank == 0:
        writer.write_plan()
    result = extract_shards(model, samples, writer, cfg, progress)
    if barrier is not None:
        barrier()
    if cfg.rank == 0:
        writer.write_manifest()
    return result
