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

With ``--write OUT`` (one point of the grid) the score row of ``--from`` (default: the bundled
model, whose multi-task head was trained on the same store) is refitted on all the store's
photos and pairs (``train.fit.refit_score``), its Platt calibration refitted on the first
draw's out-of-fold score logits (``train.scorefit.fit_score_maps``, cross-fitted ECE and
reliability table in the file's metrics), and the model file written atomically.  The rest
of the head (vote bins, reasons and their thresholds) is kept as it was.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

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
    ap.add_argument("--write", type=Path, help="write the model with this point's score row")
    ap.add_argument("--from", dest="source", type=Path, help="model file to refit (--write)")
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
    if args.write and len(grid) != 1:
        raise SystemExit("--write takes one point: one --crowd, one --damage, one --C")
    print("crowd L | damage M | C | draw | AUC | top 10 % | crowd | damage | blown-out")
    figures: dict[int, list[tuple[float, ...]]] = {}
    oof: list[dict[str, list[float]]] = []
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
                if draw == draws[0]:
                    oof.append({"bin_logit": zi.tolist(), "bin_y": y.tolist()})
                kinds = np.asarray(te.pair_kind)
                sa, sb = z[te.pair_a.numpy()], z[te.pair_b.numpy()]
                crowd = kinds == "crowd"
                wa, _ = metrics.pair_agreement(sa[crowd], sb[crowd], te.pair_p.numpy()[crowd])
                blown = kinds == "blown_out"
                rows.append((metrics.auc(zi, y), metrics.top_share(zi, y, 0.1), wa,
                             metrics.pairwise_accuracy(sa[~crowd], sb[~crowd]),
                             metrics.pairwise_accuracy(sa[blown], sb[blown])))
            figures[draw] = rows
            m = np.mean(rows, axis=0)
            print(f"{lam:7g} | {mu:8g} | {c:g} | {draw} | {m[0]:.3f} | {m[1]:6.1%} | "
                  f"{m[2]:.3f} | {m[3]:6.1%} | {m[4]:6.1%}", flush=True)
    if args.write:
        write_model(args, fit, tasks, feats, cfg, figures, oof)


def write_model(args: argparse.Namespace, fit: Any, tasks: Any, feats: Any, cfg: Any,
                figures: dict[int, list[tuple[float, ...]]],
                oof: list[dict[str, list[float]]]) -> None:
    """Refit ``--from``'s score row on everything, recalibrate, write ``--write``."""
    import json
    import sys as _sys
    from datetime import UTC, datetime

    from curator.model import Head
    from curator.modelfile import load_model_file, save_model_file
    from curator.paths import BUNDLED_MODEL
    from curator.reasons import MEASURE_THRESHOLDS, REASONS
    from train.__main__ import selections
    from train.fit import make_arrays, refit_score
    from train.scorefit import fit_score_maps

    mf = load_model_file(args.source or BUNDLED_MODEL)
    head = Head(mf.head_config)
    head.load_state_dict(mf.head_state)
    everything = make_arrays(feats, tasks,
                             *selections(tasks, dict.fromkeys(tasks.groups, 0), None, True))
    facts = refit_score(head, everything, cfg)
    calibration, _, doc = fit_score_maps(oof, "platt")
    names = ("auc", "top10", "crowd", "damage", "blown_out")
    per_draw = {str(d): {n: {"mean": float(np.mean([r[i] for r in rows])),
                             "sd": float(np.std([r[i] for r in rows])),
                             "folds": [float(r[i]) for r in rows]}
                         for i, n in enumerate(names)} for d, rows in figures.items()}
    metrics = dict(mf.metrics)
    metrics["score"] = {k: v for k, v in doc.items() if k != "lines"}
    # The summary's score figures are now the refit's, first draw (the rest: the head's).
    first = per_draw[str(min(figures))]
    summary = dict(metrics.get("summary", {}))
    for key, name in (("postworthy.auc", "auc"), ("postworthy.top10", "top10"),
                      ("crowd.weighted_agreement", "crowd"), ("damage.accuracy", "damage")):
        summary[key] = {"mean": first[name]["mean"], "sd": first[name]["sd"],
                        "folds": len(first[name]["folds"])}
    metrics["summary"] = summary
    metrics["score_refit"] = {"score_crowd": cfg.score_crowd, "score_damage": cfg.score_damage,
                              "score_c": cfg.score_c, "facts": facts, "draws": per_draw}
    training = dict(mf.training)
    training["score_refit"] = {
        "command": "python scripts/sweep_score_refit.py " + " ".join(_sys.argv[1:]),
        "from": _shown(args.source or BUNDLED_MODEL), "from_sha256": _digest(args.source),
        "created": datetime.now(UTC).isoformat(timespec="seconds")}
    out = replace(mf, head_state=head.state_dict(), calibration=calibration, metrics=metrics,
                  training=training, measure_thresholds=dict(MEASURE_THRESHOLDS),
                  # A key dropped from the vocabulary (``cropped``) loses its threshold.
                  reason_thresholds={k: v for k, v in mf.reason_thresholds.items()
                                     if k in REASONS})
    save_model_file(args.write, out)
    print(json.dumps(doc.get("lines", [])), f"wrote {args.write}")


def _shown(path: Path) -> str:
    """``path`` relative to the repository when it lies inside it."""
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def _digest(path: Path | None) -> str:
    from curator.paths import BUNDLED_MODEL, file_digest

    return file_digest(path or BUNDLED_MODEL)


if __name__ == "__main__":
    main()
