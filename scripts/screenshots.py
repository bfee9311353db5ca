"""Screenshots of the real window for the README and for review: grid while scoring, grid
done, Look Closer, export dialog, retrain dialog, empty folder.

    xvfb-run -s "-screen 0 1280x860x24" python scripts/screenshots.py FOLDER OUT_DIR

Each run uses a fresh settings file and score cache, so "while scoring" is real scoring.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QWidget

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from curator.gui.export_dialog import ExportDialog, remembered_export_dir  # noqa: E402
from curator.gui.main_window import MainWindow  # noqa: E402
from curator.gui.retrain import RetrainDialog  # noqa: E402


def main() -> None:
    folder, out = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    tmp = Path(tempfile.mkdtemp())
    win = MainWindow(QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat), tmp / "cache")
    win.quiet_dialogs = True
    win.resize(1280, 860)
    win.move(0, 0)
    win.show()
    steps: list[Callable[[], bool]] = []

    def screen(name: str) -> None:
        app.processEvents()
        shot = app.primaryScreen().grabWindow(0)
        shot.save(str(out / name))
        print(f"saved {out / name}: {win.status_label.text()}")

    def grab(w: QWidget, name: str) -> None:
        app.processEvents()
        w.grab().save(str(out / name))
        print(f"saved {out / name}")

    state: dict[str, object] = {}

    def while_scoring() -> bool:
        items = win.model.items()
        done = sum(it.score is not None for it in items)
        if win.scoring and items and done >= max(3, len(items) // 3):
            screen("grid-scoring.png")
            return True
        return not win.scoring  # finished too fast: skip

    def done() -> bool:
        if win.scoring:
            return False
        screen("grid-done.png")
        print(f"first thumbnails after {win.first_thumb_s or 0:.2f} s")
        return True

    def preview() -> bool:
        if "preview" not in state:
            win.open_preview(win.proxy.index(0, 0))
            assert win.preview is not None
            win.preview.resize(1180, 780)
            win.preview.move(50, 40)
            state["preview"] = True
            return False
        if win.preview is None or not win.preview.image.has_image():
            return False
        grab(win.preview, "preview.png")
        win.preview.close()
        return True

    def export() -> bool:
        assert win.folder is not None
        win.view.selectionModel().clear()
        dlg = ExportDialog(win, win.folder, remembered_export_dir(win.settings, win.folder),
                           len(win.ranked_scores()), 0, win.proxy.min_score())
        dlg.show()
        grab(dlg, "export-dialog.png")
        dlg.close()
        return True

    def retrain() -> bool:
        dlg = RetrainDialog(win, tmp / "models")
        dlg.start()  # no location: the dialog's own words
        dlg.show()
        grab(dlg, "retrain-dialog.png")
        dlg.hide()
        return True

    def empty() -> bool:
        if "empty" not in state:
            e = tmp / "empty-folder"
            e.mkdir()
            win.open_folder(e)
            state["empty"] = True
            return False
        if win.scoring:
            return False
        screen("empty-state.png")
        return True

    steps += [while_scoring, done, preview, export, retrain, empty]

    def tick() -> None:
        if steps and steps[0]():
            steps.pop(0)
        if steps:
            QTimer.singleShot(200, tick)
        else:
            win.close()
            app.quit()

    win.open_folder(folder)
    QTimer.singleShot(200, tick)
    app.exec()


if __name__ == "__main__":
    main()
