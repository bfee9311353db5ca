"""What running the backbone in bfloat16 costs in accuracy (``curator.precision``).

Curator runs the frozen backbone under bfloat16 autocast on CPUs with native support (about
3x faster there).  This script measures what that changes, on real photos:

1. the bundled model's 0-100 score and reasons on the 989 ``yelp-food`` photos and the 590
   ``food-pairs`` photos, float32 against bfloat16: score differences, rank correlation,
   reasons that differ, and the pooled post-worthy AUC and crowd agreement both ways;
2. on the same grouped folds as ``scripts/probe_score_tradeoff.py`` (yelp-food by restaurant,
   crowd pairs by pair, two fold draws): a logistic probe fitted on float32 features, tested
   on held-out photos' float32 and bfloat16 features.

    python scripts/eval_precision.py          # ~4 min here (features of 1,579 photos twice)

For the held-out damage and reasons check both ways:
``CURATOR_PRECISION=fp32 python scripts/eval_bundled.py`` and ``CURATOR_PRECISION=bf16 ...``.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))  # probe_score_tradeoff's decoding helper

DATA = REPO.parent / "shared" / "data"


def outputs(paths: list[Path], bf16: bool) -> tuple[np.ndarray, np.ndarray, list[list[str]]]:
    """(features (N, 2D), scores 0-100 (N,), reasons) of the bundled model, one precision."""
    import torch
    from probe_score_tradeoff import decoded_batches

    from curator.modelfile import load_model_file
    from curator.paths import BUNDLED_MODEL

    mf = load_model_file(BUNDLED_MODEL)
    model = mf.build()
    model.cpu_bf16 = bf16
    feats, scores, reasons = [], [], []
    for ok, g, loc in decoded_batches(paths, mf.preprocess):
        with torch.inference_mode():
            f = model.features(g, loc)
            logits = model.head(f).float()
        names = model.head.cfg.outputs
        for x, row in zip(ok, logits[:, model.head.cfg.bins:].tolist(), strict=True):
            s, r = mf.read_outputs(dict(zip(names, row, strict=True)), x.measures)
            scores.append(s)
            reasons.append(list(r))
        feats.append(f.float().numpy())
    return np.concatenate(feats), np.asarray(scores, dtype=np.float64), reasons


def main() -> None:
    from probe_score_tradeoff import restaurant_groups
    from scipy.stats import spearmanr
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from train.fit import group_folds
    from train.metrics import pair_agreement

    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", type=Path, default=REPO / "runs" / "precision-features.npz")
    ap.add_argument("--C", type=float, default=1e-3)
    args = ap.parse_args()
    with open(DATA / "yelp-food" / "labels.csv", newline="") as fh:
        yelp = list(csv.DictReader(fh))
    with open(DATA / "food-pairs" / "pairs.csv", newline="") as fh:
        pairs = list(csv.DictReader(fh))
    pnames = sorted({p[k] for p in pairs for k in ("image_1", "image_2")})
    paths = ([DATA / "yelp-food" / "images" / r["file"] for r in yelp]
             + [DATA / "food-pairs" / "images" / n for n in pnames])
    if args.features.is_file():
        z = np.load(args.features, allow_pickle=True)
        f32, f16, s32, s16 = z["f32"], z["f16"], z["s32"], z["s16"]
        r32, r16 = list(z["r32"]), list(z["r16"])
    else:
        f32, s32, r32 = outputs(paths, False)
        f16, s16, r16 = outputs(paths, True)
        args.features.parent.mkdir(parents=True, exist_ok=True)
        np.savez(args.features, f32=f32, f16=f16, s32=s32, s16=s16,
                 r32=np.array([",".join(r) for r in r32]), r16=np.array([",".join(r) for r in r16]))
        r32, r16 = [",".join(r) for r in r32], [",".join(r) for r in r16]
    n_y = len(yelp)
    d = np.abs(s16 - s32)
    print(f"{len(paths)} photos ({n_y} yelp-food, {len(pnames)} food-pairs), bundled model, "
          "float32 vs bfloat16 backbone")
    print(f"score difference (0-100 points): mean {d.mean():.2f}, median {np.median(d):.2f}, "
          f"95th percentile {np.percentile(d, 95):.2f}, max {d.max():.2f}; Spearman "
          f"{spearmanr(s32, s16).statistic:.4f}")
    print(f"reasons differ on {np.mean([a != b for a, b in zip(r32, r16, strict=True)]):.1%} "
          "of photos")
    # Near-duplicate groups (from the pixels alone: no capture times) both ways.
    from curator.groups import cluster, embedding_from_features

    half = f32.shape[1] // 2
    g32 = cluster(embedding_from_features(f32[:n_y], half))
    g16 = cluster(embedding_from_features(f16[:n_y], half))

    def same_group_pairs(g: np.ndarray) -> set[tuple[int, int]]:
        out: set[tuple[int, int]] = set()
        for label in np.unique(g):
            idx = np.flatnonzero(g == label)
            out |= {(int(a), int(b)) for i, a in enumerate(idx) for b in idx[i + 1:]}
        return out

    p32, p16 = same_group_pairs(g32), same_group_pairs(g16)
    moved = {i for pair in p32 ^ p16 for i in pair}
    print(f"near-duplicate groups of the {n_y} yelp-food photos: {len(set(g32))} (float32) vs "
          f"{len(set(g16))} (bfloat16); same-group pairs {len(p32)} vs {len(p16)}, "
          f"{len(p32 & p16)} in both; {len(moved)} photos share a group with a different "
          "photo set")
    y = np.array([float(r["postworthy"]) for r in yelp])
    at = {n: n_y + i for i, n in enumerate(pnames)}
    keep = [p for p in pairs if float(p["p_image1_preferred"]) != 0.5]
    ia = np.array([at[p["image_1"]] for p in keep])
    ib = np.array([at[p["image_2"]] for p in keep])
    prob = np.array([float(p["p_image1_preferred"]) for p in keep])
    for name, s in (("float32", s32), ("bfloat16", s16)):
        w, _ = pair_agreement(s[ia], s[ib], prob)
        print(f"bundled score, {name}: yelp-food AUC {roc_auc_score(y, s[:n_y]):.4f} (in-sample), "
              f"crowd margin-weighted {w:.4f}")
    # Same folds as probe_score_tradeoff: a float32-fitted probe on both precisions' features.
    mu, sd = f32[:n_y].mean(0), f32[:n_y].std(0) + 1e-6
    groups = restaurant_groups(yelp)
    print("probe on the same folds (fit on float32) | draw | AUC float32 | AUC bfloat16 | "
          "top-10 % f32 / bf16")
    for draw in (0, 1):
        fold_of = group_folds(groups, 5, draw)
        yf = np.array([fold_of[g] for g in groups])
        a32: list[float] = []
        a16: list[float] = []
        t32: list[float] = []
        t16: list[float] = []
        for k in range(5):
            tr = yf != k
            clf = LogisticRegression(C=args.C, max_iter=3000)
            clf.fit((f32[:n_y][tr] - mu) / sd, y[tr])
            for feats, aucs, tops in ((f32, a32, t32), (f16, a16, t16)):
                sc = clf.decision_function((feats[:n_y][~tr] - mu) / sd)
                aucs.append(roc_auc_score(y[~tr], sc))
                top = np.argsort(-sc)[: max(1, len(sc) // 10)]
                tops.append(y[~tr][top].mean())
        print(f"  | {draw} | {np.mean(a32):.4f} +- {np.std(a32):.4f} | {np.mean(a16):.4f} +- "
              f"{np.std(a16):.4f} | {np.mean(t32):.1%} / {np.mean(t16):.1%}")


if __name__ == "__main__":
    main()
