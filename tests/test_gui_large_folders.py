"""A folder larger than the thumbnails the window holds (``PhotoListModel.thumb_cap``).

The real window, offscreen, on the bundled sample photos copied many times (real food photos);
the cap is lowered so a test-sized folder is "large".  The window holds at most that many
thumbnails, and still shows every photo it paints: the ones it let go, and after a re-open the
cached photos' ones, are read again when they are painted.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings

from curator.gui.grid import MAX_THUMB
from curator.gui.main_window import MainWindow
from curator.paths import SAMPLES_DIR

TIMEOUT = 120_000
CAP = 8


@pytest.fixture
def big_window(qtbot: Any, tmp_path: Path) -> MainWindow:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings, cache_dir=tmp_path / "cache")
    win.quiet_dialogs = True
    win.culling.act_stacks.setChecked(False)  # copies stack: show each photo
    win.model.thumb_cap = CAP
    qtbot.addWidget(win)
    win.resize(1000, 700)
    win.show()
    win.size_slider.setValue(MAX_THUMB)  # a few large cells on screen, fewer than CAP
    return win


@pytest.fixture
def copies(tmp_path: Path) -> Path:
    root = tmp_path / "many"
    root.mkdir()
    photos = sorted(SAMPLES_DIR.glob("*.jpg"))
    for i in range(30):
        shutil.copyfile(photos[i % len(photos)], root / f"copy{i:02d}.jpg")
    return root


def _open(qtbot: Any, win: MainWindow, folder: Path) -> None:
    with qtbot.waitSignal(win.scoring_finished, timeout=TIMEOUT):
        win.open_folder(folder)
    win.model.flush_now()


def _visible(win: MainWindow) -> list[Any]:
    rect = win.view.viewport().rect()
    out = []
    for r in range(win.proxy.rowCount()):
        if win.view.visualRect(win.proxy.index(r, 0)).intersects(rect):
            out.append(win.model.item(win.proxy.mapToSource(win.proxy.index(r, 0)).row()))
    return out


def test_a_large_folder_holds_at_most_the_cap_and_shows_what_it_paints(
        qtbot: Any, big_window: MainWindow, copies: Path) -> None:
    win = big_window
    _open(qtbot, win, copies)
    items = win.model.items()
    assert len(items) == 30 and all(it.score is not None for it in items)
    assert win.model.held_thumbnails() <= CAP
    shown = _visible(win)
    assert 0 < len(shown) < CAP
    win.view.viewport().repaint()
    qtbot.waitUntil(lambda: all(it.thumbnail() is not None for it in _visible(win)),
                    timeout=TIMEOUT)
    # Scrolled to the end: those cells are read when painted, the cap still holds.
    win.view.scrollToBottom()
    win.view.viewport().repaint()
    qtbot.waitUntil(lambda: all(it.thumbnail() is not None for it in _visible(win)),
                    timeout=TIMEOUT)
    assert {it.path for it in _visible(win)}.isdisjoint({it.path for it in shown})
    assert win.model.held_thumbnails() <= CAP
    held = [it for it in win.model.items() if it.image is not None or it.pixmap is not None]
    assert len(held) == win.model.held_thumbnails()


def test_a_reopened_large_folder_reads_only_the_thumbnails_it_paints(
        qtbot: Any, big_window: MainWindow, copies: Path) -> None:
    win = big_window
    _open(qtbot, win, copies)
    read: set[Path] = set()
    set_thumbnail = win.model.set_thumbnail

    def counting(path: Path, *args: Any) -> None:
        read.add(path)
        set_thumbnail(path, *args)

    win.model.set_thumbnail = counting  # type: ignore[method-assign]
    _open(qtbot, win, copies)  # every score from the cache
    win.view.viewport().repaint()
    qtbot.waitUntil(lambda: all(it.thumbnail() is not None for it in _visible(win)),
                    timeout=TIMEOUT)
    qtbot.wait(300)  # nothing more arrives: the photos not painted are not read
    # What was painted (the final cells; under load a few painted before the ranking
    # settled), not the 30 the cache holds.
    assert {it.path for it in _visible(win)} <= read
    assert len(read) <= CAP < len(win.model.items())
    assert win.model.held_thumbnails() <= CAP
