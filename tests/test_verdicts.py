"""A person's verdict counts wherever Curator ranks or exports: the CLI reads the sidecars the
window (or Lightroom, darktable) wrote, and a verdict no sidecar could take is remembered."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from curator.choices import ChoiceStore
from curator.cli import main
from curator.culling import Flag, Verdict
from curator.sidecar import verdict_fields, write_sidecars
from curator.verdicts import VerdictReader
from tests.conftest import make_jpeg
from tests.xmpfiles import darktable, lightroom


@pytest.mark.slow
def test_cli_export_leaves_out_photos_rejected_in_their_sidecars(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = tmp_path / "shoot"
    photos = [make_jpeg(root / f"dish{i}.jpg", 320 + 40 * i, 240, seed=10 * i) for i in range(4)]
    write_sidecars(photos[0], verdict_fields(Flag.REJECT, 0))  # rejected in the window
    (root / "DSC_7.NEF").write_bytes(b"MM\0*nef")  # a pair rejected in Lightroom, on the RAW
    make_jpeg(root / "DSC_7.jpg", seed=77)
    (root / "DSC_7.xmp").write_bytes(lightroom("NEF").replace(b'xmp:Rating="1"',
                                                                b'xmp:Rating="-1"'))
    dest = tmp_path / "best"
    assert main(["export", str(root), "--top", "10", "--to", str(dest), "--all-in-group",
                 "--no-cache"]) == 0
    out = capsys.readouterr().out
    copied = sorted(p.name for p in dest.iterdir() if p.suffix == ".jpg")
    assert copied == ["dish1.jpg", "dish2.jpg", "dish3.jpg"]
    assert "Left out 2 photo(s) rejected in their sidecars: DSC_7.jpg, dish0.jpg" in out
    assert main(["score", str(root), "--json", "--no-cache"]) == 0
    doc = json.loads(capsys.readouterr().out)
    flags = {Path(p["path"]).name: p["verdict"]["flag"] for p in doc["photos"]}
    assert flags == {"dish0.jpg": "reject", "DSC_7.jpg": "reject", "dish1.jpg": "none",
                     "dish2.jpg": "none", "dish3.jpg": "none"}


def test_a_verdict_no_sidecar_could_take_is_remembered_until_a_newer_edit(
    tmp_path: Path,
) -> None:
    photo = make_jpeg(tmp_path / "risotto.jpg")
    side = tmp_path / "risotto.jpg.xmp"
    side.write_bytes(darktable("risotto.jpg"))  # the person's 2 stars
    old = time.time() - 600
    os.utime(side, (old, old))
    side.chmod(0o444)
    result = write_sidecars(photo, verdict_fields(Flag.PICK, 5))
    assert not result.written and "read-only" in result.notes[0].reason
    with ChoiceStore.in_dir(tmp_path / "cache") as store:  # what the window does next
        store.record(photo, Verdict(Flag.PICK, 5), 80.0, saved=False)
    reader = VerdictReader.with_choices(tmp_path / "cache")
    assert reader.verdict(photo) == Verdict(Flag.PICK, 5), "the newer choice counts"
    side.chmod(0o644)  # later, darktable changes the rating: the sidecar is newer now
    side.write_bytes(darktable("risotto.jpg").replace(b'xmp:Rating="2"', b'xmp:Rating="3"'))
    later = time.time() + 60
    os.utime(side, (later, later))
    assert VerdictReader.with_choices(tmp_path / "cache").verdict(photo) == Verdict(
        Flag.NONE, 3)
    assert VerdictReader().verdict(photo) == Verdict(Flag.NONE, 3)
    # A verdict a sidecar took is not brought back from memory once that sidecar is deleted.
    other = make_jpeg(tmp_path / "tart.jpg", seed=2)
    write_sidecars(other, verdict_fields(Flag.PICK, 4))
    with ChoiceStore.in_dir(tmp_path / "cache") as store:
        store.record(other, Verdict(Flag.PICK, 4), 70.0, saved=True)
    (tmp_path / "tart.jpg.xmp").unlink()
    assert VerdictReader.with_choices(tmp_path / "cache").verdict(other).empty


@pytest.mark.slow
def test_window_shows_a_remembered_verdict_after_reopening(qtbot: Any, tmp_path: Path) -> None:
    pytest.importorskip("pytestqt")
    from PySide6.QtCore import QSettings, Qt

    from curator.gui.main_window import MainWindow
    from curator.gui.models import Roles
    from tests.test_gui import open_and_wait

    root = tmp_path / "shoot"
    make_jpeg(root / "locked.jpg", seed=1)
    side = root / "locked.jpg.xmp"
    side.write_bytes(darktable("locked.jpg"))
    old = time.time() - 600
    os.utime(side, (old, old))
    side.chmod(0o444)

    def window() -> MainWindow:
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        win = MainWindow(settings, cache_dir=tmp_path / "cache")
        win.quiet_dialogs = True
        qtbot.addWidget(win)
        win.show()
        open_and_wait(qtbot, win, root)
        return win

    win = window()
    win.view.setCurrentIndex(win.proxy.index(0, 0))
    qtbot.keyClick(win.view, Qt.Key.Key_P)
    assert "read-only" in win.statusBar().currentMessage()
    assert "Curator remembers the verdict" in win.statusBar().currentMessage()
    win.close()
    again = window()
    item = again.proxy.index(0, 0).data(Roles.Item)
    assert item.verdict.flag == Flag.PICK, "the pick is there after reopening"
    assert side.read_bytes() == darktable("locked.jpg")


def test_choices_of_photos_with_names_that_are_not_utf8(tmp_path: Path) -> None:
    photo = tmp_path / os.fsdecode("cr\xe8me.jpg".encode("latin-1"))
    make_jpeg(photo)
    with ChoiceStore.in_dir(tmp_path / "cache") as store:
        store.record(photo, Verdict(Flag.PICK, 3), 50.0, saved=False)
        assert [c.path for c in store.all()] == [photo]
    assert VerdictReader.with_choices(tmp_path / "cache").verdict(photo) == Verdict(Flag.PICK, 3)
