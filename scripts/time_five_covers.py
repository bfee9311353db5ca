"""Time the window's path from a folder to five Uber Eats covers, driving it as an owner would.

Opens the real window on FOLDER (cold: a fresh cache unless you pass --cache-dir), waits for
the ranking, opens File ▸ Export (Ctrl+E), picks For: Uber Eats cover and 5 photos, presses
Export, waits for the result box, and prints the seconds at each step (the machine's time,
not counting a person's clicks).  Under Xvfb:

    xvfb-run -a -s "-screen 0 1400x900x24" python scripts/time_five_covers.py FOLDER OUT

OUT gets the dialog and the result box as PNGs, and the covers land beside FOLDER.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

T0 = time.time()
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    folder, out = Path(argv[0]), Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    from curator.gui.export_dialog import ExportDialog
    from curator.gui.main_window import MainWindow

    settings = QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings)
    win.resize(1280, 820)
    win.show()

    def log(m: str) -> None:
        print(f"{time.time() - T0:6.1f} s  {m}", flush=True)

    def wait(cond: object, t: float = 600) -> None:
        t0 = time.time()
        while not cond() and time.time() - t0 < t:  # type: ignore[operator]
            app.processEvents()
            time.sleep(0.02)

    log("window shown")
    win.open_folder(folder)
    wait(lambda: not win.scoring and win.model.rowCount() > 0)
    log(f"{win.model.rowCount()} photos ranked")

    def in_dialog() -> None:
        dlg = next(w for w in app.topLevelWidgets() if isinstance(w, ExportDialog)
                   and w.isVisible())
        dlg.for_combo.setCurrentIndex(dlg.for_combo.findData("uber-eats-cover"))
        dlg.count.setValue(5)
        app.processEvents()
        dlg.grab().save(str(out / "five-covers-dialog.png"))
        log(f"export dialog: For {dlg.for_combo.currentText()}, 5, to {dlg.dest.text()}")
        QTimer.singleShot(200, result_box)
        dlg.accept()

    def result_box() -> None:
        box = next((w for w in app.topLevelWidgets() if isinstance(w, QMessageBox)
                    and w.isVisible()), None)
        if box is None:
            QTimer.singleShot(200, result_box)
            return
        log("result box: " + box.text().splitlines()[0])
        box.grab().save(str(out / "five-covers-result.png"))
        box.done(0)

    QTimer.singleShot(100, in_dialog)
    win.act_export.trigger()  # the dialog runs modally; the timers above drive it
    wait(lambda: win.destinations.last_report is not None)
    report = win.destinations.last_report
    log(f"{len(report.picks) if report else 0} covers written")
    win.close()
    return 0 if report is not None and len(report.picks) == 5 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
