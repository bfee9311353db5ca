"""A person's verdict on a photo, wherever Curator ranks or exports: the sidecars, then memory.

The record other programs see is the photo's own sidecar (for a RAW+JPEG pair: the JPEG's,
else the RAW's): ``xmp:Rating`` and ``digiKam:PickLabel``, unless the rating is stars the
model wrote (``curator.sidecar.is_model_rating``).  A verdict given in the window that could
not be written to a sidecar (read-only, damaged) is still remembered in ``choices.sqlite3``
(``curator.choices``, marked as not saved); it counts when it is newer than the sidecar, so a
later change made in Lightroom or darktable wins over an older one made in Curator.  A
verdict a sidecar took is never brought back from memory: deleting that sidecar clears it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from curator.choices import Choice, ChoiceStore
from curator.culling import Verdict
from curator.sidecar import read_sidecar
from curator.sidecar_paths import Listings, SidecarNote, plan_sidecars

log = logging.getLogger(__name__)

#: A remembered choice counts over a sidecar written less than this long before it (s): the
#: window writes the sidecar, then remembers, within milliseconds.
_SAME_TIME_S = 2.0


@dataclass
class VerdictReader:
    """Reads verdicts for many photos: one folder listing per folder, the remembered choices
    once.  ``unreadable`` gathers the sidecars that could not be read completely."""

    remembered: Mapping[str, Choice] = field(default_factory=dict)
    listings: Listings = field(default_factory=Listings)
    unreadable: list[SidecarNote] = field(default_factory=list)
    #: photo -> the colour label a person gave it (xmp:Label not written by the mapping).
    labels: dict[Path, str] = field(default_factory=dict)

    @classmethod
    def with_choices(cls, cache_dir: Path | None) -> VerdictReader:
        """A reader that also knows the choices remembered in ``cache_dir`` (None: the
        per-user cache folder); an unreadable store is only logged."""
        try:
            remembered = {str(c.path): c for c in ChoiceStore.read_all(cache_dir)}
        except (sqlite3.Error, OSError, ValueError) as exc:  # the sidecars stay the record
            log.warning("remembered choices cannot be read: %s", exc)
            remembered = {}
        return cls(remembered)

    def verdict(self, photo: Path, raw: Path | None = None) -> Verdict:
        """The person's verdict on ``photo`` (a pair: with its ``raw``); empty when none."""
        newest = None
        found = Verdict()
        for p in (photo, raw) if raw is not None else (photo,):
            plan = plan_sidecars(p, self.listings.of(p.parent))
            if plan.read_from is None:
                continue
            info = read_sidecar(p, plan)
            if info.problem is not None:
                self.unreadable.append(SidecarNote(plan.read_from, p, info.problem))
                continue
            try:
                mtime = os.stat(plan.read_from).st_mtime
            except OSError:
                mtime = None
            newest = mtime if newest is None or (mtime or 0) > newest else newest
            if info.label and not info.model_label:
                self.labels.setdefault(photo, info.label)
            v = Verdict.from_sidecar(None if info.model_rating else info.rating,
                                     info.pick_label)
            if found.empty and not v.empty:
                found = v
        choice = self.remembered.get(os.path.abspath(photo))
        if choice is not None and not choice.saved and (
                newest is None or choice.when > newest + _SAME_TIME_S):
            return choice.verdict
        return found
