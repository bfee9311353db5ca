"""Model ▸ Retrain: runs ``python -m train fit --progress json`` as a child process.

The app never imports ``train``: it reads the child's JSON lines (progress, folds, the final
summary) and, when it finishes, offers the new model file to the window.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QProcess, QProcessEnvironment, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from curator.gui.dialogs import path_row

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]


def train_command(kind: str, source: Path, tag: int | None, epochs: int, out: Path,
                  folds: int = 5) -> list[str]:
    """Arguments for the child ``python -m train fit`` run."""
    args = ["-m", "train", "fit", "--out", str(out), "--epochs", str(epochs),
            "--progress", "json", "--folds", str(folds)]
    if kind == "ava":
        args += ["--ava-root", str(source)]
        args += ["--all"] if tag is None else ["--tag", str(tag)]
    else:
        args += ["--ratings", str(source)]
    return args


def summary_text(summary: dict[str, Any]) -> str:
    """The evaluation a person needs to decide: error vs the naive guess, and ranking quality."""
    lines = []

    def get(key: str) -> dict[str, float] | None:
        v = summary.get(key)
        return v if isinstance(v, dict) else None

    for prefix, label in (("ava", "AVA photos"), ("ratings", "your ratings")):
        srcc, l1, naive = get(f"{prefix}.srcc"), get(f"{prefix}.l1"), get(f"{prefix}.l1_naive")
        if srcc and l1 and naive:
            lines.append(f"{label}: L1 {l1['mean']:.3f} vs {naive['mean']:.3f} for always "
                         f"guessing the average; SRCC {srcc['mean']:.3f} ± {srcc['sd']:.3f}")
    crowd = get("crowd.weighted_agreement")
    if crowd:
        lines.append(f"agreement with crowd pairs: {crowd['mean']:.1%}")
    auc, top = get("postworthy.auc"), get("postworthy.top10")
    if auc and top:
        lines.append(f"post-worthy photos ranked above the rest (AUC): {auc['mean']:.3f} ± "
                     f"{auc['sd']:.3f}; best tenth post-worthy: {top['mean']:.0%}")
    return "\n".join(lines) or "no evaluation figures"


class RetrainDialog(QDialog):
    """Collects the data source, runs training, shows progress and the evaluation."""

    model_ready = Signal(str)  # path of the new model file

    def __init__(self, parent: QWidget | None, runs_dir: Path, python: str = sys.executable):
        super().__init__(parent)
        self.setWindowTitle("Retrain the model")
        self.resize(640, 520)
        self.runs_dir, self.python = runs_dir, python
        self.proc: QProcess | None = None
        self.out: Path | None = None
        self.summary: dict[str, Any] | None = None
        form = QFormLayout()
        self.kind = QComboBox()
        self.kind.addItem("AVA-format folder (AVA.txt + images/)", "ava")
        self.kind.addItem("Ratings CSV (path,score or path,stars)", "ratings")
        form.addRow("Training data:", self.kind)
        self.source = QLineEdit()
        form.addRow("Location:", path_row(self.source, self._browse))
        tag_row = QHBoxLayout()
        self.tag = QSpinBox()
        self.tag.setRange(0, 100)
        self.tag.setValue(40)
        self.all_tags = QCheckBox("all categories")
        self.all_tags.toggled.connect(lambda on: self.tag.setEnabled(not on))
        tag_row.addWidget(self.tag)
        tag_row.addWidget(QLabel("(40 = Food and Drink)"))
        tag_row.addWidget(self.all_tags)
        form.addRow("AVA category tag:", tag_row)
        self.epochs = QSpinBox()
        self.epochs.setRange(5, 5000)
        self.epochs.setValue(400)
        form.addRow("Epochs:", self.epochs)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.status = QLabel("Ready.")
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setMaximumBlockCount(2000)
        self.buttons = QDialogButtonBox()
        self.start_btn = self.buttons.addButton("Start", QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_btn = self.buttons.addButton("Cancel training",
                                                 QDialogButtonBox.ButtonRole.ActionRole)
        self.use_btn = self.buttons.addButton("Use new model",
                                              QDialogButtonBox.ButtonRole.AcceptRole)
        close = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.cancel_btn.setEnabled(False)
        self.use_btn.setEnabled(False)
        self.start_btn.clicked.connect(self.start)
        self.cancel_btn.clicked.connect(self.cancel)
        self.use_btn.clicked.connect(self._use)
        close.clicked.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addWidget(self.log, 1)
        lay.addWidget(self.buttons)

    def _kind_changed(self) -> None:
        ava = self.kind.currentData() == "ava"
        self.tag.setEnabled(ava and not self.all_tags.isChecked())
        self.all_tags.setEnabled(ava)

    def _browse(self) -> None:
        if self.kind.currentData() == "ava":
            path = QFileDialog.getExistingDirectory(self, "AVA folder", self.source.text())
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Ratings CSV", self.source.text(),
                                                  "CSV files (*.csv)")
        if path:
            self.source.setText(path)

    def start(self) -> None:
        source = Path(self.source.text()).expanduser()
        if not source.exists():
            self.status.setText(f"Not found: {source}")
            return
        self.out = self.runs_dir / time.strftime("run-%Y%m%d-%H%M%S")
        tag = None if self.all_tags.isChecked() else self.tag.value()
        args = train_command(self.kind.currentData(), source, tag, self.epochs.value(), self.out)
        self.proc = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        pp = env.value("PYTHONPATH")
        env.insert("PYTHONPATH", f"{REPO_ROOT}:{pp}" if pp else str(REPO_ROOT))
        self.proc.setProcessEnvironment(env)
        self.proc.setWorkingDirectory(str(REPO_ROOT))
        self.proc.readyReadStandardOutput.connect(self._read_stdout)
        self.proc.readyReadStandardError.connect(self._read_stderr)
        self.proc.finished.connect(self._finished)
        self.summary = None
        self.log.clear()
        self.log.appendPlainText(f"$ {self.python} {' '.join(args)}")
        self.progress.setValue(0)
        self.status.setText("Starting…")
        self.start_btn.setEnabled(False)
        self.cancel_btn.setEnabled(True)
        self.use_btn.setEnabled(False)
        self.proc.start(self.python, args)

    def cancel(self) -> None:
        if self.proc is not None and self.proc.state() != QProcess.ProcessState.NotRunning:
            self.status.setText("Cancelling…")
            self.proc.terminate()
            if not self.proc.waitForFinished(3000):
                self.proc.kill()

    def _read_stdout(self) -> None:
        assert self.proc is not None
        while self.proc.canReadLine():
            line = bytes(self.proc.readLine().data()).decode("utf-8", "replace").strip()
            if line:
                self.handle_event(line)

    def _read_stderr(self) -> None:
        assert self.proc is not None
        text = bytes(self.proc.readAllStandardError().data()).decode("utf-8", "replace")
        for line in text.splitlines():
            if line.strip() and "Warning" not in line:
                self.log.appendPlainText(line)

    def handle_event(self, line: str) -> None:
        """One JSON line from the child: update the progress bar, status and log."""
        try:
            ev = json.loads(line)
        except json.JSONDecodeError:
            self.log.appendPlainText(line)
            return
        kind = ev.get("event")
        if kind == "progress":
            pct = int(100 * ev["done"] / max(1, ev["total"]))
            self.progress.setValue(pct)
            self.status.setText(f"{ev['stage']}: {ev['done']}/{ev['total']}")
        elif kind == "epoch":
            self.progress.setValue(int(100 * ev["epoch"] / max(1, ev["epochs"])))
            self.status.setText(f"{ev['stage']}: epoch {ev['epoch']}/{ev['epochs']}, "
                                f"about {ev.get('eta_s', 0):.0f} s left in this stage")
        elif kind == "message":
            self.log.appendPlainText(ev.get("text", ""))
        elif kind == "fold":
            self.log.appendPlainText(f"fold {ev['fold'] + 1} done")
        elif kind == "error":
            self.status.setText(f"Training failed: {ev.get('message')}")
            self.log.appendPlainText(f"ERROR: {ev.get('message')}")
        elif kind == "done":
            self.summary = ev.get("summary", {})
            self.log.appendPlainText(summary_text(self.summary or {}))

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read_stdout()
        self.start_btn.setEnabled(True)
        self.cancel_btn.setEnabled(False)
        model = self.out / "model.pt" if self.out else None
        if code == 0 and model is not None and model.is_file():
            self.progress.setValue(100)
            self.status.setText("Done. " + summary_text(self.summary or {}).replace("\n", "; "))
            self.use_btn.setEnabled(True)
        elif status == QProcess.ExitStatus.CrashExit:
            self.status.setText("Training cancelled.")
        elif not self.status.text().startswith("Training failed"):
            self.status.setText(f"Training stopped (exit code {code}); see the log.")

    def _use(self) -> None:
        if self.out is not None:
            self.model_ready.emit(str(self.out / "model.pt"))
        self.accept()

    def closeEvent(self, event: Any) -> None:
        self.cancel()
        super().closeEvent(event)

    def reject(self) -> None:
        self.cancel()
        super().reject()
