"""Evaluation metrics as pure functions over numpy arrays (unit-tested on toy arrays).

Reported the way the seed's tables were, with the naive baseline (predict the train mean)
beside every error, and the spread of predictions so a collapsed model cannot hide.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)


def l1(pred: np.ndarray, true: np.ndarray) -> float:
    """Mean absolute error of the mean score."""
    return float(np.mean(np.abs(np.asarray(pred) - np.asarray(true))))


def l2(pred: np.ndarray, true: np.ndarray) -> float:
    """Mean squared error of the mean score."""
    return float(np.mean((np.asarray(pred) - np.asarray(true)) ** 2))


def _ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean rank), as Spearman's rho needs."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=np.float64)
    sx = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and sx[j + 1] == sx[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0
        i = j + 1
    return ranks


def plcc(pred: np.ndarray, true: np.ndarray) -> float:
    """Pearson linear correlation; 0 when either side is constant."""
    p, t = np.asarray(pred, np.float64), np.asarray(true, np.float64)
    if len(p) < 2 or p.std() == 0 or t.std() == 0:
        return 0.0
    return float(np.corrcoef(p, t)[0, 1])


def srcc(pred: np.ndarray, true: np.ndarray) -> float:
    """Spearman rank correlation."""
    return plcc(_ranks(pred), _ranks(true))


def binary_accuracy(pred: np.ndarray, true: np.ndarray, threshold: float = 5.0) -> float:
    """Share of photos put on the right side of ``threshold`` (AVA's good/bad split)."""
    return float(np.mean((np.asarray(pred) > threshold) == (np.asarray(true) > threshold)))


def emd(p: np.ndarray, q: np.ndarray, r: int = 2) -> float:
    """Earth mover's distance between score distributions (NIMA, r=2), averaged over rows."""
    cp, cq = np.cumsum(np.asarray(p), axis=-1), np.cumsum(np.asarray(q), axis=-1)
    return float(np.mean(np.mean(np.abs(cp - cq) ** r, axis=-1) ** (1.0 / r)))


def dist_mean(p: np.ndarray) -> np.ndarray:
    """Mean score of each 1..K distribution."""
    p = np.asarray(p, np.float64)
    return p @ np.arange(1, p.shape[-1] + 1)


def report(
    pred_dist: np.ndarray, true_dist: np.ndarray, train_mean: float
) -> dict[str, float]:
    """All metrics for one evaluation set, with the naive baseline next to L1 and L2."""
    pm, tm = dist_mean(pred_dist), dist_mean(true_dist)
    naive = np.full_like(tm, train_mean)
    return {
        "n": float(len(tm)),
        "l1": l1(pm, tm),
        "l1_naive": l1(naive, tm),
        "l2": l2(pm, tm),
        "l2_naive": l2(naive, tm),
        "srcc": srcc(pm, tm),
        "plcc": plcc(pm, tm),
        "accuracy_at_5": binary_accuracy(pm, tm),
        "emd": emd(pred_dist, true_dist),
        "pred_sd": float(np.std(pm)),
        "true_sd": float(np.std(tm)),
    }


def pairwise_accuracy(score_a: np.ndarray, score_b: np.ndarray) -> float:
    """Share of pairs where ``a`` (the one that should win) scores strictly higher."""
    return float(np.mean(np.asarray(score_a) > np.asarray(score_b)))


def pair_agreement(
    score_a: np.ndarray, score_b: np.ndarray, p_a: np.ndarray
) -> tuple[float, float]:
    """Agreement with a crowd's majority: (weighted by |p - 0.5|, unweighted).

    Ties in the crowd (p = 0.5) carry no weight and are left out of the unweighted share.
    """
    sa, sb, p = (np.asarray(v, dtype=np.float64) for v in (score_a, score_b, p_a))
    decided = p != 0.5
    if not decided.any():
        return 0.0, 0.0
    agree = ((sa > sb) == (p > 0.5))[decided]
    w = np.abs(p - 0.5)[decided]
    return float(np.sum(w * agree) / np.sum(w)), float(np.mean(agree))


def auc(score: np.ndarray, label: np.ndarray) -> float:
    """Area under the ROC curve: the chance a random positive outscores a random negative
    (ties count half; Mann–Whitney).  0.5 when one class is absent."""
    s, y = np.asarray(score, np.float64), np.asarray(label) > 0.5
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return 0.5
    r = _ranks(s) + 1.0
    return float((r[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def top_share(score: np.ndarray, label: np.ndarray, fraction: float = 0.1) -> float:
    """Share of positives among the best-scored ``fraction`` of photos (at least one photo)."""
    s, y = np.asarray(score, np.float64), np.asarray(label, np.float64)
    k = max(1, round(len(s) * fraction))
    return float(y[np.argsort(-s, kind="mergesort")[:k]].mean())


def reason_report(logit: np.ndarray, label: np.ndarray) -> dict[str, float]:
    """How one reason head separates photos with the flaw from those without: AUC, and
    precision/recall at logit 0 (before its threshold is chosen)."""
    z, y = np.asarray(logit, np.float64), np.asarray(label) > 0.5
    flag = z > 0
    return {"n_pos": int(y.sum()), "auc": auc(z, y),
            "precision_at_0": float((flag & y).sum() / max(int(flag.sum()), 1)),
            "recall_at_0": float((flag & y).sum() / max(int(y.sum()), 1))}
