"""Export for a destination: files read back (exiftool and Pillow) against the table."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps

from curator import cli
from curator.crop import centre_crop, move_crop
from curator.cropstore import CropStore
from curator.destinations import get
from curator.export_presets import encode_to_fit, export_for, verify_file
from curator.readiness import FactsCache
from curator.score import PhotoScore
from tests.faults import icc_profile

HIRES = "food-photos-hires"


def _photos(shared: Path, tmp: Path, names: list[str]) -> list[Path]:
    out = []
    for name in names:
        hits = sorted((shared / HIRES).rglob(name))
        if not hits:
            pytest.skip(f"{name} not in ../shared/data/{HIRES}")
        out.append(Path(shutil.copy(hits[0], tmp / name)))
    return out


def _score(path: Path, score: float = 80.0, reasons: tuple[str, ...] = ()) -> PhotoScore:
    """The photo as ranked (its size as displayed); the model's score is not under test."""
    with Image.open(path) as im:
        w, h = ImageOps.exif_transpose(im).size
    return PhotoScore(path, 5.0, 1.0, (), w, h, score=score, reasons=reasons)


def _exif(paths: list[Path]) -> list[dict[str, object]]:
    if shutil.which("exiftool") is None:
        pytest.skip("exiftool is not installed")
    out = subprocess.run(["exiftool", "-j", "-n", "-ImageWidth", "-ImageHeight", "-Orientation",
                          "-ProfileDescription", "-FileSize", "-FileType", *map(str, paths)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_uber_eats_covers_read_back_at_2880_by_2304_srgb_upright_jpegs(
        shared_data: Path, tmp_path: Path) -> None:
    src = tmp_path / "shoot"
    src.mkdir()
    photos = _photos(shared_data, src, ["03-sushi.jpeg", "images__new-york-strip.jpg",
                                        "images__falafel-hummus-plate.jpg"])
    before = {p: _digest(p) for p in photos}
    out = tmp_path / "covers"
    report = export_for([_score(p) for p in photos], out, get("uber-eats-cover"), 5,
                        scanned_root=src, facts=FactsCache.in_dir(tmp_path / "cache"))
    files = sorted(out.glob("*.jpg"))
    assert len(report) == len(files) >= 2
    for info in _exif(files):
        assert (info["ImageWidth"], info["ImageHeight"]) == (2880, 2304)
        assert info["FileType"] == "JPEG"
        assert info.get("Orientation") in (None, 1)
        assert info["ProfileDescription"] == "sRGB built-in"
        assert int(info["FileSize"]) <= get("uber-eats-cover").max_bytes  # type: ignore[arg-type]
    assert all(f.name.endswith("-uber-eats-cover.jpg") for f in files)
    assert {p: _digest(p) for p in photos} == before  # originals untouched
    rows = list(csv.DictReader((out / "picks.csv").open(encoding="utf-8")))
    assert [r["file"] for r in rows] == [p.dest.name for p in report.picks]
    for r in rows:
        assert r["destination"] == "uber-eats-cover"
        left, top, right, bottom = (int(r[k]) for k in ("crop_left", "crop_top", "crop_right",
                                                         "crop_bottom"))
        assert abs((right - left) * 4 - (bottom - top) * 5) <= 10  # the 5:4 box in the original


def test_a_photo_stored_sideways_with_exif_orientation_is_exported_upright(
        shared_data: Path, tmp_path: Path) -> None:
    [upright] = _photos(shared_data, tmp_path, ["images__pizza.jpg"])  # 1920 x 1535
    sideways = tmp_path / "sideways.jpg"
    with Image.open(upright) as im:
        exif = Image.Exif()
        exif[0x0112] = 6  # "rotate 90 CW to view": pixels stored turned the other way
        im.transpose(Image.Transpose.ROTATE_90).save(sideways, quality=95, exif=exif)
    d = get("google-business")
    a = export_for([_score(upright)], tmp_path / "a", d, 1)
    b = export_for([_score(sideways)], tmp_path / "b", d, 1)
    assert a.picks[0].size == b.picks[0].size == (1200, 900)
    with Image.open(a.picks[0].dest) as ia, Image.open(b.picks[0].dest) as ib:
        assert ib.getexif().get(0x0112) is None
        diff = np.abs(np.asarray(ia, dtype=np.int16) - np.asarray(ib, dtype=np.int16))
    assert diff.mean() < 4.0  # the same picture the same way up (only JPEG rounding apart)


def test_a_wide_gamut_photo_is_converted_to_srgb(shared_data: Path, tmp_path: Path) -> None:
    [src] = _photos(shared_data, tmp_path, ["images__pizza.jpg"])
    wide = tmp_path / "prophoto.jpg"
    icc = icc_profile("ProPhoto RGB")
    with Image.open(src) as im:
        im.convert("RGB").save(wide, quality=95, icc_profile=icc)
    report = export_for([_score(wide)], tmp_path / "out", get("instagram-square"), 1)
    [pick] = report.picks
    with Image.open(pick.dest) as out:
        embedded = ImageCms.ImageCmsProfile(io.BytesIO(out.info["icc_profile"]))
        assert ImageCms.getProfileDescription(embedded).strip() == "sRGB built-in"
        got = np.asarray(out.convert("RGB"), dtype=np.float32).mean((0, 1))
    with Image.open(wide) as im:
        as_srgb = ImageCms.profileToProfile(
            im.convert("RGB"), ImageCms.ImageCmsProfile(io.BytesIO(icc)),
            ImageCms.createProfile("sRGB"))
        assert as_srgb is not None
        box = tuple(round(v) for v in pick.crop)  # the same part of the photo
        want = np.asarray(as_srgb.crop(box), dtype=np.float32).mean((0, 1))
        untouched = np.asarray(im.convert("RGB").crop(box), dtype=np.float32).mean((0, 1))
    assert np.abs(got - want).max() < 6.0 < np.abs(got - untouched).max()


def test_photos_not_ready_are_left_out_with_why_and_the_next_is_taken(
        shared_data: Path, tmp_path: Path) -> None:
    big, small_src = _photos(shared_data, tmp_path, ["images__new-york-strip.jpg",
                                                     "images__pizza.jpg"])
    small = tmp_path / "small.jpg"
    with Image.open(small_src) as im:
        im.resize((900, 720)).save(small, quality=90)
    grey = tmp_path / "grey.jpg"
    with Image.open(big) as im:
        ImageOps.grayscale(im).convert("RGB").save(grey, quality=90)
    ranked = [_score(small, 99), _score(grey, 98), _score(big, 97, ("dark",)), _score(big, 96)]
    report = export_for(ranked, tmp_path / "out", get("uber-eats-cover"), 1)
    assert [x.keys for x in report.left_out] == [("size",), ("black_and_white",), ("dark",)]
    assert "900 × 720 px" in report.left_out[0].why
    assert "black and white" in report.left_out[1].why
    assert [p.rank for p in report.picks] == [4]


def test_the_byte_limit_is_met_by_lowering_the_quality(shared_data: Path, tmp_path: Path) -> None:
    [src] = _photos(shared_data, tmp_path, ["images__new-york-strip.jpg"])
    hero = get("website-hero")  # 1920 x 1080 under 500 kB
    report = export_for([_score(src)], tmp_path / "out", hero, 1)
    [pick] = report.picks
    assert pick.bytes <= hero.max_bytes and pick.quality < 95
    assert verify_file(pick.dest, hero, (1920, 1080)) == []
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (900, 1600, 3),
                                                               dtype=np.uint8))
    with pytest.raises(ValueError, match="quality 30"):
        encode_to_fit(noise, 50_000)


def test_the_crop_the_owner_moved_is_the_one_exported(shared_data: Path, tmp_path: Path) -> None:
    [src] = _photos(shared_data, tmp_path, ["images__new-york-strip.jpg"])  # 4956 x 3304
    s = _score(src)
    size = (s.width or 0, s.height or 0)
    left = move_crop(size, centre_crop(size, 1.0), -10_000, 0)
    with CropStore.in_dir(tmp_path / "data") as crops:
        crops.remember(src, "1:1", size, left)
        report = export_for([s], tmp_path / "out", get("yelp"), 1, crops=crops)
    assert report.picks[0].crop[0] == 0
    rows = list(csv.DictReader((tmp_path / "out" / "picks.csv").open(encoding="utf-8")))
    assert rows[0]["crop_left"] == "0" and rows[0]["crop_right"] == str(size[1])


def test_cli_export_for_writes_five_covers_beside_the_folder(shared_data: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    shoot = tmp_path / "shoot"
    shutil.copytree(shared_data / HIRES, shoot)
    whole = (shoot / "recipes_bastian" / "images__pizza.jpg").read_bytes()
    (shoot / "cut-short.jpg").write_bytes(whole[: len(whole) // 3])
    code = cli.main(["export", str(shoot), "--for", "uber-eats-cover", "--top", "5", "-q"])
    out = capsys.readouterr().out
    dest = tmp_path / "shoot – Uber Eats cover"
    files = sorted(dest.glob("*.jpg"))
    assert code == 1 and len(files) == 5, out  # 1: a file could not be read (listed)
    assert "1 file(s) could not be scored" in out and "cut-short.jpg: truncated" in out
    assert "Left out, not ready for Uber Eats cover" in out and "too small" in out
    for f in files:
        assert verify_file(f, get("uber-eats-cover"), (2880, 2304)) == []


def test_cli_export_needs_a_folder_or_a_destination(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["export", str(tmp_path)])
    assert exc.value.code == 2
    assert "--to FOLDER (or --for DESTINATION)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["export", str(tmp_path), "--for", "myspace"])
    assert "uber-eats-cover" in capsys.readouterr().err
