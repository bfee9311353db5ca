"""Issue 9/11: what a fresh-eyes tester found in the real window (size change crash, rejected
photos exported, export dialog radios, model menu, shortcuts, culling in Look Closer, …)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QItemSelectionModel

from curator.gui.main_window import MainWindow
from tests.conftest import make_jpeg
from tests.test_gui import open_and_wait
from tests.test_gui import window as window  # the fixture


@pytest.fixture
def small_folder(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    for i in range(4):
        make_jpeg(root / f"dish{i}.jpg", 700, 500, seed=40 + i)
    (root / "broken.jpg").write_bytes(b"not a photo")
    return root


def select_rows(win: MainWindow, rows: list[int]) -> None:
    sel = win.view.selectionModel()
    sel.clearSelection()
    for r in rows:
        sel.select(win.proxy.index(r, 0), QItemSelectionModel.SelectionFlag.Select)
    sel.setCurrentIndex(win.proxy.index(rows[0], 0), QItemSelectionModel.SelectionFlag.NoUpdate)
    win.view.setFocus()


# -- 1. a size change with a photo selected used to crash (bare layoutChanged) ---------------
def test_thumbnail_size_change_keeps_the_selection(qtbot: Any, window: MainWindow,
                                                   small_folder: Path) -> None:
    win = window
    win.culling.act_stacks.setChecked(True)
    open_and_wait(qtbot, win, small_folder)
    select_rows(win, [1])
    chosen = win.selected_items()
    for _ in range(3):
        win.zoom(1)
        win.view.viewport().repaint()
        win.zoom(-1)
        win.view.viewport().repaint()
    win.size_slider.setValue(333)
    win.view.viewport().repaint()
    assert win.selected_items() == chosen
    assert all(i.isValid() for i in win.view.selectionModel().selectedIndexes())
