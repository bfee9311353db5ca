"""Trace the score's trade-off (editor's labels, crowd taste, damage pairs) on a feature store.

``python -m train fit --store S --score-refit --score-crowd L --score-damage M`` refits the
score row of each fold's head as a convex logistic regression (``train.fit.fit_score_row``).
That fit reads only the eval-view features, standardised (any per-feature affine map of them,
the head's BatchNorm included, gives the same score), so its out-of-fold figures can be had
without fitting the multi-task heads: this script does exactly the refit of every fold of the
given fold draws for each (L, M, C) asked for, and prints what ``train fit`` would report for
the score: held-out restaurants' AUC and top-10 % post-worthy, margin-weighted crowd
agreement, damage-pair accuracy (and blown-out pairs, the kind that pulls against the labels),
mean over the 5 folds per draw.

    python scripts/sweep_score_refit.py --store runs/c32-store --draws 0,1 \\
        --crowd 0.5,1 --damage 0.25,0.5 [--C 1e-3]

Same folds as ``train fit`` (``--fold-seed`` = the draw; draw 0 is the default seed 0).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    from train import metrics
    from train.__main__ import assign_folds, build_parser, parse_fit, selections
    from train.extract_cmd import open_for_fit
    from train.fit import eval_inputs, fit_score_row, make_arrays
    from train.store import StoreFeatures

    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--draws", default="0,1")
    ap.add_argument("--crowd", default="0.5")
    ap.add_argument("--damage", default="0.25")
    ap.add_argument("--C", default="1e-3")
    args = ap.parse_args()
    fit = parse_fit(build_parser().parse_args(["fit", "--store", str(args.store),
                                               "--out", "/nonexistent-sweep"]))
    tasks, role, _desc, store = open_for_fit(fit)
    feats = StoreFeatures(store, [s.key for s in tasks.samples])
    grid = list(itertools.product([float(v) for v in args.crowd.split(",")],
                                  [float(v) for v in args.damage.split(",")],
                                  [float(v) for v in args.C.split(",")]))
    draws = [int(v) for v in args.draws.split(",")]
    # Arrays per (draw, fold), made once: the grid reuses them.
    folds = {}
    for draw in draws:
        fold_of, test_folds = assign_folds(tasks, replace(fit, fold_seed=draw), role)
        for k in test_folds:
            tr = make_arrays(feats, tasks, *selections(tasks, fold_of, k, include=False))
            te = make_arrays(feats, tasks, *selections(tasks, fold_of, k, include=True))
            folds[draw, k] = (tr, eval_inputs(tr).double().numpy(),
                              te, eval_inputs(te).double().numpy())
        print(f"draw {draw}: {len(test_folds)} folds ready", file=sys.stderr)
    print("crowd L | damage M | C | draw | AUC | top 10 % | crowd | damage | blown-out")
    for lam, mu, c in grid:
        cfg = replace(fit.head, score_crowd=lam, score_damage=mu, score_c=c)
        for draw in draws:
            rows = []
            for (d, _k), (tr, xtr, te, xte) in folds.items():
                if d != draw:
                    continue
                w, b, _ = fit_score_row(xtr, tr, cfg)
                z = xte @ w + b
                zi, y = z[te.bin_idx.numpy()], te.bin_y.numpy()
                kinds = np.asarray(te.pair_kind)
                sa, sb = z[te.pair_a.numpy()], z[te.pair_b.numpy()]
                crowd = kinds == "crowd"
                wa, _ = metrics.pair_agreement(sa[crowd], sb[crowd], te.pair_p.numpy()[crowd])
                blown = kinds == "blown_out"
                rows.append((metrics.auc(zi, y), metrics.top_share(zi, y, 0.1), wa,
                             metrics.pairwise_accuracy(sa[~crowd], sb[~crowd]),
                             metrics.pairwise_accuracy(sa[blown], sb[blown])))
            m = np.mean(rows, axis=0)
            print(f"{lam:7g} | {mu:8g} | {c:g} | {draw} | {m[0]:.3f} | {m[1]:6.1%} | "
                  f"{m[2]:.3f} | {m[3]:6.1%} | {m[4]:6.1%}", flush=True)


if __name__ == "__main__":
    main()
