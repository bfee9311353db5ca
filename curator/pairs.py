"""RAW+JPEG pairs when half of one is broken: its RAW is ranked on its own.

A pair is one entry scored from its photo (``curator.scan.pair_raws``).  When that photo
cannot be read (a card write error cut the JPEG short), the RAW beside it is still the picture
the owner took: ``rescue_broken_pairs`` dissolves such pairs, so the RAW is scored alone from
its embedded preview and the broken photo is listed with a reason that says so.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from curator.names import path_text
from curator.score import PhotoError, Result

log = logging.getLogger(__name__)


def rescue_broken_pairs(results: list[Result],
                        raw_of: dict[Path, Path]) -> list[tuple[Path, Path]]:
    """(photo, its RAW) for each pair whose photo could not be scored: the RAWs to score on
    their own.

    ``results`` is changed in place (each such ``PhotoError`` now says "its RAW … is ranked
    on its own"), and so is ``raw_of`` (those pairs are removed).
    """
    rescued: list[tuple[Path, Path]] = []
    for i, r in enumerate(results):
        if isinstance(r, PhotoError) and r.path in raw_of:
            raw = raw_of.pop(r.path)
            results[i] = replace(r, reason=f"{r.reason}; its RAW {path_text(raw.name)} is "
                                           "ranked on its own")
            rescued.append((r.path, raw))
            log.info("%s cannot be read: its RAW %s is scored on its own", r.path, raw)
    return rescued
