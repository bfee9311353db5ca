"""Issue 9/11: what a fresh-eyes tester found in the real window (size change crash, rejected
photos exported, export dialog radios, model menu, shortcuts, culling in Look Closer, …)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QColor, QDesktopServices, QPalette
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QLabel

from curator.culling import Flag, Verdict
from curator.gui.compare import caption_colours, caption_html
from curator.gui.contrast import MIN_CONTRAST, contrast_ratio
from curator.gui.export_dialog import ExportDialog, default_export_dir, remembered_export_dir
from curator.gui.main_window import MainWindow
from curator.gui.models import PhotoItem, Roles
from curator.gui.preview import preview_html
from curator.gui.retrain import RetrainDialog, train_command
from curator.gui.scoredisplay import format_score
from curator.reasons import REASONS
from curator.sidecar import read_sidecar
from tests.conftest import make_jpeg
from tests.test_culling_gui import select as select_rows
from tests.test_gui import TIMEOUT, open_and_wait
from tests.test_gui import window as window  # the fixture


@pytest.fixture
def small_folder(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    for i in range(4):
        make_jpeg(root / f"dish{i}.jpg", 700, 500, seed=40 + i)
    (root / "broken.jpg").write_bytes(b"not a photo")
    return root


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


def accept_export(monkeypatch: pytest.MonkeyPatch, dest: Path, top: int,
                  seen: list[ExportDialog]) -> None:
    """Answer the export dialog as the owner would: ``top`` photos to ``dest``, Export."""
    def fake_exec(dlg: ExportDialog) -> int:
        seen.append(dlg)
        dlg.count.setValue(top)
        dlg.dest.setText(str(dest))
        dlg.all_ranked.setChecked(True)
        return int(QDialog.DialogCode.Accepted)
    monkeypatch.setattr(ExportDialog, "exec", fake_exec)


# -- 2. a rejected photo is never exported by Export Best ------------------------------------
def test_export_best_leaves_rejects_out(qtbot: Any, window: MainWindow, small_folder: Path,
                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    win = window
    open_and_wait(qtbot, win, small_folder)
    best = win.ranked_scores()[0].path
    select_rows(win, [0])
    qtbot.keyClick(win.view, Qt.Key.Key_X)
    dest = tmp_path / "best"
    seen: list[ExportDialog] = []
    accept_export(monkeypatch, dest, 2, seen)
    with qtbot.waitSignal(win.export_finished, timeout=TIMEOUT):
        win.export_dialog()
    assert "rejected" in " ".join(w.text() for w in seen[0].findChildren(QLabel))
    exported = {p.source for p in win.last_export}
    assert len(exported) == 2 and best not in exported
    assert not (dest / best.name).exists()
    with open(dest / "picks.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2
    assert best.name not in {Path(v).name for r in rows for v in r.values() if v}


# -- 3. the export dialog's "From" radios: exactly one ticked ---------------------------------
@pytest.mark.parametrize("n_selected", [0, 1, 3])
def test_export_dialog_ticks_exactly_one_source(qtbot: Any, tmp_path: Path,
                                                n_selected: int) -> None:
    dlg = ExportDialog(None, tmp_path / "photos", tmp_path / "out", 10, n_selected)
    qtbot.addWidget(dlg)
    dlg.show()
    ticked = [b for b in (dlg.all_ranked, dlg.selected) if b.isChecked()]
    assert ticked == [dlg.selected if n_selected > 1 else dlg.all_ranked]
    dlg.all_ranked.click()
    assert dlg.all_ranked.isChecked() and not dlg.selected.isChecked()
    assert not dlg.values().selected_only


# -- 4. Learn From My Choices survives the Model menu's rebuild --------------------------------
def test_model_menu_keeps_learn_actions_after_refresh(window: MainWindow) -> None:
    win = window
    for _ in range(2):
        win.model_menu.aboutToShow.emit()  # what opening the menu does
        texts = [a.text().replace("&", "") for a in win.model_menu.actions()]
        assert "Learn From My Choices…" in texts
        assert "Stop Using My Personal Model" in texts
        assert texts.count("Learn From My Choices…") == 1
        assert "Retrain…" in texts and "About This Model" in texts
    # Nothing to stop using until a personal model is in use (was enabled regardless).
    off = window.culling.act_personal_off
    assert window.worker.personal_path is None and not off.isEnabled()


# -- 5. F1 lists the culling keys and Compare's, taken from the actions ---------------------------
def test_shortcuts_list_culling_and_compare_keys(window: MainWindow) -> None:
    text = window.shortcuts_text()
    for keys, does in [("P", "Pick"), ("X", "Reject"), ("U", "Unflag"), ("0", "No Stars"),
                       ("3", "3 Stars"), ("5", "5 Stars"), ("S", "Expand/Collapse Stack"),
                       ("C", "Compare Two Photos")]:
        assert f"| {keys} | {does}" in text
    for keys in ("1 / 2", "Shift+1 / Shift+2", "+ / −", "In Compare: F"):
        assert keys in text
    window.culling.act_pick.setShortcut("Ctrl+Alt+P")  # generated: follows the action
    assert "| Ctrl+Alt+P | Pick" in window.shortcuts_text()


# -- 6. culling keys work in Look Closer, on the photo shown ------------------------------------
def test_culling_keys_in_look_closer(qtbot: Any, window: MainWindow,
                                     small_folder: Path) -> None:
    win = window
    open_and_wait(qtbot, win, small_folder)
    select_rows(win, [1])
    qtbot.keyClick(win.view, Qt.Key.Key_Space)
    pv = win.preview
    assert pv is not None and pv.isVisible() and pv.item is not None
    pv.activateWindow()
    qtbot.waitUntil(pv.isActiveWindow, timeout=5000)
    shown = pv.item
    qtbot.keyClick(pv, Qt.Key.Key_P)
    assert shown.verdict == Verdict(Flag.PICK, 0)
    assert "Picked" in pv.verdict.text()
    qtbot.keyClick(pv, Qt.Key.Key_4)
    assert shown.verdict == Verdict(Flag.PICK, 4)
    assert "★★★★☆" in pv.verdict.text()
    assert read_sidecar(shown.path).rating == 4
    qtbot.keyClick(pv, Qt.Key.Key_Right)  # keys still move
    assert pv.item is not shown
    qtbot.keyClick(pv, Qt.Key.Key_X)
    assert pv.item.verdict.flag == Flag.REJECT and "Rejected" in pv.verdict.text()
    qtbot.keyClick(pv, Qt.Key.Key_U)
    assert pv.item.verdict == Verdict(Flag.NONE, 0)
    assert shown.verdict == Verdict(Flag.PICK, 4)  # only the photo shown changed
    pv.close()


# -- 7. no launcher: Open Folder says where the folder is instead of failing silently ----------
def test_open_folder_without_a_launcher_shows_the_path(
        qtbot: Any, window: MainWindow, small_folder: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    win = window
    open_and_wait(qtbot, win, small_folder)
    asked: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: asked.append(url) and False)
    select_rows(win, [0])
    win.reveal_current()
    assert len(asked) == 1
    assert str(small_folder.resolve()) in win.statusBar().currentMessage()
    assert "could not open a file manager" in win.statusBar().currentMessage()
    win.statusBar().clearMessage()
    win.open_preview(win.proxy.index(0, 0))
    assert win.preview is not None
    win.preview.reveal()  # Look Closer's Show in Folder: the same message
    assert str(small_folder.resolve()) in win.statusBar().currentMessage()
    win.preview.close()


# -- 8. counts say why: stacks, unreadable files, short exports --------------------------------
def test_counts_say_why(qtbot: Any, window: MainWindow, small_folder: Path,
                        tmp_path: Path) -> None:
    win = window
    win.culling.act_stacks.setChecked(True)
    with qtbot.waitSignal(win.culling.stacks_changed, timeout=TIMEOUT):
        win.open_folder(small_folder)
    qtbot.waitUntil(lambda: not win.scoring, timeout=TIMEOUT)
    win.model.flush_now()
    total, shown = win.model.rowCount(), win.proxy.rowCount()
    inside = sum(win.culling.in_collapsed_stack(it) for it in win.model.items())
    assert inside > 0  # these generated gradients stack
    assert win.count_label.text() == f"showing {shown} of {total} ({inside} inside stacks)"
    win.culling.act_stacks.setChecked(False)
    assert win.count_label.text() == ""
    # A filter that hides everything counts the scored photos, and names the broken file apart.
    win.min_spin.setValue(win.min_spin.maximum())
    assert "all 4 scored photos are hidden" in win.view.empty_text
    assert "1 file(s) could not be read" in win.view.empty_text
    win.min_spin.setValue(win.min_spin.minimum())
    # The unreadable file is mentioned only when the export came out short.
    ranked = win.ranked_scores()
    with qtbot.waitSignal(win.export_finished, timeout=TIMEOUT):
        win.run_export(ranked, tmp_path / "top2", 2, None)
    assert "Copied 2 photo(s)" in win.last_export_message
    assert "could not read" not in win.last_export_message
    with qtbot.waitSignal(win.export_finished, timeout=TIMEOUT):
        win.run_export(ranked, tmp_path / "top10", 10, None)
    assert "1 file(s) that Curator could not read were skipped" in win.last_export_message


# -- 9. Compare: readable flag colours, the 0–100 score and its reasons ------------------------
@pytest.mark.parametrize("window_bg, text", [("#efefef", "#000000"), ("#d6d6d6", "#101010"),
                                             ("#2b2b2b", "#e6e6e6"), ("#ffffff", "#000000")])
def test_compare_caption_colours_meet_wcag(qapp: Any, window_bg: str, text: str) -> None:
    pal = QPalette(QApplication.palette())
    pal.setColor(QPalette.ColorRole.Window, QColor(window_bg))
    pal.setColor(QPalette.ColorRole.WindowText, QColor(text))
    cols = caption_colours(pal)
    for key in ("picked", "rejected", "text"):
        assert contrast_ratio(cols[key], cols["background"]) >= MIN_CONTRAST, key
    # What the tester measured: raw green on grey was 2.93:1.
    assert contrast_ratio(QColor(46, 160, 67), QColor("#d6d6d6")) < 3.0


def test_compare_caption_shows_the_0_100_score_and_reasons(tmp_path: Path) -> None:
    it = PhotoItem(tmp_path / "a.jpg", score=52.4, sd=3.1, reasons=("blur",), percent=True, rank=3)
    it.verdict = Verdict(Flag.REJECT, 0)
    cols = caption_colours(QApplication.palette() if QApplication.instance() else QPalette())
    text = caption_html(it, cols)
    assert f"score {format_score(52.4)} / 100" in text and "rank 3" in text
    assert "±" not in text and "blur" in text and REASONS["blur"] in text
    assert cols["rejected"].name() in text and "rejected" in text


# -- 10. the export dialog's error line wraps and the dialog grows to show all of it -----------
def test_export_dialog_error_is_not_clipped(qtbot: Any, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    dlg = ExportDialog(None, folder, tmp_path / "out", 10, 0)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    before = dlg.height()
    dlg.dest.setText(str(folder / "inside"))  # the longest message: inside the folder
    dlg.accept()
    qtbot.waitUntil(lambda: dlg.error.isVisible())
    QApplication.processEvents()
    assert dlg.isVisible() and "inside the folder" in dlg.error.text()
    assert dlg.error.wordWrap()
    need = dlg.error.heightForWidth(dlg.error.width())
    assert dlg.error.height() >= need
    assert dlg.height() > before


# -- 11. Export Picks starts beside the photos; a broken file takes no verdict ------------------
def test_export_picks_destination_and_broken_file(
        qtbot: Any, window: MainWindow, small_folder: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    win = window
    open_and_wait(qtbot, win, small_folder)
    items = [win.proxy.index(r, 0).data(Roles.Item) for r in range(win.proxy.rowCount())]
    broken_row = next(r for r, it in enumerate(items) if it.error is not None)
    select_rows(win, [broken_row])
    for key in (Qt.Key.Key_P, Qt.Key.Key_3, Qt.Key.Key_X):
        qtbot.keyClick(win.view, key)
    assert items[broken_row].verdict.empty
    assert "cannot be read" in win.statusBar().currentMessage()
    assert list(small_folder.glob("*.xmp")) == []  # no sidecar for it
    select_rows(win, [0])
    qtbot.keyClick(win.view, Qt.Key.Key_P)
    started: list[str] = []

    def pick_dir(_parent: Any, _title: str, start: str) -> str:
        started.append(start)
        assert Path(start).is_dir()  # created so the picker can open there
        return start
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", pick_dir)
    with qtbot.waitSignal(win.export_finished, timeout=TIMEOUT):
        win.culling.export_picks_dialog()
    expected = default_export_dir(small_folder)
    assert Path(started[0]) == expected  # beside the photos, as Export Best
    assert (expected / items[0].path.name).is_file()
    assert remembered_export_dir(win.settings, small_folder) == expected.resolve()


# -- 12. plain words: Look Closer's details, the Retrain dialog's data kinds --------------------
def test_look_closer_details_in_plain_words(tmp_path: Path) -> None:
    it = PhotoItem(tmp_path / "a.jpg", score=61.0, sd=1.4, ava_mean=5.6, percent=True,
                   distribution=tuple([0.1] * 10), reasons=("dark",))
    text = preview_html(it)
    assert "predicted votes" not in text and "AVA" not in text
    # The vote histogram and its mean +- spread predicted nothing on held-out food photos.
    assert "1 (left) to 10 (right)" not in text and "±" not in text and "5.6" not in text
    assert "Why not higher" in text
    # No reason: a low score says what it is about instead of "nothing to flag" on a 3/100.
    low = PhotoItem(tmp_path / "b.jpg", score=3.0, percent=True, reasons=())
    assert "nothing to flag" not in preview_html(low)
    assert "what the photo shows" in preview_html(low)
    zero = PhotoItem(tmp_path / "z.jpg", score=0.0, percent=True, reasons=())
    assert "what the photo shows" in preview_html(zero)  # 0.0 is a score, not "none"
    high = PhotoItem(tmp_path / "c.jpg", score=91.0, percent=True, reasons=())
    assert "nothing to flag" in preview_html(high)


def test_retrain_offers_the_owners_data_first(qtbot: Any, tmp_path: Path) -> None:
    dlg = RetrainDialog(None, tmp_path / "models")
    qtbot.addWidget(dlg)
    kinds = [dlg.kind.itemData(i) for i in range(dlg.kind.count())]
    assert kinds == ["labelled", "labelled_csv", "ratings", "yelp", "ava"]  # AVA last
    assert dlg.kind.currentData() == "labelled" and not dlg.tag.isEnabled()
    mine = tmp_path / "mine"
    (mine / "good").mkdir(parents=True)
    dlg.source.setText(str(mine))
    assert "good/ and a bad/" in (dlg.problem() or "")
    (mine / "bad").mkdir()
    assert dlg.problem() is None
    dlg.kind.setCurrentIndex(dlg.kind.findData("yelp"))
    assert "labels.csv" in (dlg.problem() or "")
    out = tmp_path / "o"
    for kind, flag in [("labelled", "--labelled"), ("labelled_csv", "--labelled"),
                       ("ratings", "--ratings"), ("yelp", "--yelp"), ("ava", "--ava-root")]:
        args = train_command(kind, mine, 40, 10, out)
        assert args[args.index(flag) + 1] == str(mine)
    # Every flag the dialog passes is one ``python -m train fit`` accepts.
    helptext = subprocess.run([sys.executable, "-m", "train", "fit", "--help"],
                              capture_output=True, text=True, check=True).stdout
    for flag in ("--labelled", "--ratings", "--yelp", "--ava-root"):
        assert flag in helptext


# -- 13. Look Closer's side column never squashes its rows (the vote table was a 2-px strip) --
def test_look_closer_details_keep_their_height(qtbot: Any, tmp_path: Path) -> None:
    from curator.gui.preview import PreviewDialog
    from curator.modelfile import load_model_file
    from curator.paths import BUNDLED_MODEL

    photo = make_jpeg(tmp_path / "dish.jpg", 800, 600)
    dlg = PreviewDialog(None, load_model_file(BUNDLED_MODEL).preprocess)
    qtbot.addWidget(dlg)
    dlg.show()
    item = PhotoItem(photo, score=12.0, sd=1.4, ava_mean=5.6, percent=True, size=(800, 600),
                     distribution=tuple([0.1] * 10), reasons=("dark", "tilted", "noisy"))
    dlg.show_item(item)
    qtbot.waitUntil(lambda: dlg.local_view.isVisible(), timeout=TIMEOUT)
    QApplication.processEvents()
    label = dlg.details
    assert label.height() >= label.heightForWidth(label.width()) - 2, (
        label.height(), label.heightForWidth(label.width()))


# -- 14. a personal model learned with another scoring model: the owner is told, not just a log --
def test_personal_model_of_another_scoring_model_is_announced(
        qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    import json

    import numpy as np

    from curator.groups import EMBED_DIM
    from curator.personal import PersonalModel

    n = EMBED_DIM + 1
    pm = PersonalModel(np.zeros(n), 0.0, np.zeros(n), np.ones(n), "an-older-model-digest", {})
    path = tmp_path / "personal.json"
    path.write_text(json.dumps(pm.to_dict()))
    window.worker.personal_path = path
    folder = tmp_path / "photos"
    make_jpeg(folder / "a.jpg")
    with qtbot.waitSignal(window.noticed, timeout=TIMEOUT) as said:
        open_and_wait(qtbot, window, folder)
    assert "Learn From My Choices again" in said.args[0]
    assert "another version of the scoring model" in said.args[0]
    assert "Learn From My Choices again" in window.statusBar().currentMessage()
    path.write_text("not a personal model")  # an unreadable file is not called "another version"
    with qtbot.waitSignal(window.noticed, timeout=TIMEOUT) as said:
        open_and_wait(qtbot, window, folder)
    assert "cannot be read" in said.args[0] and "another version" not in said.args[0]
