"""Real camera RAW files for the tests: DNGs that LibRaw opens, with the preview a camera embeds.

A DNG is a TIFF with Adobe's DNG tags: IFD0 a small thumbnail, one sub-IFD the raw mosaic
(CFA) data, another the full-size preview as a JPEG, as Adobe's DNG Converter and phones
(Pixel, iPhone ProRAW) write them.  Written with tifffile (JPEG strips via imagecodecs).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

tifffile = pytest.importorskip("tifffile")
pytest.importorskip("imagecodecs")

#: TIFF/DNG tags: DNGVersion, DNGBackwardVersion, UniqueCameraModel, Make, Model,
#: Orientation, CFARepeatPatternDim, CFAPattern, WhiteLevel, BlackLevel.
_DNG_VERSION, _DNG_BACKWARD, _UNIQUE_MODEL = 50706, 50707, 50708
_MAKE, _MODEL, _ORIENTATION = 271, 272, 274
_CFA_DIM, _CFA_PATTERN, _WHITE, _BLACK = 33421, 33422, 50717, 50714


def make_dng(path: Path, preview: Image.Image | None, raw_size: tuple[int, int] = (600, 400),
             orientation: int = 1, seed: int = 0) -> Path:
    """A DNG at ``path``: ``preview`` (RGB) embedded as a JPEG (None: only a 96x64 thumbnail),
    a ``raw_size`` (width, height) 12-bit Bayer mosaic, EXIF ``orientation``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = raw_size
    cfa = np.random.default_rng(seed).integers(200, 3800, (h, w)).astype(np.uint16)
    thumb = np.asarray((preview or Image.new("RGB", (96, 64), (120, 90, 60)))
                       .convert("RGB").resize((96, 64)))
    with tifffile.TiffWriter(path) as tw:
        tw.write(thumb, photometric="rgb", subfiletype=1, subifds=2 if preview else 1,
                 extratags=[(_DNG_VERSION, "B", 4, (1, 4, 0, 0), True),
                            (_DNG_BACKWARD, "B", 4, (1, 1, 0, 0), True),
                            (_MAKE, "s", 0, "Curator", True),
                            (_MODEL, "s", 0, "Test Camera", True),
                            (_UNIQUE_MODEL, "s", 0, "Curator Test Camera", True),
                            (_ORIENTATION, "H", 1, orientation, True)])
        tw.write(cfa, photometric=32803, subfiletype=0,  # 32803: CFA
                 extratags=[(_CFA_DIM, "H", 2, (2, 2), True),
                            (_CFA_PATTERN, "B", 4, (0, 1, 1, 2), True),
                            (_WHITE, "I", 1, 4095, True), (_BLACK, "H", 1, 0, True)])
        if preview is not None:
            arr = np.asarray(preview.convert("RGB"))
            tw.write(arr, photometric="rgb", compression="jpeg", subfiletype=1,
                     rowsperstrip=arr.shape[0])
    return path
