"""Print the model card's cross-validated figures from one or more ``train fit`` runs.

Each run directory holds ``report.json`` (written by ``python -m train fit``); runs of the same
setting with different fold draws (``--fold-seed``) are shown side by side, then pooled:

    python scripts/eval_score_cv.py runs/bundled runs/bundled-fold1

Prints: post-worthy AUC and top-10 % share (mean ± sd over folds, per draw), the cross-fitted
calibration (ECE, reliability table), crowd agreement and damage-pair accuracy of the score,
and each reason's precision/recall at its cross-fitted threshold.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _fold_values(report: dict[str, Any], *keys: str) -> list[float]:
    out = []
    for fold in report["metrics"]["folds"]:
        v: Any = fold
        for k in keys:
            v = v.get(k) if isinstance(v, dict) else None
        if isinstance(v, int | float):
            out.append(float(v))
    return out


def _ms(values: list[float], pct: bool = False) -> str:
    if not values:
        return "—"
    m, s = float(np.mean(values)), float(np.std(values))
    return f"{m:.1%} ± {s:.1%}" if pct else f"{m:.3f} ± {s:.3f}"


def load_report(run: Path) -> dict[str, Any]:
    """A run's ``report.json``; for a run stopped after its folds (no final fit), the same
    figures rebuilt from ``folds/fold-*.json``."""
    if (run / "report.json").is_file():
        return dict(json.loads((run / "report.json").read_text()))
    from train.scorefit import fit_score_maps

    folds = [json.loads(f.read_text()) for f in sorted((run / "folds").glob("fold-*.json"))]
    if not folds:
        raise SystemExit(f"{run}: neither report.json nor folds/fold-*.json")
    _, _, doc = fit_score_maps(folds)
    return {"metrics": {"folds": [f["metrics"] for f in folds],
                        "score": {k: v for k, v in doc.items() if k != "lines"}}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", type=Path, nargs="+", help="train fit output folders")
    args = ap.parse_args()
    reports = [load_report(r) for r in args.runs]
    rows = [
        ("post-worthy AUC", ("postworthy", "auc"), False),
        ("top 10 % post-worthy", ("postworthy", "top10"), True),
        ("post-worthy accuracy (logit > 0)", ("postworthy", "accuracy"), True),
        ("crowd agreement, margin-weighted", ("crowd", "weighted_agreement"), True),
        ("crowd agreement, unweighted", ("crowd", "agreement"), True),
        ("damage pairs (score)", ("damage", "accuracy"), True),
        ("AVA SRCC (AVA-style mean)", ("ava", "srcc"), False),
    ]
    head = " | ".join(f"{r.name}" for r in args.runs)
    print(f"| metric | {head} | all folds of all draws |")
    print("|---|" + "---|" * (len(args.runs) + 1))
    for label, keys, pct in rows:
        per = [_fold_values(rep, *keys) for rep in reports]
        if not any(per):
            continue
        cells = " | ".join(_ms(v, pct) for v in per)
        print(f"| {label} | {cells} | {_ms([x for v in per for x in v], pct)} |")
    kinds = sorted({k for rep in reports for f in rep["metrics"]["folds"]
                    for k in f.get("damage", {}).get("per_kind", {})})
    if kinds:
        per_kind = {k: np.mean([x for rep in reports
                                for x in _fold_values(rep, "damage", "per_kind", k)])
                    for k in kinds}
        print("\ndamage pairs per kind (all folds, all draws): "
              + ", ".join(f"{k} {v:.1%}" for k, v in per_kind.items()))
    for run, rep in zip(args.runs, reports, strict=True):
        score = rep["metrics"].get("score", {})
        cal = score.get("calibration")
        if cal:
            print(f"\n{run.name}: calibration ({cal['method']}, cross-fitted over folds) on "
                  f"{cal['n']} photos: ECE {cal['ece']:.3f} (per fold "
                  f"{cal['ece_per_fold']['mean']:.3f} ± {cal['ece_per_fold']['sd']:.3f}), "
                  f"Brier {cal['brier']:.3f}, pooled AUC {cal['pooled_auc']:.3f}, pooled top 10 % "
                  f"{cal['pooled_top10']:.1%}")
            print("| score band | photos | mean score | post-worthy share |")
            print("|---|---|---|---|")
            for r in cal["reliability"]:
                print(f"| {100 * r['lo']:.0f}–{100 * r['hi']:.0f} | {r['n']} | "
                      f"{100 * r['predicted']:.1f} | {100 * r['observed']:.1f} % |")
            q = cal["score_quantiles"]
            print("score quantiles 5/25/50/75/95 %: " + " / ".join(
                f"{q[k]:.0f}" for k in sorted(q, key=float)))
        why = score.get("reasons")
        if why:
            print(f"\n{run.name}: reasons at cross-fitted thresholds (alpha {why['alpha']}): "
                  f"matching reason on {why['matching_given']:.1%} of {why['n_damaged']} damaged "
                  f"copies; no reason on {why['clean_no_reason']:.1%} of {why['n_clean']} "
                  "undamaged photos")
            print("| reason | copies | precision | recall | false alarms on undamaged |")
            print("|---|---|---|---|---|")
            for k, r in why["per_key"].items():
                print(f"| {k} | {r['n_pos']} | {r['precision']:.1%} | {r['recall']:.1%} | "
                      f"{r['false_alarm_on_clean']:.1%} |")


if __name__ == "__main__":
    main()
