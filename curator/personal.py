"""A personal model: the owner's own taste, learned from their picks, rejects and stars.

It is a small logistic model over the photo's near-duplicate embedding (``curator.groups``,
kept in the score cache) and the bundled model's score, trained by ``python -m
train.personal`` (a child process: the app never imports ``train``).  It gives the chance the
owner keeps a photo; shown and ranked as a 0–100 score (``display_score``).  Stored as JSON
(weights, standardisation, the model digest whose embeddings it reads, its held-out figures).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

FORMAT = "curator-personal/1"


@dataclass(frozen=True)
class PersonalModel:
    """Weights over [embedding (EMBED_DIM), base score] after standardisation."""

    weights: np.ndarray  # (D + 1,)
    bias: float
    mean: np.ndarray  # (D + 1,)
    scale: np.ndarray  # (D + 1,)
    base_model: str  # digest of the model whose embeddings and scores it was trained on
    metrics: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "weights": self.weights.tolist(), "bias": self.bias,
                "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "base_model": self.base_model, "metrics": self.metrics}

    @classmethod
    def load(cls, path: Path) -> PersonalModel:
        """Read a personal model file; raises ValueError when it is not one."""
        d = json.loads(Path(path).read_text(encoding="utf-8"))
        if d.get("format") != FORMAT:
            raise ValueError(f"{path} is not a Curator personal model")
        return cls(np.asarray(d["weights"], np.float64), float(d["bias"]),
                   np.asarray(d["mean"], np.float64), np.asarray(d["scale"], np.float64),
                   str(d["base_model"]), dict(d.get("metrics", {})))

    def logits(self, embeddings: np.ndarray, base: np.ndarray) -> np.ndarray:
        """(N,) log-odds that the owner keeps each photo: embeddings (N, D), base scores (N,)."""
        x = np.concatenate([np.asarray(embeddings, np.float64),
                            np.asarray(base, np.float64)[:, None]], axis=1)
        return ((x - self.mean) / self.scale) @ self.weights + self.bias

    def display_score(self, embedding: np.ndarray, base: float) -> float:
        """0–100: the chance (in percent) the owner keeps this photo."""
        z = float(self.logits(embedding[None, :], np.array([base]))[0])
        return 100.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def pairwise_agreement(scores: np.ndarray, keep: np.ndarray) -> tuple[float, int]:
    """How often ``scores`` put a kept photo above a dropped one: (fraction, pairs).

    ``keep``: (N,) 0/1.  Every (kept, dropped) pair counts once; ties count a half.
    Returns (nan, 0) without such pairs.
    """
    s = np.asarray(scores, np.float64)
    k = np.asarray(keep).astype(bool)
    hi, lo = s[k], s[~k]
    if not len(hi) or not len(lo):
        return float("nan"), 0
    diff = hi[:, None] - lo[None, :]
    return float(((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size), int(diff.size)
