"""The desktop window, offscreen: real folders, real scoring thread, real child process."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QImage

from curator.groups import group_photos
from curator.gui.main_window import MainWindow
from curator.gui.models import PhotoFilterProxy, PhotoItem, PhotoListModel, Roles, SortKey
from curator.gui.retrain import RetrainDialog, summary_text
from curator.gui.scoredisplay import format_score, shown_score
from curator.scan import scan_folder
from curator.score import PhotoScore, Scorer, rank
from tests.conftest import make_jpeg, tree_digest
from tests.test_train import ava_row, random_ava, write_ava

TIMEOUT = 120_000


@pytest.fixture
def window(qtbot: Any, tmp_path: Path) -> MainWindow:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings, cache_dir=tmp_path / "cache")
    win.quiet_dialogs = True
    # These generated gradients are near-copies of each other: show every photo, in rank
    # order (stacks are tested in test_culling_gui.py).
    win.culling.act_stacks.setChecked(False)
    qtbot.addWidget(win)
    win.show()
    return win


def open_and_wait(qtbot: Any, win: MainWindow, folder: Path) -> None:
    with qtbot.waitSignal(win.scoring_finished, timeout=TIMEOUT):
        win.open_folder(folder)
    qtbot.waitUntil(lambda: not win.scoring, timeout=TIMEOUT)
    win.model.flush_now()


def proxy_column(win: MainWindow, role: int) -> list[Any]:
    return [win.proxy.index(r, 0).data(role) for r in range(win.proxy.rowCount())]


def test_model_passes_qt_model_tester(qapp: Any, qtmodeltester: Any, tmp_path: Path) -> None:
    model = PhotoListModel()
    paths = [make_jpeg(tmp_path / f"{i}.jpg", 64, 48, seed=i) for i in range(5)]
    model.reset([PhotoItem(p, float(i)) for i, p in enumerate(paths)])
    for i, p in enumerate(paths):
        model.set_result(p, 4 + i * 0.5, 1.0, (0.1,) * 10, (64, 48), None)
    model.set_thumbnail(paths[0], QImage(32, 32, QImage.Format.Format_RGB888))
    model.rerank()
    qtmodeltester.check(model)
    proxy = PhotoFilterProxy()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy)


def core_best(core: list[PhotoScore]) -> float:
    return max(s.rank_value for s in core)


def test_open_folder_ranks_like_the_core_and_lists_broken_files(
    qtbot: Any, window: MainWindow, mixed_folder: tuple[Path, list[str], list[str]]
) -> None:
    root, good, broken = mixed_folder
    before = tree_digest(root)
    open_and_wait(qtbot, window, root)
    scored = [r for r in Scorer().score(scan_folder(root)) if isinstance(r, PhotoScore)]
    # The core's final ranking, as `curator score` prints it: near-duplicate frames compared,
    # a frame placed after a sharper sibling shown under it (curator.groups).
    core = group_photos(rank(scored)).with_reasons(rank(scored))
    expected = [str(s.path) for s in core]
    shown = proxy_column(window, Roles.Path)
    assert shown[: len(good)] == expected
    assert proxy_column(window, Roles.Rank)[: len(good)] == list(range(1, len(good) + 1))
    scores = {str(s.path): s.rank_value for s in core}
    assert all(s.score is not None for s in core), "the bundled model gives the 0-100 score"
    first = window.proxy.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert f"Score {core_best(core):.0f} (rank 1)" in first and "±" not in first
    for path, score in zip(shown, proxy_column(window, Roles.Score), strict=True):
        if path in scores:
            assert score == pytest.approx(scores[path], abs=1e-4)
    errors = {Path(p).name: e for p, e in zip(shown, proxy_column(window, Roles.Error),
                                              strict=True) if e}
    assert sorted(errors) == broken
    tip = window.proxy.index(len(good), 0).data(Qt.ItemDataRole.ToolTipRole)
    assert "Cannot be scored" in tip
    assert "could not be read" in window.status_label.text()
    thumbs = proxy_column(window, Roles.Thumbnail)
    assert all(t is not None for t in thumbs[: len(good)]), "every good photo has a thumbnail"
    assert tree_digest(root) == before
    # Re-open: everything comes from the cache; the thumbnails are read in the window's
    # thumbnail thread meanwhile (ranking and grouping do not wait for them).
    open_and_wait(qtbot, window, root)
    assert proxy_column(window, Roles.Path)[: len(good)] == expected
    qtbot.waitUntil(lambda: all(t is not None for t in
                                proxy_column(window, Roles.Thumbnail)[: len(good)]),
                    timeout=TIMEOUT)
    # The grid paints (delegate: thumbnail, rank, score).
    assert not window.view.grab().isNull()


def test_sort_and_filter(qtbot: Any, window: MainWindow,
                         mixed_folder: tuple[Path, list[str], list[str]]) -> None:
    root, good, _ = mixed_folder
    open_and_wait(qtbot, window, root)
    window.sort_combo.setCurrentIndex(int(SortKey.Name))
    names = proxy_column(window, Qt.ItemDataRole.DisplayRole)
    assert names == sorted(names, key=lambda n: n.lower())
    window.sort_combo.setCurrentIndex(int(SortKey.Score))
    # Generated gradients all score near 0: spread them over 0-100 to test the filter.
    for i, it in enumerate(it for it in window.model.items() if it.score is not None):
        window.model.set_result(it.path, 10.0 + 12 * i, it.sd, it.distribution, it.size, None,
                                it.ava_mean, ("blur",), True)
    window.model.rerank()
    scores = [s for s in proxy_column(window, Roles.Score) if s is not None]
    window.min_spin.setValue(float(np.median(scores)))
    threshold = window.min_spin.value()  # as the control shows it (whole numbers, 0-100)
    kept = proxy_column(window, Roles.Score)
    # The filter compares the displayed (rounded) number: "5.1" passes a minimum of 5.1.
    assert kept and all(s is not None and shown_score(s) >= threshold for s in kept)
    assert sorted(kept) == sorted(s for s in scores if format_score(s) >= format_score(
        threshold) and shown_score(s) >= threshold)
    assert len(kept) < len(good)
    assert window.count_label.text() == f"showing {len(kept)} of {window.model.rowCount()}"
    window.min_spin.setValue(0)
    assert window.proxy.rowCount() == window.model.rowCount()
    assert window.count_label.text() == ""


def test_cancel_mid_scan_and_switching_folders(qtbot: Any, window: MainWindow,
                                               tmp_path: Path) -> None:
    big = tmp_path / "big"
    for i in range(60):
        make_jpeg(big / f"p{i:03d}.jpg", 1600, 1200, seed=i)
    small = tmp_path / "small"
    for i in range(3):
        make_jpeg(small / f"s{i}.jpg", seed=100 + i)
    with qtbot.waitSignal(window.scoring_progressed, timeout=TIMEOUT):
        window.open_folder(big)
    window.cancel()
    assert not window.scoring and "Cancelled" in window.status_label.text()
    qtbot.wait(300)
    scored = sum(it.score is not None for it in window.model.items())
    assert scored < 60
    # Opening another folder while one is scoring cancels it and shows only the new one.
    with qtbot.waitSignal(window.scoring_progressed, timeout=TIMEOUT):
        window.open_folder(big)
    open_and_wait(qtbot, window, small)
    assert sorted(Path(p).name for p in proxy_column(window, Roles.Path)) == [
        "s0.jpg", "s1.jpg", "s2.jpg"]
    assert all(s is not None for s in proxy_column(window, Roles.Score))


def test_export_twice_without_loss(qtbot: Any, window: MainWindow,
                                   mixed_folder: tuple[Path, list[str], list[str]],
                                   tmp_path: Path) -> None:
    root, _, _ = mixed_folder
    before = tree_digest(root)
    open_and_wait(qtbot, window, root)
    ranked = window.ranked_scores()
    dest = tmp_path / "picks"
    for _ in range(2):
        with qtbot.waitSignal(window.export_finished, timeout=TIMEOUT):
            window.run_export(ranked, dest, 3, None)
    files = [p for p in dest.iterdir() if p.suffix in (".jpg", ".png")]
    assert len(files) == 3, "the same files are not copied twice"
    assert "3 were already there" in window.last_export_message
    with open(dest / "picks.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["rank"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["source"] == os.path.abspath(ranked[0].path)
    assert tree_digest(root) == before


def test_ten_exports_in_a_row_then_dialogs(qtbot: Any, window: MainWindow,
                                           mixed_folder: tuple[Path, list[str], list[str]],
                                           tmp_path: Path) -> None:
    """The export worker's signals land on GUI-thread slots: no Qt warning, no crash.

    Before the fix the callbacks ran in the export thread and touched the progress dialog
    (``QObject::killTimer: Timers cannot be stopped from another thread``, then a segfault);
    ``qt_log_level_fail = WARNING`` turns any such message into a failure here.
    """
    root, _, _ = mixed_folder
    open_and_wait(qtbot, window, root)
    ranked = window.ranked_scores()
    dest = tmp_path / "picks"
    for i in range(10):
        with qtbot.waitSignal(window.export_finished, timeout=TIMEOUT):
            window.run_export(ranked, dest / str(i), 2, None)
        qtbot.waitUntil(lambda: window._export_progress is None, timeout=TIMEOUT)
        assert len(window.last_export) == 2, i
        # Re-open a dialog between exports, as a user would.
        window.open_preview(window.proxy.index(i % window.proxy.rowCount(), 0))
        assert window.preview is not None
        window.preview.close()
    for i in range(10):
        with open(dest / str(i) / "picks.csv", newline="") as fh:
            assert len(list(csv.DictReader(fh))) == 2
    assert window.exporter.thread() is not window.thread()  # it really ran off the GUI thread


def test_preview_shows_photo_and_model_views(qtbot: Any, window: MainWindow,
                                             mixed_folder: tuple[Path, list[str], list[str]]
                                             ) -> None:
    root, _, _ = mixed_folder
    open_and_wait(qtbot, window, root)
    window.open_preview(window.proxy.index(0, 0))
    assert window.preview is not None
    qtbot.waitUntil(lambda: window.preview is not None
                    and window.preview.local_view.pixmap() is not None
                    and not window.preview.local_view.pixmap().isNull(), timeout=TIMEOUT)
    assert window.preview.global_view.pixmap().width() == 224
    first = window.preview.path
    window.preview.step(1)
    assert window.preview.path != first
    assert "rank" in window.preview.details.text()


def test_retrain_through_the_real_child_process(qtbot: Any, tmp_path: Path) -> None:
    root = random_ava(tmp_path / "ava", [str(9000 + i) for i in range(10)], seed=3)
    dlg = RetrainDialog(None, tmp_path / "runs")
    qtbot.addWidget(dlg)
    dlg.kind.setCurrentIndex(dlg.kind.findData("ava"))
    dlg.source.setText(str(root))
    dlg.epochs.setValue(15)
    dlg.start()
    assert dlg.proc is not None
    with qtbot.waitSignal(dlg.proc.finished, timeout=TIMEOUT):
        pass
    assert dlg.use_btn.isEnabled(), dlg.log.toPlainText()
    assert dlg.summary and "ava.srcc" in dlg.summary
    assert "guessing the average" in dlg.status.text()
    # The model in use (the bundled one) was judged on the same held-out photos by the child
    # (`train fit --compare-model`), fold by fold: the comparison says so, with both figures.
    assert dlg.compare_summary and dlg.compare_summary["ava.srcc"]["folds"] == \
        dlg.summary["ava.srcc"]["folds"]
    said = dlg.comparison()
    assert "the bundled model" in said and "same photos" in said and "Note:" not in said
    assert f"{dlg.compare_summary['ava.srcc']['mean']:.2f}" in said
    with qtbot.waitSignal(dlg.model_ready, timeout=5000) as got:
        dlg.use_btn.click()
    assert Path(got.args[0]).is_file()


def test_retrain_reports_a_bad_selection(qtbot: Any, tmp_path: Path) -> None:
    ids = [str(9100 + i) for i in range(4)]
    rows = [ava_row(i, x, [1] * 10, 20) for i, x in enumerate(ids)]  # no tag 40
    root = write_ava(tmp_path / "ava", rows, ids)
    dlg = RetrainDialog(None, tmp_path / "runs")
    qtbot.addWidget(dlg)
    dlg.kind.setCurrentIndex(dlg.kind.findData("ava"))
    dlg.source.setText(str(root))
    dlg.start()
    assert dlg.proc is not None
    with qtbot.waitSignal(dlg.proc.finished, timeout=TIMEOUT):
        pass
    assert "0 images in selection" in dlg.status.text()
    assert not dlg.use_btn.isEnabled()


def test_summary_text() -> None:
    s = {"ava.srcc": {"mean": 0.5, "sd": 0.1}, "ava.l1": {"mean": 0.4, "sd": 0.0},
         "ava.l1_naive": {"mean": 0.6, "sd": 0.0}}
    assert summary_text(s) == (
        "On AVA photos it had not seen, its order agrees with people's votes 0.50 "
        "(0 = no better than chance, 1 = the same order).\n"
        "Its scores are off by 0.40 points on average, against 0.60 for always guessing the "
        "average score (33 % closer).")
    assert "L1" not in summary_text(s) and "SRCC" not in summary_text(s)


def test_qt_binding_keeps_none_alive() -> None:
    """PySide6 6.12.0 on Python 3.11 drops a reference to None on every void call; a long
    session then aborts ("deallocating None").  pyproject excludes it; this guards that."""
    import sys

    from PySide6.QtGui import QFont, QPainter

    img = QImage(8, 8, QImage.Format.Format_RGB32)
    painter = QPainter(img)
    font = QFont()
    before = sys.getrefcount(None)
    for _ in range(500):
        painter.setFont(font)
        painter.save()
        painter.restore()
    after = sys.getrefcount(None)
    painter.end()
    assert after >= before - 10


def test_uncaught_exception_shows_a_dialog_and_is_logged(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import sys

    from PySide6.QtWidgets import QMessageBox

    from curator.gui.app import install_excepthook

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda self: shown.append(self.text()) or 0)
    old = sys.excepthook
    try:
        install_excepthook()
        try:
            raise ValueError("disk on fire")
        except ValueError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
    finally:
        sys.excepthook = old
    assert shown == ["ValueError: disk on fire"]
    assert "disk on fire" in caplog.text
