"""Model ▸ Learn From My Choices: trains a personal model in a child process and shows how
often it and the bundled model agree with the owner's held-out choices.

The child is ``python -m train.personal --progress json`` (the app never imports ``train``);
its JSON lines arrive through ``QProcess`` in the GUI thread.  "Use Personal Model" is offered
only when the personal model agrees more often than the bundled one.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QProcess, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from curator.choices import ChoiceStore
from curator.gui.child import train_process
from curator.gui.dialogs import details_toggle

log = logging.getLogger(__name__)


def learn_command(cache_dir: Path, digest: str, out: Path) -> list[str]:
    """Arguments for ``python`` that train a personal model from the remembered choices."""
    return ["-m", "train.personal", "--cache-dir", str(cache_dir), "--model-digest", digest,
            "--out", str(out), "--progress", "json"]


class LearnDialog(QDialog):
    """Train, compare on held-out choices, and offer the personal model if it is better."""

    #: Path of personal.json, when the person chooses to use it (GUI thread).
    personal_ready = Signal(str)
    #: The child finished (GUI thread): True when it produced a model.
    finished_training = Signal(bool)

    def __init__(self, parent: QWidget | None, cache_dir: Path, digest: str, out_root: Path,
                 python: str = sys.executable) -> None:
        super().__init__(parent)
        self.setWindowTitle("Learn from my choices")
        self.resize(640, 420)
        self.cache_dir, self.digest, self.out_root = cache_dir, digest, out_root
        self.python = python
        self.proc: QProcess | None = None
        self.outcome: dict[str, Any] | None = None
        self.out = out_root
        with ChoiceStore.in_dir(cache_dir) as store:
            n = len(store.all())
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(
            f"You have judged {n} photo(s) in Curator (picks, rejects, stars, every folder). "
            "A personal model learns from them; a quarter is held out to check it."))
        self.status = QLabel("Press Train to start.")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setMaximumBlockCount(500)
        lay.addWidget(details_toggle(self.log, "Details (the training's own messages)"))
        lay.addWidget(self.log, 1)
        self.train_btn = QPushButton("Train")
        self.train_btn.clicked.connect(self.start)
        self.use_btn = QPushButton("Use Personal Model")
        self.use_btn.setEnabled(False)
        self.use_btn.clicked.connect(self._use)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        box.addButton(self.train_btn, QDialogButtonBox.ButtonRole.ActionRole)
        box.addButton(self.use_btn, QDialogButtonBox.ButtonRole.AcceptRole)
        box.rejected.connect(self.reject)
        lay.addWidget(box)

    def start(self) -> None:
        self.out = self.out_root / time.strftime("personal-%Y%m%d-%H%M%S")
        args = learn_command(self.cache_dir, self.digest, self.out)
        self.proc = train_process(self)
        self.proc.readyReadStandardOutput.connect(self._read_stdout)
        self.proc.readyReadStandardError.connect(self._read_stderr)
        self.proc.finished.connect(self._finished)
        self.outcome = None
        self.train_btn.setEnabled(False)
        self.use_btn.setEnabled(False)
        self.status.setText("Training…")
        self.log.appendPlainText(f"$ {self.python} {' '.join(args)}")  # under Details
        self.proc.start(self.python, args)

    def _read_stdout(self) -> None:
        assert self.proc is not None
        for line in bytes(self.proc.readAllStandardOutput().data()).decode().splitlines():
            self.log.appendPlainText(line)
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("event") == "done":
                self.outcome = ev
            elif ev.get("event") == "error":
                self.status.setText(f"Cannot train yet: {ev.get('message')}")

    def _read_stderr(self) -> None:
        assert self.proc is not None
        text = bytes(self.proc.readAllStandardError().data()).decode()
        if text.strip():
            self.log.appendPlainText(text.rstrip())

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read_stdout()
        self.train_btn.setEnabled(True)
        r = self.outcome
        if code != 0 or r is None:
            if "Cannot train" not in self.status.text():
                self.status.setText(f"Training failed (exit code {code}); see the log.")
            self.finished_training.emit(False)
            return
        better = bool(r["better"])
        kept, dropped = r.get("heldout_keeps", 0), r.get("heldout_drops", 0)
        sample = (f"On {r['heldout_photos']} photos you judged and Curator held back "
                  f"({kept} kept, {dropped} dropped: {r['heldout_pairs']} kept-vs-dropped "
                  f"pairs), the bundled model agrees with you "
                  f"{100 * r['heldout_agreement_bundled']:.0f}% of the time, your personal "
                  f"model {100 * r['heldout_agreement_personal']:.0f}%. ")
        if not r.get("enough", True):
            verdict = (f"That is too few to tell which is better (it takes at least "
                       f"{r.get('min_each', 10)} kept and {r.get('min_each', 10)} dropped "
                       "photos held back): judge more photos, then train again.")
        elif better:
            verdict = "The personal model is better: use it?"
        else:
            verdict = "The personal model is not better, so Curator keeps the bundled one."
        self.status.setText(sample + verdict)
        self.use_btn.setEnabled(better)
        self.finished_training.emit(True)

    def _use(self) -> None:
        self.personal_ready.emit(str(self.out / "personal.json"))
        self.accept()

    def reject(self) -> None:
        if self.proc is not None and self.proc.state() != QProcess.ProcessState.NotRunning:
            self.proc.kill()
            self.proc.waitForFinished(3000)
        super().reject()
