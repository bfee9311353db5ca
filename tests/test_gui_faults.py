"""The window's side of issue 10: skipped files are shown with reasons; export faults are
reported in one line, with no Qt warning (``qt_log_level_fail = WARNING``) and no crash."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pytestqt")

from curator import export as export_mod
from curator.export import PICKS_CSV
from curator.gui.main_window import MainWindow
from tests.conftest import make_jpeg, tree_digest
from tests.test_gui import (
    TIMEOUT,
    open_and_wait,
    window,  # noqa: F401  (the window fixture, shared)
)

_open = open_and_wait


@pytest.fixture
def win(request: pytest.FixtureRequest) -> MainWindow:
    """test_gui's window (offscreen, quiet dialogs, its own cache and settings)."""
    w: MainWindow = request.getfixturevalue("window")
    return w


def test_window_says_which_files_were_not_scored_and_why(
    qtbot: Any, win: MainWindow, tmp_path: Path
) -> None:
    root = tmp_path / "nas"
    make_jpeg(root / "paella.jpg")
    make_jpeg(root / "@eaDir" / "paella.jpg" / "SYNOPHOTO_THUMB_XL.jpg")
    make_jpeg(root / "@eaDir" / "paella.jpg" / "SYNOPHOTO_THUMB_S.jpg", 60, 45)
    make_jpeg(root / "._paella.jpg")
    (root / "logo.svg").write_text("<svg/>")
    _open(qtbot, win, root)
    assert win.model.rowCount() == 1
    btn = win.skipped_btn
    assert btn.isVisible() and btn.text() == "4 files not scored"
    tip = btn.toolTip()
    assert "2 × inside a NAS/OS thumbnail or trash folder (@eaDir)" in tip
    assert "AppleDouble" in tip and "vector image" in tip
    assert "SYNOPHOTO_THUMB_S.jpg" in btn.markdown()
    make_jpeg(tmp_path / "clean" / "a.jpg")
    _open(qtbot, win, tmp_path / "clean")
    assert not btn.isVisible(), "a folder with nothing left out shows nothing"


def test_window_export_faults_are_one_line_and_lose_nothing(
    qtbot: Any, win: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "photos"
    for i in range(4):
        make_jpeg(root / f"p{i}.jpg", seed=i)
    _open(qtbot, win, root)
    before = tree_digest(root)
    ranked = win.ranked_scores()
    # Into the scanned folder itself: refused, nothing written.
    with qtbot.waitSignal(win.export_finished, timeout=TIMEOUT) as sig:
        win.run_export(ranked, root, 2, None)
    assert sig.args == [False] and "scanned folder itself" in win.statusBar().currentMessage()
    # Disk full on the 2nd copy: the 1st stays, listed in picks.csv, the window says so.
    real, n = export_mod._copy_file, [0]

    def copy(a: Path, b: Path) -> None:
        n[0] += 1
        if n[0] == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(a))
        real(a, b)

    monkeypatch.setattr(export_mod, "_copy_file", copy)
    dest = tmp_path / "stick"
    with qtbot.waitSignal(win.export_finished, timeout=TIMEOUT) as sig:
        win.run_export(ranked, dest, 3, None)
    qtbot.waitUntil(lambda: win._export_progress is None, timeout=TIMEOUT)
    msg = win.statusBar().currentMessage()
    assert sig.args == [False] and "Copied 1 of 3" in msg and "full" in msg
    assert sorted(os.listdir(dest)) == [ranked[0].path.name, PICKS_CSV]
    assert len(win.last_export) == 1
    assert tree_digest(root) == before
    # Another folder: the last one's export message does not linger over it.
    other = tmp_path / "other"
    make_jpeg(other / "q.jpg", seed=9)
    _open(qtbot, win, other)
    assert "Copied" not in win.statusBar().currentMessage()


def test_window_shows_and_previews_a_non_utf8_name(
    qtbot: Any, win: MainWindow, tmp_path: Path
) -> None:
    root = tmp_path / "old-card"
    make_jpeg(root / "plain.jpg")
    latin1 = os.path.join(os.fsencode(root), "crème.jpg".encode("latin-1"))
    make_jpeg(Path(os.fsdecode(latin1)), seed=3)
    _open(qtbot, win, root)
    shown = sorted(win.proxy.index(r, 0).data() for r in range(win.proxy.rowCount()))
    assert shown == ["cr\\xe8me.jpg", "plain.jpg"]
    names = [win.proxy.index(r, 0).data() for r in range(win.proxy.rowCount())]
    win.open_preview(win.proxy.index(names.index("cr\\xe8me.jpg"), 0))
    assert win.preview is not None
    qtbot.waitUntil(lambda: win.preview is not None
                    and win.preview.local_view.pixmap() is not None
                    and not win.preview.local_view.pixmap().isNull(), timeout=TIMEOUT)
    assert "cr\\xe8me.jpg" in win.preview.windowTitle()
