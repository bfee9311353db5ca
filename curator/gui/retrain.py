"""Model ▸ Retrain: runs ``python -m train fit --progress json`` as a child process.

The app never imports ``train``: it reads the child's JSON lines (progress, folds, the final
summary) and, when it finishes, offers the new model file to the window.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QProcess, QProcessEnvironment, Qt, Signal
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
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from curator.gui.dialogs import details_toggle, path_row
from curator.paths import BUNDLED_MODEL, default_cache_dir, user_data_dir
from curator.progress import format_eta

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
    elif kind in ("labelled", "labelled_csv"):
        args += ["--labelled", str(source)]
    elif kind == "yelp":
        args += ["--yelp", str(source)]
    else:
        args += ["--ratings", str(source)]
    return args


#: The training data an owner can give, the kinds an owner has first (AVA, a research data
#: set, last): (kind, label in the dialog).  ``train_command`` maps each to its flag.
DATA_KINDS: tuple[tuple[str, str], ...] = (
    ("labelled", "My photos sorted into good/ and bad/ (or keep/ and reject/) folders"),
    ("labelled_csv", "A list of my verdicts: CSV of path,label (good/bad, keep/reject, 1/0)"),
    ("ratings", "My ratings: CSV of path,score (1–10) or path,stars (1–5)"),
    ("yelp", "A yelp-food style folder (labels.csv + images/)"),
    ("ava", "The AVA photo-contest data set (AVA.txt + images/)"),
)
#: Sub-folder pairs of a labelled folder (the same pairs ``python -m train`` reads).
LABEL_FOLDERS = (("good", "bad"), ("keep", "reject"))


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color: palette(mid)")
    return label


def models_dir() -> Path:
    """Where trained models live: ``<user data dir>/models/<name>/model.pt`` (not a cache)."""
    return user_data_dir() / "models"


def trained_models(root: Path) -> list[tuple[str, Path]]:
    """(name, model file) of every finished trained model under ``root``, newest first."""
    if not root.is_dir():
        return []
    found = [(d.name, d / "model.pt") for d in root.iterdir()
             if d.is_dir() and not d.name.startswith(".") and (d / "model.pt").is_file()]
    return sorted(found, key=lambda t: t[1].stat().st_mtime, reverse=True)


def safe_name(name: str) -> str:
    """A model name usable as a folder name on every OS (the name the owner typed, tidied)."""
    cleaned = re.sub(r'[<>:"/\\|?*\x00-\x1f]', " ", name).strip().strip(".")
    return re.sub(r"\s+", " ", cleaned)[:80]


#: Command-line words a child's error may use, and the dialog's own words for them.
_FLAG_WORDS = (
    (r"Pick another --tag or use --all\.?",
     "Pick another “AVA category” or tick “all categories”."),
    (r"--folds (\d+)", r"\1 (photos are held out in \1 rounds to test each model fairly)"),
    (r"--tag", "“AVA category”"),
    (r"--all", "“all categories”"),
    (r"--ava-root", "the AVA folder (Location)"),
    (r"--ratings", "the ratings CSV (Location)"),
    (r"--epochs", "“Training rounds”"),
    (r"give (the AVA folder \(Location\)), .*", r"choose a Location"),
)


def in_dialog_words(message: str) -> str:
    """A child error rewritten with the dialog's controls instead of command-line flags."""
    for pattern, words in _FLAG_WORDS:
        message = re.sub(pattern, words, message)
    return message


def _metric(summary: dict[str, Any], key: str) -> float | None:
    v = summary.get(key)
    return float(v["mean"]) if isinstance(v, dict) and "mean" in v else None


def plain_results(summary: dict[str, Any]) -> list[str]:
    """How the model did on photos it did not train on, in plain sentences."""
    lines = []
    for prefix, label in (("ava", "AVA photos"), ("ratings", "your rated photos")):
        srcc, l1, naive = (_metric(summary, f"{prefix}.{k}") for k in ("srcc", "l1", "l1_naive"))
        n = summary.get(f"{prefix}.srcc", {}).get("folds") if srcc is not None else None
        if srcc is not None:
            lines.append(f"On {label} it had not seen, its order agrees with people's votes "
                         f"{srcc:.2f} (0 = no better than chance, 1 = the same order)"
                         + (f", averaged over {n} held-out rounds." if n else "."))
        if l1 is not None and naive:
            better = 100 * (naive - l1) / naive
            lines.append(f"Its scores are off by {l1:.2f} points on average, against "
                         f"{naive:.2f} for always guessing the average score "
                         f"({abs(better):.0f} % {'closer' if better >= 0 else 'further off'}).")
    crowd = _metric(summary, "crowd.weighted_agreement")
    if crowd is not None:
        lines.append(f"Of two photos, it picks the one people preferred {crowd:.0%} of the "
                     "time (a coin toss gets 50 %).")
    auc, top = _metric(summary, "postworthy.auc"), _metric(summary, "postworthy.top10")
    if auc is not None:
        lines.append(f"Given a post-worthy photo and one that is not, it ranks the post-worthy one "
                     f"higher {auc:.0%} of the time (a coin toss gets 50 %)"
                     + (f"; {top:.0%} of its top tenth are post-worthy." if top is not None
                        else "."))
    return lines


def compare_models(new: dict[str, Any], current: dict[str, Any], current_name: str,
                   same_photos: bool = False) -> str:
    """One sentence: the new model against the current one on the measure both report.

    ``same_photos``: ``current`` was measured on the new run's own held-out photos (``train
    fit --compare-model``); otherwise it is the current model's recorded figures.
    """
    for key, label, higher in (("postworthy.auc", "post-worthy photos ranked first (AUC)", True),
                               ("ava.srcc", "ranking agreement", True),
                               ("ratings.srcc", "ranking agreement on ratings", True),
                               ("crowd.weighted_agreement", "crowd agreement", True),
                               ("ava.l1", "average error", False)):
        a, b = _metric(new, key), _metric(current, key)
        if a is None or b is None:
            continue
        diff = (a - b) if higher else (b - a)
        verdict = ("better than" if diff > 0.01 else "worse than" if diff < -0.01
                   else "about the same as")
        if same_photos:
            return (f"The new model is {verdict} {current_name}: {label} {a:.2f} against "
                    f"{b:.2f}, both measured on the same photos the new model did not train on.")
        return (f"The new model is {verdict} {current_name}: {label} {a:.2f} against "
                f"{b:.2f}. Note: {current_name}'s figure was measured on its own held-out "
                "photos, which are not the same ones.")
    return f"{current_name} records no figure to compare with."


def summary_text(summary: dict[str, Any]) -> str:
    """The evaluation a person needs to decide, in plain words (one sentence a line)."""
    return "\n".join(plain_results(summary)) or "no evaluation figures"


def model_card_markdown(name: str, training: dict[str, Any], metrics: dict[str, Any]) -> str:
    """Model ▸ About for a trained model: a readable card, not raw metric keys."""
    data = training.get("data", {})
    created = str(training.get("created", "unknown")).replace("T", " ")[:16]
    lines = [f"# {name}", "", f"**Trained:** {created}", ""]
    if isinstance(data, dict) and data:
        what = ", ".join(f"{k}: {v}" for k, v in data.items()
                         if isinstance(v, str | int | float) and k not in ("unreadable",))
        if what:
            lines += [f"**Training data:** {what}", ""]
    results = plain_results(metrics.get("summary", {}))
    lines += ["## How well it does on photos it did not see", ""]
    lines += [f"- {r}" for r in results] or ["- no evaluation figures were recorded"]
    lines += ["", "## How it was made", "", str(training.get("method", "not recorded")), ""]
    return "\n".join(lines)


def overall_fraction(stage: str, done: int, total: int, folds: int) -> float | None:
    """Where a child's stage progress sits in the whole run, 0…1 (None: unknown stage).

    Reading photo features is the first 30 %; the held-out rounds and the final fit share
    the rest equally.
    """
    part = done / max(1, total)
    if stage == "features":
        return 0.3 * part
    m = re.match(r"fold (\d+)/(\d+)", stage)
    rounds = folds + 1
    if m:
        k, n = int(m.group(1)), int(m.group(2))
        rounds = n + 1
        return 0.3 + 0.7 * (k - 1 + part) / rounds
    if stage == "held-out split":
        return 0.3 + 0.7 * part / 2
    if stage == "final fit":
        return 0.3 + 0.7 * (rounds - 1 + part) / rounds
    return None


class RetrainDialog(QDialog):
    """Collects the data source and a name, trains in a child process, says how it went.

    Not modal: the owner keeps browsing while it runs.  The model is written to a hidden
    folder beside the others and renamed to its name only when training succeeded; a
    cancelled or failed run leaves nothing behind.
    """

    model_ready = Signal(str)  # path of the new model file

    def __init__(self, parent: QWidget | None, runs_dir: Path, python: str = sys.executable,
                 current_model: Path = BUNDLED_MODEL, folds: int = 5) -> None:
        super().__init__(parent)
        self.setWindowTitle("Retrain the model")
        self.setWindowModality(Qt.WindowModality.NonModal)
        self.resize(660, 560)
        self.runs_dir, self.python = runs_dir, python
        self.current_model = current_model
        self.folds = folds
        self.proc: QProcess | None = None
        self.work: Path | None = None  # the hidden folder the child writes
        self.out: Path | None = None  # the named folder once finished
        self.summary: dict[str, Any] | None = None
        #: The current model's figures on the new run's held-out photos (``--compare-model``).
        self.compare_summary: dict[str, Any] | None = None
        self.t_start = 0.0
        self.fraction = 0.0
        form = QFormLayout()
        self.name = QLineEdit(time.strftime("Food model %Y-%m-%d %H.%M"))
        form.addRow("Name:", self.name)
        self.kind = QComboBox()
        for kind, label in DATA_KINDS:
            self.kind.addItem(label, kind)
        form.addRow("Training data:", self.kind)
        self.source = QLineEdit()
        self.source.setPlaceholderText("choose the folder or CSV file")
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
        tag_row.addStretch(1)
        form.addRow("AVA category:", tag_row)
        form.addRow("", _note("AVA is a public collection of photo-contest entries, each in a "
                              "topic (its “category”); 40 is Food and Drink. Used only when "
                              "the training data above is AVA."))
        self.epochs = QSpinBox()
        self.epochs.setRange(5, 5000)
        self.epochs.setValue(400)
        self.epochs.setToolTip("How many passes over the photos; training stops early when "
                               "more would not help.")
        form.addRow("Training rounds:", self.epochs)
        form.addRow("", _note("How many times training goes over all the photos; it stops "
                              "early by itself when more rounds would not help, so the "
                              "default is fine."))
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self._kind_changed()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.status = QLabel("Choose the training data, then Start.")
        self.status.setWordWrap(True)  # long messages wrap; they never widen the dialog
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setMaximumBlockCount(2000)
        self.buttons = QDialogButtonBox()
        self.start_btn = self.buttons.addButton("Start", QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_btn = self.buttons.addButton("Cancel training",
                                                 QDialogButtonBox.ButtonRole.ActionRole)
        self.use_btn = self.buttons.addButton("Use new model",
                                              QDialogButtonBox.ButtonRole.AcceptRole)
        close = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.setToolTip("Training goes on in the background when you close this window")
        self.cancel_btn.setEnabled(False)
        self.use_btn.setEnabled(False)
        self.start_btn.clicked.connect(self.start)
        self.cancel_btn.clicked.connect(self.cancel)
        self.use_btn.clicked.connect(self._use)
        close.clicked.connect(self.hide)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addWidget(details_toggle(self.log, "Details (the training's own messages)"))
        lay.addWidget(self.log, 1)
        lay.addWidget(self.buttons)

    def _kind_changed(self) -> None:
        ava = self.kind.currentData() == "ava"
        self.tag.setEnabled(ava and not self.all_tags.isChecked())
        self.all_tags.setEnabled(ava)

    def _browse(self) -> None:
        if self.kind.currentData() in ("labelled", "yelp", "ava"):
            path = QFileDialog.getExistingDirectory(self, "Training data folder",
                                                    self.source.text())
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Training data CSV", self.source.text(),
                                                  "CSV files (*.csv)")
        if path:
            self.source.setText(path)

    def running(self) -> bool:
        return self.proc is not None and self.proc.state() != QProcess.ProcessState.NotRunning

    def problem(self) -> str | None:
        """Why Start cannot begin, in the dialog's own words; None when it can."""
        name = safe_name(self.name.text())
        if not name:
            return "Give the new model a name."
        if (self.runs_dir / name).exists():
            return f"A model called “{name}” already exists. Choose another name."
        text = self.source.text().strip()
        if not text:
            return ("Choose the training data first: click Choose… next to Location.")
        source = Path(text).expanduser()
        if not source.is_absolute():
            return "Location must be a full path (use Choose…)."
        kind = self.kind.currentData()
        if kind in ("labelled", "yelp", "ava"):
            if not source.is_dir():
                return f"Location is not a folder: {source}"
            if kind == "ava" and not (source / "AVA.txt").is_file():
                return (f"{source} has no AVA.txt. An AVA-format folder holds AVA.txt and an "
                        "images/ folder.")
            if kind == "yelp" and not (source / "labels.csv").is_file():
                return f"{source} has no labels.csv (a yelp-food folder holds it and images/)."
            if kind == "labelled" and not any(
                    (source / a).is_dir() and (source / b).is_dir() for a, b in LABEL_FOLDERS):
                return (f"{source} needs a good/ and a bad/ folder inside it (or keep/ and "
                        "reject/), holding the photos you like and those you don't.")
        else:
            if not source.is_file():
                return f"Location is not a file: {source}"
            if source.suffix.lower() != ".csv":
                return "For this kind of training data, Location must be a .csv file."
        return None

    def start(self) -> None:
        problem = self.problem()
        if problem:
            self.status.setText(problem)
            return
        source = Path(self.source.text().strip()).expanduser()
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.work = self.runs_dir / time.strftime(".training-%Y%m%d-%H%M%S")
        self.out = None
        tag = None if self.all_tags.isChecked() else self.tag.value()
        args = train_command(self.kind.currentData(), source, tag, self.epochs.value(),
                             self.work, self.folds)
        args += ["--feature-cache", str(default_cache_dir() / "train-features"),
                 "--compare-model", str(self.current_model)]  # judged on the same photos
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
        self.compare_summary = None
        self.failure: str | None = None
        self.cancelled = False
        self.log.clear()
        self.log.appendPlainText(f"$ {self.python} {' '.join(args)}")
        self.progress.setValue(0)
        self.fraction = 0.0
        self.t_start = time.perf_counter()
        self.status.setText("Starting…")
        self.start_btn.setEnabled(False)
        self.cancel_btn.setEnabled(True)
        self.use_btn.setEnabled(False)
        self.proc.start(self.python, args)

    def cancel(self) -> None:
        if self.running():
            assert self.proc is not None
            self.cancelled = True
            self.status.setText("Cancelling…")
            self.proc.terminate()
            if not self.proc.waitForFinished(3000):
                self.proc.kill()
                self.proc.waitForFinished(3000)

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

    def _advance(self, fraction: float | None, what: str) -> None:
        """One overall bar that only moves forward, with the time left for the whole run."""
        if fraction is not None:
            self.fraction = max(self.fraction, min(1.0, fraction))
            self.progress.setValue(round(1000 * self.fraction))
        elapsed = time.perf_counter() - self.t_start
        left = ""
        if self.fraction > 0.03:
            left = f" · about {format_eta(elapsed * (1 - self.fraction) / self.fraction)} left"
        self.status.setText(f"Training: {100 * self.fraction:.0f} % ({what}){left}")

    def handle_event(self, line: str) -> None:
        """One JSON line from the child: update the progress bar, status and log."""
        try:
            ev = json.loads(line)
        except json.JSONDecodeError:
            self.log.appendPlainText(line)
            return
        kind = ev.get("event")
        if kind == "progress":
            stage = str(ev.get("stage", ""))
            what = "reading photos" if stage == "features" else stage
            self._advance(overall_fraction(stage, ev["done"], ev["total"], self.folds), what)
        elif kind == "epoch":
            stage = str(ev.get("stage", ""))
            what = ("testing on held-out photos, " + stage if stage.startswith("fold")
                    else "final fit on all photos" if stage == "final fit" else stage)
            self._advance(overall_fraction(stage, ev["epoch"], ev["epochs"], self.folds), what)
        elif kind == "message":
            self.log.appendPlainText(ev.get("text", ""))
        elif kind == "fold":
            self.log.appendPlainText(f"held-out round {ev['fold'] + 1} done")
        elif kind == "error":
            self.failure = in_dialog_words(str(ev.get("message")))
            self.status.setText(f"Training failed: {self.failure}")
            self.log.appendPlainText(f"ERROR: {ev.get('message')}")
        elif kind == "done":
            self.summary = ev.get("summary", {})
            self.compare_summary = ev.get("compare")
            self.log.appendPlainText(summary_text(self.summary or {}))

    def comparison(self) -> str:
        """The new model against the one in use, in plain words."""
        if self.summary is None:
            return ""
        name = ("the bundled model" if self.current_model == BUNDLED_MODEL
                else f"“{self.current_model.parent.name}”")
        if self.compare_summary:
            return compare_models(self.summary, self.compare_summary, name, same_photos=True)
        try:
            from curator.modelfile import load_model_file

            current = load_model_file(self.current_model).metrics.get("summary", {})
        except Exception as exc:  # a broken current model must not hide the new results
            log.warning("cannot read %s for comparison: %s", self.current_model, exc)
            return ""
        return compare_models(self.summary, current, name)

    def _discard(self) -> None:
        if self.work is not None and self.work.exists():
            shutil.rmtree(self.work, ignore_errors=True)
        self.work = None

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read_stdout()
        self.start_btn.setEnabled(True)
        self.cancel_btn.setEnabled(False)
        model = self.work / "model.pt" if self.work else None
        if code == 0 and not self.cancelled and model is not None and model.is_file():
            assert self.work is not None
            target = self.runs_dir / safe_name(self.name.text())
            self.work.rename(target)
            self.work, self.out = None, target
            self.progress.setValue(1000)
            text = "\n".join([f"Done: “{target.name}” is saved.",
                              *plain_results(self.summary or {}), self.comparison()])
            self.status.setText(text.strip())
            self.use_btn.setEnabled(True)
            return
        self._discard()
        if self.cancelled or status == QProcess.ExitStatus.CrashExit:
            self.status.setText("Training cancelled; nothing was kept.")
        elif self.failure is None:
            self.status.setText(f"Training stopped (exit code {code}); see the log below.")
        self.progress.setValue(0)

    def _use(self) -> None:
        if self.out is not None:
            self.model_ready.emit(str(self.out / "model.pt"))
        self.hide()

    def closeEvent(self, event: Any) -> None:
        if self.parent() is not None:
            self.hide()  # over the main window: closing it does not stop training; Cancel does
            event.ignore()
            return
        self.cancel()  # on its own (no window behind it): closing ends the child too
        super().closeEvent(event)
