"""How far apart are the editor's yes/no and the crowd's taste? A linear probe on the features.

The bundled score misses the crowd-pair target (margin-weighted agreement ~0.60 against 0.72)
while ranking yelp-food well (AUC ~0.92).  This probe asks whether one linear score on the
model's own frozen features (eval views, ``efficientnet-lite0-ml``, 2 x 3,088) can do both:
a logistic regression (scikit-learn) over yelp-food photos (label: post-worthy) and crowd
pairs (row: features of photo 1 minus photo 2, label: the crowd's majority, weight |p - 0.5|,
no intercept), the pairs weighted by ``lambda`` against the photos.  5 folds: yelp-food
grouped by restaurant (each unknown photo alone), crowd pairs by pair; two fold draws.  Prints
held-out AUC, top-10 % post-worthy and margin-weighted crowd agreement per ``lambda``.

    python scripts/probe_score_tradeoff.py [--features FILE.npz] [--C 1e-3]

Features are extracted once (~2 min here) into ``--features``.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DATA = REPO.parent / "shared" / "data"


def decoded_batches(paths: list[Path], pre: Any, size: int = 16) -> Iterator[tuple[list[Any],
                                                                                 Any, Any]]:
    """(loaded photos, global views, local views) per ``size`` photos, as ``Scorer`` decodes
    them; every photo must load (AssertionError names the ones that do not)."""
    import torch

    from curator.loader import LoadedPhoto, load_photo

    for i in range(0, len(paths), size):
        loaded = [load_photo(p, pre) for p in paths[i:i + size]]
        ok = [x for x in loaded if isinstance(x, LoadedPhoto)]
        assert len(ok) == len(loaded), [x for x in loaded if not isinstance(x, LoadedPhoto)]
        yield (ok, torch.from_numpy(np.stack([x.global_view for x in ok])),
               torch.from_numpy(np.stack([x.local_view for x in ok])))
        print(f"  decoded {i + len(ok)}/{len(paths)}", end="\r", file=sys.stderr)


def restaurant_groups(rows: list[dict[str, str]]) -> list[str]:
    """The fold group of each yelp-food ``labels.csv`` row: its restaurant, or the photo alone
    when the restaurant is ``unknown`` (as ``train`` groups them)."""
    return [f"yelp:{r['restaurant']}" if r["restaurant"] != "unknown" else f"yelp:u{i}"
            for i, r in enumerate(rows)]


def extract(paths: list[Path]) -> np.ndarray:
    import torch

    from curator.modelfile import load_model_file
    from curator.paths import BUNDLED_MODEL

    mf = load_model_file(BUNDLED_MODEL)
    model = mf.build()
    out = []
    for _, g, loc in decoded_batches(paths, mf.preprocess):
        with torch.inference_mode():
            out.append(model.features(g, loc).float().numpy())
    return np.concatenate(out)


def main() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from train.fit import group_folds

    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", type=Path, default=REPO / "runs" / "probe-features.npz")
    ap.add_argument("--C", type=float, default=1e-3)
    ap.add_argument("--lambdas", default="0,0.5,2,8,32")
    args = ap.parse_args()
    with open(DATA / "yelp-food" / "labels.csv", newline="") as fh:
        yelp = list(csv.DictReader(fh))
    with open(DATA / "food-pairs" / "pairs.csv", newline="") as fh:
        pairs = [p for p in csv.DictReader(fh) if float(p["p_image1_preferred"]) != 0.5]
    ypaths = [DATA / "yelp-food" / "images" / r["file"] for r in yelp]
    pnames = sorted({p[k] for p in pairs for k in ("image_1", "image_2")})
    if args.features.is_file():
        z = np.load(args.features)
        fy, fp = z["yelp"], z["pairs"]
    else:
        fy = extract(ypaths)
        fp = extract([DATA / "food-pairs" / "images" / n for n in pnames])
        args.features.parent.mkdir(parents=True, exist_ok=True)
        np.savez(args.features, yelp=fy, pairs=fp)
    mu, sd = fy.mean(0), fy.std(0) + 1e-6  # standardise on yelp (the score's own data)
    xy = (fy - mu) / sd
    xp = (fp - mu) / sd
    at = {n: i for i, n in enumerate(pnames)}
    y = np.array([float(r["postworthy"]) for r in yelp])
    groups = restaurant_groups(yelp)
    d = np.stack([xp[at[p["image_1"]]] - xp[at[p["image_2"]]] for p in pairs])
    prob = np.array([float(p["p_image1_preferred"]) for p in pairs])
    pl, pw = (prob > 0.5).astype(float), np.abs(prob - 0.5)
    lambdas = [float(v) for v in args.lambdas.split(",")]
    print(f"{len(y)} yelp-food photos, {len(pairs)} crowd pairs; C = {args.C}")
    print("lambda | draw | AUC (mean +- sd over folds) | top-10 % | crowd margin-weighted")
    for lam in lambdas:
        rows = []
        for draw in (0, 1):
            fold_of = group_folds(groups, 5, draw)
            yf = np.array([fold_of[g] for g in groups])
            pf = np.random.default_rng(draw).permutation(len(pairs)) % 5
            aucs, tops, hit, tot = [], [], 0.0, 0.0
            for k in range(5):
                tr_y, tr_p = yf != k, pf != k
                # Photos: features + a constant column (the intercept); pairs: differences,
                # where the intercept cancels (0 in that column).
                x = np.vstack([np.hstack([xy[tr_y], np.ones((tr_y.sum(), 1))]),
                               np.hstack([d[tr_p], np.zeros((tr_p.sum(), 1))]),
                               np.hstack([-d[tr_p], np.zeros((tr_p.sum(), 1))])])
                t = np.concatenate([y[tr_y], pl[tr_p], 1 - pl[tr_p]])
                n_y, n_p = tr_y.sum(), tr_p.sum()
                # The pairs together weigh lambda x the photos, each by its vote margin.
                w_p = pw[tr_p] / pw[tr_p].sum() * n_y * lam / 2 if lam else np.zeros(n_p)
                w = np.concatenate([np.ones(n_y), w_p, w_p])
                keep = w > 0
                clf = LogisticRegression(C=args.C, fit_intercept=False, max_iter=2000)
                clf.fit(x[keep], t[keep], sample_weight=w[keep])
                coef = clf.coef_[0][:-1]
                s = xy[~tr_y] @ coef
                aucs.append(roc_auc_score(y[~tr_y], s))
                top = np.argsort(-s)[: max(1, len(s) // 10)]
                tops.append(y[~tr_y][top].mean())
                agree = (d[~tr_p] @ coef > 0) == (pl[~tr_p] > 0.5)
                hit += float((pw[~tr_p] * agree).sum())
                tot += float(pw[~tr_p].sum())
            rows.append((np.mean(aucs), np.std(aucs), np.mean(tops), hit / tot))
            print(f"{lam:6g} | {draw} | {np.mean(aucs):.3f} +- {np.std(aucs):.3f} | "
                  f"{np.mean(tops):6.1%} | {hit / tot:.3f}")
        m = np.mean(rows, axis=0)
        print(f"{lam:6g} | both | {m[0]:.3f} | {m[2]:6.1%} | {m[3]:.3f}")


if __name__ == "__main__":
    main()
