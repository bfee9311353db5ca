"""Big photos: what Curator can decode within its own memory bound scores without Pillow's
"decompression bomb" warning; what is over the bound is listed with its size and the bound."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from curator.loader import MAX_PIXELS, LoadedPhoto, LoadError, load_photo
from curator.preprocess import Preprocess

PRE = Preprocess()


def panorama(path: Path, w: int, h: int) -> Path:
    """A w x h JPEG panorama: a table of plates (drawn small, enlarged: cheap to encode)."""
    small = Image.new("RGB", (w // 25, h // 25), (120, 84, 52))
    d = ImageDraw.Draw(small)
    for i in range(12):
        cx, cy, r = (i + 0.5) * small.width / 12, small.height / 2, small.height / 3
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(236, 232, 224))
        d.ellipse([cx - r / 2, cy - r / 3, cx + r / 3, cy + r / 2], fill=(200, 90 + 10 * i, 40))
    small.resize((w, h), Image.Resampling.BILINEAR).save(path, quality=80)
    return path


def png_header_only(path: Path, w: int, h: int, depth: int = 8, colour: int = 2) -> Path:
    """A PNG whose header says w x h (``colour`` 2 RGB, 0 grey, at ``depth`` bits); its
    pixel data is a stub, never decoded when the size is refused."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
                     chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b""))
    return path


@pytest.mark.slow
def test_a_225_megapixel_panorama_scores_without_a_bomb_warning(tmp_path: Path) -> None:
    root = tmp_path / "wide"
    root.mkdir()
    pano = panorama(root / "terrace.jpg", 30000, 7500)  # 225 MP
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning, Pillow's bomb warning included, fails
        photo = load_photo(pano, PRE)
    assert isinstance(photo, LoadedPhoto) and (photo.width, photo.height) == (30000, 7500)
    run = subprocess.run([sys.executable, "-m", "curator", "score", str(root), "--json",
                          "--no-cache"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "bomb" not in run.stderr.lower() and "DecompressionBomb" not in run.stderr
    doc = json.loads(run.stdout)
    assert [p["width"] for p in doc["photos"]] == [30000] and not doc["errors"]


def test_a_photo_over_the_bound_is_listed_with_its_size_and_the_bound(tmp_path: Path) -> None:
    big = png_header_only(tmp_path / "poster.png", 15000, 15000)  # 225 MP, decoded whole
    assert MAX_PIXELS < 15000 * 15000
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        err = load_photo(big, PRE)
    assert isinstance(err, LoadError) and err.permanent
    assert "15000×15000 (225 MP)" in err.reason and "the bound is 1.7 GB" in err.reason
    assert "would need about 1.9 GB" in err.reason
    # The bound is in bytes: a 16-bit grey picture of 144 MP needs more than an RGB one.
    grey16 = png_header_only(tmp_path / "scan16.png", 12000, 12000, depth=16, colour=0)
    err = load_photo(grey16, PRE)
    assert isinstance(err, LoadError) and "16-bit grey" in err.reason, err
    rgb = png_header_only(tmp_path / "scan8.png", 12000, 12000)
    assert "too large" not in load_photo(rgb, PRE).reason  # type: ignore[union-attr]
    huge = png_header_only(tmp_path / "line.png", 1_000_000, 20_000)  # 20 GP: still listed
    err = load_photo(huge, PRE)
    assert isinstance(err, LoadError) and "1000000×20000" in err.reason
    assert Image.MAX_IMAGE_PIXELS is None, "Pillow's own check is off on purpose (loader)"
