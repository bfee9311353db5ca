"""Where a restaurant posts photos (Uber Eats, Google, Instagram …) and what each accepts.

The figures are data, in ``destinations.toml`` beside this module (one table per
destination; the README's "Destinations" table gives each figure's source and date).  This
module reads and validates that file and does the arithmetic every destination shares: the
exact-ratio output size for a crop, never enlarging.

Pure Python: no Qt, no torch.
"""

from __future__ import annotations

import functools
import logging
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DATA_FILE = Path(__file__).with_name("destinations.toml")

#: Checks a destination may name in ``reject``/``warn`` (``curator.readiness`` implements them):
#: the reasons vocabulary plus the destination checks.
CHECKS = ("dark", "overexposed", "blur", "tilted", "noisy", "compressed", "cropped",
          "black_and_white", "text", "people", "dish_cut")

#: File formats Curator knows the names of (it writes JPEG).
FORMATS = ("JPEG", "PNG", "WEBP")


class DestinationError(ValueError):
    """The destinations file is malformed, or a destination name is unknown."""


@dataclass(frozen=True)
class Destination:
    """One place photos are posted, as read from ``destinations.toml``.

    Sizes are ``(width, height)`` in pixels; ``ratio`` is a whole-number ``(w, h)`` pair
    (``(5, 4)``), reduced.  ``reject``/``warn`` name checks of ``CHECKS``.
    """

    key: str
    name: str
    ratio: tuple[int, int]
    min_size: tuple[int, int]
    recommended: tuple[int, int]
    formats: tuple[str, ...]
    max_bytes: int
    min_bytes: int
    reject: tuple[str, ...]
    warn: tuple[str, ...]
    source: str
    note: str = ""

    @property
    def aspect(self) -> float:
        """Width / height of the crop (1.25 for 5:4)."""
        return self.ratio[0] / self.ratio[1]

    @property
    def ratio_text(self) -> str:
        return f"{self.ratio[0]}:{self.ratio[1]}"

    def min_output(self) -> tuple[int, int]:
        """The smallest exact-ratio size meeting both ``min_size`` sides (px)."""
        a, b = self.ratio
        k = max(math.ceil(self.min_size[0] / a), math.ceil(self.min_size[1] / b))
        return k * a, k * b

    def output_size(self, crop_w: float, crop_h: float) -> tuple[int, int] | None:
        """Exact-ratio output size (px) for a crop of ``crop_w`` × ``crop_h`` source pixels.

        The recommended size when the crop is at least that big, else the largest
        exact-ratio size that fits in the crop (never enlarged); ``None`` when that is below
        ``min_size`` (too small for this destination).  ``crop_w / crop_h`` should be the
        destination's ratio; the shorter of the two decides.
        """
        a, b = self.ratio
        k_crop = math.floor(min(crop_w / a, crop_h / b) + 1e-6)
        k = min(k_crop, self.recommended[0] // a)
        w, h = k * a, k * b
        if w < self.min_size[0] or h < self.min_size[1]:
            return None
        return w, h

    def checks(self) -> dict[str, str]:
        """``check -> "reject" | "warn"`` for every check this destination applies."""
        return {**{c: "warn" for c in self.warn}, **{c: "reject" for c in self.reject}}


def _pair(v: Any, what: str, key: str) -> tuple[int, int]:
    if (not isinstance(v, list) or len(v) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in v)):
        raise DestinationError(f"{key}: {what} must be two whole numbers above 0, not {v!r}")
    return int(v[0]), int(v[1])


def _names(v: Any, allowed: tuple[str, ...], what: str, key: str) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise DestinationError(f"{key}: {what} must be a list of names")
    bad = [x for x in v if x not in allowed]
    if bad:
        raise DestinationError(f"{key}: unknown {what} {', '.join(bad)} "
                               f"(known: {', '.join(allowed)})")
    return tuple(v)


def _parse(key: str, t: Any) -> Destination:
    if not isinstance(t, dict):
        raise DestinationError(f"{key}: must be a table")
    need = {"name", "ratio", "min_size", "recommended", "formats", "max_bytes", "source"}
    missing = sorted(need - set(t))
    if missing:
        raise DestinationError(f"{key}: missing {', '.join(missing)}")
    ratio = _pair(t["ratio"], "ratio", key)
    g = math.gcd(*ratio)
    ratio = (ratio[0] // g, ratio[1] // g)
    rec = _pair(t["recommended"], "recommended", key)
    if rec[0] * ratio[1] != rec[1] * ratio[0] or rec[0] % ratio[0]:
        raise DestinationError(f"{key}: recommended {rec[0]}x{rec[1]} is not a whole multiple "
                               f"of the ratio {ratio[0]}:{ratio[1]}")
    max_bytes, min_bytes = t["max_bytes"], t.get("min_bytes", 0)
    if not isinstance(max_bytes, int) or not isinstance(min_bytes, int) \
            or not 0 <= min_bytes < max_bytes:
        raise DestinationError(f"{key}: need 0 <= min_bytes < max_bytes (whole bytes)")
    d = Destination(
        key=key, name=str(t["name"]), ratio=ratio,
        min_size=_pair(t["min_size"], "min_size", key), recommended=rec,
        formats=_names(t["formats"], FORMATS, "formats", key),
        max_bytes=max_bytes, min_bytes=min_bytes,
        reject=_names(t.get("reject", []), CHECKS, "reject check", key),
        warn=_names(t.get("warn", []), CHECKS, "warn check", key),
        source=str(t["source"]), note=str(t.get("note", "")))
    if "JPEG" not in d.formats:
        raise DestinationError(f"{key}: Curator writes JPEG, which {d.name} does not take")
    if d.output_size(*d.recommended) is None:
        raise DestinationError(f"{key}: recommended size is below min_size")
    both = set(d.reject) & set(d.warn)
    if both:
        raise DestinationError(f"{key}: {', '.join(sorted(both))} both reject and warn")
    return d


def load_destinations(path: Path = DATA_FILE) -> dict[str, Destination]:
    """Every destination in ``path`` (TOML), by key, in file order.

    Raises ``DestinationError`` naming the table and field at fault.
    """
    try:
        doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DestinationError(f"cannot read {path}: {exc}") from exc
    return {key: _parse(key, t) for key, t in doc.items()}


@functools.lru_cache(maxsize=1)
def destinations() -> dict[str, Destination]:
    """The bundled destinations (read once)."""
    return load_destinations()


def get(key: str) -> Destination:
    """The destination called ``key``; ``DestinationError`` listing the names otherwise."""
    table = destinations()
    k = key.strip().lower()
    if k not in table:
        raise DestinationError(f"unknown destination {key!r}; choose one of "
                               f"{', '.join(table)}")
    return table[k]
