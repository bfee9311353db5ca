"""Readiness checks: plain words for what is wrong, on real photos and copies made from them."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont, ImageOps

from curator.crop import dish_map_of, kept_fraction, largest_crop, place_crop, propose_crop
from curator.cropstore import CropStore
from curator.destinations import get
from curator.export_presets import judge
from curator.readiness import (
    DISH_KEEP,
    FACTS_VERSION,
    INFO,
    MISSING,
    REJECT,
    WARN,
    FactsCache,
    PixelFacts,
    analyse,
    check_photo,
)
from curator.score import PhotoScore

HIRES = "food-photos-hires"


def _real(shared: Path, name: str) -> Path:
    hits = sorted((shared / HIRES).rglob(name))
    if not hits:
        pytest.skip(f"{name} not in ../shared/data/{HIRES}")
    return hits[0]


def test_a_photo_too_small_for_an_uber_eats_cover_says_its_size_and_the_size_needed() -> None:
    r = check_photo(get("uber-eats-cover"), (1600, 1200), ())
    assert not r.ready
    [why] = r.rejections()
    assert why.key == "size"
    assert "too small for Uber Eats cover" in why.message
    assert "1500 × 1200 px" in why.message and "2880 × 2304 needed" in why.message
    assert "original" in why.advice
    ok = check_photo(get("uber-eats-cover"), (4032, 3024), ())
    assert ok.ready and ok.output == (2880, 2304)


def test_a_photo_below_the_recommended_size_is_sent_as_is_with_a_warning() -> None:
    r = check_photo(get("instagram-portrait"), (800, 1000), ())
    assert r.ready and r.output == (800, 1000)
    assert [c.key for c in r.warnings()] == ["upscale"]
    assert "1080 × 1350" in r.warnings()[0].message


def test_a_reason_leaves_a_photo_out_only_where_the_destination_rejects_it() -> None:
    size = (4032, 3024)
    uber = check_photo(get("uber-eats-cover"), size, ("tilted", "noisy"))
    google = check_photo(get("google-business"), size, ("tilted", "noisy"))
    assert [c.key for c in uber.rejections()] == ["tilted"]
    assert "Uber Eats cover rejects" in uber.rejections()[0].message
    assert google.ready and {c.key for c in google.warnings()} == {"tilted", "noisy"}
    assert check_photo(get("google-business"), size, ("dark",)).rejections()[0].key == "dark"


def test_the_crop_says_how_much_of_the_photo_it_cuts() -> None:
    r = check_photo(get("instagram-story"), (4032, 3024), ())
    [info] = [c for c in r.checks if c.key == "ratio"]
    assert info.message == "a 9:16 crop cuts 58 % of the width"


def test_a_detector_that_is_not_installed_is_reported_not_passed() -> None:
    facts = PixelFacts(colourfulness=40.0, text=None, faces=None, dish=None)
    r = check_photo(get("uber-eats-cover"), (4032, 3024), (), facts)
    assert {c.key: c.severity for c in r.checks if c.severity == MISSING} == {
        "text": MISSING, "people": MISSING}
    assert "not installed" in r.warnings()[0].message


def test_a_grey_copy_of_a_real_photo_reads_as_black_and_white(shared_data: Path,
                                                              tmp_path: Path) -> None:
    src = _real(shared_data, "images__pizza.jpg")
    grey = tmp_path / "pizza-grey.jpg"
    with Image.open(src) as im:
        ImageOps.grayscale(im).convert("RGB").save(grey, quality=90)
    colour, mono = analyse(src, dish=False), analyse(grey, dish=False)
    assert mono.colourfulness < 1.0 < 17.0 < colour.colourfulness
    uber = check_photo(get("uber-eats-cover"), (4000, 3200), (), mono)
    assert [c.key for c in uber.rejections()] == ["black_and_white"]
    assert check_photo(get("yelp"), (4000, 3200), (), mono).warnings()[0].key == \
        "black_and_white"
    assert not [c for c in check_photo(get("uber-eats-cover"), (4000, 3200), (), colour).checks
                if c.key == "black_and_white"]


def test_text_written_on_a_real_photo_is_read_and_rejected_for_uber_eats(
        shared_data: Path, tmp_path: Path) -> None:
    src = _real(shared_data, "images__pizza.jpg")
    with Image.open(src) as im:
        im = im.convert("RGB")
        d = ImageDraw.Draw(im)
        font = ImageFont.load_default(size=im.width // 12)
        d.rectangle((0, 0, im.width, im.height // 6), fill=(250, 250, 250))
        d.text((im.width // 20, im.height // 40), "HALF PRICE", fill=(20, 20, 20), font=font)
        im.save(tmp_path / "sale.jpg", quality=92)
    facts = analyse(tmp_path / "sale.jpg", dish=False)
    assert facts.text is not None
    assert any("HALF" in t.upper() or "PRICE" in t.upper() for t in facts.text)
    [why] = [c for c in check_photo(get("uber-eats-cover"), (4000, 3200), (), facts).rejections()]
    assert why.key == "text" and "rejects text" in why.message
    assert analyse(src, dish=False).text == ()


def test_a_face_in_a_real_photo_is_found_and_food_photos_have_none(shared_data: Path) -> None:
    person = _real(shared_data, "04-pizza-dad.jpeg")
    facts = analyse(person, dish=False)
    assert facts.faces == 1
    r = check_photo(get("uber-eats-cover"), (3024, 4032), (), facts)
    assert "people" in {c.key for c in r.rejections()}
    assert check_photo(get("instagram-square"), (3024, 4032), (), facts).ready
    for name in ("03-steak.jpeg", "images__pizza.jpg", "images__falafel-hummus-plate.jpg"):
        assert analyse(_real(shared_data, name), dish=False).faces == 0


def test_the_proposed_crop_follows_a_dish_moved_to_the_side(shared_data: Path,
                                                           tmp_path: Path) -> None:
    src = _real(shared_data, "images__stuffed-peppers.jpg")  # a bowl on a wooden table
    with Image.open(src) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
        im.thumbnail((1200, 1200))
        w, h = im.size
        wide = Image.new("RGB", (w * 2, h), im.getpixel((5, 5)))  # the table's colour
        wide.paste(im, (0, 0))
        wide.save(tmp_path / "left.jpg", quality=92)
    dish, size = dish_map_of(tmp_path / "left.jpg")
    crop = propose_crop(size, 1.0, dish)
    bowl = (0.14 * w, 0.14 * h, 0.86 * w, 0.86 * h)  # hand-marked in scripts/plate_boxes.json
    assert kept_fraction(bowl, crop) >= 0.95
    centre = ((size[0] - size[1]) / 2, 0, (size[0] + size[1]) / 2, size[1])
    assert kept_fraction(bowl, centre) < 0.8
    far = check_photo(get("instagram-square"), size, (), analyse(tmp_path / "left.jpg"),
                      crop=centre)
    assert [c.severity for c in far.checks if c.key == "dish_cut"] == [WARN]


def test_remembered_facts_are_measured_again_when_the_photo_changes(shared_data: Path,
                                                                    tmp_path: Path) -> None:
    photo = tmp_path / "p.jpg"
    shutil.copy(_real(shared_data, "images__pizza.jpg"), photo)
    cache = FactsCache.in_dir(tmp_path / "cache")
    first = cache.facts_for(photo)
    assert cache.get(photo) == first
    with Image.open(photo) as im:
        ImageOps.grayscale(im).save(photo, "JPEG")
    st = os.stat(photo)
    os.utime(photo, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert cache.get(photo) is None
    assert cache.facts_for(photo).colourfulness < 1.0
    cache.close()


def test_a_sign_and_a_face_outside_the_crop_do_not_count_and_do_once_the_crop_holds_them(
        shared_data: Path, tmp_path: Path) -> None:
    """04-pizza-dad: a pizza at the bottom of a portrait photo, a man and a street sign
    ("THIS.POINT") above it; the proposed 5:4 crop holds only the pizza."""
    photo = _real(shared_data, "04-pizza-dad.jpeg")  # 3024 x 4032 upright
    facts = analyse(photo)
    assert facts.text == ("THIS.POINT",) and facts.faces == 1
    assert facts.text_boxes is not None and facts.face_boxes is not None
    (sign,), (face,) = facts.text_boxes, facts.face_boxes
    assert sign[3] < 0.3 and face[3] < 0.35  # both in the top third of the photo
    size, uber = (3024, 4032), get("uber-eats-cover")
    proposed = check_photo(uber, size, (), facts)
    assert proposed.crop is not None and proposed.crop[1] > 0.35 * size[1]  # the pizza
    assert not {"text", "people"} & {c.key for c in proposed.rejections()}, proposed.why_not()
    info = {c.key: c.message for c in proposed.checks if c.severity == INFO}
    assert "outside the 5:4 crop" in info["text"] and "THIS.POINT" in info["text"]
    assert "a face outside the 5:4 crop" in info["people"]
    # The owner drags the crop up to the top of the photo: now both are in it.
    s = PhotoScore(photo, 5.0, 1.0, (), *size, score=80.0)
    with CropStore.in_dir(tmp_path / "data") as crops:
        cw, ch = largest_crop(size, uber.aspect)
        crops.remember(photo, uber.ratio_text, size, place_crop(size, cw, ch, (size[0] / 2, 0)))
        dragged = judge(s, uber, facts, crops)
    assert dragged.crop is not None and dragged.crop[1] == 0
    why = {c.key: c for c in dragged.rejections()}
    assert {"text", "people"} <= set(why), dragged.why_not()
    assert "THIS.POINT" in why["text"].message and why["people"].severity == REJECT


def test_facts_of_an_older_format_are_measured_again_with_their_boxes(
        shared_data: Path, tmp_path: Path) -> None:
    photo = tmp_path / "dad.jpeg"
    shutil.copy(_real(shared_data, "04-pizza-dad.jpeg"), photo)
    db = tmp_path / "cache" / "facts.sqlite3"
    cache = FactsCache(db)
    st = os.stat(photo)
    old = {"colourfulness": 30.0, "text": ["THIS.POINT"], "faces": 1, "dish": None}
    with sqlite3.connect(db) as conn:  # a row as version 1 wrote it: no positions
        conn.execute("INSERT INTO facts VALUES (?,?,?,?,?)",
                     (os.path.abspath(photo), st.st_size, st.st_mtime_ns, 1, json.dumps(old)))
    assert FACTS_VERSION > 1 and cache.get(photo) is None
    fresh = cache.facts_for(photo)
    assert fresh.face_boxes is not None and len(fresh.face_boxes) == 1
    assert cache.get(photo) == fresh
    with sqlite3.connect(db) as conn:
        newer = json.dumps({**old, "colourfulness": 99.0})
        conn.execute("UPDATE facts SET version = ?, facts = ?", (FACTS_VERSION + 1, newer))
    cache.put(photo, fresh)  # what a newer Curator measured of this very file stays
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version, facts FROM facts").fetchone() == (
            FACTS_VERSION + 1, newer)
    cache.close()


def test_a_dish_kept_just_under_the_threshold_never_reads_as_the_threshold(
        shared_data: Path) -> None:
    src = _real(shared_data, "images__new-york-strip.jpg")  # 3:2
    facts = analyse(src)
    dish = facts.dish_map()
    assert dish is not None
    with Image.open(src) as im:
        size = ImageOps.exif_transpose(im).size
    box = dish.box(size)
    cw, ch = largest_crop(size, 1.0)
    mid_box = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)

    def kept(t: float, end: tuple[float, float]) -> float:  # t: 0 at the dish … 1 at ``end``
        at = (mid_box[0] + t * (end[0] - mid_box[0]), mid_box[1] + t * (end[1] - mid_box[1]))
        return kept_fraction(box, place_crop(size, cw, ch, at))

    ends = [(0.0, size[1] / 2), (size[0], size[1] / 2), (size[0] / 2, 0.0),
            (size[0] / 2, size[1])]  # slid towards each edge of the photo
    end = next(e for e in ends if kept(1.0, e) < 0.79)
    assert kept(0.0, end) >= DISH_KEEP
    lo, hi = 0.0, 1.0
    for _ in range(60):  # where the crop keeps 79.8 % of the dish box
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if kept(mid, end) > 0.798 else (lo, mid)
    t = lo
    crop = place_crop(size, cw, ch, (mid_box[0] + t * (end[0] - mid_box[0]),
                                     mid_box[1] + t * (end[1] - mid_box[1])))
    assert 0.795 < kept_fraction(box, crop) < DISH_KEEP
    [cut] = [c for c in check_photo(get("instagram-square"), size, (), facts, crop).checks
             if c.key == "dish_cut"]
    assert cut.severity == WARN
    assert "keeps 79 % of it, 80 % needed" in cut.message, cut.message
