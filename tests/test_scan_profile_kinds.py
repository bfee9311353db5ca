"""A folder's kind follows its real path; a grey image's RGB profile is applied.

1. A symlink with an ordinary name that resolves to a folder the scan skips by name (NAS
   thumbnails, trash, ``*.lrdata``, a Photos library's previews, a Curator export folder) is
   skipped and listed with the reason that folder gets when reached by its own name.
2. A greyscale image (L, LA, 1-bit, 16-bit) carrying an RGB ICC profile is brought to RGB and
   the profile applied, so a grey JPEG and a grey 16-bit PNG with one profile score alike.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from curator.export import PICKS_CSV
from curator.loader import LoadedPhoto, load_photo, to_srgb
from curator.names import path_text
from curator.preprocess import Preprocess
from curator.scan import scan
from tests.conftest import make_jpeg, photo_array
from tests.faults import icc_profile

PRE = Preprocess()

#: (folder made outside the scanned root, path of a JPEG inside it, words of its reason)
SKIPPED_KINDS = [
    ("ELSE/@eaDir", "e.jpg/SYNOPHOTO_THUMB_XL.jpg", "NAS/OS thumbnail"),
    ("ELSE/#recycle", "old.jpg", "NAS/OS thumbnail or trash"),
    ("ELSE/.thumbnails", "normal/x.jpg", "NAS/OS thumbnail"),
    ("ELSE/Catalog Previews.lrdata", "0/a.jpg", "preview cache"),
    ("ELSE/Lib.photoslibrary/resources", "derivatives/d.jpg", "Photos library"),
    ("ELSE/Curator picks", "01.jpg", "export folder"),
]


def _reasons(root: Path) -> tuple[list[str], dict[str, str]]:
    found = scan(root)
    photos = [path_text(p.relative_to(root)) for p in found.photos]
    return photos, {path_text(k.path.relative_to(root)): k.reason for k in found.skipped}


@pytest.mark.parametrize(("folder", "inside", "words"), SKIPPED_KINDS)
def test_link_with_a_plain_name_to_a_skipped_folder_is_skipped_like_the_folder(
    tmp_path: Path, folder: str, inside: str, words: str
) -> None:
    """ROOT/thumbs-link -> ELSE/@eaDir gets the reason ROOT/else-link/@eaDir gets."""
    root, target = tmp_path / "ROOT", tmp_path / folder
    make_jpeg(root / "ok.jpg")
    make_jpeg(target / inside, seed=1)
    if folder.endswith("Curator picks"):
        (target / PICKS_CSV).write_text("rank,score\n")
    os.symlink(target, root / "thumbs-link")
    photos, reasons = _reasons(root)
    assert photos == ["ok.jpg"]
    assert words in reasons[f"thumbs-link/{inside}"]
    # The same folder reached through a link to its parent: by its own name.
    os.remove(root / "thumbs-link")
    os.symlink(target.parent, root / "else-link")
    photos, named = _reasons(root)
    assert photos == ["ok.jpg"]
    assert reasons[f"thumbs-link/{inside}"] == named[f"else-link/{target.name}/{inside}"]


def test_link_into_a_thumbnail_folder_and_a_relative_link_are_skipped(tmp_path: Path) -> None:
    """A relative link, and a link to a folder inside @eaDir, are judged by their real path."""
    root, else_ = tmp_path / "ROOT", tmp_path / "ELSE"
    make_jpeg(root / "ok.jpg")
    thumb = make_jpeg(else_ / "@eaDir" / "e.jpg" / "SYNOPHOTO_THUMB_XL.jpg", seed=2)
    make_jpeg(else_ / "plain" / "p.jpg", seed=3)
    os.symlink("../ELSE/@eaDir", root / "thumbs-link")
    os.symlink(thumb.parent, root / "one-thumb")
    os.symlink("../ELSE/plain", root / "plain-link")  # an ordinary folder: still followed
    photos, reasons = _reasons(root)
    assert photos == ["ok.jpg", "plain-link/p.jpg"]
    assert set(reasons) == {"thumbs-link/e.jpg/SYNOPHOTO_THUMB_XL.jpg",
                            "one-thumb/SYNOPHOTO_THUMB_XL.jpg"}
    assert all(r == "inside a NAS/OS thumbnail or trash folder (@eaDir)"
               for r in reasons.values())


def test_link_with_a_plain_name_to_a_hidden_folder_is_followed(tmp_path: Path) -> None:
    """A hidden folder is skipped by its own name, but a link made to it (``phone`` ->
    ``~/.var/app/…/Pictures``) was made to be scanned."""
    root = tmp_path / "ROOT"
    make_jpeg(root / "ok.jpg")
    make_jpeg(tmp_path / ".var" / "app" / "Pictures" / "p.jpg", seed=4)
    make_jpeg(root / ".hidden" / "h.jpg", seed=5)
    os.symlink(tmp_path / ".var" / "app" / "Pictures", root / "phone")
    photos, reasons = _reasons(root)
    assert photos == ["ok.jpg", "phone/p.jpg"]
    assert "hidden folder" in reasons[".hidden/h.jpg"]


def test_link_to_a_photos_library_scans_only_its_originals(tmp_path: Path) -> None:
    """The library's folders are judged by the library's real name, not the link's."""
    root, lib = tmp_path / "ROOT", tmp_path / "ELSE" / "Lib.photoslibrary"
    make_jpeg(lib / "originals" / "0" / "o.jpg")
    make_jpeg(lib / "resources" / "proxies" / "p.jpg", seed=1)
    root.mkdir()
    os.symlink(lib, root / "library")
    photos, reasons = _reasons(root)
    assert photos == ["library/originals/0/o.jpg"]
    assert "Photos library" in reasons["library/resources/proxies/p.jpg"]


# -- 2. a grey image with an RGB profile ----------------------------------------------------

def _grey() -> np.ndarray:
    return np.asarray(Image.fromarray(photo_array(320, 240, 5)).convert("L"))


@pytest.mark.parametrize("profile", ["sRGB", "ProPhoto RGB"])
def test_grey_jpeg_with_an_rgb_profile_scores_like_its_16_bit_png_twin(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, profile: str
) -> None:
    """Grey JPEG (mode L) + RGB profile: applied, like the same grey as 16-bit PNG."""
    icc = (ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
           if profile == "sRGB" else icc_profile(profile))
    grey = _grey()
    Image.fromarray(grey).save(tmp_path / "g.jpg", quality=100, icc_profile=icc)
    Image.fromarray(grey.astype(np.uint16) * 257).save(tmp_path / "g16.png", icc_profile=icc)
    Image.fromarray(grey).save(tmp_path / "bare.jpg", quality=100)
    with caplog.at_level(logging.WARNING):
        jpg, png = load_photo(tmp_path / "g.jpg", PRE), load_photo(tmp_path / "g16.png", PRE)
        bare = load_photo(tmp_path / "bare.jpg", PRE)
    assert isinstance(jpg, LoadedPhoto) and isinstance(png, LoadedPhoto)
    assert isinstance(bare, LoadedPhoto)
    a, b = jpg.global_view.astype(int), png.global_view.astype(int)
    assert np.abs(a - b).mean() < 1.5
    assert "colour profile ignored" not in caplog.text
    if profile != "sRGB":  # ProPhoto's gamma 1.8 and wide primaries change the pixels
        assert np.abs(a - bare.global_view.astype(int)).mean() > 5.0


@pytest.mark.parametrize("mode", ["L", "LA", "1", "I;16"])
def test_every_grey_mode_with_an_rgb_profile_matches_its_rgb_twin(
    caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    """L, LA, 1-bit and 16-bit grey with a ProPhoto profile give their RGB twin's pixels."""
    icc = icc_profile("ProPhoto RGB")
    grey = _grey()
    if mode == "1":
        grey = np.where(grey > 127, 255, 0).astype(np.uint8)
    im = (Image.fromarray(grey.astype(np.uint16) * 257) if mode == "I;16"
          else Image.fromarray(grey).convert(mode))
    twin = Image.fromarray(np.stack([grey] * 3, axis=-1))
    im.info["icc_profile"] = twin.info["icc_profile"] = icc
    with caplog.at_level(logging.WARNING):
        got = np.asarray(to_srgb(im).convert("RGB")).astype(int)
    want = np.asarray(to_srgb(twin)).astype(int)
    assert np.abs(got - want).max() <= 2, mode
    if mode != "1":  # black and white stay put; every grey in between moves
        assert np.abs(want - np.stack([grey] * 3, axis=-1)).mean() > 5.0
    assert "colour profile ignored" not in caplog.text
