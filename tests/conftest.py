"""Shared fixtures: real generated photos in tmp_path, and ../shared/data when present."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def _engine_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the exported ONNX Runtime backbone (``curator.onnx_backbone``) for the
    whole session: it is exported once (~10 s), not once per test's fresh cache folder."""
    return tmp_path_factory.mktemp("engine")


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
    _engine_dir: Path,
) -> None:
    """Never touch the developer's real score cache from a test."""
    monkeypatch.setenv("CURATOR_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("CURATOR_ENGINE_DIR", str(_engine_dir))
    monkeypatch.setenv("CURATOR_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    monkeypatch.delenv("CURATOR_MODEL", raising=False)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


def photo_array(w: int, h: int, seed: int = 0) -> np.ndarray:
    """A photo-like RGB array: smooth colour gradients, a bright blob, mild noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = rng.uniform(40, 200, size=3)
    img = np.empty((h, w, 3), np.float32)
    for c in range(3):
        img[..., c] = base[c] + 50 * np.sin(xx / (w / (2 + c))) * np.cos(yy / (h / (1 + c)))
    cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
    blob = np.exp(-(((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (0.15 * min(w, h)) ** 2)))
    img += 60 * blob[..., None]
    img += rng.normal(0, 4, size=img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def make_jpeg(path: Path, w: int = 320, h: int = 240, seed: int = 0, **save: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    scale = min(1.0, 640 / max(w, h))  # big photos: draw small, upscale (fast, still smooth)
    im = Image.fromarray(photo_array(max(1, round(w * scale)), max(1, round(h * scale)), seed))
    if im.size != (w, h):
        im = im.resize((w, h), Image.Resampling.BILINEAR)
    im.save(path, "JPEG", quality=90, **save)
    return path


@pytest.fixture
def jpeg_factory(tmp_path: Path) -> Callable[..., Path]:
    def make(name: str, w: int = 320, h: int = 240, seed: int = 0, **save: object) -> Path:
        return make_jpeg(tmp_path / name, w, h, seed, **save)

    return make


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every file under root: proves originals were not modified."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def mixed_folder(tmp_path: Path) -> tuple[Path, list[str], list[str]]:
    """A folder of good photos and broken files; returns (folder, good names, broken names)."""
    root = tmp_path / "photos"
    good = []
    for i in range(6):
        name = f"sub{i % 2}/good{i}.jpg"
        make_jpeg(root / name, 300 + 20 * i, 220 + 10 * i, seed=i)
        good.append(name)
    Image.fromarray(photo_array(200, 150, 9)).save(root / "good.png")
    good.append("good.png")
    (root / "empty.jpg").write_bytes(b"")
    (root / "notes.jpg").write_text("this is not a photo\n")
    full = (root / "sub0" / "good0.jpg").read_bytes()
    (root / "truncated.jpg").write_bytes(full[: len(full) // 3])
    (root / "readme.txt").write_text("ignored: not a photo extension\n")
    return root, sorted(good), ["empty.jpg", "notes.jpg", "truncated.jpg"]
