"""Open the real window on a folder, wait for scoring, and save a screenshot of the screen.

    xvfb-run -s "-screen 0 1280x860x24" \
        python scripts/screenshot.py assets/samples docs/screenshot.png
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from curator.gui.main_window import MainWindow  # noqa: E402


def main() -> None:
    folder, out = Path(sys.argv[1]), Path(sys.argv[2])
    app = QApplication(sys.argv[:1])
    tmp = tempfile.mkdtemp()
    win = MainWindow(QSettings(f"{tmp}/s.ini", QSettings.Format.IniFormat), Path(tmp))
    win.resize(1280, 860)
    win.move(0, 0)
    win.show()

    def shoot() -> None:
        if win.scoring:
            QTimer.singleShot(500, shoot)
            return
        app.processEvents()
        shot = app.primaryScreen().grabWindow(0)
        shot.save(str(out))
        print(f"saved {out}: {shot.width()}x{shot.height()}; {win.status_label.text()}; "
              f"first thumbnails after {win.first_thumb_s:.2f} s")
        app.quit()

    win.open_folder(folder)
    QTimer.singleShot(1500, shoot)
    app.exec()


if __name__ == "__main__":
    main()
