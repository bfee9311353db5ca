"""The one place that decides how a score is shown, and what the minimum-score filter compares.

The filter compares against exactly the number the grid shows (``shown_score``), so a photo
labelled "60" is never hidden by a minimum of 60.  The user-facing scale is the 0–100 score
(the calibrated chance a food-photo editor would post the photo, ``curator.calibration``);
an older model file's AVA mean is mapped onto it (``curator.culling.score_percent``).
"""

from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox

#: The user-facing scale: 0–100, whole numbers (the minimum-score control's too) ...
SCORE_MIN = 0.0
SCORE_MAX = 100.0
DECIMALS = 0
STEP = 5.0
#: ... except from here up, where one decimal is shown: good photos crowd into the 90s (a third
#: of a folder of decent photos), and there the model's order, which follows the crowd's taste,
#: would otherwise read as ties (a new user's 64 photos: four top photos "93").
FINE_FROM = 90.0


#: Band edges (on the user-facing scale) for the grid's green / amber / red hint: the same
#: edges as the 3- and 2-star bands of ``curator.culling.STAR_BANDS``.
GOOD_FROM = 60.0
FAIR_FROM = 40.0


def score_band(value: float) -> str:
    """"good", "fair" or "poor": the colour hint, judged on the shown number."""
    v = shown_score(value)
    return "good" if v >= GOOD_FROM else "fair" if v >= FAIR_FROM else "poor"


def format_score(value: float) -> str:
    """The score as the grid, tooltip and preview print it: a whole number, with one decimal
    from ``FINE_FROM`` up ("57", "93.4")."""
    if round(value, 1) >= FINE_FROM:
        return f"{value:.1f}"
    return f"{value:.{DECIMALS}f}"


def format_spread(sd: float | None) -> str:
    """The AVA-style spread (± one standard deviation of the predicted 1–10 votes)."""
    return f"{(sd or 0.0):.1f}"


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
