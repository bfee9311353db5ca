"""Loader edge cases on real files written to tmp_path."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from curator.loader import (
    MAX_PIXELS,
    LoadedPhoto,
    LoadError,
    decode,
    load_photo,
    load_thumbnail,
    model_views,
    open_rgb,
    views_from_image,
)
from curator.preprocess import Preprocess
from tests.conftest import make_jpeg, photo_array

PRE = Preprocess()


def loaded(path: Path, **kw: object) -> LoadedPhoto:
    r = load_photo(path, PRE, **kw)  # type: ignore[arg-type]
    assert isinstance(r, LoadedPhoto), r
    return r


def failed(path: Path) -> LoadError:
    r = load_photo(path, PRE)
    assert isinstance(r, LoadError), r
    return r


def test_views_have_model_shape_and_are_deterministic(tmp_path: Path) -> None:
    p = make_jpeg(tmp_path / "a.jpg", 640, 480)
    a, b = loaded(p, thumb_size=128), loaded(p)
    assert a.global_view.shape == a.local_view.shape == (224, 224, 3)
    assert a.global_view.dtype == np.uint8
    assert (a.width, a.height) == (640, 480)
    assert np.array_equal(a.local_view, b.local_view)
    assert a.thumbnail is not None and max(a.thumbnail.size) == 128
    assert b.thumbnail is None


def _halves(w: int = 80, h: int = 40) -> np.ndarray:
    """Left half red, right half blue."""
    arr = np.zeros((h, w, 3), np.uint8)
    arr[:, : w // 2] = (255, 0, 0)
    arr[:, w // 2 :] = (0, 0, 255)
    return arr


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(tmp_path: Path, orientation: int) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    p = tmp_path / f"o{orientation}.jpg"
    Image.fromarray(_halves()).save(p, quality=95, exif=exif)
    photo = loaded(p)
    rotated = orientation in (5, 6, 7, 8)
    assert (photo.width, photo.height) == ((40, 80) if rotated else (80, 40))
    # Where the red half ends up after Pillow's transpose for each orientation.
    g = photo.global_view.astype(int)
    top, bottom = g[:100].mean((0, 1)), g[124:].mean((0, 1))
    left, right = g[:, :100].mean((0, 1)), g[:, 124:].mean((0, 1))
    red_side = {1: "left", 2: "right", 3: "right", 4: "left",
                5: "top", 6: "top", 7: "bottom", 8: "bottom"}[orientation]
    side = {"left": left, "right": right, "top": top, "bottom": bottom}[red_side]
    assert side[0] > 200 and side[2] < 60, (orientation, side)


def test_cmyk_jpeg_becomes_rgb(tmp_path: Path) -> None:
    p = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (300, 300), (0, 255, 255, 0)).save(p, quality=95)  # pure red in CMYK
    r, g, b = loaded(p).global_view.reshape(-1, 3).mean(0)
    assert r > 200 and g < 60 and b < 60


def test_16bit_greyscale_png_is_scaled_not_clipped(tmp_path: Path) -> None:
    p = tmp_path / "g16.png"
    Image.fromarray(np.full((300, 300), 32768, np.uint16)).save(p)
    assert Image.open(p).mode.startswith("I")
    v = loaded(p).global_view
    assert 120 <= v.mean() <= 135  # mid grey, not white


def test_palette_with_transparency_shows_on_white(tmp_path: Path) -> None:
    p = tmp_path / "pal.png"
    im = Image.new("P", (300, 300), 0)
    im.putpalette([0, 0, 0, 200, 0, 0] + [0] * 762)
    im.paste(1, (0, 0, 150, 300))  # left half opaque red, right half index 0 (transparent)
    im.save(p, transparency=0)
    g = loaded(p).global_view.astype(int)
    assert g[:, :100].mean((0, 1)).tolist() == pytest.approx([200, 0, 0], abs=3)
    assert g[:, 124:].mean() == pytest.approx(255, abs=1)


def test_rgba_and_la_modes(tmp_path: Path) -> None:
    rgba = np.dstack([photo_array(300, 200), np.full((200, 300), 255, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    Image.new("LA", (300, 200), (100, 0)).save(tmp_path / "b.png")
    assert loaded(tmp_path / "a.png").global_view.std() > 5
    assert loaded(tmp_path / "b.png").global_view.min() == 255  # fully transparent -> white


@pytest.mark.parametrize("fmt,ext", [("PNG", "png"), ("WEBP", "webp"), ("TIFF", "tif"),
                                     ("BMP", "bmp"), ("HEIF", "heic")])
def test_other_formats(tmp_path: Path, fmt: str, ext: str) -> None:
    p = tmp_path / f"x.{ext}"
    Image.fromarray(photo_array(320, 240)).save(p, fmt)
    photo = loaded(p)
    assert (photo.width, photo.height) == (320, 240)
    assert photo.global_view.std() > 5


def test_jpeg_decoded_with_draft_at_working_resolution(tmp_path: Path) -> None:
    p = make_jpeg(tmp_path / "big.jpg", 4032, 3024)
    im, size = open_rgb(p, PRE.local_short_side)
    assert size == (4032, 3024)
    assert PRE.local_short_side <= min(im.size) < 3024  # reduced DCT scale, still enough detail


def test_huge_dimensions(tmp_path: Path) -> None:
    # A large real JPEG opens (drafted), reporting its true size.
    p = make_jpeg(tmp_path / "huge.jpg", 9000, 6000)
    photo = loaded(p)
    assert (photo.width, photo.height) == (9000, 6000)
    # A PNG whose header claims 30000 x 30000 (900 MP) is refused before decoding.
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
                     chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b""))
    assert MAX_PIXELS < 30000 * 30000
    assert "too large" in failed(bomb).reason


def test_broken_files_give_reasons(tmp_path: Path) -> None:
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("hello")
    good = make_jpeg(tmp_path / "good.jpg", 600, 400).read_bytes()
    (tmp_path / "trunc.jpg").write_bytes(good[: len(good) // 2])
    (tmp_path / "dir.jpg").mkdir()
    assert "empty" in failed(tmp_path / "empty.jpg").reason
    assert "not a recognised image" in failed(tmp_path / "text.jpg").reason
    assert "truncated" in failed(tmp_path / "trunc.jpg").reason
    assert failed(tmp_path / "dir.jpg").reason
    gone = failed(tmp_path / "missing.jpg")
    assert "not found" in gone.reason and not gone.permanent


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    p = make_jpeg(tmp_path / "locked.jpg")
    p.chmod(0)
    try:
        err = failed(p)
        assert "permission" in err.reason and not err.permanent
    finally:
        p.chmod(0o644)


def test_real_camera_photo_with_exif(shared_data: Path) -> None:
    p = shared_data / "food-photos-hires/recipes_chowdown/images__new-york-strip.jpg"
    photo = loaded(p, thumb_size=256)
    assert (photo.width, photo.height) == (4956, 3304)
    assert photo.thumbnail is not None and photo.thumbnail.size[0] == 256


def test_thumbnail_only_load_is_oriented(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    p = tmp_path / "rot.jpg"
    Image.fromarray(photo_array(800, 400)).save(p, exif=exif)
    thumb = load_thumbnail(p, 128)
    assert isinstance(thumb, Image.Image) and thumb.size == (64, 128)
    (tmp_path / "bad.jpg").write_bytes(b"nope")
    assert isinstance(load_thumbnail(tmp_path / "bad.jpg", 128), LoadError)


def test_the_local_view_without_the_working_image_is_its_crop(tmp_path: Path) -> None:
    """``model_views`` resizes only the crop's part of the photo: the same
    global view, and a local view within one level of the working image's centre crop (Pillow
    rounds its filter weights once more), on real photos of several shapes and a big PNG
    (Pillow box-shrinks that one first: then the working image is made as before)."""
    from curator.paths import SAMPLES_DIR

    photos = sorted(SAMPLES_DIR.glob("*.jpg"))[:6]
    big = tmp_path / "big.png"
    Image.fromarray(photo_array(3200, 2400, seed=3)).save(big)
    images = []
    for p in [*photos, big]:
        im = decode(p, 448).image
        images += [im, im.rotate(90, expand=True), im.resize((im.width * 2, im.height // 2))]
    for im in images:
        g, loc, _ = views_from_image(im, PRE)
        g2, loc2 = model_views(im, PRE)
        assert np.array_equal(g, g2)
        diff = np.abs(loc.astype(int) - loc2)
        assert diff.max() <= 1 and (diff > 0).mean() < 0.005, (im.size, (diff > 0).mean())
    huge = decode(big, 448).image.resize((6400, 4800))  # 6400 -> 597: box-shrunk first
    g, loc, _ = views_from_image(huge, PRE)
    assert np.array_equal(loc, model_views(huge, PRE)[1])  # then the working image is made
