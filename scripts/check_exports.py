"""Every hard rule, every destination: export 100 photos for each and read the files back.

Builds a folder of 100 photos from ``../shared/data`` (never copied into the repository):

* the 57 camera-size photos of ``food-photos-hires`` and the 20 web-size ones of
  ``food-photos`` (214–480 px), as they are;
* 12 crops cut from the big ones: panoramas (3:1), tall strips (1:3), squares, 16:9 and 9:16,
  one stored sideways with EXIF orientation 6, one re-tagged with a ProPhoto RGB profile;
* 11 copies resized to sit exactly on, and one pixel under, destinations' minimum sizes.

It scores them (the bundled model), exports ``--for`` every destination with no limit on the
count, and reads every written file back with exiftool and Pillow against the table: exact
ratio, at least the minimum and at most the recommended size, bytes within the limits, JPEG,
sRGB profile, EXIF orientation absent or 1.  It also checks the size rule both ways: no photo
whose crop reaches the minimum is left out as too small, and none below it is exported.

    python scripts/check_exports.py [--keep DIR]

Prints one line per destination and the total of files breaking a rule (the target: 0).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from curator.crop import largest_crop  # noqa: E402
from curator.destinations import Destination, destinations  # noqa: E402
from curator.export_presets import export_for  # noqa: E402
from curator.readiness import FactsCache  # noqa: E402
from curator.score import Scorer, rank  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def build_folder(folder: Path, data: Path) -> list[Path]:
    """The 100 photos described in the module docstring."""
    folder.mkdir(parents=True)
    photos: list[Path] = []
    hires = sorted(p for p in (data / "food-photos-hires").rglob("*") if
                   p.suffix.lower() in (".jpg", ".jpeg"))
    web = sorted((data / "food-photos").glob("*.jpg"))
    for i, p in enumerate(hires + web):
        photos.append(Path(shutil.copy(p, folder / f"{i:03d}-{p.name}")))
    big = [p for p in hires if min(Image.open(p).size) >= 2000]

    def save(im: Image.Image, name: str, **kw: object) -> None:
        path = folder / name
        im.convert("RGB").save(path, quality=92, **kw)
        photos.append(path)

    shapes = [(3.0, "pano"), (1 / 3, "strip"), (1.0, "square"), (16 / 9, "wide"),
              (9 / 16, "tall")]
    for i in range(10):
        src = big[i % len(big)]
        with Image.open(src) as im:
            im = ImageOps.exif_transpose(im)
            aspect, label = shapes[i % len(shapes)]
            cw, ch = largest_crop(im.size, aspect)
            x0 = (im.width - cw) * (i % 3) / 2
            y0 = (im.height - ch) * ((i + 1) % 3) / 2
            save(im.crop((round(x0), round(y0), round(x0 + cw), round(y0 + ch))),
                 f"crop-{i:02d}-{label}-{src.stem}.jpg")
    with Image.open(big[0]) as im:
        exif = Image.Exif()
        exif[0x0112] = 6
        save(ImageOps.exif_transpose(im).transpose(Image.Transpose.ROTATE_90),
             "sideways-exif6.jpg", exif=exif)
    sys.path.insert(0, str(ROOT / "tests"))
    from tests.faults import icc_profile

    with Image.open(big[1]) as im:
        save(ImageOps.exif_transpose(im), "prophoto.jpg", icc_profile=icc_profile("ProPhoto RGB"))
    edges = [(2880, 2304), (2879, 2303), (960, 720), (959, 719), (1424, 801), (1423, 800),
             (1280, 720), (1279, 719), (400, 320), (320, 320), (319, 400)]
    for j, (w, h) in enumerate(edges):
        with Image.open(big[j % len(big)]) as im:
            im = ImageOps.exif_transpose(im).convert("RGB")
            cw, ch = largest_crop(im.size, w / h)
            x0, y0 = (im.width - cw) / 2, (im.height - ch) / 2
            save(im.resize((w, h), Image.Resampling.LANCZOS, box=(x0, y0, x0 + cw, y0 + ch)),
                 f"edge-{w}x{h}.jpg")
    return photos


def read_back(files: list[Path]) -> dict[str, dict[str, object]]:
    if not files:
        return {}
    out = subprocess.run(["exiftool", "-j", "-n", "-ImageWidth", "-ImageHeight",
                          "-Orientation", "-ProfileDescription", "-FileSize", "-FileType",
                          *map(str, files)], capture_output=True, text=True, check=True).stdout
    return {d["SourceFile"]: d for d in json.loads(out)}


def problems(info: dict[str, object], path: Path, d: Destination) -> list[str]:
    bad = []
    w, h = int(info["ImageWidth"]), int(info["ImageHeight"])  # type: ignore[call-overload]
    size = int(info["FileSize"])  # type: ignore[call-overload]
    if w * d.ratio[1] != h * d.ratio[0]:
        bad.append(f"{w}x{h} not {d.ratio_text}")
    if w < d.min_size[0] or h < d.min_size[1]:
        bad.append(f"{w}x{h} under the minimum")
    if w > d.recommended[0] or h > d.recommended[1]:
        bad.append(f"{w}x{h} over the recommended size")
    if not d.min_bytes <= size <= d.max_bytes:
        bad.append(f"{size} bytes")
    if info.get("FileType") != "JPEG" or "JPEG" not in d.formats:
        bad.append(f"type {info.get('FileType')}")
    if info.get("Orientation") not in (None, 1):
        bad.append(f"orientation {info.get('Orientation')}")
    if info.get("ProfileDescription") != "sRGB built-in":
        bad.append(f"profile {info.get('ProfileDescription')}")
    with Image.open(path) as im:
        if im.mode != "RGB" or im.size != (w, h):
            bad.append(f"Pillow reads {im.mode} {im.size}")
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--keep", type=Path, help="build here and keep it (default: a temp dir)")
    args = ap.parse_args(argv)
    if shutil.which("exiftool") is None:
        print("exiftool is needed to read the files back", file=sys.stderr)
        return 2
    work = args.keep or Path(tempfile.mkdtemp(prefix="curator-check-exports-"))
    folder = work / "photos"
    photos = build_folder(folder, args.data)
    print(f"{len(photos)} photos in {folder}")
    t0 = time.perf_counter()
    from curator.cache import open_cache

    scorer = Scorer(cache=open_cache(work / "cache"))
    ranked = rank(scorer.score(photos))
    print(f"scored in {time.perf_counter() - t0:.0f} s")
    facts = FactsCache.in_dir(work / "cache")
    total_files = total_bad = wrong_size = 0
    print(f"\n{'destination':<20} {'exported':>8} {'left out':>8}  {'size':>4} "
          f"{'content':>7}  {'breaking a rule':>15}")
    for d in destinations().values():
        t = time.perf_counter()
        report = export_for(ranked, work / "out" / d.key, d, len(ranked), facts=facts)
        files = [p.dest for p in report.picks]
        infos = read_back(files)
        bad = {f: problems(infos[str(f)], f, d) for f in files}
        bad = {f: b for f, b in bad.items() if b}
        for p in report.picks:  # exported: the crop reached the minimum
            cw = p.crop[2] - p.crop[0]
            if cw + 1e-6 < d.min_output()[0]:
                wrong_size += 1
                print(f"  exported though too small: {p.source.name}")
        by_path = {s.path: s for s in ranked}
        for x in report.left_out:  # left out as too small: it really was
            s = by_path[x.source]
            cw, _ch = largest_crop((s.width or 0, s.height or 0), d.aspect)
            if "size" in x.keys and cw >= d.min_output()[0]:
                wrong_size += 1
                print(f"  left out as too small though it is not: {x.source.name}")
        size_n = sum("size" in x.keys for x in report.left_out)
        print(f"{d.key:<20} {len(files):>8} {len(report.left_out):>8}  {size_n:>4} "
              f"{len(report.left_out) - size_n:>7}  {len(bad):>15}   "
              f"({time.perf_counter() - t:.0f} s)")
        for f, b in bad.items():
            print(f"    {f.name}: {'; '.join(b)}")
        total_files += len(files)
        total_bad += len(bad)
    print(f"\n{total_files} files written; {total_bad} break their destination's limits; "
          f"{wrong_size} size decisions wrong")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if total_bad == 0 and wrong_size == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
