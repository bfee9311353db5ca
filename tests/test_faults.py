"""Issue 10's fault kinds, one test per kind, on a corpus generated in tmp_path.

Every test that touches photos hashes the tree before and after: originals never change.
Kinds: export destination (read-only, disk full part-way, name too long, source vanished,
inside the scanned folder), score cache (busy, corrupt, unavailable location, odd names),
scan (NAS/OS thumbnail and export folders, symlinks, unsupported formats), decoding (ICC,
extreme shapes, large metadata, orientation), CLI manners (pipe, warnings, exit codes).
"""

from __future__ import annotations

import base64
import csv
import errno
import io
import json
import logging
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, PngImagePlugin, features

from curator import export as export_mod
from curator.cache import CachedScore, FileKey, ScoreCache, open_cache
from curator.cli import main
from curator.export import (
    PICKS_CSV,
    ExportError,
    check_destination,
    export_top,
    free_name,
)
from curator.loader import MAX_WORK_ASPECT, LoadedPhoto, load_photo, views_from_image
from curator.names import path_text
from curator.preprocess import Preprocess
from curator.scan import scan
from curator.score import PhotoScore, Scorer
from tests.conftest import REPO, make_jpeg, photo_array, tree_digest
from tests.faults import PROFILES, grey_profile, icc_profile, read_only_dir

PRE = Preprocess()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _ranked(root: Path, n: int, size: tuple[int, int] = (200, 150)) -> list[PhotoScore]:
    return [PhotoScore(make_jpeg(root / f"dish{i}.jpg", *size, seed=i), 8.0 - i, 1.0, (0.1,) * 10)
            for i in range(n)]


def _photos(folder: Path, n: int) -> Path:
    for i in range(n):
        make_jpeg(folder / f"p{i}.jpg", seed=i)
    return folder


def _rows(dest: Path) -> list[dict[str, str]]:
    with open(dest / PICKS_CSV, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _listing(d: Path) -> list[str]:
    return sorted(os.listdir(d))


# -- 2. export destination -------------------------------------------------------------------

def test_export_read_only_destination_fails_before_scoring(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    src = _photos(tmp_path / "photos", 3)
    before = tree_digest(src)
    cache = tmp_path / "cache"
    with read_only_dir(tmp_path / "card") as card:
        (card / "picks-here").exists()
        for dest in (card / "new-folder", card):
            code, out, err = run(capsys, "export", str(src), "--top", "2", "--to", str(dest),
                                 "--cache-dir", str(cache), "-q")
            assert code == 2 and out == ""
            assert err.startswith("curator: error: cannot export to") and err.count("\n") == 1
        assert _listing(card) == []
    assert not cache.exists(), "checked before scoring: the cache was never even opened"
    assert tree_digest(src) == before


def test_export_destination_checks(tmp_path: Path) -> None:
    root = tmp_path / "shoot"
    make_jpeg(root / "a.jpg")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExportError, match="is a file, not a folder"):
        check_destination(tmp_path / "file", root)
    with pytest.raises(ExportError, match="scanned folder itself"):
        check_destination(root / "." , root)
    note = check_destination(root / "picks", root)
    assert note is not None and "later scans skip it" in note
    assert check_destination(tmp_path / "elsewhere" / "deep", root) is None
    assert not (tmp_path / "elsewhere").exists(), "a check creates nothing"


def test_export_disk_full_part_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The 3rd copy runs out of space after 1000 bytes: no partial file, csv == copies."""
    src, dest = tmp_path / "src", tmp_path / "card"
    ranked = _ranked(src, 5)
    before = tree_digest(src)
    real_copy = export_mod._copy_file
    calls = []

    def copy_until_full(a: Path, b: Path) -> None:
        calls.append(a)
        if len(calls) < 3:
            return real_copy(a, b)
        with open(a, "rb") as fa, open(b, "wb") as fb:
            fb.write(fa.read(1000))  # part of the file made it, then the card was full
        err = OSError(errno.ENOSPC, "No space left on device")
        err.filename = str(a)  # shutil's sendfile path names the *source*, as here
        raise err

    monkeypatch.setattr(export_mod, "_copy_file", copy_until_full)
    report = export_top(ranked, dest, top=5)
    assert [p.source for p in report] == [s.path for s in ranked[:2]]
    assert report.stopped is not None and "full" in report.stopped and not report.failures
    files = sorted(p.name for p in dest.iterdir())
    assert files == ["dish0.jpg", "dish1.jpg", PICKS_CSV], "no .part, no half-copied photo"
    assert [r["file"] for r in _rows(dest)] == ["dish0.jpg", "dish1.jpg"]
    assert "Copied 2 of 5" in report.summary(dest)
    assert tree_digest(src) == before


def test_export_picks_csv_unwritable_removes_the_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, dest = tmp_path / "src", tmp_path / "card"
    ranked = _ranked(src, 3)
    real = export_mod.atomic_write_bytes
    n = [0]

    def write(path: Path, data: bytes) -> None:
        n[0] += 1
        if n[0] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data)

    monkeypatch.setattr(export_mod, "atomic_write_bytes", write)
    report = export_top(ranked, dest, top=3)
    assert len(report) == 1 and report.stopped and "picks.csv" in report.stopped
    assert sorted(p.name for p in dest.iterdir()) == ["dish0.jpg", PICKS_CSV]
    assert [r["file"] for r in _rows(dest)] == ["dish0.jpg"]


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_export_onto_a_real_small_file_system(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    src, dest = tmp_path / "src", tmp_path / "stick"
    dest.mkdir()
    rng = np.random.default_rng(0)
    src.mkdir()
    for i in range(4):  # ~180 kB of noise each: JPEG cannot shrink it
        Image.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)).save(
            src / f"n{i}.jpg", quality=95)
    before = tree_digest(src)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=420k", "tmpfs", str(dest)],
                      capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        # --all-in-group: four noise images look alike to the model (one near-duplicate group).
        code, out, err = run(capsys, "export", str(src), "--top", "4", "--to", str(dest),
                             "--no-cache", "-q", "--all-in-group")
        copied = sorted(p.name for p in dest.iterdir() if p.suffix == ".jpg")
        assert code == 1 and "Stopped: the destination is full" in out and "Traceback" not in err
        assert 1 <= len(copied) < 4
        assert sorted(r["file"] for r in _rows(dest)) == copied
        assert not [p for p in dest.iterdir() if p.name.startswith(".")], "no temp file left"
    finally:
        subprocess.run(["umount", str(dest)], check=False)
    assert tree_digest(src) == before


def test_export_long_names_and_vanished_sources(tmp_path: Path) -> None:
    src, dest = tmp_path / "src", tmp_path / "picks"
    long_stem = "é" * 123 + "x"  # 247 bytes + ".jpg" = 251: " (2)" would pass NAME_MAX
    p_long = make_jpeg(src / f"{long_stem}.jpg")
    p_gone = make_jpeg(src / "gone.jpg", seed=1)
    p_ok = make_jpeg(src / "ok.jpg", seed=2)
    ranked = [PhotoScore(p, 9 - i, 1.0, (0.1,) * 10) for i, p in enumerate([p_long, p_gone, p_ok])]
    other = make_jpeg(dest / f"{long_stem}.jpg", seed=3)  # another photo of that name is there
    theirs = other.read_bytes()
    p_gone.unlink()  # moved away after it was scored
    before = tree_digest(src)
    second = export_top(ranked, dest, top=3)
    assert [p.source for p in second] == [p_long, p_ok]
    assert [(f.source, "gone" in f.reason) for f in second.failures] == [(p_gone, True)]
    shortened = second[0].dest.name
    assert shortened.endswith(" (2).jpg") and len(os.fsencode(shortened)) <= 255
    assert second[0].dest.read_bytes() == p_long.read_bytes() and other.read_bytes() == theirs
    assert [r["file"] for r in _rows(dest)] == [shortened, "ok.jpg"]
    # Exported again: the very bytes are there already, nothing is copied twice.
    third = export_top(ranked[:1], dest, top=1)
    assert list(third) == [] and third.already == [(p_long, second[0].dest)]
    assert len(os.fsencode(free_name(dest, "a" * 300 + ".jpg", 7).name)) <= 255
    assert tree_digest(src) == before


# -- 3. score cache --------------------------------------------------------------------------

def _filled_cache(d: Path) -> tuple[Path, FileKey]:
    key = FileKey("/photos/a.jpg", 10, 20)
    with ScoreCache.in_dir(d) as c:
        c.put_many([(key, CachedScore(6.0, 1.0, None, 4, 3, None))], "m")
    return d / "scores.sqlite3", key


def _snapshot(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def test_busy_cache_is_waited_for_then_bypassed_never_moved(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db, key = _filled_cache(tmp_path / "c")
    before = _snapshot(tmp_path / "c")
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a second writer (another Curator, a hung run)
    try:
        with caplog.at_level(logging.WARNING):
            cache = open_cache(tmp_path / "c", wait_s=0.3)
            assert cache is not None
            assert cache.get_many([key], "m")[key].mean == 6.0, "readers still read"
            t0 = time.perf_counter()
            for i in range(3):
                cache.put_many([(FileKey(f"/p/{i}", 1, 1), CachedScore(5, 1, None, 1, 1, None))],
                               "m")
            assert time.perf_counter() - t0 < 3, "waited briefly, once"
            assert cache.bypassed and "busy" in cache.bypassed
            cache.close()
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1 and "busy" in warnings[0].getMessage()
        # A lock that blocks even readers (rollback journal, exclusive): no cache, one warning.
        holder.execute("ROLLBACK")
        holder.execute("PRAGMA journal_mode = DELETE")
        holder.execute("BEGIN EXCLUSIVE")
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            assert open_cache(tmp_path / "c", wait_s=0.2) is None
        assert len(caplog.records) == 1 and "nothing was deleted" in caplog.text
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert sorted(_snapshot(tmp_path / "c")) == sorted(before), "nothing renamed or added"
    with ScoreCache.in_dir(tmp_path / "c") as c:
        assert c.get_many([key], "m")[key].mean == 6.0, "the cache survived intact"


def test_busy_cache_during_cli_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    src = _photos(tmp_path / "photos", 3)
    cache = tmp_path / "cache"
    assert run(capsys, "score", str(src), "--cache-dir", str(cache), "-q")[0] == 0
    make_jpeg(src / "new.jpg", seed=9)  # one photo not cached yet: the run must write
    monkeypatch.setattr("curator.cache.BUSY_WAIT_S", 0.3)
    holder = sqlite3.connect(cache / "scores.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with caplog.at_level(logging.WARNING):
            code, out, err = run(capsys, "score", str(src), "--cache-dir", str(cache), "--json",
                                 "-q")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    doc = json.loads(out)
    assert code == 0 and len(doc["photos"]) == 4
    assert sum(p["cached"] for p in doc["photos"]) == 3
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "busy" in caplog.text and "Traceback" not in err
    assert sorted(os.listdir(cache))[0] == "scores.sqlite3"
    assert not [n for n in os.listdir(cache) if "corrupt" in n]


def test_corrupt_cache_is_set_aside_with_its_new_place(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    d = tmp_path / "c"
    d.mkdir()
    (d / "scores.sqlite3").write_bytes(b"this is not SQLite " * 200)
    with caplog.at_level(logging.WARNING):
        cache = open_cache(d)
    assert cache is not None
    cache.close()
    aside = [n for n in os.listdir(d) if ".corrupt-" in n]
    assert len(aside) == 1 and aside[0] in caplog.text and "integrity" in caplog.text
    assert (d / aside[0]).read_bytes().startswith(b"this is not SQLite")


def test_cache_damaged_inside_is_set_aside_when_found(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A valid header over damaged table pages: found on the first read, then set aside."""
    d = tmp_path / "c"
    keys = [FileKey(f"/p/{i}", i, i) for i in range(2000)]
    with ScoreCache.in_dir(d) as c:
        c.put_many([(k, CachedScore(5, 1, None, 1, 1, "x" * 200)) for k in keys], "m")
    with sqlite3.connect(d / "scores.sqlite3") as con:
        con.execute("PRAGMA journal_mode = DELETE")
    raw = bytearray((d / "scores.sqlite3").read_bytes())
    page = int.from_bytes(raw[16:18], "big")
    for off in range(page, len(raw), page):  # every page after the schema page
        raw[off:off + page] = b"\x0d" + b"\xff" * (page - 1)
    (d / "scores.sqlite3").write_bytes(bytes(raw))
    with caplog.at_level(logging.WARNING):
        cache = open_cache(d)
        assert cache is not None
        assert cache.get_many(keys[:5], "m") == {}
        cache.put_many([(keys[0], CachedScore(5, 1, None, 1, 1, None))], "m")
        cache.close()
    aside = [n for n in os.listdir(d) if ".corrupt-" in n]
    assert len(aside) == 1 and aside[0] in caplog.text and len(caplog.records) == 1
    with ScoreCache.in_dir(d) as fresh:  # the new cache took over in that same run
        assert fresh.count() == 1
        assert set(fresh.get_many(keys[:1], "m")) == {keys[0]}


def test_cache_location_read_only_or_missing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "a-file").write_text("x")
    with caplog.at_level(logging.WARNING):
        assert open_cache(tmp_path / "a-file" / "cache") is None
        with read_only_dir(tmp_path / "ro") as ro:
            assert open_cache(ro) is None
            assert _listing(ro) == []
        assert len(caplog.records) == 2
        caplog.clear()
        src = tmp_path / "photos"
        make_jpeg(src / "a.jpg")
        code, out, _ = run(capsys, "score", str(src), "--cache-dir",
                           str(tmp_path / "a-file" / "c"), "-q")
    assert code == 0 and "1 photos scored" in out
    assert len(caplog.records) == 1 and "without the cache" in caplog.text


ODD_NAMES = [
    "cr\udce8me-br\udcfbl\udce9e.jpg",  # Latin-1 bytes: not UTF-8
    "\udcff\udcfe.jpg",  # bytes that are never UTF-8
    "ü" * 120 + ".jpg",  # 244 bytes of UTF-8
    'quote " comma, semicolon; tab\there.jpg',
    "new\nline.jpg",
    "-leading-dash.jpg",
    "back\\slash \\xe8.jpg",  # a literal backslash-x: stays apart from the escaped one
    "emoji 🍰.jpg",
]


def test_odd_file_names_are_cache_keys_and_json_csv_entries(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    src = tmp_path / "photos"
    src.mkdir()
    for i, name in enumerate(ODD_NAMES):
        Image.fromarray(photo_array(160, 120, i)).save(os.path.join(os.fsencode(src),
                                                                    os.fsencode(name)), "JPEG")
    before = tree_digest(src)
    cache = tmp_path / "cache"
    code, out, _ = run(capsys, "score", str(src), "--json", "--cache-dir", str(cache), "-q")
    assert code == 0
    doc = json.loads(out.encode("utf-8"))  # strict UTF-8
    by_text = {p["path"]: p for p in doc["photos"]}
    assert len(by_text) == len(ODD_NAMES)
    for name in ODD_NAMES:
        rec = by_text[path_text(src / name)]
        if "path_bytes" in rec:
            assert base64.b64decode(rec["path_bytes"]) == os.fsencode(src / name)
        else:
            assert Path(rec["path"]) == src / name
    code, out, _ = run(capsys, "score", str(src), "--json", "--cache-dir", str(cache), "-q")
    assert all(p["cached"] for p in json.loads(out)["photos"]), "every name is a cache key"
    code, out, _ = run(capsys, "score", str(src), "--csv", "--cache-dir", str(cache), "-q")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert sorted(r["path"] for r in rows) == sorted(by_text)
    dest = tmp_path / "picks"
    code, out, _ = run(capsys, "export", str(src), "--top", "8", "--to", str(dest),
                       "--cache-dir", str(cache), "-q", "--all-in-group")
    assert code == 0
    picks = _rows(dest)  # valid UTF-8
    assert sorted(r["source"] for r in picks) == sorted(by_text)
    assert len(os.listdir(dest)) == len(ODD_NAMES) + 1
    assert tree_digest(src) == before


# -- 4. what a scan includes ------------------------------------------------------------------

def test_scan_skips_nas_thumbnails_and_export_folders_follows_links_once(tmp_path: Path) -> None:
    root, elsewhere = tmp_path / "shoot", tmp_path / "elsewhere"
    real = [make_jpeg(root / "a.jpg"), make_jpeg(root / "day" / "b.jpg", seed=1)]
    for junk in ["@eaDir/a.jpg/SYNOPHOTO_THUMB_XL.jpg", ".@__thumb/a.jpg", "#recycle/old.jpg",
                 ".thumbnails/normal/x.png", "__MACOSX/day/._b.jpg", "@Recycle/z.jpg",
                 "day/.@__thumb/b.jpg", "$RECYCLE.BIN/q.jpg"]:
        make_jpeg(root / junk)
    make_jpeg(root / "._a.jpg")
    (root / "raw.CR2").write_bytes(b"II*\0raw")
    (root / "logo.svg").write_text("<svg/>")
    (root / "notes.txt").write_text("not an image: not reported")
    export_dir = root / "Curator picks"
    make_jpeg(export_dir / "a.jpg")
    (export_dir / PICKS_CSV).write_text("rank,score\n")
    make_jpeg(elsewhere / "desserts" / "tart.jpg")
    os.symlink(elsewhere / "desserts", root / "desserts")
    os.symlink(root, root / "day" / "loop")  # a link back up: followed once, no loop
    os.symlink(elsewhere / "desserts" / "tart.jpg", root / "linked.jpg")
    before = tree_digest(root)
    found = scan(root)
    # linked.jpg is a second name for desserts/tart.jpg: scored once (fresh-eyes item 12)
    # raw.CR2 is scored (from its embedded preview; this one has none: its load says why).
    assert found.photos == sorted([*real, root / "desserts" / "tart.jpg", root / "raw.CR2"])
    reasons = {path_text(k.path.relative_to(root)): k.reason for k in found.skipped}
    assert set(reasons) == {
        "@eaDir/a.jpg/SYNOPHOTO_THUMB_XL.jpg", ".@__thumb/a.jpg", "#recycle/old.jpg",
        ".thumbnails/normal/x.png", "__MACOSX/day/._b.jpg", "@Recycle/z.jpg",
        "day/.@__thumb/b.jpg", "$RECYCLE.BIN/q.jpg", "._a.jpg", "logo.svg",
        "Curator picks/a.jpg", "linked.jpg"}
    assert reasons["linked.jpg"] == f"same file as {path_text(root / 'desserts' / 'tart.jpg')}"
    assert "thumbnail" in reasons["@eaDir/a.jpg/SYNOPHOTO_THUMB_XL.jpg"]
    assert "AppleDouble" in reasons["._a.jpg"]
    assert "camera raw" in load_photo(root / "raw.CR2", PRE).reason  # type: ignore[union-attr]
    assert "export folder" in reasons["Curator picks/a.jpg"]
    assert tree_digest(root) == before


def test_formats_pillow_decodes_are_scored(tmp_path: Path) -> None:
    arr = photo_array(240, 180, 3)
    made = ["g.gif", "w.webp", "t.tiff", "b.bmp"]
    if features.check("avif"):
        made.append("a.avif")
    for name in made:
        Image.fromarray(arr).save(tmp_path / name)
    found = scan(tmp_path)
    assert sorted(p.name for p in found.photos) == sorted(made) and not found.skipped
    for p in found.photos:
        assert isinstance(load_photo(p, PRE), LoadedPhoto), p


# -- 5. decoding -------------------------------------------------------------------------------

def _wide_gamut_twins(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    im = Image.fromarray(photo_array(480, 360, 7))
    srgb = tmp_path / "srgb.jpg"
    im.save(srgb, quality=95)
    out = {}
    for name in PROFILES:
        icc = icc_profile(name)
        prof = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        enc = ImageCms.profileToProfile(im, ImageCms.createProfile("sRGB"), prof,
                                        outputMode="RGB")
        assert enc is not None
        out[name] = tmp_path / f"{name.split()[0]}.jpg"
        enc.save(out[name], quality=95, icc_profile=icc)
    return srgb, out


def test_wide_gamut_photo_scores_like_its_srgb_twin(tmp_path: Path) -> None:
    srgb, twins = _wide_gamut_twins(tmp_path)
    ref = load_photo(srgb, PRE)
    assert isinstance(ref, LoadedPhoto)
    for name, path in twins.items():
        got = load_photo(path, PRE)
        assert isinstance(got, LoadedPhoto), got
        with Image.open(path) as raw:  # what a loader ignoring the profile would see
            raw_arr = np.asarray(raw.convert("RGB").resize((PRE.view_size,) * 2))
        diff = np.abs(got.global_view.astype(int) - ref.global_view).mean()
        ignored = np.abs(raw_arr.astype(int) - ref.global_view).mean()
        assert diff < 2.5 and ignored > 3 * diff, (name, diff, ignored)
    scorer = Scorer(device="cpu")
    scores = {r.path: r.mean for r in scorer.score([srgb, *twins.values()])
              if isinstance(r, PhotoScore)}
    assert len(scores) == 1 + len(twins)
    assert all(abs(m - scores[srgb]) < 0.05 for m in scores.values()), scores


def test_extreme_shapes_are_scored_in_bounded_memory(tmp_path: Path) -> None:
    shapes = {"strip.png": (4000, 2), "line.png": (12000, 1), "column.png": (1, 12000),
              "panorama.jpg": (6000, 1000)}
    for name, size in shapes.items():
        Image.new("RGB", size, (120, 80, 40)).save(tmp_path / name)
    for name in shapes:
        with Image.open(tmp_path / name) as im:
            g, loc, work = views_from_image(im.convert("RGB"), PRE)
        assert g.shape == loc.shape == (PRE.view_size, PRE.view_size, 3)
        assert max(work.size) <= PRE.local_short_side * MAX_WORK_ASPECT + 1, (name, work.size)
    # In a real process under a 1.5 GB address-space cap (the 12000x1 line used to need 7 GB).
    code = ("import resource,sys;resource.setrlimit(resource.RLIMIT_AS,(1_500_000_000,)*2);"
            "from pathlib import Path;from curator.loader import load_photo;"
            "from curator.preprocess import Preprocess;"
            "r=[load_photo(Path(p),Preprocess(),256) for p in sys.argv[1:]];"
            "print([(x.width,x.height) for x in r])")
    proc = subprocess.run([sys.executable, "-c", code, *(str(tmp_path / n) for n in shapes)],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(list(shapes.values()))


def test_large_metadata_decodes(tmp_path: Path) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>" + "a" * 4_000_000 + "</x:xmpmeta>",
                  zip=True)
    Image.fromarray(photo_array(300, 200)).save(tmp_path / "xmp.png", pnginfo=info)
    exif = Image.Exif()
    exif[0x9286] = b"ASCII\0\0\0" + b"c" * 60000  # UserComment filling the APP1 segment
    Image.fromarray(photo_array(300, 200)).save(tmp_path / "exif.jpg", exif=exif)
    for name in ("xmp.png", "exif.jpg"):
        got = load_photo(tmp_path / name, PRE)
        assert isinstance(got, LoadedPhoto), got
        assert (got.width, got.height) == (300, 200), got


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF"])
def test_size_is_reported_as_displayed_for_every_format(tmp_path: Path, fmt: str) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    path = tmp_path / f"rotated.{fmt.lower()}"
    Image.fromarray(photo_array(300, 200)).save(path, fmt, exif=exif)
    got = load_photo(path, PRE, thumb_size=64)
    assert isinstance(got, LoadedPhoto), got
    assert (got.width, got.height) == (200, 300)
    assert got.thumbnail is not None and got.thumbnail.height > got.thumbnail.width


# -- 6. CLI manners ---------------------------------------------------------------------------

def _cli(*args: str, close_stdout: bool = False) -> subprocess.CompletedProcess[str]:
    if not close_stdout:
        return subprocess.run([sys.executable, "-m", "curator", *args], capture_output=True,
                              text=True, cwd=REPO, timeout=300)
    proc = subprocess.Popen([sys.executable, "-m", "curator", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `| head` that already has what it wanted
    err = proc.stderr.read()
    return subprocess.CompletedProcess(proc.args, proc.wait(timeout=300), "", err)


@pytest.mark.slow  # two real processes, one of which loads the model
def test_cli_pipe_closed_early_warnings_name_the_file_exit_codes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    src = _photos(tmp_path / "photos", 3)
    bad_exif = Image.Exif()
    bad_exif[0x010E] = "x" * 200
    Image.fromarray(photo_array(64, 48)).save(src / "bad-exif.jpg",
                                              exif=bad_exif.tobytes()[:-150])
    cache = str(tmp_path / "cache")
    first = _cli("score", str(src), "--cache-dir", cache, "-q")  # a real process: real stderr
    assert first.returncode == 0, first.stderr
    assert "bad-exif.jpg" in first.stderr and "Tag data" in first.stderr, first.stderr
    piped = _cli("score", str(src), "--cache-dir", cache, "-q", close_stdout=True)
    assert piped.returncode == 0 and piped.stderr == ""
    (src / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    assert run(capsys, "score", str(src), "--cache-dir", cache, "-q")[0] == 1
    assert run(capsys, "score", str(tmp_path / "missing"), "-q")[0] == 2
    with pytest.raises(SystemExit) as usage:
        main(["score"])
    assert usage.value.code == 2


# -- fresh-eyes faults (second round): each a kind ----------------------------------------------

def _drop_dac() -> list[str] | None:
    """A command prefix that runs without the power to bypass file permissions, or None."""
    if os.geteuid() != 0:
        return []
    capsh = shutil.which("capsh")
    if capsh is None:
        return None
    probe = subprocess.run([capsh, "--drop=cap_dac_override,cap_dac_read_search", "--", "-c",
                            "cat /proc/self/status"], capture_output=True, text=True)
    return [capsh, "--drop=cap_dac_override,cap_dac_read_search", "--", "-c"] \
        if probe.returncode == 0 else None


@pytest.mark.slow  # one real process without DAC override, which loads the model
def test_folders_that_cannot_be_opened_or_listed_are_reported_exit_1(tmp_path: Path) -> None:
    """A folder with mode 000 (cannot be entered) and 311 (entered, not listed): both are
    reported as skipped problems, the rest is scored, exit 1 — no PermissionError."""
    prefix = _drop_dac()
    if prefix is None:
        pytest.skip("root without capsh: cannot make a folder unreadable for this process")
    src = tmp_path / "photos"
    make_jpeg(src / "ok" / "a.jpg")
    make_jpeg(src / "locked" / "b.jpg", seed=1)
    make_jpeg(src / "unlisted" / "c.jpg", seed=2)
    before = tree_digest(src)
    os.chmod(src / "locked", 0o000)
    os.chmod(src / "unlisted", 0o311)
    try:
        cmd = [sys.executable, "-m", "curator", "score", str(src), "--json", "--no-cache", "-q"]
        if prefix:
            cmd = [*prefix, " ".join(map(shlex.quote, cmd))]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
        inner = [sys.executable, "-m", "curator", "score", str(src / "locked" / "b"), "-q"]
        if prefix:
            inner = [*prefix, " ".join(map(shlex.quote, inner))]
        whole = subprocess.run(inner, capture_output=True, text=True, cwd=REPO, timeout=300,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
    finally:
        os.chmod(src / "locked", 0o755)
        os.chmod(src / "unlisted", 0o755)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "PermissionError" not in proc.stderr
    # the folder asked for cannot be opened at all: one line, exit 2
    assert whole.returncode == 2
    assert whole.stderr == (f"curator: error: cannot open folder {src / 'locked' / 'b'}: "
                            f"permission denied\n")
    doc = json.loads(proc.stdout)
    assert [Path(p["path"]) for p in doc["photos"]] == [src / "ok" / "a.jpg"]
    skipped = {Path(k["path"]): k["reason"] for k in doc["skipped"]}
    assert skipped == {src / "locked": "cannot open folder: permission denied",
                       src / "unlisted": "cannot open folder: permission denied"}
    assert tree_digest(src) == before


def test_output_that_cannot_be_written_is_one_line_exit_2(tmp_path: Path) -> None:
    """``> /dev/full`` and ``>&-``: ``curator: error: cannot write output: …``, exit 2."""
    src = tmp_path / "photos"
    src.mkdir()  # no photos: the output (JSON) is still written, no model is needed
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "curator", "score", str(src), "--json",
                               "--no-cache", "-q"], stdout=full, stderr=subprocess.PIPE,
                              text=True, cwd=REPO, timeout=300, env=env)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1] == \
        "curator: error: cannot write output: No space left on device", proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
    closed = subprocess.run(
        ["bash", "-c", f"exec {shlex.quote(sys.executable)} -m curator score "
                       f"{shlex.quote(str(src))} --no-cache -q >&-"],
        capture_output=True, text=True, cwd=REPO, timeout=300, env=env)
    assert closed.returncode == 2
    assert closed.stderr == "curator: error: cannot write output: standard output is closed\n"


@pytest.mark.parametrize("argv", [
    ["--device", "tpu"], ["--top", "0"], ["--top", "-3"], ["--batch-size", "0"],
    ["--workers", "0"], ["--workers", "-2"], ["--top", "two"], ["--precision", "fp8"]])
def test_bad_device_and_non_positive_counts_are_usage_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    src = _photos(tmp_path / "photos", 1)
    with pytest.raises(SystemExit) as usage:
        main(["score", str(src), "--cache-dir", str(tmp_path / "cache"), *argv])
    assert usage.value.code == 2
    err = capsys.readouterr().err
    assert f"error: argument {argv[0]}" in err and "Traceback" not in err
    assert not (tmp_path / "cache").exists(), "rejected before anything was opened"


def test_cuda_without_a_gpu_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    with pytest.raises(SystemExit) as usage:
        main(["score", str(_photos(tmp_path / "p", 1)), "--device", "cuda", "--no-cache"])
    assert usage.value.code == 2
    assert "no CUDA GPU is available" in capsys.readouterr().err


def _twin_pixels(im: Image.Image, path: Path) -> np.ndarray:
    im.save(path)
    return load_photo(path, PRE).global_view.astype(np.int16)  # type: ignore[union-attr]


def test_profiles_on_grey_alpha_palette_and_16_bit_apply_like_their_twins(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """LA with a grey profile scores like its L twin; P with an RGB profile like its RGB twin;
    16-bit grey with a grey profile like its 8-bit twin: the profile is applied, not dropped."""
    grey, pro = grey_profile("gamma1.8"), icc_profile("ProPhoto RGB")
    base = Image.fromarray(photo_array(320, 240, 3))
    pal = base.convert("P", palette=Image.Palette.ADAPTIVE, colors=256)
    cases = {  # name: (image, its twin in a mode LittleCMS takes, the profile)
        "la": (base.convert("LA"), base.convert("L"), grey),
        "palette": (pal, pal.convert("RGB"), pro),
    }
    for name, (im, twin, icc) in cases.items():
        im.info["icc_profile"] = twin.info["icc_profile"] = icc
        got = _twin_pixels(im, tmp_path / f"{name}.png")
        want = _twin_pixels(twin, tmp_path / f"{name}-twin.png")
        bare = im.copy()
        del bare.info["icc_profile"]
        plain = _twin_pixels(bare, tmp_path / f"{name}-no-profile.png")
        assert np.abs(got - want).mean() < 1.0, name
        assert np.abs(plain - want).mean() > 5.0, f"{name}: the profile makes a difference"
    grey8 = np.asarray(base.convert("L"))
    grey16 = Image.fromarray(grey8.astype(np.uint16) * 257)
    assert grey16.mode.startswith("I;16") or grey16.mode == "I"
    twin8 = Image.fromarray(grey8)
    twin8.save(tmp_path / "g8.png", icc_profile=grey)
    grey16.save(tmp_path / "g16.png", icc_profile=grey)
    a = load_photo(tmp_path / "g16.png", PRE)
    b = load_photo(tmp_path / "g8.png", PRE)
    assert isinstance(a, LoadedPhoto) and isinstance(b, LoadedPhoto)
    assert np.abs(a.global_view.astype(int) - b.global_view.astype(int)).mean() < 1.0
    assert "colour profile ignored" not in caplog.text


#: Every extension a tester found dropped silently, and a name with a trailing space.
ODD_EXTENSIONS = [".apng", ".pjpeg", ".dib", ".qoi", ".dds", ".xpm", ".gpr", ".heics", ".avifs",
                  ".jpg ", ".JFIF", ".mpo"]


def test_every_image_extension_is_scored_or_listed_with_a_reason(tmp_path: Path) -> None:
    from curator.scan import IMAGE_LIKE_EXTENSIONS, PHOTO_EXTENSIONS, RAW_EXTENSIONS

    assert set(Image.registered_extensions()) <= IMAGE_LIKE_EXTENSIONS
    assert RAW_EXTENSIONS <= IMAGE_LIKE_EXTENSIONS and ".gpr" in RAW_EXTENSIONS
    src = tmp_path / "odd"
    jpeg = make_jpeg(tmp_path / "src.jpg")
    written = []
    for i, ext in enumerate(ODD_EXTENSIONS):
        p = src / f"p{i}{ext}"
        src.mkdir(exist_ok=True)
        fmt = Image.registered_extensions().get(ext.strip().lower())
        try:  # the real format where this Pillow writes it, else JPEG bytes (found by content)
            Image.open(jpeg).save(p, format=fmt) if fmt in Image.SAVE else shutil.copy(jpeg, p)
        except (OSError, ValueError, KeyError):
            shutil.copy(jpeg, p)
        written.append(p)
    before = tree_digest(src)
    found = scan(src)
    reasons = {k.path: k.reason for k in found.skipped}
    assert set(found.photos) | set(reasons) == set(written), "nothing dropped silently"
    assert not set(found.photos) & set(reasons)
    # p6.gpr (GoPro raw) holds JPEG bytes: scored (LibRaw cannot read it; Pillow can).
    assert src / "p6.gpr" in found.photos
    for p in found.photos:
        assert p.suffix.strip().lower() in PHOTO_EXTENSIONS
        assert isinstance(load_photo(p, PRE), LoadedPhoto), p
    assert src / "p9.jpg " in found.photos
    assert tree_digest(src) == before


def test_photo_library_previews_lightroom_and_trash_folders_are_not_scored(
    tmp_path: Path
) -> None:
    root = tmp_path / "shoot"
    kept = [make_jpeg(root / "dish.jpg"),
            make_jpeg(root / "Photos Library.photoslibrary" / "originals" / "A" / "x.jpg")]
    junk = ["Photos Library.photoslibrary/resources/derivatives/masters/A/x_4_5005_c.jpeg",
            "Photos Library.photoslibrary/resources/proxies/derivatives/x.jpg",
            "Photos Library.photoslibrary/database/x.jpg",
            "Recycled/old.jpg", "RECYCLED/old2.jpg", "$RECYCLE.BIN/S-1-5/x.jpg",
            ".Trashes/501/x.jpg", "Lightroom Catalog Previews.lrdata/0/A.jpg",
            "Lightroom Catalog Smart Previews.lrdata/1/B.jpg", "@SynoResource/x.jpg"]
    for j in junk:
        make_jpeg(root / j)
    before = tree_digest(root)
    found = scan(root)
    assert found.photos == sorted(kept)
    assert {path_text(k.path.relative_to(root)) for k in found.skipped} == set(junk)
    assert all(not k.problem for k in found.skipped)
    assert tree_digest(root) == before


def test_display_text_escapes_controls_csv_cell_round_trips() -> None:
    from curator.names import csv_cell, csv_uncell, display_text

    assert display_text("new\nline.jpg") == "new\\nline.jpg"
    assert display_text("cr\rret\t.jpg") == "cr\\rret\\t.jpg"
    assert display_text("esc\x1b[31mred.jpg") == "esc\\x1b[31mred.jpg"
    assert display_text("\u202eevil.jpg") == "\\u202eevil.jpg"
    assert display_text("caf\udce9.jpg") == "caf\\xe9.jpg"
    assert display_text("crème 🍰.jpg") == "crème 🍰.jpg"
    for name in ["=cmd|' -C calc'!A0.jpg", "+1.jpg", "-rf.jpg", "@sum.jpg", "\tt.jpg", "\rr.jpg",
                 "'=already.jpg", "''+two.jpg", "'plain.jpg", "plain.jpg", ""]:
        cell = csv_cell(name)
        assert csv_uncell(cell) == name
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert csv_cell("plain.jpg") == "plain.jpg" and csv_cell("'plain.jpg") == "'plain.jpg"
    assert csv_cell("=1+1.jpg") == "'=1+1.jpg"


def test_names_links_and_fifos_in_every_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Control characters never reach the terminal raw; CSV cells cannot start a formula and
    map back to the real file; a broken link, a FIFO and a second name of one file are each
    listed with their reason (exit 1, never a hang); the rest is scored and exported once."""
    from curator.names import csv_uncell

    src = tmp_path / "photos"
    names = ["new\nline.jpg", "esc\x1b[31mred.jpg", "cr\rret.jpg", "=cmd|' -C calc'!A0.jpg",
             "-rf.jpg", "@at.jpg", "plain.jpg"]
    for i, n in enumerate(names):
        make_jpeg(src / n, seed=10 * i)
    os.symlink("plain.jpg", src / "same-as-plain.jpg")
    os.symlink(tmp_path / "gone.jpg", src / "dangling.jpg")
    os.mkfifo(src / "fifo.jpg")
    before = tree_digest(src)
    cache = str(tmp_path / "cache")
    code, out, err = run(capsys, "score", str(src), "--cache-dir", cache, "-q")
    assert code == 1, err
    assert "\x1b" not in out + err and "\r" not in out + err
    assert "new\\nline.jpg" in out and "esc\\x1b[31mred.jpg" in out
    assert "broken link" in out and "not a regular file" in out and "same file as" in out
    lines = [ln for ln in out.splitlines() if re.match(r"^ *\d+  +\d+  ", ln)]  # table rows
    assert len(lines) == len(names), "each photo on one line, the link not scored again"
    code, out, _ = run(capsys, "score", str(src), "--csv", "--cache-dir", cache, "-q")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert all(not r["path"].startswith(("=", "+", "-", "@")) for r in rows)
    scored = {Path(csv_uncell(r["path"])) for r in rows if r["rank"]}
    assert scored == {src / n for n in names}
    dest = tmp_path / "picks"
    code, out, _ = run(capsys, "export", str(src), "--top", "20", "--to", str(dest),
                       "--cache-dir", cache, "-q", "--all-in-group")
    assert code == 1
    picks = _rows(dest)
    assert {csv_uncell(r["file"]) for r in picks} == set(names)
    assert all(not r["file"].startswith(("=", "+", "-", "@")) for r in picks)
    for r in picks:
        assert (dest / csv_uncell(r["file"])).read_bytes() == \
            Path(csv_uncell(r["source"])).read_bytes()
    assert "\x1b" not in out and "new\\nline.jpg" in out
    assert tree_digest(src) == before


def test_messages_empty_folder_bad_model_nothing_exported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import torch

    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = run(capsys, "score", str(empty), "--no-cache", "-q")
    assert code == 0
    assert f"no photos found in {empty} (Curator opens JPEG, PNG" in err
    raw = torch.load(REPO / "assets" / "model.pt", weights_only=True)
    del raw["config"]
    torch.save(raw, tmp_path / "bad.pt")
    src = _photos(tmp_path / "photos", 2)
    code, out, err = run(capsys, "score", str(src), "--model", str(tmp_path / "bad.pt"),
                         "--no-cache", "-q")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "KeyError" not in err and "curator: error: model file" in err and "'config'" in err
    dest = tmp_path / "new" / "picks"
    code, out, err = run(capsys, "export", str(src), "--top", "3", "--to", str(dest),
                         "--min-score", "99", "--no-cache", "-q")
    assert code == 0 and "Exported 0 photo(s)" in out
    assert "picks.csv" not in out and not dest.exists(), "no empty folder left behind"
    kept = tmp_path / "mine"
    kept.mkdir()
    run(capsys, "export", str(src), "--top", "3", "--to", str(kept), "--min-score", "99",
        "--no-cache", "-q")
    assert kept.is_dir(), "a folder the user made is never removed"


@pytest.mark.parametrize("table", ["scores", "photo_scores", "embeddings"])
def test_cache_with_a_foreign_schema_is_set_aside_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, table: str
) -> None:
    """Any of Curator's table names holding someone else's columns (``photo_scores`` was
    missed: the file got WAL and new tables, and a warning on every run)."""
    path = tmp_path / "scores.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"CREATE TABLE {table}(a, b)")
    conn.execute(f"INSERT INTO {table} VALUES (1, 2)")
    conn.commit()
    conn.close()
    foreign = path.read_bytes()
    with caplog.at_level(logging.WARNING, logger="curator.cache"):
        cache = ScoreCache(path)
        key = FileKey("/a.jpg", 1, 2)
        cache.put_many([(key, CachedScore(5.0, 1.0, (0.1,) * 10, 10, 10, None))], "m")
        assert cache.get_many([key], "m")[key].mean == 5.0 and cache.bypassed is None
        cache.close()
    aside = list(tmp_path.glob("scores.unusable-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == foreign, "kept, not deleted"
    assert str(aside[0]) in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="curator.cache"):
        ScoreCache(path).close()
    assert caplog.text == "", "no warning on the next run"
