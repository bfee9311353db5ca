"""The best frame of a burst: frames compared with each other at full resolution."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageFilter, ImageOps
from scipy import ndimage

from curator.bursts import (
    BurstConfig,
    Frame,
    compare_group,
    decide,
    keypoints,
    measure_frames,
    scene_inliers,
    split_group,
)
from curator.groups import EMBED_DIM, GroupConfig, group_photos
from curator.score import PhotoScore
from tests.conftest import REPO

SAMPLES = REPO / "assets" / "samples"
HIRES = REPO.parent / "shared" / "data" / "food-photos-hires"


def burst(src: Path, dest: Path, long_side: int) -> dict[str, Path]:
    """The issue's burst of ``src`` at ``long_side`` px: sharp, soft (Gaussian sigma 1.5 px per
    2000 px), shaken (7 px horizontal box blur per 2000 px), and a twin shifted by 2 %."""
    with Image.open(src) as raw:
        im = ImageOps.exif_transpose(raw).convert("RGB")
    k = long_side / max(im.size)
    im = im.resize((round(im.width * k), round(im.height * k)), Image.Resampling.LANCZOS)
    out = {kind: dest / f"{src.stem}-{kind}.jpg" for kind in ("sharp", "soft", "shaken", "twin")}
    im.save(out["sharp"], quality=92)
    im.filter(ImageFilter.GaussianBlur(1.5 * long_side / 2000)).save(out["soft"], quality=92)
    a = ndimage.uniform_filter1d(np.asarray(im, np.float32), round(7 * long_side / 2000), axis=1)
    Image.fromarray(np.clip(a + 0.5, 0, 255).astype(np.uint8)).save(out["shaken"], quality=92)
    im.crop((round(im.width * 0.02), round(im.height * 0.02), im.width, im.height)).save(
        out["twin"], quality=92)
    return out


def photo(path: Path, score: float, emb: np.ndarray) -> PhotoScore:
    return PhotoScore(path, 5.0, 1.0, (0.1,) * 10, embedding=emb.astype(np.float16),
                      score=score)


@pytest.mark.parametrize("name", ["pizza", "nachos", "green-spaghetti", "mongolian-beef"])
def test_a_soft_frame_never_wins_its_burst_even_when_the_model_prefers_it(
        tmp_path: Path, name: str) -> None:
    frames = burst(SAMPLES / f"{name}.jpg", tmp_path, 2000)
    order = [frames["soft"], frames["shaken"], frames["sharp"]]  # the soft ones score higher
    v = compare_group(order, [80.0, 75.0, 60.0])
    assert v.order[0] == frames["sharp"], v.why
    assert v.softer == {frames["soft"], frames["shaken"]}, v.sharpness
    assert "softer than the best frame" in v.why[frames["soft"]]
    assert v.why[frames["sharp"]] == "the sharpest frame of its group"


def test_a_shifted_twin_and_a_brighter_take_are_as_sharp_as_the_original(
        tmp_path: Path) -> None:
    frames = burst(SAMPLES / "oven-feta.jpg", tmp_path, 2000)
    with Image.open(frames["sharp"]) as im:
        ImageEnhance.Brightness(im).enhance(1.15).save(tmp_path / "bright.jpg", quality=92)
        ImageEnhance.Brightness(im).enhance(0.8).save(tmp_path / "dim.jpg", quality=92)
    paths = [frames["sharp"], frames["twin"], tmp_path / "bright.jpg", tmp_path / "dim.jpg"]
    measured = measure_frames(paths)
    assert all(f.detail is not None for f in measured), measured
    v = decide(measured, [50.0, 70.0, 60.0, 40.0])
    assert not v.softer, v.sharpness
    assert min(v.sharpness.values()) >= BurstConfig().tie, v.sharpness
    assert v.order[0] == frames["twin"]  # all as sharp: the model's score decides


def test_frames_of_different_dishes_are_not_compared(tmp_path: Path) -> None:
    a = burst(SAMPLES / "pizza.jpg", tmp_path, 1200)
    b = burst(SAMPLES / "french-toast.jpg", tmp_path, 1200)
    measured = measure_frames([a["sharp"], b["soft"]])
    assert measured[1].detail is None and measured[1].match < BurstConfig().min_match
    v = decide(measured, [40.0, 70.0])
    assert not v.softer
    assert v.order[0] == b["soft"]  # not comparable: the score decides, and no blur


def test_an_unreadable_frame_keeps_its_place_by_score(tmp_path: Path) -> None:
    frames = burst(SAMPLES / "pizza.jpg", tmp_path, 1200)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(frames["sharp"].read_bytes()[:200])
    v = decide(measure_frames([frames["sharp"], broken, frames["soft"]]), [50.0, 90.0, 40.0])
    assert v.order == (broken, frames["sharp"], frames["soft"])
    assert v.softer == {frames["soft"]}


def test_decide_puts_a_badly_exposed_frame_after_an_equally_sharp_one() -> None:
    a, b = Path("a.jpg"), Path("b.jpg")
    v = decide([Frame(a, 1.0, clipped=0.25), Frame(b, 0.98, clipped=0.07)], [90.0, 50.0])
    assert v.order == (b, a) and not v.softer
    assert "blown out" in v.why[a]


def test_group_photos_picks_the_sharp_frame_flags_the_soft_ones_and_ranks_them_under_it(
        tmp_path: Path) -> None:
    frames = burst(SAMPLES / "nachos.jpg", tmp_path, 1600)
    rng = np.random.default_rng(0)
    e = rng.standard_normal(EMBED_DIM)
    e /= np.linalg.norm(e)
    other = rng.standard_normal(EMBED_DIM)
    other /= np.linalg.norm(other)
    alone = tmp_path / "alone.jpg"
    Image.new("RGB", (64, 64), (200, 100, 50)).save(alone)
    ranked = [photo(frames["soft"], 81.0, e), photo(frames["shaken"], 79.5, e),
              photo(frames["sharp"], 70.0, e), photo(alone, 10.0, other)]
    groups = group_photos(ranked)
    g = groups.group_of[frames["sharp"]]
    assert groups.best[g] == frames["sharp"] and groups.position(frames["sharp"]) == 0
    assert groups.group_of[alone] != g and groups.is_best(alone)
    final = groups.with_reasons(ranked)
    # The sharp frame first, the soft ones under it (sharper first), the photo alone last.
    assert [s.path for s in final] == [frames["sharp"], frames["shaken"], frames["soft"], alone]
    assert not final[0].reasons and all("blur" in s.reasons for s in final[1:3])
    assert final[0].score == 70.0 and [s.score for s in final[1:3]] == [69.0, 68.0]


def edits(src: Path, dest: Path, long_side: int = 1600) -> dict[str, Path]:
    """The edits a tester checked groups, of ``src`` at ``long_side`` px: re-saved at quality
    60, 1/3 stop darker (linear light), warmer white balance, a 5 % crop, a 2 degree turn, a
    15 % zoom, and ``burst``'s soft and shaken frames."""
    f = burst(src, dest, long_side)
    with Image.open(f["sharp"]) as raw:
        im = raw.convert("RGB")
    w, h = im.size
    a = (np.asarray(im, np.float32) / 255.0) ** 2.2  # near enough sRGB's curve for an edit
    made = {
        "resave": im,
        "darker": Image.fromarray(np.uint8(np.clip((a * 2 ** (-1 / 3)) ** (1 / 2.2), 0, 1) * 255)),
        "warmer": Image.fromarray(np.uint8(
            np.clip(a * np.array([1.12, 1.0, 0.88], np.float32), 0, 1) ** (1 / 2.2) * 255)),
        "crop": im.crop((round(w * 0.05), round(h * 0.05), w, h)),
        "turn": im.rotate(2.0, Image.Resampling.BICUBIC).crop(
            (round(w * 0.04), round(h * 0.04), round(w * 0.96), round(h * 0.96))),
        "zoom": im.crop((round(w * 0.065), round(h * 0.065), round(w * 0.935),
                         round(h * 0.935))).resize((w, h), Image.Resampling.LANCZOS),
    }
    out = {"sharp": f["sharp"], "soft": f["soft"], "shaken": f["shaken"]}
    for name, e in made.items():
        out[name] = dest / f"{src.stem}-{name}.jpg"
        e.save(out[name], quality=60 if name == "resave" else 92)
    return out


def test_edited_copies_of_one_plate_stay_together_and_another_dish_is_split_out(
        tmp_path: Path) -> None:
    pizza = edits(SAMPLES / "pizza.jpg", tmp_path)
    toast = burst(SAMPLES / "french-toast.jpg", tmp_path, 1600)["sharp"]
    nachos = burst(SAMPLES / "nachos.jpg", tmp_path, 1600)["sharp"]
    paths = [pizza["sharp"], nachos, *[p for k, p in pizza.items() if k != "sharp"], toast]
    vs = split_group(paths, [90.0 - i for i in range(len(paths))], GroupConfig().min_inliers)
    assert [set(v.order) for v in vs] == [set(pizza.values()), {nachos}, {toast}], vs
    assert vs[0].order[0] not in (pizza["soft"], pizza["shaken"]), vs[0].why
    assert {pizza["soft"], pizza["shaken"]} <= vs[0].softer
    assert not vs[1].why and not vs[2].why  # photos alone: nothing compared


def test_two_dishes_in_one_embedding_group_become_two_stacks_each_compared(
        tmp_path: Path) -> None:
    a = burst(SAMPLES / "oven-feta.jpg", tmp_path, 1200)
    b = burst(SAMPLES / "mongolian-beef.jpg", tmp_path, 1200)
    paths = [a["soft"], b["soft"], a["sharp"], b["sharp"]]  # the soft frames ranked first
    vs = split_group(paths, [80.0, 79.0, 60.0, 59.0], GroupConfig().min_inliers)
    assert [v.order for v in vs] == [(a["sharp"], a["soft"]), (b["sharp"], b["soft"])], vs
    assert all(v.why[v.order[0]] == "the sharpest frame of its group" for v in vs)


def test_a_frame_that_cannot_be_read_stays_where_the_embedding_put_it(tmp_path: Path) -> None:
    f = burst(SAMPLES / "pizza.jpg", tmp_path, 1200)
    toast = burst(SAMPLES / "french-toast.jpg", tmp_path, 1200)["sharp"]
    gone = tmp_path / "gone.jpg"  # listed when the folder was scored, deleted since
    k = GroupConfig().min_inliers
    vs = split_group([f["sharp"], gone, toast], [60.0, 70.0, 50.0], k)
    assert [set(v.order) for v in vs] == [{f["sharp"], gone}, {toast}]
    # Without its reference nothing can be judged: the group stays as the embedding made it.
    vs = split_group([gone, f["sharp"], toast], [70.0, 60.0, 50.0], k)
    assert [v.order for v in vs] == [(gone, f["sharp"], toast)]


def test_scene_inliers_count_hundreds_for_a_copy_and_a_few_for_another_dish(
        tmp_path: Path) -> None:
    f = burst(SAMPLES / "nachos.jpg", tmp_path, 1600)
    with Image.open(f["sharp"]) as a, Image.open(f["twin"]) as b, \
            Image.open(SAMPLES / "crispy-carrots.jpg") as c:
        ka, kb, kc = keypoints(a), keypoints(b), keypoints(c)
    copy, other = scene_inliers(ka, kb), scene_inliers(ka, kc)
    assert copy is not None and copy >= 5 * GroupConfig().min_inliers, copy
    assert other is not None and other < GroupConfig().min_inliers / 2, other
    assert scene_inliers(ka, kb) == copy  # seeded RANSAC: the same count every time
    blank = keypoints(Image.new("L", (800, 600), 128))
    assert len(blank.points) == 0 and scene_inliers(ka, blank) is None  # cannot tell


def test_group_photos_splits_a_dish_the_embedding_stacked_and_keeps_it_without_pixels(
        tmp_path: Path) -> None:
    frames = burst(SAMPLES / "nachos.jpg", tmp_path, 1600)
    toast = burst(SAMPLES / "french-toast.jpg", tmp_path, 1600)["sharp"]
    e = np.random.default_rng(3).standard_normal(EMBED_DIM)
    e /= np.linalg.norm(e)  # one vector for all: the embedding calls them one scene
    ranked = [photo(toast, 85.0, e), photo(frames["soft"], 81.0, e),
              photo(frames["sharp"], 70.0, e), photo(frames["shaken"], 65.0, e)]
    groups = group_photos(ranked)
    g = groups.group_of[frames["sharp"]]
    assert groups.group_of[toast] != g and groups.is_best(toast) and groups.position(toast) == 0
    assert {p for p, n in groups.group_of.items() if n == g} == {
        frames["sharp"], frames["soft"], frames["shaken"]}
    assert groups.best[g] == frames["sharp"] and toast not in groups.why
    assert [s.path for s in groups.with_reasons(ranked)] == [
        toast, frames["sharp"], frames["shaken"], frames["soft"]]
    for kept in (group_photos(ranked, compare=False),  # no pixel access: the embedding's group
                 group_photos(ranked, GroupConfig(min_inliers=0))):  # the check off
        assert len(set(kept.group_of.values())) == 1


@pytest.mark.skipif(not HIRES.is_dir(), reason="needs ../shared/data/food-photos-hires")
def test_camera_size_bursts_of_real_photos_keep_their_sharp_frame(tmp_path: Path) -> None:
    """Five real 12 MP-class photos (3000 px long side): the sharp one wins, copies get blur."""
    srcs = sorted((HIRES / "recipes_chowdown").glob("*.jpg"))[20:25]
    for src in srcs:
        f = burst(src, tmp_path, 3000)
        v = compare_group([f["soft"], f["shaken"], f["sharp"], f["twin"]], [90, 80, 70, 60])
        assert v.order[0] in (f["sharp"], f["twin"]), (src.name, v.sharpness)
        assert v.softer == {f["soft"], f["shaken"]}, (src.name, v.sharpness)


@pytest.mark.slow
def test_score_json_names_the_sharp_frame_of_a_burst_and_says_why(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from curator.cli import main

    burst(SAMPLES / "red-berry-tart.jpg", tmp_path, 2400)
    (tmp_path / "red-berry-tart-twin.jpg").unlink()
    assert main(["score", str(tmp_path), "--json", "-q", "--no-cache"]) == 0
    doc = json.loads(capsys.readouterr().out)
    by = {Path(p["path"]).name: p for p in doc["photos"]}
    sharp, soft = by["red-berry-tart-sharp.jpg"], by["red-berry-tart-soft.jpg"]
    assert sharp["group"] == soft["group"] == by["red-berry-tart-shaken.jpg"]["group"]
    assert sharp["group_best"] and sharp["rank"] == 1, by
    assert "blur" in soft["reasons"] and "softer than the best frame" in soft["group_why"]
    assert sharp["score"] > soft["score"]


def test_look_closer_and_compare_say_which_frame_won_and_why(tmp_path: Path) -> None:
    from PySide6.QtGui import QPalette

    from curator.gui.compare import caption_colours, caption_html
    from curator.gui.models import PhotoItem, reasons_text
    from curator.gui.preview import preview_html

    best = PhotoItem(tmp_path / "a.jpg", score=66.0, percent=True, rank=1, group=1,
                     group_best=True, group_size=3, group_why="the sharpest frame of its group")
    soft = PhotoItem(tmp_path / "b.jpg", score=57.0, percent=True, rank=3, reasons=("blur",),
                     group=1, group_best=False, group_size=3, stack_pos=2, softer=True,
                     group_why="softer than the best frame of its group (6 % of …)")
    assert "the best frame" in preview_html(best) and "the sharpest frame" in preview_html(best)
    text = preview_html(soft)
    assert "frame 3 of the stack" in text and "softer than the best frame of its group" in text
    assert "out of focus or shaken" not in text  # relative blur says so, not the absolute one
    assert "softer than the best frame of its group" in reasons_text(soft)
    cap = caption_html(soft, caption_colours(QPalette()))
    assert "group of 3 (frame 3)" in cap and "softer than the best frame" in cap
    alone = PhotoItem(tmp_path / "c.jpg", score=40.0, percent=True, rank=2, reasons=("blur",))
    assert "Near-duplicates" not in preview_html(alone)
    assert "out of focus or shaken" in preview_html(alone)
