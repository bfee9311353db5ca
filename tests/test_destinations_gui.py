"""The window's destinations: Ready for … badges and filter, Look Closer's crop, export for."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt")

from PIL import Image
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtTest import QTest

from curator.cropstore import CropStore
from curator.destinations import get
from curator.export_presets import verify_file
from curator.gui.export_dialog import ExportDialog
from curator.gui.main_window import MainWindow

TIMEOUT = 180_000
BIG = ["images__new-york-strip.jpg", "images__falafel-hummus-plate.jpg"]


@pytest.fixture
def shoot(shared_data: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "shoot"
    folder.mkdir()
    for name in BIG:
        [src] = sorted((shared_data / "food-photos-hires").rglob(name))
        shutil.copy(src, folder / name)
    with Image.open(folder / BIG[0]) as im:
        im.resize((1000, 667)).save(folder / "small.jpg", quality=90)
    return folder


@pytest.fixture
def window(qtbot: Any, tmp_path: Path) -> MainWindow:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings, cache_dir=tmp_path / "cache")
    win.quiet_dialogs = True
    win.culling.act_stacks.setChecked(False)  # small.jpg is a copy of a big one: no stack
    qtbot.addWidget(win)
    win.show()
    return win


def _open(qtbot: Any, win: MainWindow, folder: Path) -> None:
    with qtbot.waitSignal(win.scoring_finished, timeout=TIMEOUT):
        win.open_folder(folder)
    qtbot.waitUntil(lambda: not win.scoring, timeout=TIMEOUT)
    win.model.flush_now()


def _all_checked(win: MainWindow) -> bool:
    res = win.destinations.results
    return len(res) == 3 and all(r.complete or not r.ready for r in res.values())


def test_ready_for_uber_eats_badges_big_photos_and_only_ready_hides_the_small_one(
        qtbot: Any, window: MainWindow, shoot: Path) -> None:
    _open(qtbot, window, shoot)
    window.destinations.combo.setCurrentIndex(window.destinations.combo.findData(
        "uber-eats-cover"))
    assert window.destinations.key == "uber-eats-cover"
    small = window.destinations.results[shoot / "small.jpg"]
    assert not small.ready and [c.key for c in small.rejections()] == ["size"]
    qtbot.waitUntil(lambda: _all_checked(window), timeout=TIMEOUT)
    ready = {p.name for p, r in window.destinations.results.items() if r.ready}
    assert ready and ready <= set(BIG)
    window.view.grab()  # paints every badge (no Qt warning may be raised)
    assert window.proxy.rowCount() == 3
    window.destinations.only.setChecked(True)
    shown = {Path(window.proxy.index(r, 0).data(Qt.ItemDataRole.UserRole + 1)).name
             for r in range(window.proxy.rowCount())}
    assert shown == ready
    assert "showing" in window.count_label.text()


def test_export_for_uber_eats_from_the_window_writes_covers_and_lists_the_small_one(
        qtbot: Any, window: MainWindow, shoot: Path, tmp_path: Path) -> None:
    _open(qtbot, window, shoot)
    dest = tmp_path / "covers"
    with qtbot.waitSignal(window.destinations.export_finished, timeout=TIMEOUT):
        window.destinations.export(window.ranked_scores(), dest, 5, None, "uber-eats-cover")
    report = window.destinations.last_report
    assert report is not None and report.picks
    for p in report.picks:
        assert verify_file(p.dest, get("uber-eats-cover"), (2880, 2304)) == []
    assert "small.jpg" in {x.source.name for x in report.left_out}
    assert "1 too small (the 5:4 crop is under 2880 × 2304 px" in window.last_export_message
    assert "small.jpg" in window.last_export_message


def test_the_export_dialog_for_menu_picks_a_destination_and_its_own_folder(
        qtbot: Any, tmp_path: Path) -> None:
    folder = tmp_path / "menu shoot"
    folder.mkdir()
    choices = [("uber-eats-cover", "Uber Eats cover (5:4)", "Writes 5:4 JPEGs"),
               ("yelp", "Yelp (1:1)", "Writes 1:1 JPEGs")]
    dlg = ExportDialog(None, folder, tmp_path / "menu shoot – best photos", 10,
                       destinations=choices)
    qtbot.addWidget(dlg)
    assert dlg.values().destination is None
    dlg.for_combo.setCurrentIndex(1)
    assert dlg.values().destination == "uber-eats-cover"
    assert dlg.values().dest == (tmp_path / "menu shoot – Uber Eats cover").resolve()
    assert dlg.windowTitle() == "Export for Uber Eats cover (5:4)"
    dlg.dest.setText(str(tmp_path / "mine"))  # typed by the owner: kept
    dlg.for_combo.setCurrentIndex(2)
    assert dlg.values().dest == (tmp_path / "mine").resolve()


def test_look_closer_shows_the_crop_and_remembers_where_it_is_dragged(
        qtbot: Any, window: MainWindow, shoot: Path) -> None:
    _open(qtbot, window, shoot)
    row = next(r for r in range(window.proxy.rowCount())
               if window.proxy.index(r, 0).data(Qt.ItemDataRole.DisplayRole) == BIG[0])
    window.destinations.set_destination("instagram-square")
    window.open_preview(window.proxy.index(row, 0))
    preview = window.preview
    assert preview is not None and preview.crop_panel is not None
    panel, view = preview.crop_panel, preview.image
    qtbot.waitUntil(lambda: view.has_image() and panel.pixel is not None, timeout=TIMEOUT)
    overlay = panel.overlay
    assert overlay.crop is not None and "Instagram square post" in overlay.label
    before = overlay.crop
    r = view.fitted_rect()
    start = QPoint(r.center().x(), r.center().y())
    QTest.mousePress(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for dx in (10, 40, 80, 2000):
        QTest.mouseMove(view, QPoint(start.x() - dx, start.y()))
    QTest.mouseRelease(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       QPoint(start.x() - 2000, start.y()))
    assert overlay.crop[0] == pytest.approx(0.0) and overlay.crop[0] < before[0]
    assert not view.zoomed  # a drag moves the crop, it does not zoom
    with CropStore.in_dir() as store:
        assert store.crop(shoot / BIG[0], "1:1", (4956, 3304), 1.0)[0] == pytest.approx(0.0)
    assert "moved" in overlay.label
    panel.reset.click()
    assert overlay.crop[0] > 0
    QTest.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    assert view.zoomed  # a plain click still zooms to 100 %
