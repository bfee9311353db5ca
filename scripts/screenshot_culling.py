"""Open the real window on a folder, wait for scoring, and save a screenshot of the screen.

    xvfb-run -s "-screen 0 1280x860x24" \
        python scripts/screenshot_culling.py assets/samples /tmp/grid.png
    xvfb-run -a -s "-screen 0 1280x860x24" \
        python scripts/screenshot_culling.py --cull runs/shoot docs/screenshot-culling.png

``--cull`` first builds a shoot in the folder (the bundled samples, each photographed three
times: near-copies) unless it has photos already, then flags a few photos, stars some, and
expands one stack, so the picture shows stacks, badges, flags and stars.
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


def _cull(win: MainWindow) -> None:
    """Some verdicts and one expanded stack, as a person mid-cull would have them."""
    from PySide6.QtCore import QItemSelectionModel

    from curator.culling import Flag, Verdict
    from curator.gui.models import Roles

    c = win.culling
    c.write_sidecars = False  # a picture, not a real cull
    items = [win.proxy.index(r, 0).data(Roles.Item) for r in range(win.proxy.rowCount())]
    plan = {0: Verdict(Flag.PICK, 5), 1: Verdict(Flag.PICK, 4), 3: Verdict(Flag.NONE, 3),
            5: Verdict(Flag.REJECT, 0), 6: Verdict(Flag.PICK, 4)}
    for i, v in plan.items():
        if i < len(items):
            c.apply(lambda _old, v=v: v, [items[i]])
    sel = win.view.selectionModel()
    sel.setCurrentIndex(win.proxy.index(2, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect)
    c.toggle_stack()


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--cull"]
    cull = "--cull" in sys.argv
    folder, out = Path(args[0]), Path(args[1])
    if cull and not any(folder.glob("*.jpg")):
        from tests.shoot import make_shoot, sample_sources

        make_shoot(sample_sources(), folder, copies=3, size=640)
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
        if cull and not getattr(win, "_culled", False):
            _cull(win)
            win.model.flush_now()
            win._culled = True  # type: ignore[attr-defined]
            QTimer.singleShot(1500, shoot)  # let the batched layout settle
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
