"""Where Curator's files live, and the model digest: all without importing torch.

Kept torch-free so a fully cached re-scan can answer in well under a second.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
BUNDLED_MODEL = ASSETS_DIR / "model.pt"
SAMPLES_DIR = ASSETS_DIR / "samples"


class ModelFileError(RuntimeError):
    """The model file is missing, corrupt, or of a format this version cannot read."""


def default_model_path() -> Path:
    """``$CURATOR_MODEL`` if set, else the model bundled in ``assets/``."""
    env = os.environ.get("CURATOR_MODEL")
    return Path(env).expanduser() if env else BUNDLED_MODEL


def default_cache_dir() -> Path:
    """``$CURATOR_CACHE_DIR`` if set, else the per-user cache dir of this OS."""
    env = os.environ.get("CURATOR_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("curator", appauthor=False))


def user_data_dir() -> Path:
    """``$CURATOR_DATA_DIR`` if set, else the per-user *data* dir of this OS.

    Trained models live here, not in the cache: clearing a cache must never delete a model.
    """
    env = os.environ.get("CURATOR_DATA_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir as _data_dir

    return Path(_data_dir("curator", appauthor=False))


def file_digest(path: Path) -> str:
    """SHA-256 of a model file's bytes; keys the score cache."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except FileNotFoundError:
        raise ModelFileError(f"model file not found: {path}") from None
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {path}: {exc}") from exc
    return h.hexdigest()
