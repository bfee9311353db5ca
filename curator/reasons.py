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
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

#: The vocabulary, in display order, with the one-line meaning shown to people.
REASONS: dict[str, str] = {
    "blur": "out of focus or shaken: fine detail is smeared",
    "dark": "underexposed: too dark to see the food well",
    "overexposed": "blown out: highlights washed to white",
    "tilted": "straight lines that should be level or upright lean: the camera was tilted",
    "noisy": "grainy: sensor noise over the whole photo",
    "compressed": "heavy JPEG compression: blocky, smeared detail",
}
#: ``cropped`` ("the subject is cut by the frame") was dropped: its learned head gave it on 0
#: of 20 held-out badly cropped copies and 17-37 % of the training-side ones; older model files
#: still carry its head, and ``pick_reasons`` never gives a key outside ``REASONS``.

#: The synthetic damage kind (``train.damage.KINDS``) that teaches each reason.
FROM_DAMAGE: dict[str, str] = {
    "blur": "blur",
    "dark": "dark",
    "blown_out": "overexposed",
    "tilt": "tilted",
    "noise": "noisy",
    "jpeg": "compressed",
}

OUTPUT_PREFIX = "reason:"


@dataclass(frozen=True)
class MeasureRule:
    """A reason given when a classic measure (``curator.measures``) passes a threshold.

    ``below``: the reason is given when the measure is at or under the threshold (else at or
    over).  The threshold lives in the model file under ``key``
    (``scripts/choose_measure_thresholds.py`` chooses it).
    """

    reason: str
    measure: str
    below: bool

    @property
    def key(self) -> str:
        return f"{self.reason}:{self.measure}"


#: The classic rules, beside the learned heads: a reason is given when either says so.
MEASURE_RULES: tuple[MeasureRule, ...] = (
    MeasureRule("dark", "bright_p99", below=True),
    MeasureRule("overexposed", "clipped", below=False),
    MeasureRule("compressed", "blockiness", below=False),
    MeasureRule("compressed", "jpeg_quality", below=True),
    MeasureRule("tilted", "tilt_lines", below=False),
    MeasureRule("blur", "fine_ratio", below=True),
)


#: The rules' thresholds, chosen on the 590 food-pairs photos, a damaged copy of each per kind,
#: everyday-quality JPEG re-saves and the yelp-food photos
#: (``python scripts/choose_measure_thresholds.py``: at most 2 % false alarms on photos without
#: the flaw, 1 % for ``overexposed``, or the middle of a clear gap), never on
#: ``food-photos/``.  Model files carry a copy (``ModelFile.measure_thresholds``); ``train
#: fit`` writes these.
MEASURE_THRESHOLDS: dict[str, float] = {
    "dark:bright_p99": 164.3403,
    "overexposed:clipped": 0.1467,
    "compressed:blockiness": 1.4816,
    "compressed:jpeg_quality": 34.0,
    "tilted:tilt_lines": 0.1563,
    # Held-out half: recall 63 % on food-pairs copies blurred at a random severity, false
    # alarms 1.4 % (2.9 % of yelp-food photos).
    "blur:fine_ratio": 16.2093,
}


def measured_reasons(measures: Mapping[str, float], thresholds: Mapping[str, float]
                     ) -> tuple[str, ...]:
    """The reasons whose classic rule fires, in vocabulary order.

    ``measures``: ``curator.measures.measure`` output (``nan`` = not measurable: never fires);
    ``thresholds``: by ``MeasureRule.key``; rules without a threshold never fire.
    """
    hits = set()
    for rule in MEASURE_RULES:
        t = thresholds.get(rule.key)
        v = measures.get(rule.measure, math.nan)
        if t is None or math.isnan(v):
            continue
        if (v <= t) if rule.below else (v >= t):
            hits.add(rule.reason)
    return tuple(k for k in REASONS if k in hits)


def merge_reasons(learned: tuple[str, ...], measured: tuple[str, ...]) -> tuple[str, ...]:
    """The learned reasons (strongest first), then measured ones not already given."""
    return learned + tuple(k for k in measured if k not in learned)


def output_name(key: str) -> str:
    """The head output that reads reason ``key`` (e.g. ``reason:blur``)."""
    return OUTPUT_PREFIX + key


def pick_reasons(logits: Mapping[str, float], thresholds: Mapping[str, float]) -> tuple[str, ...]:
    """The reasons whose logit reaches its threshold, strongest (largest margin) first.

    ``logits`` and ``thresholds`` are keyed by reason; keys without a threshold, or outside
    ``REASONS`` (a dropped key an older model file still has a head for), are never given.
    """
    hits = [(logits[k] - t, k) for k, t in thresholds.items()
            if k in logits and k in REASONS and logits[k] >= t]
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
