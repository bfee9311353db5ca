"""Does the sharp frame win its burst?  Bursts made from real food photos, scored and grouped.

Each source photo, scaled to ``--long-side`` (0: as it is), becomes a burst of four JPEGs
(quality 92): the sharp original; a soft copy (Gaussian blur, sigma 1.5 px per 2000 px of the
long side); a shaken copy (horizontal box blur, 7 px per 2000 px); and a twin, the original
shifted by 2 % (cropped, not resampled: as sharp as the original, so ``blur`` on it is a false
alarm).  The folder is scored with the bundled model (``Scorer``, cached under ``--work``),
grouped (``curator.groups.group_photos``: the frames compared at full resolution) and the
figures printed:

* bursts whose frames all landed in one group;
* the sharp original (or its twin, as sharp) is its group's best, and is ranked above each
  soft copy (in the final ranking: the table, JSON, export);
* ``blur`` on the soft and shaken copies (any cause; and only from the comparison);
* ``blur`` on the twins (false alarms), and originals with no reason at all;
* the model's own score: the original above each copy (the figure before the comparison).

    python scripts/eval_bursts.py --set hires --long-side 3000     # the issue's bursts
    python scripts/eval_bursts.py --set hires --long-side 4032     # 12 MP phone size
    python scripts/eval_bursts.py --set hires --long-side 1024     # web size
    python scripts/eval_bursts.py --set food-photos                # web photos as they are
    python scripts/eval_bursts.py --set food-pairs --measure-only  # where thresholds came from

``--measure-only`` skips the model: it prints the distribution of each copy's fine detail as a
share of its original's (``curator.bursts``), the figure the thresholds are read from.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, ImageOps
from scipy import ndimage

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DATA = REPO.parent / "shared" / "data"
KINDS = ("sharp", "soft", "shaken", "twin")
COPIES = ("soft", "shaken")


def sources(name: str, limit: int | None) -> list[Path]:
    """The source photos of a set: ``hires`` (food-photos-hires, long side >= 2000 px),
    ``food-photos`` (web size), ``food-pairs`` (the first photos, 800 px: training side)."""
    exts = (".jpg", ".jpeg", ".png")
    if name == "hires":
        out = []
        for p in sorted((DATA / "food-photos-hires").rglob("*")):
            if p.suffix.lower() in exts:
                with Image.open(p) as im:
                    if max(im.size) >= 2000:
                        out.append(p)
    elif name == "food-photos":
        out = sorted(p for p in (DATA / "food-photos").rglob("*") if p.suffix.lower() in exts)
    elif name == "food-pairs":
        out = sorted(p for p in (DATA / "food-pairs" / "images").iterdir()
                     if p.suffix.lower() in exts)
    else:
        raise SystemExit(f"unknown set {name}")
    return out[:limit]


def make_burst(src: Path, dest: Path, i: int, long_side: int) -> dict[str, Path]:
    """The four frames of burst ``i`` under ``dest`` (made once; kept for reruns)."""
    paths = {k: dest / f"burst{i:03d}-{k}.jpg" for k in KINDS}
    if all(p.exists() for p in paths.values()):
        return paths
    with Image.open(src) as raw:
        im = ImageOps.exif_transpose(raw).convert("RGB")
    if long_side:
        k = long_side / max(im.size)
        im = im.resize((round(im.width * k), round(im.height * k)), Image.Resampling.LANCZOS)
    n = max(im.size)
    im.save(paths["sharp"], "JPEG", quality=92)
    im.filter(ImageFilter.GaussianBlur(1.5 * n / 2000)).save(paths["soft"], "JPEG", quality=92)
    a = ndimage.uniform_filter1d(np.asarray(im, np.float32), max(2, round(7 * n / 2000)), axis=1)
    Image.fromarray(np.clip(a + 0.5, 0, 255).astype(np.uint8)).save(paths["shaken"], "JPEG",
                                                                    quality=92)
    dx, dy = round(im.width * 0.02), round(im.height * 0.02)
    im.crop((dx, dy, im.width, im.height)).save(paths["twin"], "JPEG", quality=92)
    return paths


def measure_only(bursts: list[dict[str, Path]]) -> None:
    from curator.bursts import measure_frames

    shares: dict[str, list[float]] = {k: [] for k in KINDS[1:]}
    for b in bursts:
        frames = measure_frames([b[k] for k in KINDS])
        base = frames[0].detail or 0.0
        for k, f in zip(KINDS[1:], frames[1:], strict=True):
            shares[k].append(np.nan if f.detail is None or not base else f.detail / base)
    for k, v in shares.items():
        a = np.asarray(v)
        q = np.nanpercentile(a, [0, 5, 50, 95, 100]) if np.isfinite(a).any() else [np.nan] * 5
        print(f"{k:7s} detail / original's: min {q[0]:.2f}  5 % {q[1]:.2f}  median {q[2]:.2f}"
              f"  95 % {q[3]:.2f}  max {q[4]:.2f}  (not compared: {int(np.isnan(a).sum())})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="hires", choices=["hires", "food-photos", "food-pairs"])
    ap.add_argument("--long-side", type=int, default=3000, help="0: keep the photos' size")
    ap.add_argument("--limit", type=int, default=None, help="at most this many bursts")
    ap.add_argument("--work", type=Path, default=REPO / "runs" / "bursts")
    ap.add_argument("--measure-only", action="store_true")
    args = ap.parse_args()
    if args.set == "food-photos" and args.long_side == 3000:
        args.long_side = 0
    dest = args.work / f"{args.set}-{args.long_side or 'native'}"
    dest.mkdir(parents=True, exist_ok=True)
    srcs = sources(args.set, args.limit)
    bursts = [make_burst(s, dest, i, args.long_side) for i, s in enumerate(srcs)]
    print(f"{len(bursts)} bursts of {args.set} at "
          f"{args.long_side or 'their own'} px long side in {dest}")
    if args.measure_only:
        measure_only(bursts)
        return

    from curator.cache import ScoreCache
    from curator.groups import group_photos
    from curator.score import PhotoScore, Scorer, rank

    cache = ScoreCache(args.work / "scores.sqlite")
    scorer = Scorer(cache=cache)
    paths = [b[k] for b in bursts for k in KINDS]
    results = [r for r in scorer.score(paths) if isinstance(r, PhotoScore)]
    model = {r.path: r for r in results}
    ranked = rank(results)
    t0 = time.perf_counter()
    groups = group_photos(ranked)
    t_group = time.perf_counter() - t0
    final = groups.with_reasons(ranked)
    pos = {s.path: i for i, s in enumerate(final)}
    by = {s.path: s for s in final}
    n = len(bursts)
    together = best = above = blur = blur_rel = twin_blur = clean = model_above = 0
    for b in bursts:
        g = {groups.group_of[b[k]] for k in KINDS}
        together += len(g) == 1
        winner = groups.best[groups.group_of[b["sharp"]]]
        best += winner in (b["sharp"], b["twin"])
        for k in COPIES:
            above += pos[b["sharp"]] < pos[b[k]]
            blur += "blur" in by[b[k]].reasons
            blur_rel += b[k] in groups.softer
            model_above += (model[b["sharp"]].rank_value > model[b[k]].rank_value)
        twin_blur += "blur" in by[b["twin"]].reasons
        clean += not by[b["sharp"]].reasons
    c = 2 * n
    print(f"all four frames in one group: {together}/{n} ({together / n:.1%})")
    print(f"sharp original (or its twin) is the group's best: {best}/{n} ({best / n:.1%})")
    print(f"sharp original ranked above each copy: {above}/{c} ({above / c:.1%})")
    print(f"blur on the copies: {blur}/{c} ({blur / c:.1%}); from the comparison "
          f"{blur_rel}/{c} ({blur_rel / c:.1%})")
    print(f"blur on the twins (false alarm): {twin_blur}/{n} ({twin_blur / n:.1%})")
    print(f"originals with no reason: {clean}/{n} ({clean / n:.1%})")
    print(f"model score alone, original above each copy: {model_above}/{c} "
          f"({model_above / c:.1%})")
    members = sum(1 for s in ranked if groups.sizes()[groups.group_of[s.path]] > 1)
    print(f"grouping + comparison: {t_group:.1f} s for {members} grouped photos "
          f"({1000 * t_group / max(members, 1):.0f} ms each; verdicts remembered in-process)")


if __name__ == "__main__":
    main()
