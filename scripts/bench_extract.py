"""Feature-extraction throughput: photos/s per process, 1 -> N process scaling, AVA projection.

    python scripts/bench_extract.py                   # 1 and 2 processes on the AVA sample
    python scripts/bench_extract.py --procs 1,2,4 --photos 96

Runs ``train.extract.extract_shards`` (the code ``python -m train extract`` runs) on the real
AVA photos in ``../shared/data/ava-sample/images`` (generated 800x600 JPEGs when absent), once
per process count under ``torch.distributed.run`` (gloo), each rank with ``cores / processes``
torch threads and one DataLoader decoding worker.  Times start after a barrier and a warm-up
batch, so model loading and process start-up are not counted.  It also times decoding alone
(``views_for``) in one process, which bounds a GPU extraction (the GPU's backbone is not the
limit there; decoding on the CPU is), and projects the wall time for all of AVA (255,500
photos) from these CPU figures.  Prints the machine's load average before and after: other
work on the machine lowers the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

AVA_PHOTOS = 255_500
SHARED = REPO.parent / "shared" / "data" / "ava-sample" / "images"


def photo_list(n: int, scratch: Path) -> list[Path]:
    if SHARED.is_dir():
        files = sorted(p for p in SHARED.iterdir() if p.suffix.lower() == ".jpg")
        return [files[i % len(files)] for i in range(n)]
    from tests.conftest import make_jpeg

    return [make_jpeg(scratch / f"{i}.jpg", 800, 600, seed=i) for i in range(n)]


def worker(ns: argparse.Namespace) -> None:
    """One rank: extract this rank's shards of the photo list, write its timing as JSON."""
    import torch
    import torch.distributed as dist

    from curator.model import build_dcnn
    from train.extract import DistEnv, ExtractConfig, extract_shards, init_distributed, make_writer
    from train.features import Sample

    env = DistEnv.from_environ()
    torch.set_num_threads(ns.threads or env.default_threads())
    distributed = init_distributed(env, torch.device("cpu"))
    files = photo_list(ns.photos, Path(ns.scratch))
    # Keys differ per copy, so repeated files are separate photos with their own random crops.
    samples = [Sample(f"{i}:{p.name}", p) for i, p in enumerate(files)]
    model = build_dcnn(ns.backbone)
    cfg = ExtractConfig(crops=ns.crops, shard_mb=ns.shard_photos * (2 + ns.crops) * 3088 * 2e-6,
                        workers=ns.workers, rank=env.rank, world=env.world)
    writer = make_writer(model, ns.backbone, samples, Path(ns.scratch) / f"store{env.world}",
                         cfg)
    with torch.inference_mode():
        model.embed(torch.zeros(4, 224, 224, 3, dtype=torch.uint8))  # warm-up
    if distributed:
        dist.barrier()
    t0 = time.perf_counter()
    res = extract_shards(model, samples, writer, cfg)
    secs = time.perf_counter() - t0
    if distributed:
        dist.barrier()
    wall = time.perf_counter() - t0
    Path(ns.scratch, f"rank{env.world}-{env.rank}.json").write_text(json.dumps(
        {"photos": res.photos, "seconds": secs, "wall": wall, "threads": torch.get_num_threads()}))
    if distributed:
        dist.destroy_process_group()


def decode_rate(files: list[Path], crops: int) -> float:
    from curator.preprocess import Preprocess
    from train.features import Sample, views_for

    pre = Preprocess()
    t0 = time.perf_counter()
    for i, p in enumerate(files):
        views_for(Sample(str(i), p), pre, crops, 0)
    return len(files) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--procs", default="1,2", help="process counts to compare")
    ap.add_argument("--photos", type=int, default=64)
    ap.add_argument("--crops", type=int, default=4)
    ap.add_argument("--backbone", default="efficientnet-lite0-ml")
    ap.add_argument("--workers", type=int, default=1, help="decoding workers per process")
    ap.add_argument("--threads", type=int, default=0, help="torch threads per process "
                    "(default: cores / processes)")
    ap.add_argument("--shard-photos", type=int, default=4)
    ap.add_argument("--gpu-decode-workers", type=int, default=8,
                    help="decoding cores per GPU assumed in the GPU projection")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--scratch", default="", help=argparse.SUPPRESS)
    ns = ap.parse_args()
    if ns.worker:
        worker(ns)
        return
    print(f"load average before: {os.getloadavg()}; {os.cpu_count()} cores")
    rates: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        files = photo_list(ns.photos, Path(scratch))
        src = "AVA sample photos" if SHARED.is_dir() else "generated 800x600 JPEGs"
        print(f"{ns.photos} photos ({src}), {2 + ns.crops} views each, {ns.backbone}")
        for p in [int(x) for x in ns.procs.split(",")]:
            cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                   f"--nproc_per_node={p}", str(Path(__file__).resolve()), "--worker",
                   "--scratch", scratch, "--photos", str(ns.photos), "--crops", str(ns.crops),
                   "--backbone", ns.backbone, "--workers", str(ns.workers),
                   "--threads", str(ns.threads), "--shard-photos", str(ns.shard_photos)]
            subprocess.run(cmd, check=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO),
                                                           "OMP_NUM_THREADS": "1"})
            ranks = [json.loads(Path(scratch, f"rank{p}-{r}.json").read_text())
                     for r in range(p)]
            wall = max(r["wall"] for r in ranks)
            rates[p] = ns.photos / wall
            per = ", ".join(f"{r['photos'] / r['seconds']:.2f}" for r in ranks)
            print(f"{p} process(es) x {ranks[0]['threads']} thread(s): {rates[p]:.2f} photos/s "
                  f"in all ({wall:.1f} s); per process: {per} photos/s")
        base = min(rates)
        for p, r in sorted(rates.items()):
            if p != base:
                print(f"scaling {base} -> {p} processes: {r / rates[base]:.2f}x")
        dec = decode_rate(files[: min(len(files), 32)], ns.crops)
    best = max(rates, key=lambda k: rates[k])
    print(f"decoding alone (1 process, 1 core): {dec:.1f} photos/s")
    print(f"load average after: {os.getloadavg()}")
    print("projection for all of AVA (255,500 photos), from these CPU figures:")
    hours = AVA_PHOTOS / rates[best] / 3600
    print(f"  this machine ({best} processes): {hours:.1f} h")
    per_core = rates[best] / (os.cpu_count() or 1)
    for cores in (16, 64):
        h = AVA_PHOTOS / per_core / cores / 3600
        print(f"  {cores} CPU cores at this per-core rate: {h:.1f} h")
    for gpus in (1, 8, 16):
        rate = gpus * ns.gpu_decode_workers * dec
        print(f"  {gpus} GPU(s), {ns.gpu_decode_workers} decoding cores each "
              f"(decode-bound; NOT measured on a GPU): {AVA_PHOTOS / rate / 60:.0f} min")


if __name__ == "__main__":
    main()
