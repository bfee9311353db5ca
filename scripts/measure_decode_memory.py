"""Peak working memory of decoding one photo, per Pillow mode: the figures behind
``curator.loader.PEAK_BYTES_PER_PIXEL``.

For each mode a 30 MP image (6000 x 5000, a smooth photo-like picture) is written to a temp
folder; a fresh Python process imports Curator, notes its peak RSS, runs ``load_photo`` (decode,
colour, views, thumbnail, measures) and prints the peak's growth per pixel.

    python scripts/measure_decode_memory.py [--mp 30]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
CHILD = """
import resource, sys
sys.path.insert(0, {repo!r})
from pathlib import Path
from curator.loader import load_photo
from curator.preprocess import Preprocess
pre = Preprocess()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
r = load_photo(Path(sys.argv[1]), pre, 256)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(type(r).__name__, (peak - base) * 1024)
"""


def images(w: int, h: int) -> dict[str, Image.Image]:
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 255, (h // 10, w // 10, 3), dtype=np.uint8)).resize(
        (w, h))
    grey = np.asarray(rgb.convert("L"))
    return {
        "1": rgb.convert("1"), "L": rgb.convert("L"), "P": rgb.convert("P"), "RGB": rgb,
        "CMYK": rgb.convert("CMYK"), "LA": rgb.convert("LA"), "RGBA": rgb.convert("RGBA"),
        "I;16": Image.fromarray(grey.astype(np.uint16) * 257),
        "I": Image.fromarray(grey.astype(np.int32) * 1000),
        "F": Image.fromarray(grey.astype(np.float32) / 255),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mp", type=float, default=30.0, help="megapixels per test image")
    a = ap.parse_args()
    h = int((a.mp * 1e6 / 1.2) ** 0.5)
    w = int(h * 1.2)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'mode':<6} {'bytes/px':>9}   ({w}x{h}, load_photo's peak over the process's)")
        for mode, im in images(w, h).items():
            ext = "tif" if mode in ("CMYK", "I;16", "I", "F") else "png"
            path = Path(tmp) / f"{mode.replace(';', '_')}.{ext}"
            im.save(path)
            out = subprocess.run([sys.executable, "-c", CHILD.format(repo=str(REPO)),
                                  str(path)], capture_output=True, text=True, check=True)
            kind, grew = out.stdout.split()
            print(f"{mode:<6} {int(grew) / (w * h):9.1f}   {kind}")


if __name__ == "__main__":
    main()
