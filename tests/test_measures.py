"""Classic measures behind the reasons (``curator.measures``) on real food photos.

The photos are the bundled samples (``assets/samples``: real food photos with clean
licences), damaged here the way an owner's photos are: a heavy JPEG save, a rotation, under-
and over-exposure.  Thresholds are the shipped ones (``curator.reasons.MEASURE_THRESHOLDS``).
"""

from __future__ import annotations

import io
import math
import random
from pathlib import Path

import pytest
import torch
from PIL import Image, ImageEnhance

from curator.loader import decode, load_photo
from curator.measures import NAMES, blockiness, jpeg_quality, luma, measure, tilt_lines
from curator.modelfile import load_model_file, save_model_file
from curator.paths import BUNDLED_MODEL
from curator.reasons import MEASURE_RULES, MEASURE_THRESHOLDS, measured_reasons, merge_reasons
from curator.scan import scan_folder
from curator.score import PhotoScore, Scorer
from train import damage

SAMPLES = Path(__file__).resolve().parents[1] / "assets" / "samples"
PHOTOS = sorted(SAMPLES.glob("*.jpg"))


def _sample(name: str, long_side: int = 640) -> Image.Image:
    im = Image.open(SAMPLES / name).convert("RGB")
    im.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    return im


def _jpeg_bytes(im: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def test_the_samples_are_there() -> None:
    assert len(PHOTOS) >= 10


@pytest.mark.parametrize("quality", [5, 12, 35, 54, 75, 95])
def test_jpeg_quality_is_read_from_the_files_own_table(tmp_path: Path, quality: int) -> None:
    path = tmp_path / "q.jpg"
    path.write_bytes(_jpeg_bytes(_sample("nachos.jpg"), quality))
    d = decode(path, 448)
    assert jpeg_quality(d.quantization) == quality
    assert math.isnan(jpeg_quality(None)) and math.isnan(jpeg_quality({}))


def test_blockiness_tells_a_heavily_compressed_resave_from_a_clean_one() -> None:
    t = MEASURE_THRESHOLDS["compressed:blockiness"]
    for path in PHOTOS[:6]:
        im = _sample(path.name)
        clean = Image.open(io.BytesIO(_jpeg_bytes(im, 95))).convert("RGB")
        heavy = Image.open(io.BytesIO(_jpeg_bytes(im, 10))).convert("RGB")
        assert blockiness(luma(clean)) < t < blockiness(luma(heavy)), path.name
        # A crop that shifts the 8-px grid does not hide the blocks.
        assert blockiness(luma(heavy.crop((3, 5, heavy.width, heavy.height)))) > t
    assert math.isnan(blockiness(luma(Image.new("RGB", (20, 20)))))


def test_everyday_jpeg_quality_is_not_compressed_as_file_or_lossless_resave() -> None:
    """A phone's or a website's JPEG is not heavy compression: quality 50-80 as the JPEG file,
    80 as a PNG/WebP/TIFF re-save of it."""
    for path in PHOTOS[:6]:
        im = _sample(path.name, 1400)
        for q in (50, 70, 80):
            with Image.open(io.BytesIO(_jpeg_bytes(im, q))) as j:
                table, rgb = dict(j.quantization), j.convert("RGB")
            assert "compressed" not in measured_reasons(measure(rgb, True, table),
                                                        MEASURE_THRESHOLDS), (path.name, q)
            if q < 80:
                continue  # re-saves of quality 50-70 JPEGs of smooth dishes: a grey zone (card)
            resave = measure(rgb, True, None)
            assert "compressed" not in measured_reasons(resave, MEASURE_THRESHOLDS), (
                path.name, q, resave["blockiness"])


def test_blockiness_is_left_to_the_table_for_jpeg_files(tmp_path: Path) -> None:
    """A JPEG's own table decides: a quality-70 file decoded at full size is not 'compressed'
    for its faint blocks (camera JPEGs look like that), a quality-8 one is."""
    im = _sample("pizza.jpg", 900)
    for q, expect in ((70, ()), (8, ("compressed",))):
        path = tmp_path / f"q{q}.jpg"
        path.write_bytes(_jpeg_bytes(im, q))
        d = decode(path, 448)
        assert d.native
        m = measure(d.image, d.native, d.quantization)
        assert math.isnan(m["blockiness"]) and m["jpeg_quality"] == q
        assert "compressed" not in expect or measured_reasons(m, MEASURE_THRESHOLDS) == expect
        assert "compressed" in expect or "compressed" not in measured_reasons(
            m, MEASURE_THRESHOLDS)


def test_tilt_lines_see_a_rotated_frame_not_the_level_photo() -> None:
    t = MEASURE_THRESHOLDS["tilted:tilt_lines"]
    hits = []
    for path in PHOTOS:
        im = _sample(path.name)
        level = measure(im, True)["tilt_lines"]  # read at the measure's own working size
        rotated = measure(im.rotate(10, resample=Image.Resampling.BILINEAR), True)["tilt_lines"]
        assert level < t, (path.name, level)
        hits.append(rotated >= t)
    assert all(hits), hits
    assert tilt_lines(luma(Image.new("RGB", (300, 200), (128, 128, 128)))) == 0.0


def test_a_slight_slant_under_3_degrees_is_not_tilted() -> None:
    """Lines 1-2 degrees off level peak outside the 3-25 degree band: not read at its edge
    (a level menu rotated 1.5 degrees was 'tilted' before)."""
    t = MEASURE_THRESHOLDS["tilted:tilt_lines"]
    for path in PHOTOS:
        im = _sample(path.name)
        for angle in (1.0, 1.5, 2.0):
            slight = measure(im.rotate(angle, resample=Image.Resampling.BILINEAR), True)
            assert slight["tilt_lines"] < t, (path.name, angle, slight["tilt_lines"])


def test_exposure_rules_fire_on_dark_and_blown_out_copies() -> None:
    for path in PHOTOS[:6]:
        im = _sample(path.name)
        assert measured_reasons(measure(im, True), MEASURE_THRESHOLDS) == (), path.name
        dark = ImageEnhance.Brightness(im).enhance(0.3)
        bright = ImageEnhance.Brightness(im).enhance(2.5)
        assert "dark" in measured_reasons(measure(dark, True), MEASURE_THRESHOLDS)
        assert "overexposed" in measured_reasons(measure(bright, True), MEASURE_THRESHOLDS)


def test_blur_rule_reads_mild_softness_of_camera_size_photos_as_the_loader_decodes_them(
        tmp_path: Path) -> None:
    """3000 px photos (decoded as a 1/4-scale draft, 750 px) and copies softened by a Gaussian
    of 1.5 px per 2000 px: the copies read as blur, the sharp photos do not."""
    from PIL import ImageFilter

    hits, clean = [], []
    for path in PHOTOS[:8]:
        im = Image.open(path).convert("RGB")
        im = im.resize((3000, round(im.height * 3000 / im.width)), Image.Resampling.LANCZOS)
        for name, img in (("sharp", im), ("soft", im.filter(ImageFilter.GaussianBlur(2.25)))):
            img.save(tmp_path / f"{name}.jpg", quality=92)
            d = decode(tmp_path / f"{name}.jpg", 448)
            assert max(d.image.size) < 1000  # the draft, not the full photo
            got = "blur" in measured_reasons(measure(d.image, d.native, d.quantization),
                                             MEASURE_THRESHOLDS)
            (hits if name == "soft" else clean).append(got if name == "soft" else not got)
    assert sum(hits) >= 6 and sum(clean) >= 7, (hits, clean)


def test_measure_survives_odd_shapes() -> None:
    for size in [(1, 1), (4000, 2), (2, 900), (33, 33)]:
        m = measure(Image.new("RGB", size, (10, 200, 30)), True)
        assert set(m) == set(NAMES)
        assert measured_reasons(m, MEASURE_THRESHOLDS) in ((), ("dark",), ("overexposed",),
                                                           ("dark", "overexposed"))


def test_rules_without_a_threshold_or_a_measure_never_fire() -> None:
    m = {"bright_p99": 10.0, "clipped": 0.9, "blockiness": math.nan, "jpeg_quality": math.nan,
         "tilt_lines": 0.9}
    assert measured_reasons(m, {}) == ()
    assert measured_reasons(m, MEASURE_THRESHOLDS) == ("dark", "overexposed", "tilted")
    assert {r.key for r in MEASURE_RULES} == set(MEASURE_THRESHOLDS)
    assert merge_reasons(("blur", "dark"), ("dark", "tilted")) == ("blur", "dark", "tilted")


def test_loader_carries_measures_and_capture_time(tmp_path: Path) -> None:
    from curator.groups import capture_time

    src = SAMPLES / "crispy-carrots.jpg"
    loaded = load_photo(src, load_model_file(BUNDLED_MODEL).preprocess)
    assert not isinstance(loaded, Exception) and hasattr(loaded, "measures")
    assert set(loaded.measures) == set(NAMES)  # type: ignore[union-attr]
    assert loaded.captured == capture_time(src)  # type: ignore[union-attr]


def test_model_file_carries_measure_thresholds(tmp_path: Path) -> None:
    bundled = load_model_file(BUNDLED_MODEL)
    assert bundled.measure_thresholds == MEASURE_THRESHOLDS
    bundled.measure_thresholds = {"tilted:tilt_lines": 0.5}
    save_model_file(tmp_path / "m.pt", bundled)
    raw = torch.load(tmp_path / "m.pt", weights_only=True)
    assert raw["measure_thresholds"] == {"tilted:tilt_lines": 0.5}
    assert load_model_file(tmp_path / "m.pt").measure_thresholds == {"tilted:tilt_lines": 0.5}
    del raw["measure_thresholds"]  # a file from before the classic rules: none fire
    torch.save(raw, tmp_path / "old.pt")
    assert load_model_file(tmp_path / "old.pt").measure_thresholds == {}


def test_scored_photos_say_compressed_and_tilted(tmp_path: Path) -> None:
    """End to end with the bundled model: a real photo saved as a quality-8 JPEG, the same
    re-saved losslessly, and a rotated copy get the matching reason; the originals do not."""
    made: dict[Path, str] = {}
    originals = []
    for path in PHOTOS[:4]:
        im = _sample(path.name, 480)
        orig = tmp_path / f"{path.stem}.png"
        im.save(orig)
        originals.append(orig)
        heavy = tmp_path / f"{path.stem}-q8.jpg"
        heavy.write_bytes(_jpeg_bytes(im, 8))
        made[heavy] = "compressed"
        resaved = tmp_path / f"{path.stem}-q8-resaved.png"
        Image.open(heavy).save(resaved)
        made[resaved] = "compressed"
        tilted = tmp_path / f"{path.stem}-tilt.png"
        damage.apply("tilt", im, 0.5, random.Random(path.name)).save(tilted)
        made[tilted] = "tilted"
    results = {r.path: r for r in Scorer().score(scan_folder(tmp_path))
               if isinstance(r, PhotoScore)}
    missed = {p.name: results[p].reasons for p, why in made.items()
              if why not in results[p].reasons}
    assert not missed, missed
    for orig in originals:
        assert not {"compressed", "tilted"} & set(results[orig].reasons), results[orig].reasons


def test_opencv_filters_match_scipy_ndimage_on_real_photos() -> None:
    """``curator.filters`` computes ndimage's filters (same kernels, same reflect border)."""
    import numpy as np
    from scipy import ndimage

    from curator import filters

    for path in PHOTOS[:4]:
        y = luma(_sample(path.name))
        for size in (y, y[:17, :300], y[:5, :5]):  # borders matter most on small images
            pairs = [
                (ndimage.gaussian_filter(size, 1.0), filters.gaussian(size, 1.0)),
                (ndimage.gaussian_filter(size, 1.5), filters.gaussian(size, 1.5)),
                (ndimage.sobel(size, 0), filters.sobel(size, 0)),
                (ndimage.sobel(size, 1), filters.sobel(size, 1)),
                (ndimage.laplace(size), filters.laplace(size)),
                (ndimage.gaussian_gradient_magnitude(size, 1.0),
                 filters.gradient_magnitude(size, 1.0)),
            ]
            for want, got in pairs:
                assert got.shape == want.shape and got.dtype == np.float32
                assert np.abs(want - got).max() <= 1e-5 * max(1.0, np.abs(want).max())
