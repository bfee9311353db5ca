"""The culling settings (``curator.prefs``), each on real photos: it changes the outcome it
should and nothing else.  Flags of ``curator score``/``export``; the saved settings the
window's Preferences write are the same ``Prefs`` (``tests/test_preferences_gui.py``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageFilter

from curator.cli import main
from curator.prefs import Prefs, PrefsError, load_prefs, save_prefs
from tests.conftest import REPO, tree_digest
from tests.test_sidecar import EXIFTOOL, exif_read, needs_exiftool

SAMPLES = REPO / "assets" / "samples"


def _photo(name: str) -> Image.Image:
    im = Image.open(SAMPLES / f"{name}.jpg").convert("RGB")
    im.thumbnail((800, 800))
    return im


def _zoom(im: Image.Image, share: float) -> Image.Image:
    w, h = im.size
    d = share / 2
    return im.crop((int(w * d), int(h * d), int(w * (1 - d)), int(h * (1 - d)))).resize((w, h))


def _exif(when: str) -> Image.Exif:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = when  # DateTimeOriginal
    return exif


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One score cache for the module: each folder is scored once, then re-grouped."""
    return tmp_path_factory.mktemp("settings-cache")


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four real dishes; nachos and risotto each with a 30 % zoom of themselves (cosine
    distance 0.18-0.19: one stack at the default cut, two when strict), a brighter take of
    the feta, and two takes of the pizza 20 minutes apart."""
    root = tmp_path_factory.mktemp("stacks") / "shoot"
    root.mkdir()
    for name in ("nachos", "mushroom-risotto"):
        im = _photo(name)
        im.save(root / f"{name}.jpg", quality=92)
        _zoom(im, 0.30).save(root / f"{name}-closer.jpg", quality=92)
    feta = _photo("oven-feta")
    feta.save(root / "oven-feta.jpg", quality=92)
    feta.point(lambda v: min(255, int(v * 1.1))).save(root / "oven-feta-brighter.jpg",
                                                      quality=92)
    pizza = _photo("pizza")
    pizza.save(root / "pizza.jpg", quality=92, exif=_exif("2026:05:01 12:00:00"))
    _zoom(pizza, 0.05).save(root / "pizza-again.jpg", quality=92,
                            exif=_exif("2026:05:01 12:20:00"))
    return root


def score(capsys: pytest.CaptureFixture[str], folder: Path, cache: Path,
          *flags: str) -> dict[str, Any]:
    assert main(["score", str(folder), "--json", "-q", "--cache-dir", str(cache), *flags]) == 0
    return json.loads(capsys.readouterr().out)


def stacked(doc: dict[str, Any]) -> set[frozenset[str]]:
    groups: dict[int, set[str]] = {}
    for p in doc["photos"]:
        groups.setdefault(p["group"], set()).add(Path(p["path"]).stem)
    return {frozenset(g) for g in groups.values() if len(g) > 1}


def scores(doc: dict[str, Any]) -> dict[str, float]:
    return {Path(p["path"]).stem: p["score"] for p in doc["photos"]}


@pytest.mark.slow
def test_similarity_and_capture_gap_change_the_stacks_and_nothing_else(
    capsys: pytest.CaptureFixture[str], stacks: Path, cache_dir: Path
) -> None:
    default = score(capsys, stacks, cache_dir)
    strict = score(capsys, stacks, cache_dir, "--similarity", "strict")
    loose = score(capsys, stacks, cache_dir, "--similarity", "loose")
    gap = score(capsys, stacks, cache_dir, "--capture-gap", "10")
    pair = {frozenset({"nachos", "nachos-closer"}),
            frozenset({"mushroom-risotto", "mushroom-risotto-closer"})}
    assert pair <= stacked(default) and pair <= stacked(loose)
    assert not pair & stacked(strict), "strict: a 30 % zoom is another photo"
    assert frozenset({"pizza", "pizza-again"}) in stacked(default)
    assert frozenset({"pizza", "pizza-again"}) not in stacked(gap), "20 min apart, gap 10"
    assert stacked(gap) == stacked(default) - {frozenset({"pizza", "pizza-again"})}
    # The best-of-group aside (a capped score follows its group), the scores do not move.
    def plain(doc: dict[str, Any]) -> dict[str, float]:
        return {k: v for k, v in scores(doc).items() if "-" not in k or k.endswith("brighter")}
    assert plain(strict) == plain(default) == plain(loose)


@pytest.mark.slow
def test_blur_strictness_moves_only_the_blur_reason(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, cache_dir: Path
) -> None:
    root = tmp_path / "soft"
    root.mkdir()
    # Each dish once (no sharp sibling to be compared with), a little soft: the fine detail
    # left sits between the lenient and the strict threshold of the blur rule.
    for name, radius in (("green-spaghetti", 1.0), ("mongolian-beef", 0.7), ("oven-feta", 0.7),
                         ("pizza", 1.0), ("roasted-brussels-sprouts", 1.0),
                         ("falafel-hummus-plate", 2.0), ("french-toast", 2.0),
                         ("sweet-potato-cakes-with-poached-eggs", 2.0), ("nachos", 0.0)):
        im = Image.open(SAMPLES / f"{name}.jpg").convert("RGB")
        im.filter(ImageFilter.GaussianBlur(radius)).save(root / f"{name}.jpg", quality=92)
    runs = {level: score(capsys, root, cache_dir, "--blur-strictness", level)
            for level in ("lenient", "default", "strict")}

    def blurred(doc: dict[str, Any]) -> set[str]:
        return {Path(p["path"]).stem for p in doc["photos"] if "blur" in p["reasons"]}
    assert blurred(runs["lenient"]) <= blurred(runs["default"]) <= blurred(runs["strict"])
    assert blurred(runs["lenient"]) != blurred(runs["strict"]), "the setting does something"
    others = {level: {Path(p["path"]).stem: [r for r in p["reasons"] if r != "blur"]
                      for p in doc["photos"]} for level, doc in runs.items()}
    assert others["lenient"] == others["default"] == others["strict"]
    assert scores(runs["lenient"]) == scores(runs["strict"])


@pytest.mark.slow
def test_exposure_strictness_moves_only_dark_and_overexposed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, cache_dir: Path
) -> None:
    from PIL import ImageEnhance

    root = tmp_path / "dim"
    root.mkdir()
    # Dimmed dishes: crispy-carrots' 99th-percentile brightness (~137) is dark at every level,
    # nachos' and green-spaghetti's (~159) only from the default threshold on (lenient 155,
    # default 164); pizza and red-berry-tart are left as shot.
    for name, k in (("crispy-carrots", 0.6), ("nachos", 0.7), ("green-spaghetti", 0.64),
                    ("pizza", 1.0), ("red-berry-tart", 1.0)):
        im = Image.open(SAMPLES / f"{name}.jpg").convert("RGB")
        im.thumbnail((1200, 1200))
        ImageEnhance.Brightness(im).enhance(k).save(root / f"{name}.jpg", quality=92)
    runs = {level: score(capsys, root, cache_dir, "--exposure-strictness", level)
            for level in ("lenient", "default", "strict")}

    def flagged(doc: dict[str, Any]) -> set[str]:
        return {Path(p["path"]).stem for p in doc["photos"]
                if {"dark", "overexposed"} & set(p["reasons"])}
    assert flagged(runs["lenient"]) == {"crispy-carrots"}
    assert flagged(runs["default"]) == {"crispy-carrots", "nachos", "green-spaghetti"}
    assert flagged(runs["default"]) <= flagged(runs["strict"])
    others = {level: {Path(p["path"]).stem: [r for r in p["reasons"]
                                              if r not in ("dark", "overexposed")]
                      for p in doc["photos"]} for level, doc in runs.items()}
    assert others["lenient"] == others["default"] == others["strict"]
    assert scores(runs["lenient"]) == scores(runs["strict"])


#: The ``stacks`` fixture's photos -> their dish.
_SAME_DISH = {"nachos": "nachos", "nachos-closer": "nachos",
              "mushroom-risotto": "risotto", "mushroom-risotto-closer": "risotto",
              "oven-feta": "feta", "oven-feta-brighter": "feta",
              "pizza": "pizza", "pizza-again": "pizza"}


@pytest.mark.slow
def test_keep_n_per_group_and_the_near_copies_left_out_are_named(
    capsys: pytest.CaptureFixture[str], stacks: Path, cache_dir: Path, tmp_path: Path
) -> None:
    args = ["export", str(stacks), "--top", "10", "--cache-dir", str(cache_dir), "-q"]
    assert main([*args, "--to", str(tmp_path / "one")]) == 0
    one = capsys.readouterr().out
    assert main([*args, "--to", str(tmp_path / "two"), "--per-group", "2"]) == 0
    two = capsys.readouterr().out
    copied = {n: {p.stem for p in (tmp_path / n).glob("*.jpg")} for n in ("one", "two")}
    assert len(copied["one"]) == 4 and len(copied["two"]) == 8
    assert copied["one"] < copied["two"]
    assert one.count("left out, near-copies of it:") == 4
    assert "best 2 of each near-duplicate group" in two and "left out" not in two
    # Each copied best is followed by the line naming the near-copy it stood for.
    lines = one.splitlines()
    for left in copied["two"] - copied["one"]:
        (best,) = [n for n in copied["one"] if _SAME_DISH[n] == _SAME_DISH[left]]
        at = [i for i, ln in enumerate(lines) if f"{best}.jpg ->" in ln]
        assert len(at) == 1, (best, one)
        assert lines[at[0] + 1].strip() == f"left out, near-copies of it: {left}.jpg", one


def test_settings_are_saved_checked_and_used_by_both(tmp_path: Path) -> None:
    prefs = Prefs(similarity="strict", keep_per_group=2, label_green_at=80, label_red_at=30)
    save_prefs(prefs, tmp_path)
    assert load_prefs(tmp_path) == prefs
    assert prefs.group_config().threshold == 0.16 and prefs.label_for(85) == "Green"
    assert prefs.label_for(30) == "Red" and prefs.label_for(50) is None
    with pytest.raises(PrefsError):
        Prefs(label_green_at=30, label_red_at=40)
    (tmp_path / "prefs.json").write_text('{"keep_per_group": 99}')
    assert load_prefs(tmp_path) == Prefs(), "out of range: the defaults, never a crash"


@pytest.mark.slow
@needs_exiftool
def test_colour_labels_are_written_as_mapped_and_a_persons_label_is_kept(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, cache_dir: Path
) -> None:
    assert EXIFTOOL is not None
    root = tmp_path / "shoot"
    root.mkdir()
    for name in ("mongolian-beef", "pizza", "nachos", "french-toast"):
        shutil.copy(SAMPLES / f"{name}.jpg", root)
    before = tree_digest(root)
    doc = score(capsys, root, cache_dir, "--xmp", "--labels", "80,30")
    got = {Path(p["path"]).stem: p["score"] for p in doc["photos"]}

    def want(v: float) -> str | None:
        return "Green" if v >= 80 else "Red" if v <= 30 else None
    for stem, v in got.items():
        tags = exif_read(root / f"{stem}.jpg.xmp")
        assert tags.get("XMP-xmp:Label") == want(round(v, 1)), stem
        assert tags["XMP-xmp:Rating"] >= 1
    assert {k: v for k, v in tree_digest(root).items() if not k.endswith(".xmp")} == before
    # A person labels one photo Purple in Lightroom-style tools: a later mapping keeps it.
    side = root / "nachos.jpg.xmp"
    subprocess.run([EXIFTOOL, "-q", "-overwrite_original", "-XMP-xmp:Label=Purple", str(side)],
                   check=True)
    later = datetime.now().timestamp() + 60
    os.utime(side, (later, later))
    score(capsys, root, cache_dir, "--xmp", "--labels", "95,90")  # every score below 95
    assert exif_read(side)["XMP-xmp:Label"] == "Purple"
    for stem, v in got.items():
        if stem != "nachos":
            tags = exif_read(root / f"{stem}.jpg.xmp")
            assert tags.get("XMP-xmp:Label") == ("Red" if v <= 90 else None), stem
    ratings = {stem: exif_read(root / f"{stem}.jpg.xmp")["XMP-xmp:Rating"] for stem in got}
    score(capsys, root, cache_dir, "--xmp", "--labels", "none", "--no-stars")
    assert exif_read(side)["XMP-xmp:Label"] == "Purple"
    assert {stem: exif_read(root / f"{stem}.jpg.xmp")["XMP-xmp:Rating"] for stem in got} == \
        ratings, "--no-stars changes no rating"


@pytest.mark.slow
@needs_exiftool
def test_embed_xmp_writes_stars_and_label_into_the_copies_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, cache_dir: Path
) -> None:
    root = tmp_path / "shoot"
    root.mkdir()
    for name in ("mongolian-beef", "french-toast"):
        shutil.copy(SAMPLES / f"{name}.jpg", root)
    before = tree_digest(root)
    dest = tmp_path / "for-lightroom"
    assert main(["export", str(root), "--to", str(dest), "--embed-xmp", "--labels", "80,30",
                 "--all-in-group", "-q", "--cache-dir", str(cache_dir)]) == 0
    capsys.readouterr()
    assert tree_digest(root) == before, "the originals are never written"
    for copy in dest.glob("*.jpg"):
        tags = exif_read(copy)
        assert 1 <= tags["XMP-xmp:Rating"] <= 5 and "XMP-curator:Score" in tags
    beef = exif_read(dest / "mongolian-beef.jpg")
    assert beef["XMP-xmp:Label"] == "Green" and beef["XMP-xmp:Rating"] == 5
