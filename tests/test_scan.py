"""Folder scanning."""

from __future__ import annotations

from pathlib import Path

import pytest

from curator.scan import scan_folder
from tests.conftest import make_jpeg


def test_scan_is_recursive_sorted_and_case_insensitive(tmp_path: Path) -> None:
    for name in ["b.JPG", "a.jpeg", "sub/c.png", "sub/deeper/d.HEIC", "e.webp", "f.tiff",
                 "g.bmp", ".hidden.jpg", ".cache/x.jpg", "notes.txt", "raw.cr2"]:
        make_jpeg(tmp_path / name, 16, 16)
    found = [p.relative_to(tmp_path).as_posix() for p in scan_folder(tmp_path)]
    # raw.cr2 is a camera RAW name: scored from its embedded preview (curator.raw).
    assert found == ["a.jpeg", "b.JPG", "e.webp", "f.tiff", "g.bmp", "raw.cr2", "sub/c.png",
                     "sub/deeper/d.HEIC"]
    flat = [p.name for p in scan_folder(tmp_path, recursive=False)]
    assert flat == ["a.jpeg", "b.JPG", "e.webp", "f.tiff", "g.bmp", "raw.cr2"]


def test_scan_rejects_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        scan_folder(tmp_path / "nope")
