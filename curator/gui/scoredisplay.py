"""The one place that decides how a score is shown, and what the minimum-score filter compares.

The filter compares against exactly the number the grid shows (``shown_score``), so a photo
labelled "6.0" is never hidden by a minimum of 6.0.  Switching the user-facing scale (for
example to a 0–100 score) is an edit here: scale, decimals, and which field is the score.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox

#: The user-facing scale: AVA mean vote, 1–10, one decimal.
SCORE_MIN = 1.0
SCORE_MAX = 10.0
DECIMALS = 1
STEP = 0.1


#: Band edges (on the user-facing scale) for the grid's green / amber / red hint.
GOOD_FROM = 6.0
FAIR_FROM = 5.0


def score_band(value: float) -> str:
    """"good", "fair" or "poor": the colour hint, judged on the shown number."""
    v = shown_score(value)
    return "good" if v >= GOOD_FROM else "fair" if v >= FAIR_FROM else "poor"


def format_score(value: float) -> str:
    """The score as the grid, tooltip and preview print it."""
    return f"{value:.{DECIMALS}f}"


def format_spread(sd: float | None) -> str:
    """The spread (± one standard deviation of the predicted votes), same units."""
    return f"{(sd or 0.0):.{DECIMALS}f}"


def shown_score(value: float) -> float:
    """The displayed number as a float: what the filter compares."""
    return float(format_score(value))


def passes(value: float | None, minimum: float | None) -> bool:
    """True when a photo scored ``value`` is kept by a minimum of ``minimum`` (None = any)."""
    if minimum is None:
        return True
    return value is not None and shown_score(value) >= round(minimum, DECIMALS)


def configure_min_spin(spin: QDoubleSpinBox, any_text: str = "any") -> None:
    """Range, step and decimals of a minimum-score control; its lowest value means "any"."""
    spin.setDecimals(DECIMALS)
    spin.setRange(SCORE_MIN, SCORE_MAX)
    spin.setSingleStep(STEP)
    if any_text:
        spin.setSpecialValueText(any_text)


def min_from_spin(spin: QDoubleSpinBox) -> float | None:
    """The spin box's minimum score, None for "any" (its lowest value)."""
    v = spin.value()
    return None if v <= spin.minimum() else round(v, DECIMALS)
