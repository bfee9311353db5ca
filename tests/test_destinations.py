"""The destinations table (curator/destinations.toml) and the crop geometry it relies on."""

from __future__ import annotations

from pathlib import Path

import pytest

from curator.crop import (
    centre_crop,
    containing_crop,
    crop_centre_fraction,
    crop_from_fractions,
    kept_fraction,
    largest_crop,
    move_crop,
)
from curator.cropstore import CropStore
from curator.destinations import DestinationError, destinations, get, load_destinations
from curator.export_presets import preset_name

ISSUE_NAMES = {"uber-eats-cover", "uber-eats-item", "doordash", "google-business", "yelp",
               "instagram-square", "instagram-portrait", "instagram-story", "website-hero"}


def test_every_destination_the_issue_names_is_in_the_table_with_a_source() -> None:
    table = destinations()
    assert set(table) >= ISSUE_NAMES
    for d in table.values():
        assert d.source and "2026" in d.source  # page and date beside each figure
        assert "JPEG" in d.formats
        assert d.min_size[0] <= d.recommended[0] and d.min_size[1] <= d.recommended[1]


def test_uber_eats_cover_is_the_published_5_4_2880_by_2304_jpeg() -> None:
    d = get("uber-eats-cover")
    assert (d.ratio, d.min_size, d.recommended, d.formats) == (
        (5, 4), (2880, 2304), (2880, 2304), ("JPEG",))
    assert {"dark", "black_and_white", "text", "people"} <= set(d.reject)


def test_output_size_keeps_the_exact_ratio_and_never_enlarges() -> None:
    for d in destinations().values():
        a, b = d.ratio
        for cw in range(max(1, d.min_size[0] - 50), d.recommended[0] * 2, 37):
            ch = cw / d.aspect
            out = d.output_size(cw, ch)
            if out is None:
                assert cw < d.min_output()[0] + a
                continue
            w, h = out
            assert w * b == h * a, (d.key, out)
            assert w <= cw + 1e-6 and h <= ch + 1e-6  # never enlarged
            assert w >= d.min_size[0] and h >= d.min_size[1]
            assert w <= d.recommended[0]


def test_a_crop_under_the_minimum_has_no_output_size() -> None:
    d = get("google-business")  # 720 x 720 minimum at 4:3: 960 x 720
    assert d.min_output() == (960, 720)
    assert d.output_size(959, 959 * 3 / 4) is None
    assert d.output_size(960, 720) == (960, 720)
    assert d.output_size(4000, 3000) == (1200, 900)


def test_a_malformed_table_names_the_destination_and_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "d.toml"
    bad.write_text('[pizza-site]\nname = "P"\nratio = [5, 4]\nmin_size = [10, 10]\n'
                   'recommended = [1000, 700]\nformats = ["JPEG"]\nmax_bytes = 10\n'
                   'source = "x"\n', encoding="utf-8")
    with pytest.raises(DestinationError, match=r"pizza-site: recommended 1000x700"):
        load_destinations(bad)
    bad.write_text('[x]\nname = "X"\nratio = [1, 1]\nmin_size = [1, 1]\nrecommended = [10, 10]'
                   '\nformats = ["JPEG"]\nmax_bytes = 9\nsource = "s"\nreject = ["smells"]\n',
                   encoding="utf-8")
    with pytest.raises(DestinationError, match=r"x: unknown reject check smells"):
        load_destinations(bad)


def test_an_unknown_destination_lists_the_known_ones() -> None:
    with pytest.raises(DestinationError, match="uber-eats-cover"):
        get("myspace")


def test_the_crop_holding_an_off_centre_plate_keeps_it_whole() -> None:
    size = (4000, 3000)
    plate = (0.0, 500.0, 2000.0, 2500.0)  # on the left
    crop = containing_crop(size, 1.0, plate)
    assert crop is not None
    assert kept_fraction(plate, crop) == pytest.approx(1.0)
    assert crop[2] - crop[0] == pytest.approx(3000)
    assert kept_fraction(plate, centre_crop(size, 1.0)) < 0.8  # the centre cuts it
    assert containing_crop(size, 1.0, (0.0, 0.0, 3500.0, 100.0)) is None  # wider than a crop


def test_a_moved_crop_stays_inside_the_photo_and_keeps_its_size() -> None:
    size = (3000, 2000)
    crop = centre_crop(size, 5 / 4)
    w = crop[2] - crop[0]
    moved = move_crop(size, crop, -10_000, 5)
    assert moved[0] == 0 and moved[2] == pytest.approx(w)
    assert moved[1] == 0 and moved[3] == 2000
    assert largest_crop(size, 5 / 4) == (2500, 2000)


def test_the_crop_store_remembers_each_photo_and_ratio_apart(tmp_path: Path) -> None:
    photo = tmp_path / "dish.jpg"
    size = (4000, 3000)
    left = move_crop(size, centre_crop(size, 1.0), -5000, 0)
    with CropStore.in_dir(tmp_path / "data") as store:
        store.remember(photo, "1:1", size, left)
    with CropStore.in_dir(tmp_path / "data") as store:  # a new process reads it back
        again = store.crop(photo, "1:1", size, 1.0)
        assert again is not None and again[0] == pytest.approx(0.0)
        half = store.crop(photo, "1:1", (2000, 1500), 1.0)  # the same place at another size
        assert half is not None and half[0] == pytest.approx(0.0)
        assert store.crop(photo, "4:5", size, 0.8) is None
        store.forget(photo, "1:1")
        assert store.centre(photo, "1:1") is None
    c = crop_centre_fraction(size, left)
    assert crop_from_fractions(size, 1.0, c) == pytest.approx(left)


def test_an_export_name_keeps_its_destination_however_long_the_original_name() -> None:
    d = get("instagram-square")
    assert preset_name(Path("pizza.jpg"), d) == "pizza-instagram-square.jpg"
    assert preset_name(Path("pizza.jpg"), d, rank=3) == "03 pizza-instagram-square.jpg"
    long = preset_name(Path("é" * 200 + ".jpg"), d)
    assert long.endswith("é-instagram-square.jpg") and len(long.encode()) <= 255 - 8
