"""Culling in the window, offscreen: keys, sidecars, filters, stacks, export picks, compare."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QItemSelectionModel, QSettings, Qt

from curator.culling import Flag, Verdict
from curator.gui.culling import CullFilter
from curator.gui.main_window import MainWindow
from curator.gui.models import PhotoItem, Roles
from curator.sidecar import read_sidecar
from tests.shoot import make_shoot, sample_sources

TIMEOUT = 180_000


@pytest.fixture(scope="module")
def shoot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[Path, int]]:
    """5 real dishes x 3 takes (one folder for the module: scored once, then cached)."""
    root = tmp_path_factory.mktemp("cull") / "shoot"
    return root, make_shoot(sample_sources()[:5], root, copies=3, size=320)


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, shoot: tuple[Path, dict[Path, int]]) -> MainWindow:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    cache = Path(str(shoot[0]) + "-cache")  # shared by the module's tests: scores once
    win = MainWindow(settings, cache_dir=cache)
    win.quiet_dialogs = True
    qtbot.addWidget(win)
    win.show()
    for side in shoot[0].glob("*.xmp"):
        side.unlink()  # each test starts without verdicts
    with qtbot.waitSignal(win.culling.stacks_changed, timeout=TIMEOUT):
        win.open_folder(shoot[0])
    qtbot.waitUntil(lambda: not win.scoring, timeout=TIMEOUT)
    win.model.flush_now()
    return win


def shown(win: MainWindow) -> list[PhotoItem]:
    return [win.proxy.index(r, 0).data(Roles.Item) for r in range(win.proxy.rowCount())]


def select(win: MainWindow, rows: list[int]) -> None:
    sel = win.view.selectionModel()
    sel.clearSelection()
    for r in rows:
        sel.select(win.proxy.index(r, 0), QItemSelectionModel.SelectionFlag.Select)
    sel.setCurrentIndex(win.proxy.index(rows[0], 0), QItemSelectionModel.SelectionFlag.NoUpdate)
    win.view.setFocus()


def test_stacks_collapse_expand_in_place(
    qtbot: Any, window: MainWindow, shoot: tuple[Path, dict[Path, int]]
) -> None:
    win, (_root, truth) = window, shoot
    items = shown(win)
    assert len(items) == 5  # collapsed: one per dish
    assert all(it.group_best and it.group_size == 3 for it in items)
    assert len({truth[it.path] for it in items}) == 5
    ranks = [it.rank for it in items]
    assert ranks == sorted(ranks)  # stacks in the order of their best photo
    select(win, [1])
    qtbot.keyClick(win.view, Qt.Key.Key_S)
    items = shown(win)
    assert len(items) == 7
    dish = truth[items[1].path]
    assert [truth[it.path] for it in items[1:4]] == [dish] * 3  # in place, after its best
    assert items[1].group_best and not items[2].group_best
    qtbot.keyClick(win.view, Qt.Key.Key_S)
    assert len(shown(win)) == 5


def test_keys_flags_stars_sidecars_filters(
    qtbot: Any, window: MainWindow, shoot: tuple[Path, dict[Path, int]]
) -> None:
    win = window
    items = shown(win)
    select(win, [0])
    qtbot.keyClick(win.view, Qt.Key.Key_P)
    assert items[0].verdict == Verdict(Flag.PICK, 0)
    info = read_sidecar(items[0].path)
    assert (info.rating, info.pick_label) == (0, 3)
    qtbot.keyClick(win.view, Qt.Key.Key_4)
    assert items[0].verdict == Verdict(Flag.PICK, 4)
    assert read_sidecar(items[0].path).rating == 4
    select(win, [1])
    qtbot.keyClick(win.view, Qt.Key.Key_X)
    assert items[1].verdict.flag == Flag.REJECT
    assert read_sidecar(items[1].path).rating == -1
    qtbot.keyClick(win.view, Qt.Key.Key_U)
    assert items[1].verdict == Verdict(Flag.NONE, 0)
    # Multi-selection: one key for all of them.
    select(win, [2, 3, 4])
    qtbot.keyClick(win.view, Qt.Key.Key_2)
    assert [it.verdict.stars for it in items[2:5]] == [2, 2, 2]
    qtbot.keyClick(win.view, Qt.Key.Key_X)
    assert all(it.verdict.flag == Flag.REJECT for it in items[2:5])
    # Filters.
    win.culling.set_filter(CullFilter.PICKS)
    assert shown(win) == [items[0]]
    win.culling.set_filter(CullFilter.REJECTS)
    assert shown(win) == items[2:5]
    win.culling.set_filter(CullFilter.STARS_4)
    assert shown(win) == [items[0]]
    win.culling.set_filter(CullFilter.ALL)
    assert len(shown(win)) == 5
    # Auto-advance: a verdict moves the cursor to the next photo.
    win.culling.act_advance.setChecked(True)
    select(win, [1])
    qtbot.keyClick(win.view, Qt.Key.Key_5)
    assert win.view.currentIndex().row() == 2
    # Remembered for learning.
    from curator.choices import ChoiceStore

    with ChoiceStore.in_dir(win.worker.cache_dir) as store:
        chosen = {c.path: c.verdict for c in store.all()}
    assert chosen[items[0].path] == Verdict(Flag.PICK, 4)
    assert chosen[items[1].path] == Verdict(Flag.NONE, 5)


def test_verdicts_read_back_when_the_folder_opens(
    qtbot: Any, window: MainWindow, shoot: tuple[Path, dict[Path, int]]
) -> None:
    win = window
    items = shown(win)
    select(win, [0])
    qtbot.keyClick(win.view, Qt.Key.Key_P)
    qtbot.keyClick(win.view, Qt.Key.Key_3)
    select(win, [1])
    qtbot.keyClick(win.view, Qt.Key.Key_X)
    picked, rejected = items[0].path, items[1].path
    with qtbot.waitSignal(win.scoring_finished, timeout=TIMEOUT):
        win.open_folder(shoot[0])
    by_path = {it.path: it for it in win.model.items()}
    assert by_path[picked].verdict == Verdict(Flag.PICK, 3)
    assert by_path[rejected].verdict.flag == Flag.REJECT
    assert sum(not it.verdict.empty for it in by_path.values()) == 2


def test_export_picks(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    win = window
    select(win, [0, 2])
    qtbot.keyClick(win.view, Qt.Key.Key_P)
    dest = tmp_path / "picks"
    with qtbot.waitSignal(win.export_finished, timeout=TIMEOUT) as blocker:
        assert win.culling.export_picks(dest) == 2
    assert blocker.args == [True]
    items = shown(win)
    assert sorted(p.name for p in dest.glob("*.jpg")) == sorted(
        [items[0].path.name, items[2].path.name])


def test_compare_two_and_pick_one(qtbot: Any, window: MainWindow) -> None:
    win = window
    items = shown(win)
    select(win, [0])
    qtbot.keyClick(win.view, Qt.Key.Key_C)  # one photo: nothing to compare
    assert win.culling.compare_dialog is None
    select(win, [0, 1])
    qtbot.keyClick(win.view, Qt.Key.Key_C)
    dlg = win.culling.compare_dialog
    assert dlg is not None and dlg.isVisible()
    qtbot.waitUntil(lambda: all(not v.pix.pixmap().isNull() for v in dlg.views),
                    timeout=30_000)
    assert items[0].path.name in dlg.captions[0].text()
    assert f"rank {items[1].rank}" in dlg.captions[1].text()
    qtbot.keyClick(dlg, Qt.Key.Key_Plus)
    qtbot.keyClick(dlg, Qt.Key.Key_Plus)
    t0, t1 = (v.transform().m11() for v in dlg.views)
    assert t0 == t1 and t0 == pytest.approx(dlg.zoom)
    dlg.views[0].horizontalScrollBar().setValue(dlg.views[0].horizontalScrollBar().maximum())
    assert (dlg.views[1].horizontalScrollBar().value()
            == dlg.views[0].horizontalScrollBar().value())
    with qtbot.waitSignal(dlg.picked, timeout=5000):
        qtbot.keyClick(dlg, Qt.Key.Key_2)
    assert items[1].verdict.flag == Flag.PICK and items[0].verdict.flag == Flag.NONE
    assert read_sidecar(items[1].path).pick_label == 3
    qtbot.keyClick(dlg, Qt.Key.Key_1, Qt.KeyboardModifier.ShiftModifier)
    assert items[0].verdict.flag == Flag.REJECT
    dlg.close()
