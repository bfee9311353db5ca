"""Cull ▸ Preferences: the culling settings (``curator.prefs``) with their measured figures.

One dialog over the same ``prefs.json`` the command line reads.  Changing a setting applies at
once to the folder shown, from what scoring kept (no photo is decoded for its score): the
stacks are grouped again and the reasons given again by the worker (``ScoreWorker.reapply``),
"keep N per group" changes how many photos each collapsed stack shows, and colour labels are
drawn from the mapping; the grid keeps its selection.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from curator.prefs import (
    GREEN,
    RED,
    SIMILARITY,
    SIMILARITY_FIGURES,
    STRICTNESS_ALPHA,
    Prefs,
    PrefsError,
    load_prefs,
    save_prefs,
    strictness_figures,
)

if TYPE_CHECKING:
    from curator.gui.main_window import MainWindow

log = logging.getLogger(__name__)

#: How a colour label is drawn on a thumbnail (Lightroom's label colours).
LABEL_COLOURS = {GREEN: QColor(60, 170, 80), RED: QColor(210, 55, 60),
                 "Yellow": QColor(235, 200, 40), "Blue": QColor(60, 120, 220),
                 "Purple": QColor(150, 80, 200)}


def _figures(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color: palette(mid)")
    return label


class PreferencesDialog(QDialog):
    """The settings, each control with what it was measured to do beside it."""

    def __init__(self, parent: QWidget | None, prefs: Prefs) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.setMinimumWidth(620)
        form = QFormLayout(self)
        self.similarity = QComboBox()
        for level in SIMILARITY:
            self.similarity.addItem(level.capitalize(), level)
        self.similarity_figures = _figures("")
        self.similarity.currentIndexChanged.connect(self._update_figures)
        form.addRow("Near-duplicate stacks:", self.similarity)
        form.addRow("", self.similarity_figures)
        self.gap = QSpinBox()
        self.gap.setRange(1, 24 * 60)
        self.gap.setSuffix(" min")
        form.addRow("Never stack photos taken more than", self.gap)
        self.strictness: dict[str, tuple[QComboBox, QLabel]] = {}
        for setting, title in (("blur", "Blur reason:"), ("exposure", "Dark / blown-out:")):
            box = QComboBox()
            for level in STRICTNESS_ALPHA:
                box.addItem(level.capitalize(), level)
            box.currentIndexChanged.connect(self._update_figures)
            fig = _figures("")
            self.strictness[setting] = (box, fig)
            form.addRow(title, box)
            form.addRow("", fig)
        self.keep = QSpinBox()
        self.keep.setRange(1, 9)
        self.keep.setSuffix(" per near-duplicate group")
        form.addRow("Keep the best", self.keep)
        form.addRow("", _figures("Stacks show that many photos; Export Best takes that many "
                                 "of each (the best by sharpness within a burst, then score)."))
        self.stars = QCheckBox("Write the score as stars (xmp:Rating) with --xmp")
        form.addRow(self.stars)
        labels = QHBoxLayout()
        self.labels = QCheckBox("Colour labels:")
        self.green = QDoubleSpinBox()
        self.red = QDoubleSpinBox()
        for spin in (self.green, self.red):
            spin.setRange(0, 100)
            spin.setDecimals(0)
        labels.addWidget(self.labels)
        labels.addWidget(QLabel("Green at or above"))
        labels.addWidget(self.green)
        labels.addWidget(QLabel("Red at or below"))
        labels.addWidget(self.red)
        labels.addStretch(1)
        form.addRow(labels)
        form.addRow("", _figures("Labels are drawn on the thumbnails; curator score --xmp "
                                 "writes them as xmp:Label (Lightroom's and digiKam's names), "
                                 "never over a label a person gave."))
        self.labels.toggled.connect(self.green.setEnabled)
        self.labels.toggled.connect(self.red.setEnabled)
        self.error = QLabel()
        self.error.setStyleSheet("color: #a4262c; font-weight: bold")
        self.error.setVisible(False)
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel
                                   | QDialogButtonBox.StandardButton.RestoreDefaults)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(
            lambda: self.show_prefs(Prefs()))
        form.addRow(buttons)
        self.show_prefs(prefs)

    def show_prefs(self, p: Prefs) -> None:
        self.similarity.setCurrentIndex(list(SIMILARITY).index(p.similarity))
        self.gap.setValue(round(p.time_gap_min))
        for setting, (box, _fig) in self.strictness.items():
            box.setCurrentIndex(list(STRICTNESS_ALPHA).index(getattr(p, setting)))
        self.keep.setValue(p.keep_per_group)
        self.stars.setChecked(p.stars)
        self.labels.setChecked(p.labels)
        self.green.setValue(80 if p.label_green_at is None else p.label_green_at)
        self.red.setValue(30 if p.label_red_at is None else p.label_red_at)
        self.green.setEnabled(p.labels)
        self.red.setEnabled(p.labels)
        self._update_figures()

    def _update_figures(self) -> None:
        self.similarity_figures.setText(SIMILARITY_FIGURES.get(
            str(self.similarity.currentData()), ""))
        for setting, (box, fig) in self.strictness.items():
            fig.setText(strictness_figures(setting, str(box.currentData())))

    def prefs(self) -> Prefs:
        """The settings shown; raises ``PrefsError`` when they do not hold together."""
        on = self.labels.isChecked()
        return Prefs(similarity=str(self.similarity.currentData()),
                     time_gap_min=float(self.gap.value()),
                     blur=str(self.strictness["blur"][0].currentData()),
                     exposure=str(self.strictness["exposure"][0].currentData()),
                     keep_per_group=self.keep.value(), stars=self.stars.isChecked(),
                     label_green_at=self.green.value() if on else None,
                     label_red_at=self.red.value() if on else None)

    def accept(self) -> None:
        try:
            self.prefs()
        except PrefsError as exc:
            self.error.setText(str(exc).capitalize() + ".")
            self.error.setVisible(True)
            return
        super().accept()


class PreferencesController(QObject):
    """Cull ▸ Preferences for one ``MainWindow``: saves the settings and applies them to the
    folder shown (lives in the GUI thread; ``reapply`` is queued to the worker's thread)."""

    #: generation, Prefs: to ``ScoreWorker.reapply`` (another thread).
    reapply = Signal(int, object)
    #: The settings changed (GUI thread): tests and widgets wait on this.
    changed = Signal(object)

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self.prefs = load_prefs()
        win.culling.keep_per_group = self.prefs.keep_per_group
        win.culling.label_prefs = self.prefs
        self.reapply.connect(win.worker.reapply)
        self.action = QAction("Pre&ferences…", win)
        self.action.setShortcut(QKeySequence(QKeySequence.StandardKey.Preferences)
                                if not QKeySequence(QKeySequence.StandardKey.Preferences)
                                .isEmpty() else QKeySequence("Ctrl+,"))
        self.action.triggered.connect(self.open_dialog)
        win.culling.menu.addSeparator()
        win.culling.menu.addAction(self.action)

    def open_dialog(self) -> None:
        dlg = PreferencesDialog(self.win, self.prefs)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self.apply(dlg.prefs())

    def apply(self, prefs: Prefs) -> None:
        """Save ``prefs`` and apply them to what the window shows, at once."""
        try:
            save_prefs(prefs)
        except OSError as exc:
            self.win.statusBar().showMessage(f"Settings not saved: {exc}", 10000)
        old, self.prefs = self.prefs, prefs
        culling = self.win.culling
        culling.keep_per_group = prefs.keep_per_group
        culling.label_prefs = prefs
        if (old.similarity, old.time_gap_min, old.blur, old.exposure) != (
                prefs.similarity, prefs.time_gap_min, prefs.blur, prefs.exposure):
            self.reapply.emit(self.win.current_gen, prefs)  # stacks and reasons again
        culling.refresh_stacks()
        self.changed.emit(prefs)
