"""Small shared dialog parts: a path field with its button, and a markdown text window."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)


def open_in_file_manager(folder: Path, parent: QWidget | None) -> bool:
    """Open ``folder`` (made absolute) in the desktop's file manager.

    Where the desktop has no launcher (``QDesktopServices.openUrl`` returns False, e.g. a bare
    X session), say so with the folder's path so the owner can go there: in a message box, or
    in the status bar of a window whose ``quiet_dialogs`` is set (tests).  Returns whether the
    file manager was asked successfully.
    """
    folder = Path(folder).resolve()
    if QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
        return True
    msg = f"Curator could not open a file manager on this computer. The folder is:\n{folder}"
    log.info("no launcher for %s", folder)
    win = parent
    while win is not None and not isinstance(win, QMainWindow):
        win = win.parentWidget()
    if isinstance(win, QMainWindow) and getattr(win, "quiet_dialogs", False):
        win.statusBar().showMessage(msg.replace("\n", " "), 15000)
        return False
    box = QMessageBox(QMessageBox.Icon.Information, "Open folder", msg,
                      QMessageBox.StandardButton.Ok, parent)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.exec()
    return False


def path_row(edit: QLineEdit, on_browse: Callable[[], None]) -> QHBoxLayout:
    """A path field with its "Choose…" button."""
    row = QHBoxLayout()
    browse = QPushButton("Choose…")
    browse.clicked.connect(on_browse)
    row.addWidget(edit)
    row.addWidget(browse)
    return row


class TextDialog(QDialog):
    """Shows a markdown document (a model card, the shortcuts, About)."""

    def __init__(self, parent: QWidget | None, title: str, markdown: str,
                 size: tuple[int, int] = (760, 640)) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(*size)
        self.view = QTextBrowser()
        self.view.setMarkdown(markdown)
        self.view.setOpenExternalLinks(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self.view)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        box.rejected.connect(self.reject)
        lay.addWidget(box)


def details_toggle(widget: QWidget, text: str = "Details") -> QWidget:
    """A "Details ▸" button that shows and hides ``widget`` (hidden at first): the child
    process's command line and raw lines stay out of the owner's way until asked for."""
    from PySide6.QtWidgets import QToolButton

    btn = QToolButton()
    btn.setText(f"{text} ▸")
    btn.setCheckable(True)
    btn.setAutoRaise(True)
    widget.setVisible(False)

    def toggled(on: bool) -> None:
        widget.setVisible(on)
        btn.setText(f"{text} {'▾' if on else '▸'}")
    btn.toggled.connect(toggled)
    return btn
