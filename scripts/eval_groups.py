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
labelled pairs, for the default threshold and a sweep: the embedding alone (``cluster``), and
with the same-scene check on the pixels (``curator.bursts.scene_sets``, ``GroupConfig
.min_inliers``; each photo's ORB keypoints read once and kept in ``keypoints.npz`` beside the
score cache), then the real ``group_photos`` (frames read and compared, timed) at the default
setting on both sets.  ``--robust N`` adds a third set: N other real photos (``food-pairs``,
one of each pair, and camera-size ``food-photos-hires`` singles) each with the edits a tester
checked groups (re-saved, +-1/3 stop, 2 and 5 % crops, 1 and 2 degree turns, warmer and cooler
white balance, 10 and 20 % zooms, a soft and a shaken frame), and prints per edit how many
copies landed in their original's group.  ``--bench N`` times grouping N cached
embeddings (real ones, tiled with noise so no two are identical).

    python scripts/eval_groups.py                    # set, scores, precision/recall, sweep
    python scripts/eval_groups.py --robust 24        # + the tester's edits of 24 photos
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
from scipy import ndimage

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from curator.bursts import (  # noqa: E402
    Keypoints,
    keypoints,
    read_full,
    scene_inliers,
    scene_sets,
)
from curator.cache import ScoreCache  # noqa: E402
from curator.groups import GroupConfig, cluster, group_photos  # noqa: E402
from curator.scan import scan_folder  # noqa: E402
from curator.score import PhotoScore, Scorer, rank  # noqa: E402

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


def yelp_hard_negatives(cache: ScoreCache) -> tuple[list[PhotoScore], list[str]]:
    """The yelp-food photos of named restaurants, ranked, and their restaurants: customer
    photos of similar dishes, but no two from different restaurants show the same scene (the
    hard negatives the labelled set lacks)."""
    import csv

    with open(DATA / "yelp-food" / "labels.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["restaurant"] != "unknown"]
    where = {DATA / "yelp-food" / "images" / r["file"]: r["restaurant"] for r in rows}
    ranked = rank(Scorer(cache=cache).score(list(where)))
    return ranked, [where[s.path] for s in ranked]


class KeypointStore:
    """Each photo's ORB keypoints (``curator.bursts.keypoints`` of its full-resolution luma,
    as ``group_photos`` reads it), computed once and kept in an ``.npz`` keyed by path, size
    and mtime."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: dict[str, Keypoints | None] = {}
        self.dirty = False
        if path.exists():
            with np.load(path) as z:
                for k in {n.rsplit("|", 1)[0] for n in z.files}:
                    side = int(z[k + "|side"])
                    self.items[k] = (None if side < 0 else
                                     Keypoints(z[k + "|pts"], z[k + "|desc"], side))

    @staticmethod
    def key(p: Path) -> str:
        st = p.stat()
        return f"{p}:{st.st_size}:{st.st_mtime_ns}"

    def get(self, p: Path) -> Keypoints | None:
        k = self.key(p)
        if k not in self.items:
            try:
                self.items[k] = keypoints(read_full(p))
            except Exception:  # unreadable: cannot be judged, as in group_photos
                self.items[k] = None
            self.dirty = True
        return self.items[k]

    def save(self) -> None:
        if not self.dirty:
            return
        arrays: dict[str, np.ndarray] = {}
        for k, v in self.items.items():
            arrays[k + "|side"] = np.array(-1 if v is None else v.side)
            arrays[k + "|pts"] = np.zeros((0, 2), np.float32) if v is None else v.points
            arrays[k + "|desc"] = np.zeros((0, 32), np.uint8) if v is None else v.descriptors
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, **arrays)  # type: ignore[arg-type]
        tmp.replace(self.path)
        self.dirty = False


def grouped(ranked: list[PhotoScore], cfg: GroupConfig, store: KeypointStore | None
            ) -> np.ndarray:
    """Group labels (N,) for ``ranked`` (best first): the embedding's clusters, each split by
    the same-scene check (``scene_sets``, as ``group_photos`` does) when ``store`` is given and
    ``cfg.min_inliers`` > 0."""
    emb = np.stack([np.asarray(s.embedding, np.float32) for s in ranked])
    labels = cluster(emb, [s.captured for s in ranked], cfg)
    if store is None or cfg.min_inliers <= 0:
        return labels
    out = labels.copy()
    nxt = int(labels.max()) + 1
    for g in np.unique(labels):
        idx = np.flatnonzero(labels == g)  # rank order
        if len(idx) < 2:
            continue
        sets = scene_sets([store.get(ranked[i].path) for i in idx], cfg.min_inliers)
        for members in sets[1:]:
            out[idx[members]] = nxt
            nxt += 1
    return out


#: The edits a tester checked groups (``robust_set``), the original first.
EDITS = ("original", "resave", "plus-third-stop", "minus-third-stop", "crop-2pc", "crop-5pc",
         "turn-1deg", "turn-2deg", "warmer", "cooler", "zoom-10pc", "zoom-20pc", "soft",
         "shaken")


def _linear_gain(im: Image.Image, gains: tuple[float, float, float]) -> Image.Image:
    """``im`` with each channel's linear light (sRGB decoded) multiplied by ``gains``."""
    a = np.asarray(im, np.float32) / 255.0
    lin = np.where(a <= 0.04045, a / 12.92, ((a + 0.055) / 1.055) ** 2.4)
    lin = np.clip(lin * np.array(gains, np.float32), 0.0, 1.0)
    s = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)
    return Image.fromarray(np.round(s * 255.0).astype(np.uint8))


def _edit(im: Image.Image, edit: str) -> Image.Image:
    """One of ``EDITS`` (but ``resave``, made from the saved original) applied to ``im``."""
    from PIL import ImageFilter

    w, h = im.size
    stop = 2 ** (1 / 3)
    if edit == "original":
        return im
    if edit in ("plus-third-stop", "minus-third-stop"):
        return _linear_gain(im, (stop,) * 3 if edit.startswith("plus") else (1 / stop,) * 3)
    if edit in ("warmer", "cooler"):
        return _linear_gain(im, (1.12, 1.0, 0.88) if edit == "warmer" else (0.88, 1.0, 1.12))
    if edit.startswith("crop-"):  # a few % off the top and left
        share = int(edit[5:-2]) / 100
        return im.crop((round(w * share), round(h * share), w, h))
    if edit.startswith("turn-"):  # turned, the empty corners cropped off
        deg = float(edit[5:-3]) * (1 if edit == "turn-1deg" else -1)
        m = 0.02 * abs(deg)
        r = im.rotate(deg, Image.Resampling.BICUBIC)
        return r.crop((round(w * m), round(h * m), round(w * (1 - m)), round(h * (1 - m))))
    if edit.startswith("zoom-"):  # the centre, enlarged back to the frame's size
        f = 1 + int(edit[5:-2]) / 100
        cw, ch = round(w / f), round(h / f)
        box = ((w - cw) // 2, (h - ch) // 2, (w - cw) // 2 + cw, (h - ch) // 2 + ch)
        return im.crop(box).resize((w, h), Image.Resampling.LANCZOS)
    if edit == "soft":  # eval_bursts' soft frame: Gaussian, sigma 1.5 px per 2000 px
        return im.filter(ImageFilter.GaussianBlur(1.5 * max(w, h) / 2000))
    if edit == "shaken":  # eval_bursts' shaken frame: 7 px per 2000 px horizontal smear
        a = ndimage.uniform_filter1d(np.asarray(im, np.float32), round(7 * max(w, h) / 2000),
                                     axis=1)
        return Image.fromarray(np.clip(a + 0.5, 0, 255).astype(np.uint8))
    raise ValueError(edit)


def robust_set(dest: Path, n: int) -> dict[Path, tuple[str, str]]:
    """``n`` real photos (two thirds ``food-pairs``, one of each pair, the rest camera-size
    ``food-photos-hires`` singles at 3000 px) and the edits a tester checked groups, as JPEGs
    (quality 90) under ``dest``.  Returns {photo: (source, edit)}."""
    import csv

    with open(DATA / "food-pairs" / "pairs.csv", newline="") as fh:
        firsts = [DATA / "food-pairs" / "images" / r["image_1"] for r in csv.DictReader(fh)]
    hires_used = {DATA / rel for g in REAL_GROUPS for rel in g} | {
        DATA / a for pair in DONT_CARE for a in pair}
    hires = sorted(p for p in HIRES.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg")
                   and p not in hires_used)
    n_pairs = n - n // 3
    srcs = firsts[:: max(1, len(firsts) // max(n_pairs, 1))][:n_pairs]
    srcs += hires[:: max(1, len(hires) // max(n - n_pairs, 1))][: n - n_pairs]
    dest.mkdir(parents=True, exist_ok=True)
    out: dict[Path, tuple[str, str]] = {}

    for k, src in enumerate(srcs):
        names = [f"src{k:02d}-{e}.jpg" for e in EDITS]
        for name, e in zip(names, EDITS, strict=True):
            out[dest / name] = (f"src{k:02d}", e)
        if all((dest / name).exists() for name in names):
            continue  # re-runs reuse the files (and their scores)
        with Image.open(src) as raw:
            im = ImageOps.exif_transpose(raw).convert("RGB")
        im.thumbnail((3000, 3000))
        im.save(dest / names[0], "JPEG", quality=90)
        for name, e in zip(names[1:], EDITS[1:], strict=True):
            if e == "resave":  # the original's JPEG saved again at an everyday quality
                with Image.open(dest / names[0]) as o:
                    o.load()
                    o.save(dest / name, "JPEG", quality=75)
            else:
                _edit(im, e).save(dest / name, "JPEG", quality=90)
    return out


def robust_report(cache: ScoreCache, dest: Path, n: int, store: KeypointStore) -> None:
    """Per edit: how many copies share their original's group (embedding alone / with the
    same-scene check / the real ``group_photos``), and the set's pairwise precision."""
    made = robust_set(dest, n)
    ranked = rank(Scorer(cache=cache).score(sorted(made)))
    cfg = GroupConfig()
    truth = {s.path: made[s.path][0] for s in ranked}
    rows = {"embedding alone": grouped(ranked, cfg, None),
            "+ same-scene check": grouped(ranked, cfg, store)}
    t0 = time.perf_counter()
    g = group_photos(ranked, cfg)
    dt = time.perf_counter() - t0
    rows["group_photos"] = np.array([g.group_of[s.path] for s in ranked])
    edits = sorted({e for _, e in made.values()} - {"original"})
    print(f"\ntester's edits: {len(ranked)} photos ({n} sources x {len(edits) + 1}; "
          f"group_photos {dt:.1f} s); copies in their original's group at cut "
          f"{cfg.threshold:.2f}, min_inliers {cfg.min_inliers}:")
    print(f"{'edit':>17}  " + "  ".join(f"{k:>18}" for k in rows)
          + "  inliers with the original: min / median")
    where = {s.path: i for i, s in enumerate(ranked)}
    orig = {src: where[p] for p, (src, e) in made.items() if e == "original"}
    for e in edits:
        cells = []
        for labels in rows.values():
            ps = [p for p, (_, ee) in made.items() if ee == e]
            ok = sum(labels[where[p]] == labels[orig[made[p][0]]] for p in ps)
            cells.append(f"{ok:>14d}/{len(ps):<3d}")
        origs = {src: p for p, (src, ee) in made.items() if ee == "original"}
        k = [inliers_of(store, origs[made[p][0]], p) for p in made if made[p][1] == e]
        print(f"{e:>17}  " + "  ".join(cells) + f"  {min(k):>5d} / {int(np.median(k))}")
    for name, labels in rows.items():
        prec, rec, pos, fp = pairwise(
            {s.path: int(labels[i]) for i, s in enumerate(ranked)}, truth, set())
        print(f"  {name}: pairwise precision {prec:.3f}, recall {rec:.3f} "
              f"(of {pos} true pairs), {fp} false pairs")


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


def inliers_of(store: KeypointStore, a: Path, b: Path) -> int:
    """``scene_inliers`` of two photos, the higher-ranked first (-1: cannot tell)."""
    ka, kb = store.get(a), store.get(b)
    got = None if ka is None or kb is None else scene_inliers(ka, kb)
    return -1 if got is None else got


def margins(lab: list[PhotoScore], sub: dict[Path, str], dont: set[frozenset[Path]],
            yelp: list[PhotoScore], y_rest: list[str], store: KeypointStore) -> None:
    """How far the same-scene check's figures lie from ``GroupConfig.min_inliers``: inliers of
    every true labelled pair, and of every yelp-food pair closer than 0.30 in the embedding."""
    def q(v: list[int]) -> str:
        a = np.array(v)
        return (f"min {a.min()}, 1 % {np.quantile(a, 0.01):.0f}, 5 % {np.quantile(a, 0.05):.0f},"
                f" median {np.median(a):.0f}, 99 % {np.quantile(a, 0.99):.0f}, max {a.max()}")

    true: list[int] = []
    real: list[int] = []
    for a, b in itertools.combinations(lab, 2):
        if sub[a.path] == sub[b.path] and frozenset((a.path, b.path)) not in dont:
            k = inliers_of(store, a.path, b.path)
            (real if sub[a.path].startswith("real") else true).append(k)
    print(f"same-scene inliers (min_inliers {GroupConfig().min_inliers}): labelled generated "
          f"pairs ({len(true)}): {q(true)}; real re-shoots: {sorted(real)}")
    x = np.stack([np.asarray(s.embedding, np.float32) for s in yelp])
    close = np.argwhere(np.triu(1.0 - x @ x.T <= 0.30, 1))
    cross = [inliers_of(store, yelp[i].path, yelp[j].path) for i, j in close
             if y_rest[i] != y_rest[j]]
    within = [inliers_of(store, yelp[i].path, yelp[j].path) for i, j in close
              if y_rest[i] == y_rest[j]]
    print(f"  yelp-food pairs closer than 0.30: across restaurants ({len(cross)}): {q(cross)}; "
          f"within one ({len(within)}): {q(within)}, the 10 highest {sorted(within)[-10:]}")


def levels(cuts: list[float], lab: list[PhotoScore], sub: dict[Path, str],
           dont: set[frozenset[Path]], yelp: list[PhotoScore], y_rest: list[str]) -> None:
    """One row per cut (``GroupConfig.min_inliers`` at its default): the real ``group_photos``
    on the labelled set and on yelp-food (every frame read again: verdicts forgotten first),
    its figures, its time and the photos it read, and the embedding alone's figures (what the
    same cut gives without pixel access)."""
    from curator.bursts import MEMO, SPLIT_MEMO

    print(f"\nper level (min_inliers {GroupConfig().min_inliers}; group_photos run for real):")
    print(f"{'cut':>5}  {'precision':>9} {'recall':>6}  yelp across/within  "
          "read  seconds  | embedding alone: precision recall  yelp across/within")
    for cut in cuts:
        cfg = GroupConfig(threshold=cut)
        MEMO.clear()
        SPLIT_MEMO.clear()
        t0 = time.perf_counter()
        g_lab, g_yelp = group_photos(lab, cfg), group_photos(yelp, cfg)
        dt = time.perf_counter() - t0
        off = GroupConfig(threshold=cut, min_inliers=0)
        read = 0
        for ranked in (lab, yelp):
            sizes = np.bincount(grouped(ranked, off, None))
            read += int(sizes[sizes > 1].sum())
        prec, rec, _, _ = pairwise({s.path: g_lab.group_of[s.path] for s in lab}, sub, dont)
        cross, same = restaurant_pairs(np.array([g_yelp.group_of[s.path] for s in yelp]),
                                       y_rest)
        p0, r0, _, _ = pairwise({s.path: int(x) for s, x in zip(
            lab, grouped(lab, off, None), strict=True)}, sub, dont)
        c0, s0 = restaurant_pairs(grouped(yelp, off, None), y_rest)
        print(f"{cut:5.2f}  {prec:9.3f} {rec:6.3f}  {cross:6d} / {same:<4d}      {read:4d} "
              f"{dt:7.1f}  | {p0:25.3f} {r0:6.3f}  {c0:6d} / {s0:<4d}")


#: The same-scene check's sweep (``GroupConfig.min_inliers``; 0: the embedding alone).
INLIERS = (0, 10, 15, 20, 30, 50)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "runs" / "eval_groups")
    ap.add_argument("--sources", type=int, default=20, help="real photos made into bursts")
    ap.add_argument("--robust", type=int, default=0,
                    help="also this many other photos with the tester's edits")
    ap.add_argument("--bench", type=int, default=0, help="also time grouping this many photos")
    ap.add_argument("--levels", default="",
                    help="comma-separated cuts: a table per similarity level (default inliers)")
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
    store = KeypointStore(args.out / "keypoints.npz")
    with ScoreCache(args.out / "cache.sqlite3") as cache:
        scores = rank(Scorer(cache=cache).score(paths))
        yelp, y_rest = yelp_hard_negatives(cache)
        print(f"hard negatives: {len(y_rest)} yelp-food photos of {len(set(y_rest))} named "
              "restaurants (a same-group pair from two restaurants is a false pair)")
        lab = [s for s in scores if s.path in truth]
        sub = {s.path: truth[s.path] for s in lab}
        default = GroupConfig()
        t0 = time.perf_counter()
        for s in (*lab, *yelp):
            store.get(s.path)
        store.save()
        print(f"keypoints: {len(store.items)} photos ({time.perf_counter() - t0:.1f} s "
              "to read what was not kept yet)")

        def figures(cfg: GroupConfig, with_pixels: bool) -> tuple[float, float, int, int, int]:
            labels = grouped(lab, cfg, store if with_pixels else None)
            prec, rec, _, fp = pairwise(
                {s.path: int(g) for s, g in zip(lab, labels, strict=True)}, sub, dont)
            cross, same = restaurant_pairs(grouped(yelp, cfg, store if with_pixels else None),
                                           y_rest)
            return prec, rec, fp, cross, same

        print(f"{'cut':>5} {'inliers':>7}  {'precision':>9}  {'recall':>6}  false pairs  "
              "yelp-food pairs: across restaurants (false) / within one")
        cuts = sorted({*np.round(np.arange(0.10, 0.42, 0.02), 2).tolist(), default.threshold})
        for thr in cuts:
            for k in INLIERS:
                prec, rec, fp, cross, same = figures(
                    GroupConfig(threshold=thr, min_inliers=k), k > 0)
                mark = ("  <- default" if thr == default.threshold
                        and k == default.min_inliers else "")
                print(f"{thr:5.2f} {k or '-':>7}  {prec:9.3f}  {rec:6.3f}  {fp:11d}  "
                      f"{cross:8d} / {same:<4d}{mark}")
        pos = pairwise({p: 0 for p in sub}, sub, dont)[2]
        print(f"(of {pos} true pairs; inliers '-': the embedding alone, as without pixels)")
        margins(lab, sub, dont, yelp, y_rest, store)
        # The real thing at the default setting: frames read, split, compared and ordered.
        for name, ranked in (("labelled", lab), ("yelp-food", yelp)):
            t0 = time.perf_counter()
            g = group_photos(ranked, default)
            dt = time.perf_counter() - t0
            labels = np.array([g.group_of[s.path] for s in ranked])
            n_grouped = sum(1 for n in g.sizes().values() if n > 1 for _ in range(n))
            if name == "labelled":
                prec, rec, _, fp = pairwise(
                    {s.path: int(x) for s, x in zip(ranked, labels, strict=True)}, sub, dont)
                fig = f"precision {prec:.3f}, recall {rec:.3f}, {fp} false pairs"
            else:
                cross, same = restaurant_pairs(labels, y_rest)
                fig = f"{cross} pairs across restaurants, {same} within one"
                for gid, n in sorted(g.sizes().items()):
                    if n > 1:
                        names = [s.path.name + f" ({r})" for s, r in zip(ranked, y_rest,
                                                                         strict=True)
                                 if g.group_of[s.path] == gid]
                        print("  yelp-food group: " + ", ".join(names))
            print(f"group_photos ({name}, default): {fig}; {dt:.1f} s for {len(ranked)} "
                  f"photos, {n_grouped} in groups of 2+")
        if args.levels:
            levels([float(c) for c in args.levels.split(",")], lab, sub, dont, yelp, y_rest)
        if args.robust:
            robust_report(cache, args.out / "robust", args.robust, store)
            store.save()
    labels = grouped(lab, default, store)
    pred = {s.path: int(x) for s, x in zip(lab, labels, strict=True)}
    keys = list(sub)
    for gi in range(len(REAL_GROUPS)):
        members = [p for p in keys if truth[p] == f"real{gi}"]
        split = len({pred[p] for p in members})
        print(f"real re-shoot {gi}: {len(members)} photos in {split} group(s): "
              + ", ".join(p.name for p in members))
    if args.bench:
        emb = np.stack([np.asarray(s.embedding, np.float32) for s in lab])
        bench(emb, args.bench)


if __name__ == "__main__":
    main()
