"""Child processes the window starts (``python -m train ...``): one way to set them up."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]


def train_process(parent: QObject) -> QProcess:
    """A ``QProcess`` that runs from the repository root with this ``curator``/``train`` first
    on ``PYTHONPATH`` and unbuffered output (its JSON lines arrive as they are printed)."""
    proc = QProcess(parent)
    env = QProcessEnvironment.systemEnvironment()
    env.insert("PYTHONUNBUFFERED", "1")
    pp = env.value("PYTHONPATH")
    env.insert("PYTHONPATH", f"{REPO_ROOT}:{pp}" if pp else str(REPO_ROOT))
    proc.setProcessEnvironment(env)
    proc.setWorkingDirectory(str(REPO_ROOT))
    return proc
