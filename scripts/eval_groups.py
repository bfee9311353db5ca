"""Build a labelled near-duplicate set from real photos and measure grouping on it.

The set (written under ``runs/eval_groups/``, never into the repository):

- real re-shoots, labelled by eye: ``food-photos-hires`` (the smashed burger shot three times on
  one plate; arroz rojo twice) and ``food-photos`` (cocktails and its hero crop, the dessert and
  its crop, the burger in two crops).  Two pairs are "don't care" (excluded from the pairwise
  count either way): the tomato soup in two different bowls and two frying-pan steps of the
  burger, where a person could reasonably say either;
- generated bursts: each of ``--sources`` other real photos plus shifted, cropped, brighter,
  darker, slightly rotated and combined copies and one byte-identical copy under another name;
- every other real photo as a distinct dish (negatives against everything);
- hard negatives, scored in place (read only): the ``yelp-food`` photos of named restaurants,
  customer photos of similar dishes; a same-group pair from two different restaurants is a
  false pair (counted in its own column: the labelled set's negatives are easy, distinct
  dishes from different sources, and at the first cut chosen on them alone, 0.28, 503 such
  photos gave 112 cross-restaurant pairs).

It scores the folder with the real pipeline (``Scorer``: embeddings come out of the scoring
pass), groups with ``curator.groups``, and prints pairwise precision and recall over all
labelled pairs, for the default threshold and a sweep.  ``--bench N`` times grouping N cached
embeddings (real ones, tiled with noise so no two are identical).

    python scripts/eval_groups.py                    # set, scores, precision/recall, sweep
    python scripts/eval_groups.py --bench 10000      # + timing of grouping 10,000 photos
"""

from __future__ import annotations

import argparse
import itertools
import logging
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from curator.cache import ScoreCache  # noqa: E402
from curator.groups import GroupConfig, cluster  # noqa: E402
from curator.scan import scan_folder  # noqa: E402
from curator.score import PhotoScore, Scorer  # noqa: E402

log = logging.getLogger("eval_groups")
DATA = REPO.parent / "shared" / "data"
HIRES = DATA / "food-photos-hires"
WEB = DATA / "food-photos"

#: Real re-shoots (paths relative to ../shared/data), one set per dish.
REAL_GROUPS = [
    ["food-photos-hires/recipes_bastian/images__smashed-burger-8.jpg",
     "food-photos-hires/recipes_bastian/images__smashed-burger-9.jpg",
     "food-photos-hires/recipes_bastian/images__smashed-burger.jpg"],
    ["food-photos-hires/recipes_bastian/images__arroz-rojo.jpg",
     "food-photos-hires/recipes_bastian/recipes__arroz-rojo.jpg"],
    ["food-photos/cocktails.jpg", "food-photos/cocktails-hero.jpg"],
    ["food-photos/desserts-hero.jpg", "food-photos/ice-cream.jpg"],
    ["food-photos/cheese-burger-popular.jpg", "food-photos/main-course-hero.jpg"],
]
#: Pairs a person could call either way: not counted.
DONT_CARE = [
    ("food-photos-hires/recipes_bastian/images__tomatosoup.jpg",
     "food-photos-hires/recipes_bastian/images__tomatosoup__a2d25453.jpg"),
    ("food-photos-hires/recipes_bastian/images__smashed-burger-4.jpg",
     "food-photos-hires/recipes_bastian/images__smashed-burger-5.jpg"),
]


def _variants(im: Image.Image, k: int) -> dict[str, Image.Image]:
    """Burst-like copies: shift, crop, exposure, small rotation, and all of them at once."""
    w, h = im.size
    rng = np.random.default_rng(k)

    def shift(dx: float, dy: float, keep: float = 0.9) -> Image.Image:
        cw, ch = int(w * keep), int(h * keep)
        x0 = int((w - cw) * (0.5 + dx)), int((h - ch) * (0.5 + dy))
        return im.crop((x0[0], x0[1], x0[0] + cw, x0[1] + ch))

    def rotate(deg: float) -> Image.Image:
        r = im.rotate(deg, Image.Resampling.BICUBIC)
        m = 0.06
        return r.crop((int(w * m), int(h * m), int(w * (1 - m)), int(h * (1 - m))))

    sx, sy = rng.uniform(-0.5, 0.5, 2)
    return {
        "shift": shift(float(sx), float(sy)),
        "crop": shift(0.0, 0.0, keep=0.78),
        "bright": ImageEnhance.Brightness(im).enhance(1.35),
        "dark": ImageEnhance.Brightness(im).enhance(0.7),
        "rot": rotate(float(rng.choice([-3.0, 3.0]))),
        "combo": ImageEnhance.Brightness(rotate(-2.0)).enhance(1.15).crop(
            (int(w * 0.05), 0, w - int(w * 0.05), h - int(h * 0.05))),
    }


def build_set(dest: Path, n_sources: int) -> tuple[dict[Path, str], set[frozenset[Path]]]:
    """Write the set; returns {photo: true group label} and the don't-care pairs."""
    dest.mkdir(parents=True, exist_ok=True)  # re-runs reuse the files (and their scores)
    label: dict[Path, str] = {}
    used: set[str] = set()

    def place(rel: str, tag: str) -> Path:
        src = DATA / rel
        out = dest / "real" / rel.replace("/", "__")
        out.parent.mkdir(parents=True, exist_ok=True)
        if not out.exists():
            shutil.copy2(src, out)
        label[out] = tag
        used.add(rel)
        return out

    for gi, members in enumerate(REAL_GROUPS):
        for rel in members:
            place(rel, f"real{gi}")
    dont: set[frozenset[Path]] = set()
    for a, b in DONT_CARE:
        pa, pb = place(a, a), place(b, b)
        dont.add(frozenset((pa, pb)))
    others = sorted(
        str(p.relative_to(DATA)) for root in (HIRES, WEB) for p in root.rglob("*")
        if p.suffix.lower() in (".jpg", ".jpeg")
    )
    others = [o for o in others if o not in used]
    bursts, singles = others[:n_sources], others[n_sources:]
    for rel in singles:
        place(rel, rel)
    for k, rel in enumerate(bursts):
        src = place(rel, f"burst{k}")
        with Image.open(src) as raw:
            im = ImageOps.exif_transpose(raw).convert("RGB")
        im.thumbnail((1600, 1600))
        for name, v in _variants(im, k).items():
            out = dest / "bursts" / f"{src.stem}-{name}.jpg"
            out.parent.mkdir(parents=True, exist_ok=True)
            if not out.exists():
                v.save(out, "JPEG", quality=90)
            label[out] = f"burst{k}"
        twin = dest / "bursts" / f"copy-of-{src.name}"
        if not twin.exists():
            shutil.copy2(src, twin)  # the same file under another name
        label[twin] = f"burst{k}"
    return label, dont


def pairwise(pred: dict[Path, int], truth: dict[Path, str],
             dont: set[frozenset[Path]]) -> tuple[float, float, int, int]:
    """Pairwise precision and recall over all pairs except the don't-care ones."""
    tp = fp = fn = 0
    for a, b in itertools.combinations(sorted(truth), 2):
        if frozenset((a, b)) in dont:
            continue
        same_t, same_p = truth[a] == truth[b], pred[a] == pred[b]
        tp += same_t and same_p
        fp += same_p and not same_t
        fn += same_t and not same_p
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / (tp + fn) if tp + fn else 1.0
    return prec, rec, tp + fn, fp


def restaurant_pairs(labels: np.ndarray, restaurants: list[str]) -> tuple[int, int]:
    """Same-group pairs of photos (from two different restaurants: never near-duplicates;
    from one restaurant: mostly other plates at other tables, a few true copies)."""
    r = np.asarray(restaurants)
    cross = same = 0
    for g in np.unique(labels):
        members = r[labels == g]
        if len(members) > 1:
            _, counts = np.unique(members, return_counts=True)
            within = int((counts * (counts - 1) // 2).sum())
            same += within
            cross += len(members) * (len(members) - 1) // 2 - within
    return cross, same


def yelp_hard_negatives(cache: ScoreCache) -> tuple[np.ndarray, list[float | None], list[str]]:
    """Embeddings, capture times and restaurants of the yelp-food photos of named
    restaurants: customer photos of similar dishes, but no two from different restaurants
    show the same scene (the hard negatives the labelled set lacks)."""
    import csv

    with open(DATA / "yelp-food" / "labels.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["restaurant"] != "unknown"]
    paths = [DATA / "yelp-food" / "images" / r["file"] for r in rows]
    got = {r.path: r for r in Scorer(cache=cache).score(paths) if isinstance(r, PhotoScore)}
    keep = [(got[p], r["restaurant"]) for p, r in zip(paths, rows, strict=True) if p in got]
    emb = np.stack([s.embedding for s, _ in keep]).astype(np.float32)
    return emb, [s.captured for s, _ in keep], [r for _, r in keep]


def bench(emb: np.ndarray, n: int) -> float:
    """Seconds to group ``n`` embeddings built from the real ones.

    Each copy of the labelled set is turned by its own random rotation, so the copies are
    distinct "shoots" with the labelled set's group structure (groups of 1 to 8), not one
    giant group of identical vectors.
    """
    rng = np.random.default_rng(0)
    reps = -(-n // len(emb))
    d = emb.shape[1]
    tiles = []
    for _ in range(reps):
        q, _r = np.linalg.qr(rng.standard_normal((d, d)))
        tiles.append(emb.astype(np.float32) @ q.astype(np.float32))
    x16 = np.concatenate(tiles)[:n].astype(np.float16)  # as stored in the cache
    t0 = time.perf_counter()
    labels = cluster(x16, [None] * n)
    dt = time.perf_counter() - t0
    sizes = np.bincount(labels)
    print(f"grouping {n} embeddings: {dt:.2f} s ({len(sizes)} groups, largest {sizes.max()})")
    return dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "runs" / "eval_groups")
    ap.add_argument("--sources", type=int, default=20, help="real photos made into bursts")
    ap.add_argument("--bench", type=int, default=0, help="also time grouping this many photos")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if not DATA.is_dir():
        raise SystemExit(f"needs {DATA}")
    truth, dont = build_set(args.out / "photos", args.sources)
    n_groups = len(set(truth.values()))
    print(f"labelled set: {len(truth)} photos, {n_groups} true groups "
          f"({sum(1 for g in set(truth.values()) if g.startswith('real'))} real re-shoots, "
          f"{args.sources} generated bursts), {len(dont)} don't-care pairs")
    paths = scan_folder(args.out / "photos")
    with ScoreCache(args.out / "cache.sqlite3") as cache:
        scores = [r for r in Scorer(cache=cache).score(paths) if isinstance(r, PhotoScore)]
        y_emb, y_times, y_rest = yelp_hard_negatives(cache)
    print(f"hard negatives: {len(y_rest)} yelp-food photos of {len(set(y_rest))} named "
          "restaurants (a same-group pair from two restaurants is a false pair)")
    by_path = {s.path: s for s in scores}
    keys = [p for p in truth if p in by_path]
    emb = np.stack([by_path[p].embedding for p in keys]).astype(np.float32)
    times = [by_path[p].captured for p in keys]
    sub = {p: truth[p] for p in keys}
    default = GroupConfig()
    print(f"{'threshold':>9}  {'precision':>9}  {'recall':>6}  false pairs  "
          "yelp-food pairs: across restaurants (false) / within one (mostly false)")
    for thr in sorted({*np.round(np.arange(0.10, 0.42, 0.02), 2).tolist(), default.threshold}):
        labels = cluster(emb, times, GroupConfig(threshold=thr))
        prec, rec, pos, fp = pairwise(dict(zip(keys, labels.tolist(), strict=True)), sub, dont)
        cross, same = restaurant_pairs(cluster(y_emb, y_times, GroupConfig(threshold=thr)),
                                       y_rest)
        mark = "  <- default" if thr == default.threshold else ""
        print(f"{thr:9.2f}  {prec:9.3f}  {rec:6.3f}  {fp:11d}  {cross:8d} / {same:<4d}{mark}")
    print(f"(of {pos} true pairs)")
    labels = cluster(emb, times, default)
    pred = dict(zip(keys, labels.tolist(), strict=True))
    for gi in range(len(REAL_GROUPS)):
        members = [p for p in keys if truth[p] == f"real{gi}"]
        split = len({pred[p] for p in members})
        print(f"real re-shoot {gi}: {len(members)} photos in {split} group(s): "
              + ", ".join(p.name for p in members))
    if args.bench:
        bench(emb, args.bench)


if __name__ == "__main__":
    main()
