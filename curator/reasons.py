"""Why a photo scores low: a fixed vocabulary of flaws, each read by a learned head.

Each reason is one extra logit of the model's head (``reason:<key>``), read from the same
backbone features as the score, so saying why costs no second pass.  The heads are trained on
photos and their synthetically damaged copies (``train.damage``: a blurred copy is a positive
for ``blur`` and a negative for everything else; undamaged photos are negatives for all).
Each key's threshold is chosen on out-of-fold predictions so that at most ``alpha`` of the
photos without that flaw get the reason (``choose_threshold``); the model file stores it.

Pure Python/numpy: no Qt, no torch.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np

log = logging.getLogger(__name__)

#: The vocabulary, in display order, with the one-line meaning shown to people.
REASONS: dict[str, str] = {
    "blur": "out of focus or shaken: fine detail is smeared",
    "dark": "underexposed: too dark to see the food well",
    "overexposed": "blown out: highlights washed to white",
    "tilted": "the camera was tilted: the frame is rotated",
    "noisy": "grainy: sensor noise over the whole photo",
    "compressed": "heavy JPEG compression: blocky, smeared detail",
    "cropped": "awkwardly cropped: the subject is cut by the frame",
}

#: The synthetic damage kind (``train.damage.KINDS``) that teaches each reason.
FROM_DAMAGE: dict[str, str] = {
    "blur": "blur",
    "dark": "dark",
    "blown_out": "overexposed",
    "tilt": "tilted",
    "noise": "noisy",
    "jpeg": "compressed",
    "bad_crop": "cropped",
}

OUTPUT_PREFIX = "reason:"


def output_name(key: str) -> str:
    """The head output that reads reason ``key`` (e.g. ``reason:blur``)."""
    return OUTPUT_PREFIX + key


def pick_reasons(logits: Mapping[str, float], thresholds: Mapping[str, float]) -> tuple[str, ...]:
    """The reasons whose logit reaches its threshold, strongest (largest margin) first.

    ``logits`` and ``thresholds`` are keyed by reason; keys without a threshold are never given.
    """
    hits = [(logits[k] - t, k) for k, t in thresholds.items()
            if k in logits and logits[k] >= t]
    return tuple(k for _, k in sorted(hits, key=lambda h: (-h[0], list(REASONS).index(h[1])
                                                          if h[1] in REASONS else 99)))


def choose_threshold(logits: np.ndarray, positive: np.ndarray, alpha: float = 0.03) -> float:
    """The logit threshold that flags at most ``alpha`` of the negatives (Neyman–Pearson).

    ``logits`` (N,) are out-of-fold predictions, ``positive`` (N,) bool labels.  Raises
    ``ValueError`` when there are no negatives to bound the false alarms with.
    """
    x = np.asarray(logits, dtype=np.float64)
    neg = x[~np.asarray(positive, dtype=bool)]
    if len(neg) == 0:
        raise ValueError("choosing a reason threshold needs photos without the flaw")
    return float(np.quantile(neg, 1.0 - alpha, method="higher")) + 1e-6


def precision_recall(logits: np.ndarray, positive: np.ndarray, threshold: float
                     ) -> dict[str, float]:
    """Precision, recall and false-alarm rate of ``logits >= threshold`` against ``positive``."""
    x = np.asarray(logits, dtype=np.float64)
    y = np.asarray(positive, dtype=bool)
    flag = x >= threshold
    tp = int((flag & y).sum())
    return {"n_pos": int(y.sum()), "n_neg": int((~y).sum()),
            "precision": tp / max(int(flag.sum()), 1), "recall": tp / max(int(y.sum()), 1),
            "false_alarm": int((flag & ~y).sum()) / max(int((~y).sum()), 1)}
