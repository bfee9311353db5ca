"""Sidecars that are not Curator's to write are left byte-identical, and each is named.

Kinds (issue: "never write over what someone else owns"): a sidecar another file owns (a RAW's
Lightroom ``stem.xmp``, a stem shared with a HEIC, ``photoshop:SidecarForExtension``), names in
any case, sidecars Exiv2 cannot read completely, read-only / linked / busy sidecars, and a
person's rating next to ``curator:Stars``.  Every test hashes every sidecar before and after.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from curator import sidecar as sidecar_mod
from curator.cli import main
from curator.culling import Flag
from curator.scan import scan
from curator.sidecar import (
    METADATA_DATE,
    RATING,
    STARS,
    read_sidecar,
    score_fields,
    update_sidecar,
    verdict_fields,
    write_score_sidecars,
    write_sidecars,
)
from tests.conftest import REPO, make_jpeg, tree_digest
from tests.test_sidecar import EXIFTOOL, exif_read, needs_exiftool
from tests.xmpfiles import darktable, lightroom, xmp_digest

DIGEST = "ab" * 32
SHARED_CASES = REPO.parent / "shared" / "cases"


def score_folder(root: Path, pct: float = 73.0) -> sidecar_mod.SidecarSummary:
    """What ``curator score --xmp`` does to the sidecars, without the model: every photo
    the scan finds gets the score ``pct``."""
    return write_score_sidecars([(p, pct) for p in scan(root).photos], DIGEST)


def unchanged_except(before: dict[str, str], after: dict[str, str], mine: set[str]) -> None:
    """Every sidecar that existed before is byte-identical unless it is in ``mine``."""
    for name, digest in before.items():
        if name not in mine:
            assert after.get(name) == digest, f"{name} was changed"


# -- whose file is it --------------------------------------------------------------------------

def test_a_raws_sidecar_is_never_a_jpegs(tmp_path: Path) -> None:
    root = tmp_path / "card"
    for stem in ("DSC_0042", "IMG_0100", "DSC_0050"):
        make_jpeg(root / f"{stem}.jpg", seed=len(stem))
    (root / "DSC_0042.NEF").write_bytes(b"MM\0*nef")
    (root / "IMG_0100.CR2").write_bytes(b"II*\0cr2")
    (root / "DSC_0050.ARW").write_bytes(b"II*\0arw")
    (root / "DSC_0042.xmp").write_bytes(lightroom("NEF"))  # says whose it is
    (root / "DSC_0050.xmp").write_bytes(lightroom(None))  # says nothing: the RAW's by name
    before = xmp_digest(root)
    summary = score_folder(root)
    after = xmp_digest(root)
    unchanged_except(before, after, set())
    assert set(after) - set(before) == {"DSC_0042.jpg.xmp", "IMG_0100.jpg.xmp",
                                        "DSC_0050.jpg.xmp"}, "no IMG_0100.xmp (the CR2's name)"
    texts = {n.sidecar.name: n.text() for n in summary.notes}
    assert set(texts) == {"DSC_0042.xmp", "DSC_0050.xmp"}
    assert "sidecar of DSC_0042.NEF" in texts["DSC_0042.xmp"]
    assert "SidecarForExtension=NEF" in texts["DSC_0042.xmp"]
    assert "sidecar of DSC_0050.ARW" in texts["DSC_0050.xmp"]
    assert all(t.endswith("left as it is") for t in texts.values())
    # The JPEG reads its own sidecar, never the RAW's rating.
    assert read_sidecar(root / "DSC_0042.jpg").path == root / "DSC_0042.jpg.xmp"


def test_a_stem_shared_by_two_photos_or_claimed_by_another_extension_is_left_alone(
    tmp_path: Path,
) -> None:
    root = tmp_path / "shoot"
    make_jpeg(root / "dish.jpg", seed=1)
    make_jpeg(root / "dish.png", seed=2)  # the same stem: dish.xmp is no one photo's
    (root / "dish.xmp").write_bytes(darktable("dish.jpg"))
    make_jpeg(root / "tart.jpg", seed=3)
    (root / "tart.xmp").write_bytes(lightroom("TIF"))  # a TIFF's, though no TIFF is here
    before = xmp_digest(root)
    summary = score_folder(root)
    after = xmp_digest(root)
    unchanged_except(before, after, set())
    assert set(after) - set(before) == {"dish.jpg.xmp", "dish.png.xmp", "tart.jpg.xmp"}
    reasons = {(n.sidecar.name, n.photo.name): n.reason for n in summary.notes}
    assert "shared by dish.jpg, dish.png" in reasons[("dish.xmp", "dish.jpg")]
    assert "a .TIF file" in reasons[("tart.xmp", "tart.jpg")]


def test_sidecar_names_are_found_in_any_case(tmp_path: Path) -> None:
    root = tmp_path / "cam"
    make_jpeg(root / "DSC_0043.JPG", seed=1)
    (root / "DSC_0043.XMP").write_bytes(darktable("DSC_0043.JPG"))  # camera/Windows case
    make_jpeg(root / "plate.jpg", seed=2)
    (root / "plate.JPG.Xmp").write_bytes(darktable("plate.jpg"))
    make_jpeg(root / "twin.jpg", seed=3)
    (root / "twin.xmp").write_bytes(darktable("twin.jpg"))
    (root / "twin.XMP").write_bytes(darktable("twin.jpg").replace(b'"2"', b'"4"'))
    before = xmp_digest(root)
    summary = score_folder(root)
    after = xmp_digest(root)
    # Updated in place: no second, contradicting DSC_0043.JPG.xmp or plate.jpg.xmp.
    assert set(after) == set(before)
    assert after["DSC_0043.XMP"] != before["DSC_0043.XMP"]
    assert after["plate.JPG.Xmp"] != before["plate.JPG.Xmp"]
    # Two files that differ only in case: which one Lightroom reads cannot be told.
    unchanged_except(before, after, {"DSC_0043.XMP", "plate.JPG.Xmp"})
    assert {n.sidecar.name for n in summary.notes} == {"twin.xmp", "twin.XMP"}
    info = read_sidecar(root / "DSC_0043.JPG")
    assert info.path == root / "DSC_0043.XMP" and info.score == 73.0
    assert info.rating == 2, "the person's two stars stay"


# -- sidecars Curator cannot read completely ---------------------------------------------------

#: Sidecars another program wrote that Exiv2 does not read whole, each with a word its
#: note must hold.
DAMAGED = {
    "cut.jpg.xmp": (darktable("cut.jpg")[:700], "cut short"),  # darktable interrupted
    "utf16.jpg.xmp": (darktable("utf16.jpg").decode().replace('"UTF-8"', '"UTF-16"')
                      .encode("utf-16"), "UTF-16"),
    "latin.jpg.xmp": (darktable("latin.jpg").decode().replace("UTF-8", "ISO-8859-1")
                      .replace("mains", "crème").encode("latin-1"), "ISO-8859-1"),
    "typed.jpg.xmp": (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.'
                      b'w3.org/1999/02/22-rdf-syntax-ns#"><xmp:Thing xmlns:xmp="http://ns.'
                      b'adobe.com/xap/1.0/" rdf:about="" xmp:Rating="4"/></rdf:RDF>'
                      b'</x:xmpmeta>', "empty"),  # valid RDF that Exiv2 reads as nothing
    "junk.jpg.xmp": (darktable("junk.jpg") + b"<x:xmpmeta/>", "damaged XML"),
}


def test_sidecars_exiv2_cannot_read_completely_are_left_byte_identical(tmp_path: Path) -> None:
    root = tmp_path / "shoot"
    for i, (name, (data, _)) in enumerate(DAMAGED.items()):
        make_jpeg(root / name[:-4], seed=i)
        (root / name).write_bytes(data)
    make_jpeg(root / "salad.jpg", seed=9)
    (root / "salad.jpg.xmp").write_bytes(darktable("salad.jpg"))  # whole: Curator merges
    photos_before = {k: v for k, v in tree_digest(root).items() if not k.endswith(".xmp")}
    before = xmp_digest(root)
    summary = score_folder(root)
    after = xmp_digest(root)
    unchanged_except(before, after, {"salad.jpg.xmp"})
    assert {k: v for k, v in tree_digest(root).items() if not k.endswith(".xmp")} == \
        photos_before
    notes = {n.sidecar.name: n.text() for n in summary.notes}
    assert set(notes) == set(DAMAGED)
    for name, (_, word) in DAMAGED.items():
        assert word in notes[name], notes[name]
        info = read_sidecar(root / name[:-4])
        assert info.problem is not None and info.rating is None
        with pytest.raises(sidecar_mod.SidecarError, match="left as it is"):
            update_sidecar(root / name[:-4], verdict_fields(Flag.PICK, 5))  # nor a verdict
    assert xmp_digest(root) == after
    assert summary.written == 1 and summary.ratings_kept == 1
    info = read_sidecar(root / "salad.jpg")
    assert info.rating == 2 and info.score == 73.0


@needs_exiftool
def test_a_merge_keeps_every_field_of_another_programs_sidecar(tmp_path: Path) -> None:
    photo = make_jpeg(tmp_path / "salad.jpg")
    side = tmp_path / "salad.jpg.xmp"
    side.write_bytes(darktable("salad.jpg"))
    theirs = exif_read(side)
    update_sidecar(photo, score_fields(73.0, 4, DIGEST), keep_rating=True)
    ours = exif_read(side)
    for key, value in theirs.items():
        if key not in ("SourceFile",):
            assert ours.get(key) == value, key
    assert ours["XMP-curator:Score"] == 73.0 and ours["XMP-xmp:Rating"] == 2


# -- files Curator may not replace ---------------------------------------------------------

def test_read_only_linked_and_odd_sidecars_are_never_replaced(tmp_path: Path) -> None:
    root = tmp_path / "shoot"
    for i, stem in enumerate(("locked", "linked", "hard", "dangling", "folder")):
        make_jpeg(root / f"{stem}.jpg", seed=i)
    locked = root / "locked.jpg.xmp"
    locked.write_bytes(darktable("locked.jpg"))
    locked.chmod(0o444)  # the owner made it read-only (root could still rename over it)
    real = tmp_path / "elsewhere" / "linked.xmp"
    real.parent.mkdir()
    real.write_bytes(darktable("linked.jpg"))
    (root / "linked.jpg.xmp").symlink_to(real)  # a link: its target is rewritten, in place
    hard = root / "hard.jpg.xmp"
    hard.write_bytes(darktable("hard.jpg"))
    os.link(hard, tmp_path / "hard-backup.xmp")
    (root / "dangling.jpg.xmp").symlink_to(tmp_path / "gone.xmp")
    (root / "folder.jpg.xmp").mkdir()
    before = xmp_digest(root)
    real_before = real.read_bytes()
    summary = score_folder(root)
    assert xmp_digest(root) != before  # the link's target changed, seen through the link
    assert locked.read_bytes() == darktable("locked.jpg") and not locked.stat().st_mode & 0o222
    assert hard.read_bytes() == darktable("hard.jpg")
    assert os.stat(hard).st_nlink == 2
    assert (root / "linked.jpg.xmp").is_symlink() and real.read_bytes() != real_before
    assert read_sidecar(root / "linked.jpg").score == 73.0
    assert not (tmp_path / "gone.xmp").exists() and (root / "folder.jpg.xmp").is_dir()
    reasons = {n.sidecar.name: n.reason for n in summary.notes}
    assert set(reasons) == {"locked.jpg.xmp", "hard.jpg.xmp", "dangling.jpg.xmp",
                            "folder.jpg.xmp"}
    assert "read-only" in reasons["locked.jpg.xmp"]
    assert "hard links" in reasons["hard.jpg.xmp"]
    assert "does not exist" in reasons["dangling.jpg.xmp"]
    assert "not a regular file" in reasons["folder.jpg.xmp"]
    assert sorted(p.name for p in root.iterdir()) == sorted(
        [*(f"{s}.jpg" for s in ("locked", "linked", "hard", "dangling", "folder")),
         *(f"{s}.jpg.xmp" for s in ("locked", "linked", "hard", "dangling", "folder"))])


def test_a_sidecar_another_program_saves_meanwhile_is_merged_not_clobbered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = make_jpeg(tmp_path / "pasta.jpg")
    side = tmp_path / "pasta.jpg.xmp"
    side.write_bytes(darktable("pasta.jpg"))
    real_write = sidecar_mod.atomic_write_bytes
    calls = []

    def write_after_darktable(path: Path, data: bytes, expect: object = True) -> None:
        calls.append(path)
        if len(calls) == 1:  # darktable saves a new keyword between Curator's read and write
            os.utime(side, ns=(1, 1))
            side.write_bytes(darktable("pasta.jpg").replace(b"mains", b"specials"))
        real_write(path, data, expect)  # type: ignore[arg-type]

    monkeypatch.setattr(sidecar_mod, "atomic_write_bytes", write_after_darktable)
    update_sidecar(photo, score_fields(60.0, 4, DIGEST), keep_rating=True)
    assert len(calls) == 2, "the first write saw the change and merged again"
    text = side.read_text()
    assert "specials" in text and "mains" not in text and "curator:Score" in text


# -- whose rating is it ------------------------------------------------------------------------

def _rating(photo: Path) -> int | None:
    return read_sidecar(photo).rating


def test_a_persons_rating_is_never_taken_for_the_models(tmp_path: Path) -> None:
    model = lambda p, pct, stars: update_sidecar(  # noqa: E731
        p, score_fields(pct, stars, DIGEST), keep_rating=True)
    # The model's own stars follow the model.
    own = make_jpeg(tmp_path / "own.jpg", seed=1)
    model(own, 50.0, 3)
    model(own, 90.0, 5)
    assert _rating(own) == 5 and read_sidecar(own).model_rating
    # A person gives the same 3 stars the model gave, in Curator's window: now theirs.
    same = make_jpeg(tmp_path / "same.jpg", seed=2)
    model(same, 50.0, 3)
    update_sidecar(same, verdict_fields(Flag.NONE, 3))
    model(same, 90.0, 5)
    assert _rating(same) == 3 and read_sidecar(same).stars == 5
    assert not read_sidecar(same).model_rating
    # A sidecar an older Curator wrote (no mark): the rating beside curator:Stars may be a
    # person's; it is kept.
    old = make_jpeg(tmp_path / "old.jpg", seed=3)
    update_sidecar(old, {RATING: "4", STARS: "4", sidecar_mod.MODEL: DIGEST[:16]})
    model(old, 10.0, 1)
    assert _rating(old) == 4
    # Another program sets the same rating later without touching xmp:MetadataDate (exiftool
    # does not): the file's own time gives it away.
    later = make_jpeg(tmp_path / "later.jpg", seed=4)
    model(later, 50.0, 3)
    side = tmp_path / "later.jpg.xmp"
    now = time.time() + 60
    os.utime(side, (now, now))
    model(later, 90.0, 5)
    assert _rating(later) == 3
    # ... or a different one.
    other = make_jpeg(tmp_path / "other.jpg", seed=5)
    model(other, 50.0, 3)
    update_sidecar(other, {RATING: "4"})
    model(other, 90.0, 5)
    assert _rating(other) == 4


@needs_exiftool
def test_a_rating_exiftool_sets_is_a_persons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same three stars the model gave, set by a person with exiftool a minute later."""
    assert EXIFTOOL is not None
    photo = make_jpeg(tmp_path / "a.jpg")
    a_minute_ago = datetime.fromtimestamp(time.time() - 60, UTC).isoformat(timespec="seconds")
    monkeypatch.setattr(sidecar_mod, "_now", lambda: a_minute_ago)
    update_sidecar(photo, score_fields(50.0, 3, DIGEST), keep_rating=True)
    monkeypatch.undo()
    side = tmp_path / "a.jpg.xmp"
    stamp = read_xmp_date(side)
    subprocess.run([EXIFTOOL, "-q", "-overwrite_original", "-XMP-xmp:Rating=3", str(side)],
                   check=True)
    assert read_xmp_date(side) == stamp, "exiftool leaves xmp:MetadataDate as it was"
    update_sidecar(photo, score_fields(95.0, 5, DIGEST), keep_rating=True)
    assert exif_read(side)["XMP-xmp:Rating"] == 3


def read_xmp_date(side: Path) -> object:
    return sidecar_mod._read_xmp(side.read_bytes()).get(METADATA_DATE)


def test_window_shows_a_persons_rating_equal_to_the_models_stars(tmp_path: Path) -> None:
    from curator.gui.worker import _placeholder

    photo = make_jpeg(tmp_path / "a.jpg")
    update_sidecar(photo, score_fields(50.0, 3, DIGEST), keep_rating=True)
    assert _placeholder(photo).verdict.empty, "the model's stars are not a verdict"
    update_sidecar(photo, verdict_fields(Flag.NONE, 3))
    assert _placeholder(photo).verdict.stars == 3, "the person's three stars are shown"


# -- end to end: the CLI -----------------------------------------------------------------------

@pytest.mark.slow
def test_cli_scores_every_photo_and_names_every_sidecar_left_alone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = tmp_path / "shoot"
    make_jpeg(root / "risotto.jpg", seed=1)
    (root / "risotto.jpg.xmp").write_bytes(darktable("risotto.jpg")[:700])
    make_jpeg(root / "DSC_0042.jpg", seed=2)
    (root / "DSC_0042.NEF").write_bytes(b"MM\0*nef")
    (root / "DSC_0042.xmp").write_bytes(lightroom("NEF"))
    make_jpeg(root / "salad.jpg", seed=3)
    (root / "salad.jpg.xmp").write_bytes(darktable("salad.jpg"))
    before = xmp_digest(root)
    assert main(["score", str(root), "--xmp", "--json", "--no-cache"]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert sorted(Path(p["path"]).name for p in doc["photos"]) == [
        "DSC_0042.jpg", "risotto.jpg", "salad.jpg"]
    pair = next(p for p in doc["photos"] if p["path"].endswith("DSC_0042.jpg"))
    assert Path(pair["raw"]["path"]).name == "DSC_0042.NEF"
    left = [s for s in doc["skipped"] if s["kind"] == "sidecar"]
    assert sorted(Path(s["path"]).name for s in left) == ["DSC_0042.xmp", "risotto.jpg.xmp"]
    assert all(s["reason"].endswith("left as it is") and s["photo"] for s in left)
    assert doc["sidecars"] == {"written": 2, "left_alone": 2, "ratings_kept": 1}
    assert "risotto.jpg.xmp is cut short" in err and "DSC_0042.xmp is the sidecar of" in err
    assert "1 rating(s) or label(s) a person gave kept" in err
    after = xmp_digest(root)
    unchanged_except(before, after, {"salad.jpg.xmp"})
    assert set(after) - set(before) == {"DSC_0042.jpg.xmp"}


@pytest.mark.slow
@pytest.mark.parametrize("case", ["xmp-malformed-sidecar", "raw-jpeg-shared-xmp"])
def test_shared_sidecar_cases_hold(case: str, tmp_path: Path) -> None:
    """``../shared/cases``: the procedure each case's docstring gives, as a user runs it."""
    make = SHARED_CASES / case / "make.py"
    if not make.is_file():
        pytest.skip("../shared/cases is not present")
    out = tmp_path / "photos"
    subprocess.run([sys.executable, str(make), str(out)], check=True, capture_output=True)
    before = xmp_digest(out)
    photos_before = {k: v for k, v in tree_digest(out).items() if not k.endswith(".xmp")}
    run = subprocess.run([sys.executable, "-m", "curator", "score", str(out), "--xmp",
                          "--no-cache", "--json"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    doc = json.loads(run.stdout)
    after = xmp_digest(out)
    assert {k: v for k, v in tree_digest(out).items() if not k.endswith(".xmp")} == \
        photos_before
    left = {Path(s["path"]).name for s in doc["skipped"] if s["kind"] == "sidecar"}
    if case == "xmp-malformed-sidecar":
        assert len(doc["photos"]) == 3
        assert left == {"risotto.jpg.xmp", "tart.jpg.xmp"}
        unchanged_except(before, after, {"salad.jpg.xmp"})
        info = read_sidecar(out / "salad.jpg")
        assert info.score is not None and info.rating == 2
        assert "darktable:history" in (out / "salad.jpg.xmp").read_text()
    else:
        assert sorted(Path(p["path"]).name for p in doc["photos"]) == [
            "DSC_0042.jpg", "IMG_0100.JPG"]
        assert {Path(p["raw"]["path"]).name for p in doc["photos"]} == {
            "DSC_0042.NEF", "IMG_0100.CR2"}
        assert left == {"DSC_0042.xmp"}
        unchanged_except(before, after, set())
        assert set(after) - set(before) == {"DSC_0042.jpg.xmp", "IMG_0100.JPG.xmp"}


def test_a_pairs_verdict_reaches_both_files(tmp_path: Path) -> None:
    root = tmp_path / "card"
    jpg = make_jpeg(root / "DSC_0042.jpg")
    nef = root / "DSC_0042.NEF"
    nef.write_bytes(b"MM\0*nef")
    (root / "DSC_0042.xmp").write_bytes(lightroom("NEF"))
    result = write_sidecars(jpg, verdict_fields(Flag.PICK, 4), raw=nef)
    assert sorted(p.name for p in result.written) == ["DSC_0042.jpg.xmp", "DSC_0042.xmp"]
    assert not result.notes
    raw_side = (root / "DSC_0042.xmp").read_text()
    assert 'xmp:Rating="4"' in raw_side and "crs:Exposure2012" in raw_side
    assert "SidecarForExtension" in raw_side
    assert read_sidecar(nef).rating == 4 and read_sidecar(jpg).rating == 4
    shutil.rmtree(root)


def test_more_ways_a_sidecar_says_or_shows_it_is_not_the_photos(tmp_path: Path) -> None:
    """Found by a fresh-eyes hunt: photoshop:SidecarForExtension inside an rdf:Alt (exiftool
    reads it), two RAWs whose names differ only in case, a write-protected folder (root could
    still write there), a link that loops."""
    root = tmp_path / "card"
    make_jpeg(root / "dish.jpg", seed=1)
    (root / "dish.xmp").write_bytes(lightroom(None).replace(
        b"crs:Version", b'crs:Vx="1">\n<photoshop:SidecarForExtension><rdf:Alt><rdf:li '
        b'xml:lang="x-default">NEF</rdf:li></rdf:Alt></photoshop:SidecarForExtension>\n'
        b'<crs:Dummy a="1"/></rdf:Description></rdf:RDF></x:xmpmeta><!--', 1) + b"-->")
    make_jpeg(root / "DUO_0010.JPG", seed=2)
    (root / "DUO_0010.DNG").write_bytes(b"II*\0dng")
    (root / "DUO_0010.dng").write_bytes(b"II*\0dng2")  # another file on a case-sensitive disk
    (root / "DUO_0010.dng.xmp").write_bytes(darktable("DUO_0010.dng"))
    (root / "loop.jpg.xmp").symlink_to(root / "loop.jpg.xmp")
    make_jpeg(root / "loop.jpg", seed=3)
    before = xmp_digest(root)
    summary = score_folder(root)
    reasons = {n.sidecar.name: n.reason for n in summary.notes}
    assert "SidecarForExtension=NEF" in reasons["dish.xmp"]
    assert "loops back on itself" in reasons["loop.jpg.xmp"]
    assert xmp_digest(root)["dish.xmp"] == before["dish.xmp"]
    theirs = (root / "DUO_0010.dng.xmp").read_bytes()  # the lone DUO_0010.dng's own
    result = write_sidecars(root / "DUO_0010.JPG", verdict_fields(Flag.PICK, 3),
                            raw=root / "DUO_0010.DNG")
    assert sorted(w.name for w in result.written) == ["DUO_0010.DNG.xmp", "DUO_0010.JPG.xmp"]
    assert (root / "DUO_0010.dng.xmp").read_bytes() == theirs, "the other RAW's sidecar"
    locked = tmp_path / "locked"
    make_jpeg(locked / "a.jpg", seed=4)
    make_jpeg(locked / "b.jpg", seed=5)
    (locked / "a.jpg.xmp").write_bytes(darktable("a.jpg"))
    locked.chmod(0o555)
    try:
        summary = score_folder(locked)
        assert sorted(p.name for p in locked.iterdir()) == ["a.jpg", "a.jpg.xmp", "b.jpg"]
        texts = {n.sidecar.name: n.text() for n in summary.notes}
        assert "write-protected folder: left as it is" in texts["a.jpg.xmp"]
        assert texts["b.jpg.xmp"].endswith("could not be created: it is in a "
                                           "write-protected folder"), "nothing was left"
    finally:
        locked.chmod(0o755)
    assert (locked / "a.jpg.xmp").read_bytes() == darktable("a.jpg")


def test_export_copies_every_own_sidecar_of_a_photo(tmp_path: Path) -> None:
    from curator.export import export_top
    from curator.score import PhotoScore

    src = tmp_path / "shoot"
    photo = make_jpeg(src / "dish.jpg")
    (src / "dish.jpg.xmp").write_bytes(darktable("dish.jpg"))  # darktable's
    (src / "dish.xmp").write_bytes(lightroom(None))  # Lightroom's, of the same photo
    report = export_top([PhotoScore(photo, 6.0, 1.0, (0.1,) * 10, score=80.0)],
                        tmp_path / "best", 1, sidecars=True)
    assert report.ok
    got = {p.name: p.read_bytes() for p in (tmp_path / "best").iterdir() if p.suffix == ".xmp"}
    assert got == {"dish.jpg.xmp": darktable("dish.jpg"), "dish.xmp": lightroom(None)}
