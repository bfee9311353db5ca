"""A large folder of photo-like JPEGs made from the real photos in ../shared/data, with groups.

Every real photo (food-photos-hires, food-photos, food-pairs, yelp-food: 1,656 of them) is
the source of several *scenes*: the whole frame, then crops elsewhere in it (60-85 % of each
side).  A scene is shot once (60 % of scenes), twice (25 %), three times (10 %) or four to six
times (5 %): the frames are re-saves at another JPEG quality, a little brighter or darker, a
2-4 % shift of the crop, a smaller resize, a slightly soft take (Gaussian 1 px).  So about
two thirds of the photos are in groups, as in a restaurant's own shoots.  Camera-size sources
give 2048-4032 px photos, web-size ones 1024-2048 px (upscaled, as phones and editors
save them).  Each file carries an EXIF capture time: scenes a minute or two apart, frames of
one scene a second apart, a new shoot every 400 scenes.

Photo ``i`` depends only on ``i`` (and the sources), so a folder of 2,000 is the first 2,000
of the 20,000: ``link_prefix`` makes those smaller folders as hard links (no extra disk).
The files are generated into a folder of your choice (``/tmp`` by default): never into git.

    python scripts/scale_folder.py --count 20000 --out /tmp/curator-scale/all
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from PIL import Image, ImageEnhance, ImageFilter, ImageOps

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
SOURCE_DIRS = ("food-photos-hires", "food-photos", "food-pairs", "yelp-food")
#: Frames per scene and how often: singles, pairs, triples, bursts of four to six.
FRAMES = ((1, 0.60), (2, 0.25), (3, 0.10), (4, 0.02), (5, 0.02), (6, 0.01))
START = dt.datetime(2026, 3, 1, 11, 0, 0)


def sources() -> list[Path]:
    """The real photos, in a fixed order (camera-size ones spread through the list)."""
    found = []
    for d in SOURCE_DIRS:
        found += sorted(p for p in (DATA / d).rglob("*")
                        if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"))
    if not found:
        raise SystemExit(f"no source photos under {DATA}")
    # A fixed shuffle, so camera-size photos are spread through every prefix of the folder.
    return sorted(found, key=lambda p: hashlib.sha256(str(p.relative_to(DATA)).encode())
                  .hexdigest())


@dataclass(frozen=True)
class Frame:
    """Photo ``index`` of the folder: frame ``frame`` of scene ``scene`` (0 = its first)."""

    index: int
    scene: int
    frame: int
    frames: int
    source: str
    crop: int  # 0: the whole source frame; k: the k-th crop elsewhere in it


def plan(count: int, n_sources: int) -> list[Frame]:
    """Which scene and frame each of the first ``count`` photos is (deterministic)."""
    rng = random.Random(18)
    out: list[Frame] = []
    scene = 0
    src = sources()
    weights = [w for _, w in FRAMES]
    while len(out) < count:
        frames = rng.choices([k for k, _ in FRAMES], weights)[0]
        for f in range(frames):
            if len(out) == count:
                break
            out.append(Frame(len(out), scene, f, frames, str(src[scene % n_sources]),
                             scene // n_sources))
        scene += 1
    return out


def _scene_image(fr: Frame) -> Image.Image:
    """The scene's base picture: its source, cropped (crop > 0) and sized."""
    rng = random.Random(f"scene{fr.scene}")
    with Image.open(fr.source) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
    if fr.crop:
        share_w, share_h = rng.uniform(0.6, 0.85), rng.uniform(0.6, 0.85)
        cw, ch = round(im.width * share_w), round(im.height * share_h)
        x, y = rng.randint(0, im.width - cw), rng.randint(0, im.height - ch)
        im = im.crop((x, y, x + cw, y + ch))
    camera = min(im.size) >= 1500
    long_side = rng.choice((2048, 3024, 4032) if camera else (1024, 1600, 1600, 2048))
    k = long_side / max(im.size)
    return im.resize((max(1, round(im.width * k)), max(1, round(im.height * k))),
                     Image.Resampling.BICUBIC)


def _frame_image(fr: Frame, base: Image.Image) -> tuple[Image.Image, int]:
    """Frame ``fr.frame`` of the scene (0: the base itself) and its JPEG quality."""
    rng = random.Random(f"frame{fr.scene}:{fr.frame}")
    if fr.frame == 0:
        return base, 90
    kind = (fr.frame - 1 + fr.scene) % 5
    im = base
    if kind == 0:  # a re-save at another quality, a little brighter
        im = ImageEnhance.Brightness(base).enhance(rng.uniform(1.03, 1.12))
        return im, rng.choice((70, 78, 85))
    if kind == 1:  # the crop shifted by 2-4 %
        dx, dy = round(base.width * rng.uniform(0.02, 0.04)), round(base.height * 0.02)
        im = base.crop((dx, dy, base.width, base.height)).resize(base.size,
                                                                 Image.Resampling.BICUBIC)
    elif kind == 2:  # saved smaller
        k = rng.uniform(0.6, 0.8)
        im = base.resize((round(base.width * k), round(base.height * k)),
                         Image.Resampling.BICUBIC)
    elif kind == 3:  # a slightly soft take
        im = base.filter(ImageFilter.GaussianBlur(1.0))
    else:  # a little darker
        im = ImageEnhance.Brightness(base).enhance(rng.uniform(0.85, 0.95))
    return im, 88


def _taken(fr: Frame) -> str:
    shoot, within = divmod(fr.scene, 400)
    when = START + dt.timedelta(days=shoot, seconds=within * 97 + fr.frame)
    return when.strftime("%Y:%m:%d %H:%M:%S")


def name(fr: Frame) -> str:
    return f"IMG_{fr.index:05d}.jpg"


def write_scene(frames: list[Frame], out: Path) -> int:
    """Write one scene's frames that are missing; returns how many were written."""
    todo = [fr for fr in frames if not (out / name(fr)).exists()]
    if not todo:
        return 0
    base = _scene_image(todo[0])
    for fr in todo:
        im, quality = _frame_image(fr, base)
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = _taken(fr)  # DateTimeOriginal
        tmp = out / f".{name(fr)}.tmp"
        im.save(tmp, "JPEG", quality=quality, exif=exif.tobytes())
        os.replace(tmp, out / name(fr))
    return len(todo)


def build(count: int, out: Path, jobs: int = 2) -> list[Path]:
    """The folder of ``count`` photos in ``out`` (written where missing) and its paths; a
    ``plan.json`` beside them says which scene each photo is of."""
    out.mkdir(parents=True, exist_ok=True)
    src = sources()
    frames = plan(count, len(src))
    scenes: dict[int, list[Frame]] = {}
    for fr in frames:
        scenes.setdefault(fr.scene, []).append(fr)
    with ProcessPoolExecutor(jobs) as pool:
        written = sum(pool.map(write_scene, scenes.values(), [out] * len(scenes),
                               chunksize=16))
    (out / "plan.json").write_text(json.dumps([asdict(f) for f in frames]))
    if written:
        print(f"wrote {written} photos into {out}", file=sys.stderr)
    return [out / name(fr) for fr in frames]


def link_prefix(all_paths: list[Path], count: int, out: Path) -> Path:
    """A folder ``out`` of hard links to the first ``count`` photos of ``all_paths``."""
    out.mkdir(parents=True, exist_ok=True)
    for p in all_paths[:count]:
        q = out / p.name
        if not q.exists():
            os.link(p, q)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--out", type=Path, default=Path("/tmp/curator-scale/all"))
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    paths = build(args.count, args.out, args.jobs)
    size = sum(p.stat().st_size for p in paths)
    print(f"{len(paths)} photos, {size / 1e9:.1f} GB in {args.out}")


if __name__ == "__main__":
    main()
