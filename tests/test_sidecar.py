"""XMP sidecars, read back with exiftool (an independent XMP implementation) as the oracle."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from curator.cli import main
from curator.culling import Flag, Verdict, stars_for
from curator.sidecar import (
    SidecarError,
    read_sidecar,
    sidecar_candidates,
    update_sidecar,
    verdict_fields,
)
from tests.conftest import make_jpeg, tree_digest

EXIFTOOL = shutil.which("exiftool")
needs_exiftool = pytest.mark.skipif(EXIFTOOL is None, reason="exiftool not installed "
                                    "(Debian: libimage-exiftool-perl; .ci/run installs it)")


def exif_read(path: Path) -> dict[str, Any]:
    """Every XMP field exiftool finds in ``path`` (group-1 names, structures kept)."""
    assert EXIFTOOL is not None
    out = subprocess.run([EXIFTOOL, "-j", "-G1", "-struct", "-XMP:all", str(path)],
                         check=True, capture_output=True, text=True).stdout
    return dict(json.loads(out)[0])


def exif_make_sidecar(photo: Path, target: Path) -> None:
    """Another tool's sidecar: keywords, a title, a rating, a rating percent, a history."""
    assert EXIFTOOL is not None
    subprocess.run(
        [EXIFTOOL, "-q", "-o", str(target), "-XMP-dc:Subject=pasta", "-XMP-dc:Subject=dinner",
         "-XMP-dc:Title=Sunday special", "-XMP-xmp:Rating=4", "-XMP-microsoft:RatingPercent=75",
         "-XMP-xmpMM:HistoryAction=edited", "-XMP-xmpMM:HistoryWhen=2024:01:02",
         "-XMP-xmpMM:HistorySoftwareAgent=digiKam", "-XMP-lr:HierarchicalSubject=Food|Pasta",
         str(photo)],
        check=True)


THEIRS = {
    "XMP-dc:Subject": ["pasta", "dinner"],
    "XMP-dc:Title": "Sunday special",
    "XMP-microsoft:RatingPercent": 75,
    "XMP-lr:HierarchicalSubject": ["Food|Pasta"],
    "XMP-xmpMM:History": [{"Action": "edited", "SoftwareAgent": "digiKam",
                           "When": "2024:01:02"}],
}


@needs_exiftool
def test_score_xmp_round_trip(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = tmp_path / "shoot"
    for i in range(3):
        make_jpeg(root / f"p{i}.jpg", seed=i)
    before = tree_digest(root)
    assert main(["score", str(root), "--json", "-q", "--xmp"]) == 0
    out, err = capsys.readouterr()
    assert "Wrote 3 XMP sidecar(s)" in err
    photos = json.loads(out)["photos"]  # stdout stays pure JSON
    # One new file per photo, named name.ext.xmp; the photos themselves untouched.
    assert sorted(p.name for p in root.iterdir()) == sorted(
        [f"p{i}.jpg" for i in range(3)] + [f"p{i}.jpg.xmp" for i in range(3)])
    assert {k: v for k, v in tree_digest(root).items() if k.endswith(".jpg")} == before
    for p in photos:
        tags = exif_read(Path(p["path"] + ".xmp"))
        score = tags["XMP-curator:Score"]
        assert 0 <= score <= 100
        assert tags["XMP-curator:Stars"] == stars_for(score)
        assert tags["XMP-xmp:Rating"] == stars_for(score)
        assert len(tags["XMP-curator:Model"]) == 16
        assert tags.get("XMP-digiKam:PickLabel") is None


@needs_exiftool
def test_existing_sidecar_merged_never_clobbered(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = tmp_path / "shoot"
    photo = make_jpeg(root / "pasta.jpg")
    lightroom_style = root / "pasta.xmp"  # name.xmp: updated in place, no second sidecar
    exif_make_sidecar(photo, lightroom_style)
    assert main(["score", str(root), "-q", "--xmp"]) == 0
    capsys.readouterr()
    assert sorted(p.name for p in root.iterdir()) == ["pasta.jpg", "pasta.xmp"]
    tags = exif_read(lightroom_style)
    for k, v in THEIRS.items():
        assert tags[k] == v, k
    assert tags["XMP-xmp:Rating"] == 4  # a person's rating is not overwritten by a score
    assert 0 <= tags["XMP-curator:Score"] <= 100
    # The person then rejects it in Curator: -1 and digiKam's reject label; all else stays.
    update_sidecar(photo, verdict_fields(Flag.REJECT, 0))
    tags = exif_read(lightroom_style)
    assert tags["XMP-xmp:Rating"] == -1 and tags["XMP-digiKam:PickLabel"] == 1
    for k, v in THEIRS.items():
        assert tags[k] == v, k
    info = read_sidecar(photo)
    assert Verdict.from_sidecar(info.rating, info.pick_label) == Verdict(Flag.REJECT, 0)
    # ...and picks it with three stars.
    update_sidecar(photo, verdict_fields(Flag.PICK, 3))
    tags = exif_read(lightroom_style)
    assert tags["XMP-xmp:Rating"] == 3 and tags["XMP-digiKam:PickLabel"] == 3
    info = read_sidecar(photo)
    assert Verdict.from_sidecar(info.rating, info.pick_label) == Verdict(Flag.PICK, 3)
    assert sorted(p.name for p in root.iterdir()) == ["pasta.jpg", "pasta.xmp"]


@needs_exiftool
def test_model_rating_updates_only_its_own(tmp_path: Path) -> None:
    from curator.sidecar import score_fields

    photo = make_jpeg(tmp_path / "a.jpg")
    update_sidecar(photo, score_fields(70.0, 4, "ab" * 32), keep_rating=True)
    update_sidecar(photo, score_fields(90.0, 5, "ab" * 32), keep_rating=True)
    assert exif_read(tmp_path / "a.jpg.xmp")["XMP-xmp:Rating"] == 5  # still Curator's own
    update_sidecar(photo, verdict_fields(Flag.NONE, 2))  # a person's two stars
    update_sidecar(photo, score_fields(30.0, 2 + 0, "ab" * 32), keep_rating=True)
    update_sidecar(photo, score_fields(10.0, 1, "ab" * 32), keep_rating=True)
    tags = exif_read(tmp_path / "a.jpg.xmp")
    assert tags["XMP-curator:Stars"] == 1 and tags["XMP-curator:Score"] == 10


def test_naming_prefers_name_ext_xmp_and_reads_both(tmp_path: Path) -> None:
    photo = make_jpeg(tmp_path / "a.jpg")
    long_name, short_name = sidecar_candidates(photo)
    assert (long_name.name, short_name.name) == ("a.jpg.xmp", "a.xmp")
    update_sidecar(photo, verdict_fields(Flag.PICK, 5))
    assert long_name.is_file() and not short_name.exists()
    photo2 = make_jpeg(tmp_path / "b.jpg")
    (tmp_path / "b.xmp").write_bytes((tmp_path / "a.jpg.xmp").read_bytes())
    assert Verdict.from_sidecar(*_rp(photo2)) == Verdict(Flag.PICK, 5)
    update_sidecar(photo2, verdict_fields(Flag.NONE, 1))
    assert not (tmp_path / "b.jpg.xmp").exists()
    assert Verdict.from_sidecar(*_rp(photo2)) == Verdict(Flag.NONE, 1)


def _rp(photo: Path) -> tuple[int | None, int | None]:
    info = read_sidecar(photo)
    return info.rating, info.pick_label


def test_unparseable_sidecar_left_alone(tmp_path: Path) -> None:
    photo = make_jpeg(tmp_path / "a.jpg")
    bad = tmp_path / "a.jpg.xmp"
    bad.write_bytes(b"<x:xmpmeta><rdf:RDF><oops")
    with pytest.raises(SidecarError):
        update_sidecar(photo, verdict_fields(Flag.PICK, 5))
    assert bad.read_bytes() == b"<x:xmpmeta><rdf:RDF><oops"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg", "a.jpg.xmp"]


@needs_exiftool
def test_export_xmp_next_to_copies(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = tmp_path / "shoot"
    photo = make_jpeg(root / "pasta.jpg")
    exif_make_sidecar(photo, root / "pasta.jpg.xmp")
    before = tree_digest(root)
    dest = tmp_path / "best"
    assert main(["export", str(root), "--top", "1", "--to", str(dest), "-q", "--xmp"]) == 0
    assert "Wrote 1 XMP sidecar(s)" in capsys.readouterr().out
    assert tree_digest(root) == before  # the original's sidecar is only read
    tags = exif_read(dest / "pasta.jpg.xmp")
    for k, v in THEIRS.items():
        assert tags[k] == v, k
    assert "XMP-curator:Score" in tags
