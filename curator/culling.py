"""Culling state: a person's verdict on a photo (pick / reject / stars), and score -> stars.

Star bands are defined on the 0–100 user-facing score (``PhotoScore.score``, the calibrated
chance an editor would post the photo):

==========  =======
score       stars
==========  =======
80–100      5
60–79.9     4
40–59.9     3
20–39.9     2
0–19.9      1
==========  =======

Until that score exists, ``score_percent`` maps the AVA mean linearly, 4.0 -> 0 and 7.0 -> 100
(clamped), which spreads the bundled model's usual 4.5–6.5 over the bands; it is the one line
to drop when the calibrated score lands.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from curator.score import PhotoScore

log = logging.getLogger(__name__)

STAR_BANDS: tuple[tuple[float, int], ...] = ((80.0, 5), (60.0, 4), (40.0, 3), (20.0, 2),
                                             (0.0, 1))
_AVA_ZERO, _AVA_FULL = 4.0, 7.0


class Flag(IntEnum):
    """Lightroom's flags: pick, reject, or none."""

    REJECT = -1
    NONE = 0
    PICK = 1


@dataclass(frozen=True)
class Verdict:
    """A person's decision on one photo: a flag and 0–5 stars (0 = unrated)."""

    flag: Flag = Flag.NONE
    stars: int = 0

    @property
    def empty(self) -> bool:
        return self.flag == Flag.NONE and self.stars == 0

    @classmethod
    def from_sidecar(cls, rating: int | None, pick_label: int | None) -> Verdict:
        """From ``xmp:Rating`` and ``digiKam:PickLabel`` (see ``curator.sidecar``)."""
        if (rating is not None and rating < 0) or pick_label == 1:
            return cls(Flag.REJECT, 0)
        flag = Flag.PICK if pick_label == 3 else Flag.NONE
        return cls(flag, max(0, min(5, rating or 0)))


def score_percent(s: PhotoScore) -> float:
    """The photo's 0–100 user-facing score (an older model file's AVA mean, mapped linearly)."""
    if s.score is not None:
        return float(s.score)
    return max(0.0, min(100.0, (s.mean - _AVA_ZERO) / (_AVA_FULL - _AVA_ZERO) * 100.0))


def stars_for(score: float) -> int:
    """Stars 1–5 for a 0–100 score (bands above)."""
    for floor, stars in STAR_BANDS:
        if score >= floor:
            return stars
    return 1
