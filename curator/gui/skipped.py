"""Status-bar button that says which image files a scan left out, and why.

The scan (``curator.scan``) reports every image-like file it does not score -- thumbnail
folders of NAS boxes, AppleDouble files, Curator's own export folders, camera raw and other
unsupported formats -- so the window never drops a file silently: the button shows the count,
its tooltip the reasons, and a click the full list.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtWidgets import QPushButton, QWidget

from curator.gui.dialogs import TextDialog
from curator.names import path_text
from curator.scan import Skipped, by_reason

log = logging.getLogger(__name__)


class SkippedButton(QPushButton):
    """Flat "N files not scored" button; hidden while there are none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFlat(True)
        self.setVisible(False)
        self.skipped: list[Skipped] = []
        self.root: Path | None = None
        self.clicked.connect(self.show_list)

    def set_skipped(self, skipped: list[Skipped], root: Path | None) -> None:
        """Show ``skipped`` (may be empty: the button hides)."""
        self.skipped, self.root = list(skipped), root
        n = len(self.skipped)
        self.setText(f"{n} file{'s' if n != 1 else ''} not scored")
        self.setToolTip("\n".join(f"{len(paths)} × {reason}"
                                  for reason, paths in by_reason(self.skipped).items()))
        self.setVisible(n > 0)

    def markdown(self) -> str:
        """The full list, grouped by reason."""
        lines = ["These image files were not scored:", ""]
        for reason, paths in by_reason(self.skipped).items():
            lines.append(f"**{reason}** ({len(paths)})")
            lines.append("")
            lines.extend(f"- `{path_text(self._rel(p))}`" for p in paths)
            lines.append("")
        return "\n".join(lines)

    def _rel(self, p: Path) -> Path:
        if self.root is not None:
            try:
                return p.relative_to(self.root)
            except ValueError:
                pass
        return p

    def show_list(self) -> None:
        TextDialog(self.window(), "Files not scored", self.markdown()).exec()
