"""Preprocessing constants shared by inference and training.

They live in the model file, so a head is always fed views made the way it was trained on.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Preprocess:
    """How a photo becomes the two 224 views the backbone sees."""

    view_size: int = 224
    #: The local view is a crop of the photo scaled to this short side: a fixed working
    #: resolution, so "detail" means the same thing for a phone photo and a web thumbnail.
    local_short_side: int = 448
    #: Per-channel normalisation the backbone was trained with (applied inside the model).
    mean: tuple[float, float, float] = field(default=(0.485, 0.456, 0.406))
    std: tuple[float, float, float] = field(default=(0.229, 0.224, 0.225))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["mean"], d["std"] = list(self.mean), list(self.std)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Preprocess:
        return cls(
            view_size=int(d["view_size"]),
            local_short_side=int(d["local_short_side"]),
            mean=tuple(float(x) for x in d["mean"]),  # type: ignore[arg-type]
            std=tuple(float(x) for x in d["std"]),  # type: ignore[arg-type]
        )
