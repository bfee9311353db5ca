"""Small shared dialog parts: a path field with its button, and a markdown text window."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)


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
