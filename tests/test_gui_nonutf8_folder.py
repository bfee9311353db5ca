"""A folder whose name is not UTF-8 (Latin-1 ``é`` from an old card): the window keeps the
real path.  Qt strings cannot hold the lone surrogate Python uses for such a byte, so a path
that crossed into Qt (a ``str`` signal, QSettings, a menu) came back without it."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from curator.gui.main_window import MainWindow, startup_folder
from tests.conftest import make_jpeg
from tests.test_gui import TIMEOUT, window  # noqa: F401  (the fixture)

pytestmark = pytest.mark.skipif(sys.platform != "linux",
                                reason="needs a file system that takes any bytes")


@pytest.fixture
def latin1_folder(tmp_path: Path) -> Path:
    root = Path(os.fsdecode(os.fsencode(tmp_path) + b"/photos/root\xe9"))  # '\udce9'
    try:
        root.mkdir(parents=True)
    except (OSError, UnicodeEncodeError):
        pytest.skip("the file system refuses names that are not UTF-8")
    make_jpeg(root / "pizza.jpg", 96, 72, seed=3)
    return root


def open_and_settle(qtbot: Any, win: MainWindow, folder: Path) -> None:
    """``test_gui.open_and_wait``, also returning when scoring fails (no finished signal)."""
    win.open_folder(folder)
    qtbot.waitUntil(lambda: not win.scoring, timeout=TIMEOUT)
    win.model.flush_now()


def test_window_scores_exports_and_remembers_a_folder_whose_name_is_not_utf8(
        qtbot: Any, window: MainWindow, latin1_folder: Path, tmp_path: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []  # a failure box would block the test: record it instead
    for kind in ("critical", "warning"):
        monkeypatch.setattr(QMessageBox, kind, lambda _p, _t, text, *a: shown.append(text))
    open_and_settle(qtbot, window, latin1_folder)
    assert shown == []
    assert window.folder == latin1_folder
    items = window.model.items()
    assert [it.path for it in items] == [latin1_folder / "pizza.jpg"]
    assert items[0].score is not None and items[0].error is None
    assert "root\\xe9" in window.windowTitle()  # shown readably, as file names are

    # Open Recent keeps the exact bytes, shows them as \xNN, and reopens the folder.
    assert window._recent() == [str(latin1_folder)]
    menu = [a for a in window.recent_menu.actions() if a.text() and a.isEnabled()]
    assert menu[0].text().endswith("root\\xe9")
    window.settings.sync()
    again = MainWindow(QSettings(window.settings.fileName(), QSettings.Format.IniFormat),
                       cache_dir=tmp_path / "cache")
    qtbot.addWidget(again)
    assert again._recent() == [str(latin1_folder)]
    assert startup_folder(None, again.settings) == latin1_folder
    again.close()
    window.open_folder(tmp_path)  # elsewhere, then back through the menu
    next(a for a in window.recent_menu.actions() if a.text().endswith("root\\xe9")).trigger()
    qtbot.waitUntil(lambda: not window.scoring, timeout=TIMEOUT)
    window.model.flush_now()
    assert shown == []
    assert window.folder == latin1_folder
    assert [it.score is not None for it in window.model.items()] == [True]

    # Export: the default destination sits beside the folder, with the same byte.
    from curator.gui.export_dialog import remembered_export_dir

    dest = remembered_export_dir(window.settings, latin1_folder)
    assert os.fsencode(dest.name).startswith(b"root\xe9")
    with qtbot.waitSignal(window.export_finished, timeout=TIMEOUT) as done:
        window.run_export(window.ranked_scores(), dest, 1, None)
    assert done.args == [True]
    assert [p.name for p in dest.iterdir() if p.suffix == ".jpg"] == ["pizza.jpg"]
