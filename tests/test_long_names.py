"""Names at the file system's limit: sidecars, atomic writes, and the window and CLI around them.

A photo name of 252-255 bytes is legal, but ``name.jpg.xmp`` (or an atomic write's temp name)
is not: a fresh-eyes hunt found the window's whole scan failing on the sidecar lookup and
``export --xmp`` stopping with exit 2.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from curator.fsutil import atomic_write_bytes
from curator.sidecar import (
    SidecarError,
    existing_sidecar,
    read_sidecar,
    sidecar_path,
    update_sidecar,
    verdict_fields,
)
from tests.conftest import make_jpeg

LONG = "b" * 248 + ".jpg"  # 252 bytes: legal; LONG + ".xmp" is 256


def test_atomic_write_of_a_name_at_the_limit(tmp_path: Path) -> None:
    target = tmp_path / ("c" * 255)
    atomic_write_bytes(target, b"data")
    assert target.read_bytes() == b"data"
    assert sorted(os.listdir(tmp_path)) == [target.name]  # no temp file left


def test_sidecar_of_a_long_name_falls_back_to_name_xmp(tmp_path: Path) -> None:
    photo = make_jpeg(tmp_path / LONG)
    before = photo.read_bytes()
    assert existing_sidecar(photo) is None and read_sidecar(photo).rating is None
    written = update_sidecar(photo, verdict_fields(1, 4))
    assert written == tmp_path / ("b" * 248 + ".xmp")  # Lightroom's naming, which fits
    assert read_sidecar(photo).rating == 4 and existing_sidecar(photo) == written
    assert photo.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == sorted([LONG, written.name])


def test_two_long_names_sharing_a_stem_never_share_a_sidecar(tmp_path: Path) -> None:
    """``e…e.jpg`` and ``e…e.png`` (251-byte stem) would both fall back to ``e…e.xmp``: one
    photo's score or verdict would overwrite the other's.  Neither gets a sidecar instead."""
    jpg = make_jpeg(tmp_path / ("e" * 251 + ".jpg"))
    png = tmp_path / ("e" * 251 + ".png")
    png.write_bytes(jpg.read_bytes())
    for photo in (jpg, png):
        with pytest.raises(SidecarError, match="of its own"):
            update_sidecar(photo, verdict_fields(1, 5))
    assert not list(tmp_path.glob("*.xmp"))


def test_no_sidecar_name_fits_is_a_sidecar_error(tmp_path: Path) -> None:
    photo = tmp_path / ("d" * 250 + ".jpeg")  # 255 bytes: only "d" * 250 + ".xmp" fits
    make_jpeg(photo)
    assert sidecar_path(photo).name == "d" * 250 + ".xmp"
    odd = tmp_path / ("e" * 253 + ".j")  # 255 bytes, a 2-byte extension: neither name fits
    make_jpeg(odd)
    with pytest.raises(SidecarError, match="too long"):
        sidecar_path(odd)


@pytest.mark.slow
def test_cli_score_and_export_xmp_with_a_long_name(tmp_path: Path) -> None:
    src = tmp_path / "L"
    make_jpeg(src / "ok.jpg", seed=1)
    make_jpeg(src / LONG, 400, 300, seed=7)
    out = tmp_path / "LX"
    run = subprocess.run(
        [sys.executable, "-m", "curator", "export", str(src), "--to", str(out),
         "--all-in-group", "--xmp", "--cache-dir", str(tmp_path / "cache")],
        capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "Wrote 2 XMP sidecar(s)" in run.stdout
    assert (out / "ok.jpg.xmp").is_file() and (out / ("b" * 248 + ".xmp")).is_file()
    score = subprocess.run(
        [sys.executable, "-m", "curator", "score", str(src), "--xmp",
         "--cache-dir", str(tmp_path / "cache")], capture_output=True, text=True, timeout=300)
    assert score.returncode == 0 and "not written" not in score.stderr, score.stderr
    assert (src / "ok.jpg.xmp").is_file() and (src / ("b" * 248 + ".xmp")).is_file()


def test_export_to_a_dangling_link_says_so(tmp_path: Path) -> None:
    """Was 'cannot create dangling: File exists' (a misleading reason)."""
    from curator.export import ExportError, check_destination

    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "gone")
    with pytest.raises(ExportError, match=r"is a link to .*gone, which does not exist"):
        check_destination(link)
    assert not (tmp_path / "gone").exists()
