"""Benchmark scoring speed and memory on camera-size JPEGs made from real food photos.

Prints photos/s cold (empty cache) and warm (re-scan, all cached), peak RSS, and the same cold
figure for the seed's VGG-16 double column measured in the same run.  Beside the cold figure,
the **ceiling** measured in the same run: decode + views + backbone of one photo, one after
another on one core (wall time, a dozen photos of the folder, just before and just after the
cold run), times the usable cores; and their ratio.  What the ceiling leaves out (the classic
measures, hand-offs between threads, cores the pipeline leaves idle or other programs take) is
what the ratio shows; the CPU time the cold run took per photo and the cores it had on average
are printed too, with the load average.  Figures, not pass/fail:

    python scripts/bench_score.py                 # 48 photos, 12 MP, one run
    python scripts/bench_score.py --runs 3        # three runs, then medians and ranges
    python scripts/bench_score.py --rss 10000     # also: peak RSS scoring 10,000 photos
    python scripts/bench_score.py --precision fp32  # the backbone in float32 everywhere
    CURATOR_BACKBONE_RUNTIME=torch python scripts/bench_score.py  # float32 in torch, not ORT
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from curator.cache import ScoreCache  # noqa: E402
from curator.scan import scan_folder  # noqa: E402
from curator.score import PhotoScore, Scorer  # noqa: E402

log = logging.getLogger("bench")
HIRES = REPO.parent / "shared" / "data" / "food-photos-hires"
SIZE = (4032, 3024)


def build_folder(dest: Path, count: int, size: tuple[int, int] = SIZE) -> list[Path]:
    """``count`` JPEGs of ``size`` from the real camera photos (scaled/cropped to fill)."""
    dest.mkdir(parents=True, exist_ok=True)
    sources = sorted(p for p in HIRES.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg"))
    if not sources:
        raise SystemExit(f"no source photos under {HIRES}")
    out = []
    for i in range(count):
        p = dest / f"photo_{i:05d}.jpg"
        if not p.exists():
            src = sources[i % len(sources)]
            with Image.open(src) as im:
                im = ImageOps.exif_transpose(im).convert("RGB")
                # Landscape 12 MP like a phone; vary the crop so repeats are distinct files.
                fitted = ImageOps.fit(im, size, Image.Resampling.BICUBIC,
                                      centering=(0.3 + 0.4 * ((i // len(sources)) % 2), 0.5))
                fitted.save(p, "JPEG", quality=92)
        out.append(p)
    return out


def peak_rss_mb() -> float:
    """This process's own peak RSS.  VmHWM, not ru_maxrss: Linux carries ru_maxrss across
    exec, so a child started from a big parent would report the parent's peak."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class RandomVGGScorer(Scorer):
    """The seed's VGG-16 double column with random weights when ImageNet's are absent.

    Timing only: the same pipeline (decode threads, batching) with the heavier backbone.
    """

    def __init__(self, vgg_model_path: Path, pretrained: bool, seed_like: bool,
                 **kw: Any) -> None:
        super().__init__(vgg_model_path, **kw)
        self.pretrained = pretrained
        #: As the seed ran it (float32, torch's default threads), or in Curator's own
        #: pipeline (``precision`` auto, torch threads = the cores decoding leaves).
        self.seed_like = seed_like

    def _ensure_model(self) -> Any:
        if self._model is None:
            import torch

            from curator import precision

            self._device = torch.device("cpu")
            self._model = self.model_file.build(pretrained=self.pretrained)
            if not self.seed_like:
                self._model.cpu_bf16 = precision.resolve(self.precision, "cpu")
        return self._model

    def _infer_threads(self) -> int | None:
        return None if self.seed_like else super()._infer_threads()


def vgg_model_file(tmp: Path) -> tuple[Path, bool]:
    from curator.backbones import vgg16_weights_path
    from curator.model import build_dcnn
    from curator.modelfile import ModelFile, save_model_file

    pretrained = vgg16_weights_path().is_file()
    dcnn = build_dcnn("vgg16", pretrained=False)
    path = tmp / "vgg16-dcnn.pt"
    save_model_file(path, ModelFile("vgg16", dcnn.head.cfg, dcnn.head.state_dict(), dcnn.pre))
    return path, pretrained


def timed_scan(scorer: Scorer, paths: list[Path]) -> tuple[float, int]:
    t0 = time.perf_counter()
    n = sum(isinstance(r, PhotoScore) for r in scorer.score(paths))
    return time.perf_counter() - t0, n


def process_cpu_s() -> float:
    """CPU seconds this process has used (user + system, all threads)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


@dataclass(frozen=True)
class Ceiling:
    """Seconds per photo of each stage, one photo after another on one core (wall time), and
    the CPU time of decode + views + backbone (the thread's own: what other programs on the
    machine take from the wall time is not in it)."""

    decode: float
    views: float
    backbone: float
    measures: float
    cores: int
    cpu: float

    @property
    def per_photo(self) -> float:
        """decode + views + backbone: what every photo needs at the least."""
        return self.decode + self.views + self.backbone

    @property
    def photos_s(self) -> float:
        return self.cores / self.per_photo


def measure_ceiling(scorer: Scorer, paths: list[Path], batch: int = 4) -> Ceiling:
    """Decode, views and backbone of ``paths``, one at a time, on one core: the backbone on
    batches of ``batch`` photos (both views), as the pipeline runs it, with one thread."""
    import numpy as np
    import torch

    from curator.loader import decode, model_views
    from curator.measures import measure, measures_image
    from curator.parallel import usable_cores
    from curator.score import _threads

    model = scorer._ensure_model()
    pre = scorer.model_file.preprocess
    need = max(pre.local_short_side, pre.view_size)
    t_dec = t_view = t_meas = t_bb = cpu = 0.0
    views: list[tuple[Any, Any]] = []
    for i, p in enumerate([paths[0], *paths]):  # the first one again: a warm-up
        c0, t0 = time.thread_time(), time.perf_counter()
        d = decode(p, need)
        t1 = time.perf_counter()
        g, loc = model_views(d.image, pre)
        c2, t2 = time.thread_time(), time.perf_counter()
        measure(d.image, d.native, d.quantization, measures_image(d.image))
        t3 = time.perf_counter()
        if i:
            t_dec, t_view, t_meas = t_dec + t1 - t0, t_view + t2 - t1, t_meas + t3 - t2
            cpu += c2 - c0
            views.append((g, loc))
    with torch.inference_mode(), _threads(1):
        for warm in (True, False):
            c0, t0 = time.thread_time(), time.perf_counter()
            for k in range(0, len(views), batch):
                chunk = views[k:k + batch]
                v = np.stack([g for g, _ in chunk] + [loc for _, loc in chunk])
                if scorer._onnx is not None:
                    scorer._onnx.embed(v)
                else:
                    model.embed(torch.from_numpy(v))
                if warm:
                    break
            if not warm:
                t_bb = time.perf_counter() - t0
                cpu += time.thread_time() - c0
    n = len(paths)
    return Ceiling(t_dec / n, t_view / n, t_bb / n, t_meas / n, usable_cores(), cpu / n)


def spread(values: list[float], fmt: str = "{:.1f}") -> str:
    """``median (min-max, n runs)``, or the one value."""
    if len(values) == 1:
        return fmt.format(values[0])
    return (f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}-"
            f"{fmt.format(max(values))}, {len(values)} runs)")


def load_text() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def timed_groups(scorer: Scorer, paths: list[Path]) -> None:
    """Grouping the scored folder, with each group's frames compared at full resolution
    (``curator.bursts``; the folder's repeats of a source photo, cropped elsewhere, group),
    with and without the same-scene check (``GroupConfig.min_inliers``; each timed twice,
    alternating, every frame read again each time: the best of two is printed)."""
    from curator.bursts import MEMO, SPLIT_MEMO
    from curator.groups import GroupConfig, group_photos
    from curator.score import rank

    ranked = rank(scorer.score(paths))  # all from the cache by now
    best: dict[int, float] = {}
    for _ in range(2):
        for k in (0, GroupConfig().min_inliers):
            MEMO.clear()
            SPLIT_MEMO.clear()
            t0 = time.perf_counter()
            g = group_photos(ranked, GroupConfig(min_inliers=k))
            best[k] = min(best.get(k, float("inf")), time.perf_counter() - t0)
            sizes = g.sizes()
            grouped = sum(1 for s in ranked if sizes[g.group_of[s.path]] > 1)
            if k:
                n_grouped = grouped
            else:
                n_before = grouped
    off, on = best[0], best[GroupConfig().min_inliers]
    print(f"groups : {on:6.2f} s to group {len(ranked)} photos and compare the {n_grouped} in "
          f"groups of 2+ ({1000 * on / max(n_grouped, 1):.0f} ms a grouped photo; photos alone "
          "are not read again)")
    print(f"         without the same-scene check: {off:.2f} s, {n_before} in groups of 2+ "
          f"(the check: {1000 * (on - off) / max(n_before, 1):+.0f} ms a grouped photo)")


def rss_run(count: int, work: Path) -> None:
    """Child process: score ``count`` photos (hard links to a few real 12 MP JPEGs)."""
    base = build_folder(work / "base", 24)
    big = work / f"many{count}"
    big.mkdir(exist_ok=True)
    for i in range(count):
        p = big / f"p{i:06d}.jpg"
        if not p.exists():
            os.link(base[i % len(base)], p)
    paths = scan_folder(big)
    t0 = time.perf_counter()
    scorer = Scorer(cache=ScoreCache(work / f"rss-cache-{os.getpid()}.sqlite3"))
    n = sum(isinstance(r, PhotoScore) for r in scorer.score(paths))
    dt = time.perf_counter() - t0
    print(f"RSS run: {n} photos of 12 MP scored in {dt:.0f} s ({n / dt:.1f} photos/s), "
          f"peak RSS {peak_rss_mb():.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=48, help="12 MP photos for the cold run")
    ap.add_argument("--vgg-count", type=int, default=12, help="photos for the VGG-16 run")
    ap.add_argument("--work", type=Path, default=REPO / "bench-out")
    ap.add_argument("--runs", type=int, default=1, help="cold runs (each with its ceiling "
                    "and VGG-16 run); more than one prints medians and ranges")
    ap.add_argument("--ceiling-count", type=int, default=12,
                    help="photos the ceiling is measured on")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--workers", type=int)
    ap.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto",
                    help="backbone number format (curator.precision)")
    ap.add_argument("--rss", type=int, default=0, help="also score this many photos for RSS")
    ap.add_argument("--rss-child", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rss_child:
        rss_run(args.rss_child, args.work)
        return

    import torch

    print(f"machine: {os.cpu_count()} CPUs, torch {torch.__version__} with "
          f"{torch.get_num_threads()} threads; {load_text()}")
    paths = build_folder(args.work / f"12mp-{args.count}", args.count)
    print(f"folder: {len(paths)} JPEGs of {SIZE[0]}x{SIZE[1]} from {HIRES}")
    colds: list[float] = []
    ceilings: list[float] = []
    ratios: list[float] = []
    speedups: list[float] = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        vgg_path, pretrained = vgg_model_file(tmp)
        note = "ImageNet weights" if pretrained else "RANDOM weights (timing only; ImageNet " \
            "weights not in the torch cache)"
        for run in range(args.runs):
            cache = ScoreCache(tmp / f"cache-{run}.sqlite3")
            scorer = Scorer(cache=cache, batch_size=args.batch_size, workers=args.workers,
                            precision=args.precision)
            t0 = time.perf_counter()
            scorer._ensure_model()
            load_s = time.perf_counter() - t0
            sample = paths[: args.ceiling_count]
            before = measure_ceiling(scorer, sample)
            cpu0 = process_cpu_s()
            cold_s, n = timed_scan(scorer, paths)
            cpu_s = process_cpu_s() - cpu0
            after = measure_ceiling(scorer, sample)
            ceiling = (before.photos_s + after.photos_s) / 2
            cold = n / cold_s
            colds.append(cold)
            ceilings.append(ceiling)
            ratios.append(cold / ceiling)
            print(f"run {run + 1}: {load_text()}")
            print(f"  cold   : {cold:6.1f} photos/s  ({n} photos in {cold_s:.2f} s; model load "
                  f"{load_s:.2f} s not included; {scorer.workers} decode threads, "
                  f"{scorer._infer_threads()} inference thread(s), batch {scorer.batch_size}, "
                  f"backbone {scorer.runtime})")
            for name, c in (("before", before), ("after", after)):
                print(f"  ceiling: {c.photos_s:6.1f} photos/s  ({name} the cold run: decode "
                      f"{1000 * c.decode:.1f} + views {1000 * c.views:.1f} + backbone "
                      f"{1000 * c.backbone:.1f} ms a photo on one core, x {c.cores} cores; "
                      f"the classic measures {1000 * c.measures:.1f} ms more)")
            stage_cpu = (before.cpu + after.cpu) / 2
            print(f"  ratio  : {cold / ceiling:6.0%} of the ceiling  (CPU time: the cold run "
                  f"used {1000 * cpu_s / n:.0f} ms a photo where decode + views + backbone "
                  f"take {1000 * stage_cpu:.0f}, i.e. {stage_cpu / (cpu_s / n):.0%} of its "
                  f"work; it had {cpu_s / cold_s:.2f} of {before.cores} cores on average)")
            fastest = 0.0
            for seed_like, how in ((True, "as the seed ran it: float32, all torch threads"),
                                   (False, "in Curator's pipeline: same decode threads, "
                                           "precision and torch threads")):
                vgg = RandomVGGScorer(vgg_path, pretrained, seed_like,
                                      batch_size=args.batch_size, workers=args.workers,
                                      precision=args.precision)
                vgg._ensure_model()
                vgg_s, vn = timed_scan(vgg, paths[: args.vgg_count])
                fastest = max(fastest, vn / vgg_s)
                print(f"  VGG-16 : {vn / vgg_s:6.2f} photos/s  ({vn} photos in {vgg_s:.2f} s, "
                      f"{how}; {note})")
            speedups.append(cold / fastest)
            print(f"  speed-up over the seed's VGG-16 DCNN (its faster run): "
                  f"{cold / fastest:.1f}x")
        if args.runs > 1:
            print(f"summary over {args.runs} runs (median (min-max)):")
            print(f"  cold {spread(colds)} photos/s; ceiling {spread(ceilings)} photos/s; "
                  f"ratio {spread([100 * r for r in ratios], '{:.0f}')} %; "
                  f"VGG-16 speed-up {spread(speedups)}x")
        reps, warm_total = 20, 0.0
        for _ in range(reps):
            fresh = Scorer(cache=cache)  # a new process's view: digest + scan + cache lookup
            t0 = time.perf_counter()
            found = scan_folder(paths[0].parent)
            _, n_warm = timed_scan(fresh, found)
            warm_total += time.perf_counter() - t0
            assert fresh._model is None and n_warm == n
        print(f"warm   : {n * reps / warm_total:6.0f} photos/s  (re-scan incl. folder walk, "
              f"stat, model digest and cache lookup; {reps} runs of {n})")
        timed_groups(scorer, paths)
    print(f"{load_text()} at the end")
    print(f"peak RSS of this process: {peak_rss_mb():.0f} MB")
    if args.rss:
        subprocess.run([sys.executable, __file__, "--rss-child", str(args.rss),
                        "--work", str(args.work)], check=True)


if __name__ == "__main__":
    main()
