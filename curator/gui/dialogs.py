"""Dialogs: export top-N, photo preview, model card."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QImage, QKeyEvent, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from curator.gui.models import PhotoItem
from curator.gui.worker import to_qimage
from curator.loader import LoadedPhoto, load_photo, open_rgb
from curator.preprocess import Preprocess
from curator.reasons import REASONS

log = logging.getLogger(__name__)


def path_row(edit: QLineEdit, on_browse: Callable[[], None]) -> QHBoxLayout:
    """A path field with its "Choose…" button."""
    row = QHBoxLayout()
    browse = QPushButton("Choose…")
    browse.clicked.connect(on_browse)
    row.addWidget(edit)
    row.addWidget(browse)
    return row


class ExportDialog(QDialog):
    """How many photos, where to, and an optional minimum score."""

    def __init__(self, parent: QWidget | None, default_dest: str, max_n: int) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export best photos")
        form = QFormLayout(self)
        self.count = QSpinBox()
        self.count.setRange(1, max(1, max_n))
        self.count.setValue(min(10, max(1, max_n)))
        form.addRow("Number of photos:", self.count)
        self.dest = QLineEdit(default_dest)
        form.addRow("Copy to folder:", path_row(self.dest, self._browse))
        min_row = QHBoxLayout()
        self.use_min = QCheckBox("only photos scoring at least")
        self.min_score = QDoubleSpinBox()
        self.min_score.setRange(0.0, 100.0)  # the 0-100 score
        self.min_score.setDecimals(0)
        self.min_score.setSingleStep(5.0)
        self.min_score.setValue(50.0)
        self.min_score.setEnabled(False)
        self.use_min.toggled.connect(self.min_score.setEnabled)
        min_row.addWidget(self.use_min)
        min_row.addWidget(self.min_score)
        form.addRow(min_row)
        form.addRow(QLabel("Originals are never moved or changed; existing files in the "
                           "folder are never overwritten."))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Export to", self.dest.text())
        if d:
            self.dest.setText(d)

    def values(self) -> tuple[int, Path, float | None]:
        return (self.count.value(), Path(self.dest.text()).expanduser(),
                self.min_score.value() if self.use_min.isChecked() else None)


def array_to_qimage(arr: np.ndarray) -> QImage:
    a = np.ascontiguousarray(arr)
    h, w, _ = a.shape
    return QImage(a.tobytes(), w, h, w * 3, QImage.Format.Format_RGB888).copy()


class _PreviewSignals(QObject):
    loaded = Signal(str, QImage, QImage, QImage)
    failed = Signal(str, str)


class _PreviewJob(QRunnable):
    """Decode the large preview and the two model views off the GUI thread."""

    def __init__(self, path: Path, pre: Preprocess, size: int) -> None:
        super().__init__()
        self.path, self.pre, self.size = path, pre, size
        self.signals = _PreviewSignals()

    def run(self) -> None:
        try:
            im, _ = open_rgb(self.path, self.size)
            im.thumbnail((self.size, self.size))
            views = load_photo(self.path, self.pre)
            if not isinstance(views, LoadedPhoto):
                raise OSError(views.reason)
            self.signals.loaded.emit(str(self.path), to_qimage(im),
                                     array_to_qimage(views.global_view),
                                     array_to_qimage(views.local_view))
        except Exception as exc:
            self.signals.failed.emit(str(self.path), str(exc))


class PreviewDialog(QDialog):
    """A large view of one photo, its score details, and the two views the model saw.

    Left/Right move through the grid's current order; the owner passes a ``step`` callback.
    """

    def __init__(self, parent: QWidget | None, pre: Preprocess) -> None:
        super().__init__(parent)
        self.pre = pre
        self.setWindowTitle("Photo")
        self.resize(1000, 720)
        self.image = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumSize(480, 360)
        self.details = QLabel()
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setWordWrap(True)
        self.global_view = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.local_view = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        side = QVBoxLayout()
        side.addWidget(self.details)
        side.addWidget(QLabel("What the model saw — whole photo:"))
        side.addWidget(self.global_view)
        side.addWidget(QLabel("…and a close-up (centre, at working resolution):"))
        side.addWidget(self.local_view)
        self.open_folder = QPushButton("Open containing folder")
        self.open_folder.clicked.connect(self._open_folder)
        side.addWidget(self.open_folder)
        side.addStretch(1)
        lay = QHBoxLayout(self)
        lay.addWidget(self.image, 3)
        lay.addLayout(side, 1)
        self.path: Path | None = None
        self.step = lambda delta: None

    def show_item(self, item: PhotoItem) -> None:
        self.path = item.path
        self.setWindowTitle(item.path.name)
        if item.error:
            body = f"<b>Cannot be scored</b><br>{item.error}"
        elif item.score is not None:
            body = preview_html(item)
        else:
            body = "not scored yet"
        size = f"{item.size[0]}×{item.size[1]} px<br>" if item.size else ""
        self.details.setText(f"<b>{item.path.name}</b><br>{size}{body}")
        self.image.setText("loading…")
        self.global_view.clear()
        self.local_view.clear()
        job = _PreviewJob(item.path, self.pre, 1600)
        job.signals.loaded.connect(self._loaded)
        job.signals.failed.connect(self._failed)
        QThreadPool.globalInstance().start(job)

    def _loaded(self, path: str, big: QImage, g: QImage, loc: QImage) -> None:
        if self.path is None or path != str(self.path):
            return  # the user already moved on
        self.image.setPixmap(QPixmap.fromImage(big).scaled(
            self.image.size(), Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation))
        self.global_view.setPixmap(QPixmap.fromImage(g))
        self.local_view.setPixmap(QPixmap.fromImage(loc))

    def _failed(self, path: str, reason: str) -> None:
        if self.path is not None and path == str(self.path):
            self.image.setText(f"Cannot show this photo:\n{reason}")

    def _open_folder(self) -> None:
        if self.path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.path.parent)))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Right, Qt.Key.Key_Down):
            self.step(1)
        elif event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Up):
            self.step(-1)
        else:
            super().keyPressEvent(event)


class TextDialog(QDialog):
    """Shows a markdown document (the model card)."""

    def __init__(self, parent: QWidget | None, title: str, markdown: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(760, 640)
        view = QTextBrowser()
        view.setMarkdown(markdown)
        view.setOpenExternalLinks(True)
        lay = QVBoxLayout(self)
        lay.addWidget(view)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        box.rejected.connect(self.reject)
        lay.addWidget(box)


def preview_html(item: PhotoItem) -> str:
    """The preview's score block: the 0–100 score and its meaning, the reasons, then the
    AVA-style mean, spread and predicted votes as secondary detail."""
    dist = "".join(f"<td align='right'>{100 * p:.0f}%</td>" for p in item.distribution)
    ava = (f"<small>AVA-style score {item.ava_mean or 0:.2f} ± {item.sd or 0:.2f}; "
           f"predicted votes for 1…10:<table><tr>{dist}</tr></table></small>")
    if not item.percent:
        return f"<h2>{item.score or 0:.2f} ± {item.sd or 0:.2f}</h2>rank {item.rank}<br>{ava}"
    why = ("".join(f"<li><b>{k}</b>: {REASONS.get(k, '')}</li>" for k in item.reasons)
           if item.reasons else "<li>nothing to flag</li>")
    return (f"<h2>{item.score or 0:.0f} / 100</h2>rank {item.rank}<br>"
            f"<i>the chance a food-photo editor would post this photo</i><br>"
            f"<b>Why not higher:</b><ul>{why}</ul>{ava}")
