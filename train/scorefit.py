"""The 0–100 score's calibration and the reasons' thresholds, fitted on out-of-fold outputs.

Every k-fold run leaves, per fold, the post-worthy logits and reason logits of the photos that
fold's head never trained on.  Pooled, they fit the calibration map (``curator.calibration``)
and choose each reason's threshold (``curator.reasons.choose_threshold``) that the exported
model stores.  The figures reported beside them are *cross-fitted*: fold k's photos are
calibrated and thresholded by maps fitted on the other folds only, so the reliability table,
the ECE and the reasons' precision/recall are measured on photos the maps never saw.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from curator.calibration import (
    Calibration,
    expected_calibration_error,
    fit_calibration,
    reliability_table,
)
from curator.reasons import OUTPUT_PREFIX, REASONS, choose_threshold, precision_recall
from train import metrics

log = logging.getLogger(__name__)


def fit_score_maps(folds: list[dict[str, Any]], method: str = "platt", alpha: float = 0.03
                   ) -> tuple[Calibration | None, dict[str, float], dict[str, Any]]:
    """(calibration or None, reason thresholds, report) from the folds' out-of-fold outputs.

    Each fold dict holds ``bin_logit``/``bin_y`` (post-worthy) and ``reason_logits`` (by output
    name)/``reason_y`` (rows of 0/1 per reason key), any of them possibly empty.
    """
    doc: dict[str, Any] = {"lines": []}
    calibration = None
    with_bin = [f for f in folds if f.get("bin_y")]
    if len(with_bin) >= 2:
        calibration, doc["calibration"] = _calibration(with_bin, method)
        c = doc["calibration"]
        doc["lines"].append(
            f"score: pooled out-of-fold AUC {c['pooled_auc']:.3f}, top 10 % "
            f"{c['pooled_top10']:.0%} post-worthy; calibrated ({method}, cross-fitted) ECE "
            f"{c['ece']:.3f}")
    thresholds: dict[str, float] = {}
    with_reasons = [f for f in folds if f.get("reason_logits")]
    if len(with_reasons) >= 2:
        thresholds, doc["reasons"] = _reasons(with_reasons, alpha)
        r = doc["reasons"]
        doc["lines"].append(
            f"reasons (cross-fitted): matching reason given on {r['matching_given']:.0%} of "
            f"damaged copies, no reason on {r['clean_no_reason']:.0%} of undamaged photos")
    return calibration, thresholds, doc


def _calibration(folds: list[dict[str, Any]], method: str) -> tuple[Calibration, dict[str, Any]]:
    z = [np.asarray(f["bin_logit"], np.float64) for f in folds]
    y = [np.asarray(f["bin_y"], np.float64) for f in folds]
    probs = []
    for k in range(len(folds)):
        others = [i for i in range(len(folds)) if i != k]
        cal = fit_calibration(np.concatenate([z[i] for i in others]),
                              np.concatenate([y[i] for i in others]), method)
        probs.append(cal.probability(z[k]))
    p_all, y_all, z_all = np.concatenate(probs), np.concatenate(y), np.concatenate(z)
    per_fold_ece = [expected_calibration_error(p, t) for p, t in zip(probs, y, strict=True)]
    final = fit_calibration(z_all, y_all, method)
    return final, {
        "method": method,
        "n": len(y_all),
        "pooled_auc": metrics.auc(z_all, y_all),
        "pooled_top10": metrics.top_share(z_all, y_all, 0.1),
        "ece": expected_calibration_error(p_all, y_all),
        "ece_per_fold": {"mean": float(np.mean(per_fold_ece)), "sd": float(np.std(per_fold_ece))},
        "brier": float(np.mean((p_all - y_all) ** 2)),
        "reliability": reliability_table(p_all, y_all, 10),
        "score_quantiles": {str(q): float(100 * np.quantile(p_all, q))
                            for q in (0.05, 0.25, 0.5, 0.75, 0.95)},
    }


def _reasons(folds: list[dict[str, Any]], alpha: float) -> tuple[dict[str, float],
                                                                 dict[str, Any]]:
    keys = [k for k in REASONS if OUTPUT_PREFIX + k in folds[0]["reason_logits"]]
    cols = list(REASONS)
    logits = {k: [np.asarray(f["reason_logits"][OUTPUT_PREFIX + k], np.float64) for f in folds]
              for k in keys}
    labels = [np.asarray(f["reason_y"], np.float64).reshape(-1, len(cols)) for f in folds]
    flagged: list[np.ndarray] = []  # per fold (S, keys) bool, cross-fitted thresholds
    for fi in range(len(folds)):
        others = [i for i in range(len(folds)) if i != fi]
        cols_flag = []
        for k in keys:
            j = cols.index(k)
            t = choose_threshold(np.concatenate([logits[k][i] for i in others]),
                                 np.concatenate([labels[i][:, j] for i in others]) > 0.5, alpha)
            cols_flag.append(logits[k][fi] >= t)
        flagged.append(np.stack(cols_flag, axis=1))
    flag_all = np.concatenate(flagged)
    y_all = np.concatenate(labels)[:, [cols.index(k) for k in keys]] > 0.5
    per_key: dict[str, dict[str, Any]] = {}
    for i, k in enumerate(keys):
        tp = int((flag_all[:, i] & y_all[:, i]).sum())
        per_key[k] = {"n_pos": int(y_all[:, i].sum()),
                      "precision": tp / max(int(flag_all[:, i].sum()), 1),
                      "recall": tp / max(int(y_all[:, i].sum()), 1),
                      "false_alarm_on_clean": float(flag_all[~y_all.any(1), i].mean())}
    damaged = np.asarray(y_all.any(1), dtype=bool)
    final = {}
    for k in keys:
        j = cols.index(k)
        z_all = np.concatenate(logits[k])
        pos = np.concatenate([lab[:, j] for lab in labels]) > 0.5
        final[k] = choose_threshold(z_all, pos, alpha)
        per_key[k]["in_sample_at_final"] = precision_recall(z_all, pos, final[k])
    return final, {
        "alpha": alpha,
        "per_key": per_key,
        "matching_given": float(np.asarray((flag_all & y_all).any(1))[damaged].mean()),
        "clean_no_reason": float(np.asarray(~flag_all.any(1))[~damaged].mean()),
        "n_damaged": int(damaged.sum()), "n_clean": int((~damaged).sum()),
    }
