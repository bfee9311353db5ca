"""The owner's culling settings, in one place: how strict, how many to keep, which labels.

One small JSON file in the per-user data folder (``prefs.json``), read by the window and the
command line alike, so a setting chosen in Preferences holds for ``curator export`` too;
the window's Preferences dialog writes it, CLI flags override it for one run.  (The window's
view state — sort, thumbnail size — stays in QSettings: it is the window's own.)

Settings (defaults are what was measured best):

* ``similarity``: how alike photos must be to stack as near-duplicates, ``strict`` … ``loose``
  (``SIMILARITY``: the cosine-distance cut of ``curator.groups``; figures in
  ``SIMILARITY_FIGURES``, from ``scripts/eval_groups.py``);
* ``time_gap_min``: photos whose capture times are further apart than this never stack;
* ``blur`` / ``exposure``: ``lenient``, ``default`` or ``strict`` — the classic measures'
  thresholds moved along their measured recall / false-alarm curve (``strictness.json``,
  written by ``scripts/choose_measure_thresholds.py --levels``); the learned reasons keep
  their own calibrated thresholds;
* ``keep_per_group``: how many photos of each near-duplicate group an export takes (1–9);
* ``stars``: whether the score is written as stars (``xmp:Rating``) by ``--xmp``;
* ``label_green_at`` / ``label_red_at``: a score at or above / at or below which ``--xmp``
  writes the colour label ``Green`` / ``Red`` (``xmp:Label``, the names Lightroom and digiKam
  use); None: no labels (the default).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from curator.fsutil import atomic_write_bytes
from curator.paths import user_data_dir

log = logging.getLogger(__name__)

PREFS_FILE = "prefs.json"

#: ``similarity`` level -> ``GroupConfig.threshold`` (cosine distance).
SIMILARITY: dict[str, float] = {"strict": 0.16, "default": 0.20, "loose": 0.26}
#: What each level does on ``scripts/eval_groups.py --levels 0.16,0.20,0.26``'s sets (shown
#: beside the control), with the same-scene check (``GroupConfig.min_inliers``): labelled
#: near-copies found (pairwise recall), and same-group pairs among 503 yelp-food photos of 16
#: restaurants (across restaurants: never the same scene; within one: 3, true copies by eye).
SIMILARITY_FIGURES: dict[str, str] = {
    "strict": "finds 96 % of near-copies; 0 pairs across restaurants in 503 photos",
    "default": "finds 99 % of near-copies; 0 pairs across restaurants in 503 photos",
    "loose": "finds 99 % of near-copies; 0 pairs across restaurants in 503 photos "
             "(re-takes whose pixels match)",
}
#: Strictness level -> false-alarm budget the thresholds are chosen at.
STRICTNESS_ALPHA: dict[str, float] = {"lenient": 0.005, "default": 0.02, "strict": 0.05}
#: Strictness setting -> the reasons its classic rules give.
STRICTNESS_REASONS: dict[str, tuple[str, ...]] = {"blur": ("blur",),
                                                  "exposure": ("dark", "overexposed")}
STRICTNESS_TABLE = Path(__file__).with_name("strictness.json")
#: xmp:Label values (Lightroom's default label set; digiKam reads the same words).
GREEN, RED = "Green", "Red"


class PrefsError(ValueError):
    """A setting out of its range; the message names it."""


@dataclass(frozen=True)
class Prefs:
    """The culling settings (module docstring)."""

    similarity: str = "default"
    time_gap_min: float = 30.0
    blur: str = "default"
    exposure: str = "default"
    keep_per_group: int = 1
    stars: bool = True
    label_green_at: float | None = None
    label_red_at: float | None = None

    def __post_init__(self) -> None:
        if self.similarity not in SIMILARITY:
            raise PrefsError(f"similarity must be one of {', '.join(SIMILARITY)}")
        for name in ("blur", "exposure"):
            if getattr(self, name) not in STRICTNESS_ALPHA:
                raise PrefsError(f"{name} strictness must be one of "
                                 f"{', '.join(STRICTNESS_ALPHA)}")
        if not 1 <= self.keep_per_group <= 9:
            raise PrefsError("keep per group must be 1 to 9")
        if self.time_gap_min <= 0:
            raise PrefsError("the capture-time gap must be more than 0 minutes")
        g, r = self.label_green_at, self.label_red_at
        for v in (g, r):
            if v is not None and not 0 <= v <= 100:
                raise PrefsError("label scores must be 0 to 100")
        if g is not None and r is not None and r >= g:
            raise PrefsError("the red label's score must be below the green label's")

    # -- what the settings mean to the core ----------------------------------------------------
    def group_config(self) -> Any:
        """``curator.groups.GroupConfig`` for these settings."""
        from curator.groups import GroupConfig

        return GroupConfig(threshold=SIMILARITY[self.similarity],
                           time_gap_s=self.time_gap_min * 60.0)

    def measure_thresholds(self, base: dict[str, float]) -> dict[str, float]:
        """The classic rules' thresholds: ``base`` (the model file's), with the blur and
        exposure rules moved to their strictness level (``default`` keeps ``base``)."""
        out = dict(base)
        table = strictness_table()
        for setting in STRICTNESS_REASONS:
            level = getattr(self, setting)
            if level != "default":
                out.update(table.get(setting, {}).get(level, {}).get("thresholds", {}))
        return out

    def label_for(self, score: float | None) -> str | None:
        """The colour label a 0–100 score maps to (None: none, or no mapping chosen)."""
        if score is None:
            return None
        if self.label_green_at is not None and score >= self.label_green_at:
            return GREEN
        if self.label_red_at is not None and score <= self.label_red_at:
            return RED
        return None

    @property
    def labels(self) -> bool:
        """Whether a score -> label mapping is chosen."""
        return self.label_green_at is not None or self.label_red_at is not None


@lru_cache(maxsize=1)
def strictness_table() -> dict[str, dict[str, dict[str, Any]]]:
    """``strictness.json``'s settings: {setting: {level: {thresholds, recall, false_alarms}}}
    (empty when the file is missing: every level then means the model file's thresholds)."""
    try:
        return dict(json.loads(STRICTNESS_TABLE.read_text())["settings"])
    except (OSError, ValueError, KeyError) as exc:
        log.warning("strictness table %s unusable: %s", STRICTNESS_TABLE, exc)
        return {}


def strictness_figures(setting: str, level: str) -> str:
    """"finds 63 % of blurred copies; 1.4 % false alarms": the figures beside the control."""
    row = strictness_table().get(setting, {}).get(level)
    if not row:
        return ""
    what = {"blur": "blurred", "exposure": "too dark or blown-out"}[setting]
    return (f"flags {row['recall']:.0%} of {what} copies; {row['false_alarms']:.1%} of "
            "photos without the flaw")


def prefs_path(directory: Path | None = None) -> Path:
    return (directory or user_data_dir()) / PREFS_FILE


def load_prefs(directory: Path | None = None) -> Prefs:
    """The saved settings (defaults where the file is missing, unreadable or out of range:
    logged, never fatal)."""
    path = prefs_path(directory)
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return Prefs()
    except (OSError, ValueError) as exc:
        log.warning("settings %s unreadable (%s): using the defaults", path, exc)
        return Prefs()
    known = {f.name for f in fields(Prefs)}
    try:
        return Prefs(**{k: v for k, v in dict(raw).items() if k in known})
    except (PrefsError, TypeError) as exc:
        log.warning("settings %s out of range (%s): using the defaults", path, exc)
        return Prefs()


def save_prefs(prefs: Prefs, directory: Path | None = None) -> Path:
    """Write the settings atomically; returns the file."""
    path = prefs_path(directory)
    atomic_write_bytes(path, (json.dumps(asdict(prefs), indent=2) + "\n").encode())
    return path


def with_overrides(prefs: Prefs, **changes: Any) -> Prefs:
    """``prefs`` with the given settings changed (None values ignored: not given)."""
    return replace(prefs, **{k: v for k, v in changes.items() if v is not None})
