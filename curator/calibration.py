"""From the head's post-worthy logit to the 0–100 score a person reads, and how to check it.

The score is the calibrated chance that a food-photo editor would post the photo.  The map
from the model's raw log-odds to that chance is fitted once, at training time, on out-of-fold
predictions (photos the fitting model never saw), with scikit-learn:

- ``platt`` (default): a logistic regression on the logit (Platt 1999); strictly increasing,
  so it never ties two photos the model told apart and ranking is unchanged;
- ``isotonic``: scikit-learn's ``IsotonicRegression`` (non-parametric, monotone but with flat
  steps; between its knots the map is linear, as scikit-learn's own ``predict`` is).

Applying the map needs only ``math``/``numpy``: scoring never imports scikit-learn.  The map is
stored in the model file as plain Python values (``Calibration.to_dict``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

METHODS = ("platt", "isotonic")


@dataclass(frozen=True)
class Calibration:
    """A monotone map from the post-worthy logit to a probability in [0, 1].

    ``platt``: p = sigmoid(a * logit + b).  ``isotonic``: p = linear interpolation of the
    knots (``xs`` increasing logits, ``ys`` non-decreasing probabilities), clipped at the ends.
    """

    method: str = "platt"
    a: float = 1.0
    b: float = 0.0
    xs: tuple[float, ...] = field(default=())
    ys: tuple[float, ...] = field(default=())
    #: How many out-of-fold predictions the map was fitted on, and their positive share.
    n: int = 0
    positive_rate: float = 0.0

    def probability(self, logits: Sequence[float] | np.ndarray) -> np.ndarray:
        """Calibrated probabilities (same shape as ``logits``), each in [0, 1]."""
        x = np.asarray(logits, dtype=np.float64)
        if self.method == "isotonic":
            return np.clip(np.interp(x, self.xs, self.ys), 0.0, 1.0)
        z = np.clip(self.a * x + self.b, -60.0, 60.0)
        return 1.0 / (1.0 + np.exp(-z))

    def score(self, logit: float) -> float:
        """The user-facing score of one photo: 100 x the calibrated probability (0–100)."""
        p = float(self.probability([logit])[0])
        return 0.0 if math.isnan(p) else 100.0 * p

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "a": float(self.a), "b": float(self.b),
                "xs": [float(v) for v in self.xs], "ys": [float(v) for v in self.ys],
                "n": int(self.n), "positive_rate": float(self.positive_rate)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Calibration:
        method = str(d.get("method", "platt"))
        if method not in METHODS:
            raise ValueError(f"unknown calibration method {method!r}")
        xs = tuple(float(v) for v in d.get("xs", ()))
        ys = tuple(float(v) for v in d.get("ys", ()))
        if method == "isotonic" and (len(xs) < 2 or len(xs) != len(ys)):
            raise ValueError("isotonic calibration needs matching knots")
        return cls(method, float(d.get("a", 1.0)), float(d.get("b", 0.0)), xs, ys,
                   int(d.get("n", 0)), float(d.get("positive_rate", 0.0)))


def fit_calibration(logits: np.ndarray, labels: np.ndarray, method: str = "platt") -> Calibration:
    """Fit the map on out-of-fold logits (N,) and 0/1 labels (N,) with scikit-learn.

    Raises ``ValueError`` for an unknown method or when both labels are not present.
    """
    x = np.asarray(logits, dtype=np.float64).ravel()
    y = np.asarray(labels, dtype=np.float64).ravel()
    if len(np.unique(y)) < 2:
        raise ValueError("calibration needs both post-worthy and not post-worthy photos")
    if method == "platt":
        from sklearn.linear_model import LogisticRegression

        # Large C: the plain maximum-likelihood Platt fit on one feature (no shrinkage).
        lr = LogisticRegression(C=1e6, max_iter=1000).fit(x.reshape(-1, 1), y)
        return Calibration("platt", float(lr.coef_[0, 0]), float(lr.intercept_[0]),
                           n=len(x), positive_rate=float(y.mean()))
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(x, y)
        return Calibration("isotonic", xs=tuple(float(v) for v in iso.X_thresholds_),
                           ys=tuple(float(v) for v in iso.y_thresholds_),
                           n=len(x), positive_rate=float(y.mean()))
    raise ValueError(f"unknown calibration method {method!r}; use one of {METHODS}")


def reliability_table(prob: np.ndarray, labels: np.ndarray, bins: int = 10
                      ) -> list[dict[str, float]]:
    """Equal-width bins over [0, 1]: for each non-empty bin, its range, the number of photos,
    the mean predicted probability and the observed share of positives."""
    p = np.asarray(prob, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        m = idx == b
        if m.any():
            rows.append({"lo": b / bins, "hi": (b + 1) / bins, "n": int(m.sum()),
                         "predicted": float(p[m].mean()), "observed": float(y[m].mean())})
    return rows


def expected_calibration_error(prob: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """ECE: the photo-weighted mean of |observed share - mean prediction| over equal-width bins
    (Guo et al. 2017).  0 is perfect; a constant 0.5 on balanced data scores 0."""
    rows = reliability_table(prob, labels, bins)
    n = sum(r["n"] for r in rows)
    return float(sum(r["n"] * abs(r["observed"] - r["predicted"]) for r in rows) / max(n, 1))
