"""What the window remembers across launches: sort order, thumbnail size, the score filter.

Plain values in ``QSettings`` under ``view/``; anything unreadable falls back to the default
rather than failing the start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QSettings

log = logging.getLogger(__name__)


@dataclass
class ViewState:
    """The grid's choices: ``sort`` is a ``SortKey`` value, ``thumb`` px, ``min_score``
    on the displayed scale (None = any)."""

    sort: int = 0
    thumb: int = 180
    min_score: float | None = None


def _number(value: Any, kind: type, default: Any) -> Any:
    try:
        return kind(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def load_view(settings: QSettings) -> ViewState:
    """The remembered view, defaults for anything missing or malformed."""
    d = ViewState()
    return ViewState(sort=_number(settings.value("view/sort"), int, d.sort),
                     thumb=_number(settings.value("view/thumb"), int, d.thumb),
                     min_score=_number(settings.value("view/min_score"), float, d.min_score))


def save_view(settings: QSettings, state: ViewState) -> None:
    settings.setValue("view/sort", state.sort)
    settings.setValue("view/thumb", state.thumb)
    settings.setValue("view/min_score", "" if state.min_score is None else state.min_score)
