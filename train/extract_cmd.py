"""``python -m train extract``: the extraction stage on its own, one process or under ``torchrun``.

    python -m train extract --ava-root AVA --all --store stores/ava
    torchrun --nproc_per_node 8 -m train extract --ava-root AVA --all --store stores/ava
    python -m train fit --store stores/ava --out runs/ava       # photos no longer needed

The data options are ``fit``'s own (the same selection, split and damage copies); the store
keeps the training items too (``tasks.json``), so ``fit --store`` reads nothing else.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from curator.backbones import DEFAULT_BACKBONE, REGISTRY
from curator.model import build_dcnn
from train.data import Tasks
from train.extract import DistEnv, ExtractConfig, extract_store, init_distributed
from train.store import FeatureStore
from train.taskfile import load_tasks, save_tasks

log = logging.getLogger(__name__)


def add_extract_parser(sub: Any, data_group: argparse._ArgumentGroup) -> None:
    """The ``extract`` subcommand, sharing ``fit``'s data options (``data_group``'s actions)."""
    e = sub.add_parser("extract", help="backbone features of a selection into a sharded store",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = e.add_argument_group("data (as for fit)")
    for action in data_group._group_actions:
        g._add_action(action)
    e.add_argument("--store", type=Path, required=True,
                   help="store folder (created; an unfinished one is resumed)")
    e.add_argument("--backbone", default=DEFAULT_BACKBONE, choices=sorted(REGISTRY))
    e.add_argument("--crops", type=int, default=4, help="local views per image (1 = centre)")
    e.add_argument("--seed", type=int, default=0, help="seeds random crops and damage draws")
    e.add_argument("--shard-mb", type=float, default=ExtractConfig.shard_mb,
                   help="MB of float16 features per shard (default 256)")
    e.add_argument("--batch", type=int, default=ExtractConfig.batch, help="photos per call")
    e.add_argument("--workers", type=int, default=ExtractConfig.workers,
                   help="decoding processes per rank (DataLoader workers; 0 = in-process)")
    e.add_argument("--threads", type=int, default=0,
                   help="torch threads per rank (default: CPU cores / ranks on this machine)")
    e.add_argument("--device", default="auto", help="auto (this rank's GPU when present), cpu")
    e.add_argument("--progress", choices=["bar", "json", "none"], default="bar")


BuildTasks = Callable[[Any, Any], tuple[Tasks, dict[str, str], dict[str, Any]]]


def cmd_extract(ns: argparse.Namespace, fit_defaults: argparse.Namespace,
                parse_fit: Callable[[argparse.Namespace], Any], build_tasks: BuildTasks,
                reporter: Callable[[str], Any]) -> int:
    """Run the stage; every rank builds the same selection and takes its share of shards."""
    merged = argparse.Namespace(**{**vars(fit_defaults), **vars(ns), "device": "cpu"})
    a = parse_fit(merged)
    env = DistEnv.from_environ()
    torch.set_num_threads(ns.threads or env.default_threads())
    device = env.device(ns.device)
    distributed = init_distributed(env, device)
    rep = reporter(ns.progress if env.rank == 0 else "none")
    try:
        tasks, role, desc = build_tasks(a, rep)
        root: Path = ns.store
        if env.rank == 0:
            root.mkdir(parents=True, exist_ok=True)
            save_tasks(root / "tasks.json", tasks, role, desc)
        model = build_dcnn(ns.backbone).to(device)
        cfg = ExtractConfig(crops=ns.crops, seed=ns.seed, shard_mb=ns.shard_mb, batch=ns.batch,
                            workers=ns.workers, rank=env.rank, world=env.world)
        bar = rep.counter("features")
        t0 = time.perf_counter()
        res = extract_store(model, ns.backbone, tasks.samples, root, cfg, bar,
                            barrier=_barrier if distributed else None)
        getattr(bar, "close", lambda: None)()
        log.info("rank %d: %d shards written, %d skipped, %.2f photos/s", env.rank, res.written,
                 res.skipped, res.photos_per_s)
        if env.rank == 0:
            store = FeatureStore(root)
            raw = len(store) * store.config.row_bytes
            disk = sum(p.stat().st_size for p in root.iterdir() if p.is_file()
                       and p.name != "tasks.json")
            rep.say(f"store {root}: {len(store)} photos in {len(store.manifest['shards'])} "
                    f"shard(s), {disk / 1e6:.1f} MB ({disk / max(raw, 1):.3f}x the raw float16 "
                    f"features), {len(store.errors)} unreadable; {env.world} process(es), "
                    f"{time.perf_counter() - t0:.1f} s")
            rep.event("done", store=str(root), photos=len(store), bytes=disk,
                      unreadable=len(store.errors))
    finally:
        if distributed:
            dist.destroy_process_group()
    return 0


def _barrier() -> None:
    dist.barrier()


def open_for_fit(a: Any) -> tuple[Tasks, dict[str, str], dict[str, Any], FeatureStore]:
    """(tasks, AVA roles, description, store) of ``fit --store``; sets ``a``'s backbone and crops
    to the store's.  Data options belong to ``extract`` and are refused here."""
    if a.ava_root or a.ratings or a.pairs or a.damage_from:
        raise ValueError("--store holds its own selection: give data options to "
                         "`python -m train extract`, not to `fit --store`")
    store = FeatureStore(a.store)
    tasks, role, desc = load_tasks(a.store / "tasks.json")
    stored_split = next((s.get("split") for s in desc.get("sources", []) if "split" in s), None)
    if stored_split is not None and a.split not in ("kfold", stored_split):
        raise ValueError(f"the store was extracted with --split {stored_split}; re-extract for "
                         f"--split {a.split}")
    if stored_split is not None:
        a.split = stored_split
    a.backbone, a.crops = store.config.backbone, store.config.crops
    desc = {**desc, "store": str(a.store)}
    return tasks, role, desc, store
