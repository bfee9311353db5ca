"""What the window remembers across launches: sort order, thumbnail size, the score filter.

Plain values in ``QSettings`` under ``view/``; anything unreadable falls back to the default
rather than failing the start.

Paths (last and recent folders, export destinations) go through ``path_setting`` /
``setting_path``: a QString cannot hold the lone surrogate Python uses for a byte that is not
UTF-8 (``root\xe9`` from an old card), and Qt silently drops it.  Such a path is stored as
``fsbytes:`` + the base64 of its bytes; every other path as plain text, as before.  The stored
form never starts with ``/``, so an older Curator takes it for a relative path and skips it.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings

from curator.names import is_utf8, path_bytes

#: Prefix of a stored path that is not valid UTF-8 (the rest: base64 of ``os.fsencode``).
FSBYTES = "fsbytes:"

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


def path_setting(path: Path | str) -> str:
    """``path`` as a QSettings-safe string that ``setting_path`` turns back into the same path."""
    if is_utf8(path):
        return str(path)
    return FSBYTES + base64.b64encode(path_bytes(path)).decode("ascii")


def setting_path(value: Any) -> Path | None:
    """The path ``path_setting`` stored (``None`` for nothing or a malformed value)."""
    if not value or not isinstance(value, str):
        return None
    if value.startswith(FSBYTES):
        try:
            return Path(os.fsdecode(base64.b64decode(value[len(FSBYTES):], validate=True)))
        except (binascii.Error, ValueError):
            log.info("ignoring a malformed stored path %r", value)
            return None
    return Path(value)
