"""Start the desktop app; uncaught exceptions become a dialog and a log line, not a crash."""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from curator.gui.main_window import MainWindow, startup_folder

log = logging.getLogger(__name__)


def install_excepthook() -> None:
    """Show any uncaught exception in a dialog and log it; the app keeps running."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        text = "".join(traceback.format_exception(kind, exc, tb))
        log.error("uncaught exception:\n%s", text)
        if QApplication.instance() is not None:
            box = QMessageBox(QMessageBox.Icon.Critical, "Curator: unexpected error",
                              f"{kind.__name__}: {exc}")
            box.setDetailedText(text)
            box.exec()

    sys.excepthook = hook


def run_gui(folder: Path | None = None) -> int:
    """``curator [FOLDER]``: open the window on FOLDER, the last folder, or the samples."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Curator")
    app.setOrganizationName("Curator")
    install_excepthook()
    settings = QSettings("Curator", "Curator")
    win = MainWindow(settings)
    win.show()
    win.open_folder(startup_folder(folder, settings))
    return app.exec()
