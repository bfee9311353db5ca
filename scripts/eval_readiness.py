"""What the pixel checks find on real photos: text, faces, black and white, and their cost.

    python scripts/eval_readiness.py [FOLDER …]    # default: ../shared/data food-photos-hires
                                                   # and food-photos

Prints each photo a check flags (to look at by eye: the photos are not labelled for text or
people) and the seconds per photo of one ``curator.readiness.analyse``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from curator.readiness import GREY_COLOURFULNESS, analyse  # noqa: E402
from curator.scan import scan_folder  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def main(argv: list[str]) -> int:
    folders = [Path(a) for a in argv] or [DATA / "food-photos-hires", DATA / "food-photos"]
    photos = [p for f in folders for p in scan_folder(f)]
    if not photos:
        print("no photos (is ../shared/data there?)", file=sys.stderr)
        return 2
    analyse(photos[0])  # load the detectors and the backbone once, outside the timing
    t0 = time.perf_counter()
    text, faces, grey = [], [], []
    for p in photos:
        f = analyse(p)
        if f.text:
            text.append((p, f.text))
        if f.faces:
            faces.append((p, f.faces))
        if f.colourfulness < GREY_COLOURFULNESS:
            grey.append((p, f.colourfulness))
    took = (time.perf_counter() - t0) / len(photos)
    print(f"{len(photos)} photos, {took:.2f} s a photo (decode, colour, text, faces, dish map)")
    print(f"\ntext found in {len(text)}:")
    for p, t in text:
        print(f"  {p.name}: {', '.join(t)}")
    print(f"faces found in {len(faces)}:")
    for p, n in faces:
        print(f"  {p.name}: {n}")
    print(f"black and white (colourfulness < {GREY_COLOURFULNESS:g}): {len(grey)}")
    for p, c in grey:
        print(f"  {p.name}: {c:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
