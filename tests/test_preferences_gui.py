"""The window's culling settings and keys: Preferences applied at once from the cache, the
best N of each stack, verdict keys on the photo shown as current, Ctrl+Z, reverse sort,
Look Closer at no more than 100 %, and the model named where it is in use."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QItemSelectionModel, QSettings, Qt

import curator.score as score_mod
from curator.culling import Flag
from curator.gui.main_window import MainWindow
from curator.gui.models import PhotoItem, Roles
from curator.prefs import Prefs, load_prefs
from curator.sidecar import read_sidecar
from tests.shoot import make_shoot, sample_sources

TIMEOUT = 180_000


@pytest.fixture(scope="module")
def shoot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """5 real dishes x 3 takes (shifted, brighter), scored once for the module."""
    root = tmp_path_factory.mktemp("prefs") / "shoot"
    make_shoot(sample_sources()[:5], root, copies=3, size=320)
    return root


@pytest.fixture
def win(qtbot: Any, tmp_path: Path, shoot: Path) -> MainWindow:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings, cache_dir=Path(str(shoot) + "-cache"))
    w.quiet_dialogs = True
    qtbot.addWidget(w)
    w.show()
    for side in shoot.glob("*.xmp"):
        side.unlink()
    with qtbot.waitSignal(w.culling.stacks_changed, timeout=TIMEOUT):
        w.open_folder(shoot)
    qtbot.waitUntil(lambda: not w.scoring, timeout=TIMEOUT)
    w.model.flush_now()
    return w


def shown(w: MainWindow) -> list[PhotoItem]:
    return [w.proxy.index(r, 0).data(Roles.Item) for r in range(w.proxy.rowCount())]


def test_preferences_apply_at_once_from_the_cache_keeping_the_selection(
    qtbot: Any, win: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(shown(win)) == 5  # one stack per dish, collapsed to its best
    chosen = shown(win)[2]
    win.view.setCurrentIndex(win.proxy.index(2, 0))
    win.view.selectionModel().select(win.proxy.index(2, 0),
                                     QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def no_decoding(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("a setting must not decode photos for their scores")
    monkeypatch.setattr(score_mod, "load_photo", no_decoding)
    prefs = win.preferences
    # Keep 2 per group: each collapsed stack shows its best two, at once.
    prefs.apply(Prefs(keep_per_group=2))
    assert len(shown(win)) == 10 and load_prefs().keep_per_group == 2
    assert win.culling.selected_items() == [chosen], "the selection stays"
    # Strict similarity: the worker groups again from the kept scores (no decode).
    with qtbot.waitSignal(win.culling.stacks_changed, timeout=TIMEOUT):
        prefs.apply(Prefs(similarity="strict", keep_per_group=2))
    assert win.culling.selected_items() == [chosen]
    with qtbot.waitSignal(win.culling.stacks_changed, timeout=TIMEOUT):
        prefs.apply(Prefs())
    assert len(shown(win)) == 5 and load_prefs() == Prefs()


def test_verdict_keys_land_on_the_photo_shown_as_current(qtbot: Any, win: MainWindow) -> None:
    """Ctrl+End (and Ctrl+arrows, Home/End, PageUp/PageDown) move the current photo; with
    Ctrl the selection stays behind.  The verdict goes to the photo shown as current."""
    win.culling.act_stacks.setChecked(False)  # every photo, plain rank order
    win.view.setFocus()
    win.view.setCurrentIndex(win.proxy.index(0, 0))
    first = shown(win)[0]
    for key, mods in ((Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier),
                      (Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier),
                      (Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier),
                      (Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier),
                      (Qt.Key.Key_PageUp, Qt.KeyboardModifier.NoModifier),
                      (Qt.Key.Key_End, Qt.KeyboardModifier.NoModifier)):
        qtbot.keyClick(win.view, key, mods)
        current = win.proxy.index(win.view.currentIndex().row(), 0).data(Roles.Item)
        qtbot.keyClick(win.view, Qt.Key.Key_X)
        assert current.verdict.flag == Flag.REJECT, (key, mods)
        assert read_sidecar(current.path).rating == -1
        qtbot.keyClick(win.view, Qt.Key.Key_U)
        if current is not first:
            assert first.verdict.flag != Flag.REJECT, "never the photo left behind"


def test_ctrl_z_undoes_the_last_verdicts_and_their_sidecars(qtbot: Any,
                                                           win: MainWindow) -> None:
    win.view.setFocus()
    win.view.setCurrentIndex(win.proxy.index(1, 0))
    it = shown(win)[1]
    qtbot.keyClick(win.view, Qt.Key.Key_4)
    qtbot.keyClick(win.view, Qt.Key.Key_X)
    assert it.verdict.flag == Flag.REJECT and read_sidecar(it.path).rating == -1
    qtbot.keyClick(win.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert it.verdict.stars == 4 and it.verdict.flag == Flag.NONE
    assert read_sidecar(it.path).rating == 4
    qtbot.keyClick(win.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert it.verdict.empty and read_sidecar(it.path).rating == 0


def test_reverse_sort_puts_the_worst_first(win: MainWindow) -> None:
    win.culling.act_stacks.setChecked(False)
    scores = [it.score for it in shown(win)]
    win.act_reverse.setChecked(True)
    assert [it.score for it in shown(win)] == sorted(scores)
    assert win.act_reverse.text() == "Worst First"
    win.sort_combo.setCurrentIndex(1)  # by name
    names = [it.path.name.lower() for it in shown(win)]
    assert names == sorted(names, reverse=True)
    win.act_reverse.setChecked(False)


def test_look_closer_never_enlarges_a_small_photo(qtbot: Any, win: MainWindow) -> None:
    win.resize(1400, 1000)
    win.open_preview(win.proxy.index(0, 0))
    preview = win.preview
    assert preview is not None
    qtbot.waitUntil(lambda: preview.image.has_image(), timeout=TIMEOUT)
    view = preview.image
    assert view.fitted_rect().width() <= 320 and view.shown_percent() == 100
    preview.close()


def test_the_model_in_use_is_named_in_the_status_bar_and_about(
    win: MainWindow, tmp_path: Path
) -> None:
    from curator.gui.help import about_markdown

    assert win.model_label.text() == "Model: bundled model"
    fake = tmp_path / "personal.json"
    win.worker.personal_path = fake
    win.show_model_label()
    assert "your personal model" in win.model_label.text()
    about = about_markdown(win.model_path, win.model_name(win.model_path), fake)
    assert "your personal model" in about and str(fake) in about
    win.worker.personal_path = None


def test_window_export_writes_stars_and_labels_into_the_copies(
    qtbot: Any, win: MainWindow, tmp_path: Path
) -> None:
    from tests.test_sidecar import EXIFTOOL, exif_read

    if EXIFTOOL is None:
        pytest.skip("exiftool not installed")
    win.preferences.apply(Prefs(label_green_at=0.0, label_red_at=None))  # every photo Green
    win.view.setFocus()
    win.view.setCurrentIndex(win.proxy.index(0, 0))
    qtbot.keyClick(win.view, Qt.Key.Key_3)
    best = shown(win)[0]
    dest = tmp_path / "for-lightroom"
    with qtbot.waitSignal(win.export_finished, timeout=TIMEOUT):
        win.run_export(win.ranked_scores()[:2], dest, 2, None, embed=True)
    tags = exif_read(dest / best.path.name)
    assert tags["XMP-xmp:Rating"] == 3 and tags["XMP-xmp:Label"] == "Green"
    win.preferences.apply(Prefs())
