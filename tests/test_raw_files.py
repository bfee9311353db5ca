"""Camera RAW files, alone and in RAW+JPEG pairs: scored from the embedded preview, one entry
per pair, verdicts on both files, exported together.  The RAWs are real DNGs LibRaw reads."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from curator import raw
from curator.cli import main
from curator.loader import LoadedPhoto, LoadError, load_photo
from curator.preprocess import Preprocess
from curator.scan import scan
from curator.sidecar import read_sidecar
from tests.conftest import REPO, make_jpeg, tree_digest
from tests.rawfiles import make_dng
from tests.test_sidecar import exif_read, needs_exiftool
from tests.xmpfiles import lightroom, xmp_digest

PRE = Preprocess()
SAMPLE = REPO / "assets" / "samples" / "pizza.jpg"  # 1920 x 1535, bundled


def sensor(displayed: Image.Image, orientation: int) -> Image.Image:
    """How a camera stores ``displayed``: in the sensor's orientation (EXIF 6 = the camera
    was turned 90° clockwise, so the stored picture is the shown one turned back)."""
    back = {6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270,
            3: Image.Transpose.ROTATE_180}.get(orientation)
    return displayed.transpose(back) if back is not None else displayed


def portrait_sample() -> Image.Image:
    with Image.open(SAMPLE) as im:
        return im.convert("RGB").crop((300, 0, 1528, 1535)).resize((960, 1200))


def test_a_raw_alone_is_scored_from_its_embedded_preview_upright(tmp_path: Path) -> None:
    shown = portrait_sample()  # what the camera's screen showed: portrait
    dng = make_dng(tmp_path / "IMG_0001.DNG", sensor(shown, 6), raw_size=(1500, 1200),
                   orientation=6)
    twin = tmp_path / "twin.jpg"
    shown.save(twin, quality=95)
    assert raw.is_raw(dng) and raw.available()
    prev = raw.read_preview(dng)
    assert not prev.developed and prev.image.size == shown.size  # upright, full preview
    photo, jpeg = load_photo(dng, PRE), load_photo(twin, PRE)
    assert isinstance(photo, LoadedPhoto) and isinstance(jpeg, LoadedPhoto)
    assert (photo.width, photo.height) == (1200, 1500)  # the RAW's size, as displayed
    diff = np.abs(photo.global_view.astype(int) - jpeg.global_view.astype(int)).mean()
    assert diff < 3.0, f"the RAW's views are its preview's (mean difference {diff:.1f})"


def test_a_raw_with_only_a_thumbnail_is_developed(tmp_path: Path) -> None:
    dng = make_dng(tmp_path / "old.dng", None, raw_size=(640, 480))
    prev = raw.read_preview(dng)
    assert prev.developed and min(prev.image.size) >= 224
    assert isinstance(load_photo(dng, PRE), LoadedPhoto)


def test_files_named_like_raws_that_libraw_cannot_read(tmp_path: Path) -> None:
    jpeg_inside = make_jpeg(tmp_path / "DSC_0001.NEF")  # a JPEG given a RAW's name
    assert isinstance(load_photo(jpeg_inside, PRE), LoadedPhoto)
    (tmp_path / "broken.CR2").write_bytes(b"II*\0" + b"\0" * 64)
    err = load_photo(tmp_path / "broken.CR2", PRE)
    assert isinstance(err, LoadError) and "cannot read this camera raw file" in err.reason


def test_a_raw_beside_a_photo_of_its_stem_is_that_photos_raw(tmp_path: Path) -> None:
    root = tmp_path / "card"
    pic = portrait_sample()
    jpg = root / "DSC_0042.JPG"
    root.mkdir()
    pic.save(jpg)
    nef = make_dng(root / "dsc_0042.dng", pic)  # case differs: still the same stem
    heic_pair = make_jpeg(root / "IMG_7.jpeg", seed=2)
    make_dng(root / "IMG_7.DNG", pic, seed=2)
    alone = make_dng(root / "IMG_9.dng", pic, seed=3)
    found = scan(root)
    assert found.raw_of == {jpg: nef, heic_pair: root / "IMG_7.DNG"}
    assert sorted(found.photos) == sorted([jpg, heic_pair, alone])
    assert found.skipped == [], "a pair's RAW is part of its entry, not a file left out"


@pytest.mark.slow
@needs_exiftool
def test_cli_pairs_and_raws_score_export_and_get_sidecars(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = tmp_path / "card"
    root.mkdir()
    pic = portrait_sample()
    pic.save(root / "DSC_0042.jpg", quality=92)
    make_dng(root / "DSC_0042.dng", pic)
    (root / "DSC_0042.xmp").write_bytes(lightroom("DNG"))  # Lightroom's, of the RAW
    make_dng(root / "IMG_9.NEF", pic.rotate(180), seed=3)  # LibRaw reads it by its content
    make_dng(root / "IMG_10.dng", pic, seed=4)
    before = tree_digest(root)
    assert main(["score", str(root), "--json", "--xmp", "--no-cache"]) == 0
    out = capsys.readouterr()
    doc = json.loads(out.out)
    names = {Path(p["path"]).name: p for p in doc["photos"]}
    assert set(names) == {"DSC_0042.jpg", "IMG_9.NEF", "IMG_10.dng"}, "one entry per pair"
    assert Path(names["DSC_0042.jpg"]["raw"]["path"]).name == "DSC_0042.dng"
    assert names["IMG_9.NEF"]["raw"] is None and names["IMG_9.NEF"]["width"] == 600
    # A lone RAW gets Lightroom's sidecar name, saying whose it is; a DNG darktable's name
    # (Lightroom keeps a DNG's metadata inside it).  The pair's RAW sidecar is left as it is.
    lone = exif_read(root / "IMG_9.xmp")
    assert lone["XMP-curator:Score"] == round(names["IMG_9.NEF"]["score"], 1)
    assert lone["XMP-photoshop:SidecarForExtension"] == "NEF"
    assert (root / "IMG_10.dng.xmp").is_file() and not (root / "IMG_10.xmp").exists()
    assert (root / "DSC_0042.xmp").read_bytes() == lightroom("DNG")
    assert "DSC_0042.xmp is the sidecar of its RAW, DSC_0042.dng" in out.err
    assert [Path(x["path"]).name for x in names["DSC_0042.jpg"]["sidecars"]] == [
        "DSC_0042.jpg.xmp"]
    # Nothing changed since: a second run rewrites no sidecar.
    sums = xmp_digest(root)
    assert main(["score", str(root), "--xmp", "--no-cache", "-q"]) == 0
    assert "3 already up to date, not rewritten" in capsys.readouterr().err
    assert xmp_digest(root) == sums
    assert {k: v for k, v in tree_digest(root).items() if not k.endswith(".xmp")} == {
        k: v for k, v in before.items() if not k.endswith(".xmp")}

    dest = tmp_path / "best"
    for i in range(3):  # again: nothing copied twice; then the JPEG edited: " (2)" on both
        if i == 2:
            pic.save(root / "DSC_0042.jpg", quality=80)
        assert main(["export", str(root), "--top", "3", "--to", str(dest), "--with-raw",
                     "--rank-prefix", "--xmp", "--all-in-group", "--no-cache"]) == 0
        out = capsys.readouterr().out
        if i == 1:
            assert out.count("already there") == 3 and "Exported 0 photo(s)" in out
    assert "Copied 1 RAW file(s) with their photos." in out
    got = set(p.name for p in dest.iterdir())
    with open(dest / "picks.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if "DSC_0042" in r["file"]]
    assert len(rows) == 2, "copied once, then again after the JPEG changed"
    for r in rows:  # each copy of the pair keeps one stem, and the files are there
        assert Path(r["file"]).stem == Path(r["raw"]).stem and {r["file"], r["raw"]} <= got
    first = Path(rows[0]["file"]).stem
    assert f"{first}.xmp" in got, "the RAW's own sidecar travels with the RAW"
    assert exif_read(dest / f"{first}.xmp")["XMP-crs:Exposure2012"] == "+0.35"
    assert exif_read(dest / f"{first}.jpg.xmp")["XMP-curator:Score"] is not None
    plain = tmp_path / "plain"
    assert main(["export", str(root), "--top", "3", "--to", str(plain), "--no-cache",
                 "--all-in-group"]) == 0
    assert not [p for p in plain.iterdir() if p.suffix == ".dng" and "DSC" in p.name]


@pytest.mark.slow
def test_window_shows_a_pair_as_one_card_and_culls_and_exports_both(
    qtbot: object, tmp_path: Path
) -> None:
    pytest.importorskip("pytestqt")
    from PySide6.QtCore import QSettings, Qt

    from curator.gui.export_dialog import ExportDialog
    from curator.gui.main_window import MainWindow
    from curator.gui.models import Roles
    from tests.test_gui import open_and_wait

    root = tmp_path / "card"
    root.mkdir()
    pic = portrait_sample()
    pic.save(root / "DSC_0042.jpg", quality=92)
    make_dng(root / "DSC_0042.dng", pic)
    (root / "DSC_0042.xmp").write_bytes(lightroom("DNG"))
    make_jpeg(root / "other.jpg", seed=5)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings, cache_dir=tmp_path / "cache")
    win.quiet_dialogs = True
    win.culling.act_stacks.setChecked(False)
    qtbot.addWidget(win)  # type: ignore[attr-defined]
    win.show()
    open_and_wait(qtbot, win, root)
    names = [win.proxy.index(r, 0).data() for r in range(win.proxy.rowCount())]
    assert sorted(names) == ["DSC_0042.jpg + DNG", "other.jpg"]
    row = names.index("DSC_0042.jpg + DNG")
    win.view.setCurrentIndex(win.proxy.index(row, 0))
    qtbot.keyClick(win.view, Qt.Key.Key_P)  # type: ignore[attr-defined]
    qtbot.keyClick(win.view, Qt.Key.Key_4)  # type: ignore[attr-defined]
    assert read_sidecar(root / "DSC_0042.jpg").rating == 4
    raw_info = read_sidecar(root / "DSC_0042.dng")
    assert raw_info.rating == 4 and raw_info.pick_label == 3
    assert "crs:Exposure2012" in (root / "DSC_0042.xmp").read_text()
    item = win.proxy.index(row, 0).data(Roles.Item)
    assert "with its RAW DSC_0042.dng" in win.proxy.index(row, 0).data(
        Qt.ItemDataRole.ToolTipRole)
    dlg = ExportDialog(win, root, tmp_path / "out", 2, pairs=win.model.raw_of())
    assert not dlg.with_raw.isHidden() and dlg.with_raw.isChecked()
    assert "1 photo(s) here have one, e.g. DSC_0042.dng with DSC_0042.jpg" in \
        dlg.with_raw.text()
    dlg.deleteLater()
    before = xmp_digest(root)
    with qtbot.waitSignal(win.export_finished, timeout=120_000):  # type: ignore[attr-defined]
        win.run_export([s for s in win.ranked_scores() if s.path == item.path],
                       tmp_path / "out", 1, None, with_raw=True, sidecars=True)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "DSC_0042.dng", "DSC_0042.jpg", "DSC_0042.jpg.xmp", "DSC_0042.xmp", "picks.csv"]
    assert (tmp_path / "out" / "DSC_0042.xmp").read_bytes() == \
        (root / "DSC_0042.xmp").read_bytes()
    assert "with 1 RAW file(s)" in win.last_export_message
    (root / "DSC_0042.dng").rename(tmp_path / "moved.dng")  # the RAW goes away meanwhile
    with qtbot.waitSignal(win.export_finished, timeout=120_000):  # type: ignore[attr-defined]
        win.run_export([s for s in win.ranked_scores() if s.path == item.path],
                       tmp_path / "out2", 1, None, with_raw=True)
    assert sorted(p.name for p in (tmp_path / "out2").iterdir()) == ["DSC_0042.jpg", "picks.csv"]
    assert "DSC_0042.dng: the original is gone" in win.last_export_message
    assert "DSC_0042.jpg was copied without it" in win.last_export_message
    assert xmp_digest(root) == before


def test_a_raw_with_a_name_that_is_not_utf8_is_read(tmp_path: Path) -> None:
    name = tmp_path / "crème.dng".encode("latin-1").decode("utf-8", "surrogateescape")
    make_dng(name, portrait_sample())
    assert raw.read_preview(name).image.size == (960, 1200)


@pytest.mark.slow
def test_a_pair_whose_photo_is_broken_is_its_raw_alone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A card write error cut the JPEG short: the RAW beside it is still the picture."""
    root = tmp_path / "card"
    root.mkdir()
    pic = portrait_sample()
    pic.save(root / "DSC_0004.jpg", quality=92)
    data = (root / "DSC_0004.jpg").read_bytes()
    (root / "DSC_0004.jpg").write_bytes(data[: len(data) // 3])
    make_dng(root / "DSC_0004.dng", pic)
    make_jpeg(root / "other.jpg", seed=5)
    assert main(["score", str(root), "--json", "--no-cache"]) == 1  # one file is broken
    doc = json.loads(capsys.readouterr().out)
    assert sorted(Path(p["path"]).name for p in doc["photos"]) == ["DSC_0004.dng", "other.jpg"]
    assert all(p["raw"] is None for p in doc["photos"])
    (err,) = doc["errors"]
    assert Path(err["path"]).name == "DSC_0004.jpg"
    assert "its RAW DSC_0004.dng is ranked on its own" in err["reason"]


@pytest.mark.slow
def test_window_ranks_the_raw_of_a_broken_pair_on_its_own(qtbot: object, tmp_path: Path) -> None:
    pytest.importorskip("pytestqt")
    from PySide6.QtCore import QSettings, Qt

    from curator.gui.main_window import MainWindow
    from curator.gui.models import Roles
    from tests.test_gui import open_and_wait

    root = tmp_path / "card"
    root.mkdir()
    pic = portrait_sample()
    pic.save(root / "DSC_0004.jpg", quality=92)
    data = (root / "DSC_0004.jpg").read_bytes()
    (root / "DSC_0004.jpg").write_bytes(data[: len(data) // 3])
    make_dng(root / "DSC_0004.dng", pic)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings, cache_dir=tmp_path / "cache")
    win.quiet_dialogs = True
    win.culling.act_stacks.setChecked(False)
    qtbot.addWidget(win)  # type: ignore[attr-defined]
    win.show()
    open_and_wait(qtbot, win, root)
    items = {win.proxy.index(r, 0).data(): win.proxy.index(r, 0).data(Roles.Item)
             for r in range(win.proxy.rowCount())}
    assert set(items) == {"DSC_0004.jpg", "DSC_0004.dng"}
    assert items["DSC_0004.dng"].score is not None and items["DSC_0004.jpg"].error
    row = list(items).index("DSC_0004.jpg")
    tip = win.proxy.index(row, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert "ranked on its own" in tip and "picks and stars go to both" not in tip
