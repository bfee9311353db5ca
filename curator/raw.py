"""Camera RAW files: scored from the JPEG preview the camera embedded in each.

Every culler a photographer knows (Photo Mechanic, Lightroom's import, darktable's lighttable,
FastRawViewer) shows a RAW through its embedded preview: the camera's own rendering, usually
full-size or near it, and ~50x cheaper to read than developing the raw data.  Curator does the
same with LibRaw (through ``rawpy``, the binding its wheels ship): ``read_preview`` returns the
largest embedded preview, upright.  A RAW whose only preview is a tiny thumbnail (older
cameras: 160 x 120) is developed at half size instead, so the model never sees a postage stamp.

Pairs: a camera set to RAW+JPEG writes ``DSC_0042.NEF`` beside ``DSC_0042.JPG``.  The scan
(``curator.scan``) makes such a RAW the JPEG's RAW: one entry, scored once from the JPEG;
verdicts and exports take both (README "RAW files").
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from curator.capture import exif_seconds

log = logging.getLogger(__name__)

#: Camera raw formats (LibRaw reads them all), GoPro raw included.
RAW_EXTENSIONS = frozenset((
    ".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".orf", ".rw2",
    ".raf", ".pef", ".srw", ".x3f", ".3fr", ".iiq", ".erf", ".kdc", ".mrw", ".raw", ".gpr",
    ".rwl", ".mef", ".mos", ".dcr", ".fff", ".ari", ".cap", ".rwz"))

#: A preview whose short side is below this (px) is too small to score: the RAW is developed.
MIN_PREVIEW_SHORT_SIDE = 224

#: LibRaw's ``sizes.flip`` -> the transpose that makes the picture upright.
_FLIP = {3: Image.Transpose.ROTATE_180, 5: Image.Transpose.ROTATE_90,
         6: Image.Transpose.ROTATE_270}


def is_raw(path: Path | str) -> bool:
    """Whether ``path`` is named like a camera RAW file (any case)."""
    return os.path.splitext(os.fspath(path))[1].lower() in RAW_EXTENSIONS


def available() -> bool:
    """Whether RAW files can be read here (``rawpy`` imports)."""
    try:
        import rawpy  # noqa: F401
    except Exception:
        return False
    return True


class RawError(ValueError):
    """A RAW file LibRaw cannot read; the message is for the owner."""


@dataclass(frozen=True)
class RawPreview:
    """A RAW's picture for scoring: ``image`` upright (its ICC profile, if any, in
    ``image.info``), ``size`` the full developed size as displayed (width, height), the
    preview JPEG's quantisation tables (None for a bitmap or a developed image), the EXIF
    capture time (seconds, camera clock) when the file has one, and whether the raw data
    had to be developed because the embedded preview was too small."""

    image: Image.Image
    size: tuple[int, int]
    quantization: dict[int, Any] | None
    captured: float | None
    developed: bool = False


def _upright(im: Image.Image, flip: int) -> Image.Image:
    """The preview upright: its own EXIF orientation if it has one, else LibRaw's flip."""
    if im.getexif().get(0x0112, 1) not in (None, 1):
        return ImageOps.exif_transpose(im)
    how = _FLIP.get(flip)
    return im.transpose(how) if how is not None else im


def _captured(data: bytes) -> float | None:
    """EXIF capture time from a TIFF-based RAW's own header (NEF, CR2, ARW, DNG …)."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            return exif_seconds(im.getexif())
    except Exception:
        return None


def read_preview(path: Path, min_short_side: int = MIN_PREVIEW_SHORT_SIDE) -> RawPreview:
    """The RAW's largest embedded preview, upright, or the raw data developed at half size
    when that preview's short side is below ``min(min_short_side, MIN_PREVIEW_SHORT_SIDE)``.

    Raises ``RawError`` (LibRaw cannot read the file), ``OSError`` (it cannot be opened) or
    ``ImportError`` (no rawpy here).  The file is read once, into memory (a RAW is 10–100 MB).
    """
    import numpy as np
    import rawpy

    with open(path, "rb") as fh:  # a file object: any OS file name, UTF-8 or not
        data = fh.read()
    try:
        raw = rawpy.imread(io.BytesIO(data))
    except (rawpy.LibRawError, ValueError) as exc:
        raise RawError(f"LibRaw cannot read it ({type(exc).__name__}: {exc})") from exc
    need = min(min_short_side, MIN_PREVIEW_SHORT_SIDE)
    with raw:
        sizes = raw.sizes
        flip = int(sizes.flip)
        w, h = int(sizes.width), int(sizes.height)
        if flip in (5, 6):
            w, h = h, w
        im: Image.Image | None = None
        quant = None
        try:
            thumb = raw.extract_thumb()
        except (rawpy.LibRawError, ValueError) as exc:
            log.info("%s: no embedded preview (%s); developing it", path, exc)
        else:
            if thumb.format == rawpy.ThumbFormat.JPEG:
                im = Image.open(io.BytesIO(bytes(thumb.data)))
                quant = dict(getattr(im, "quantization", None) or {}) or None
                im.load()
            else:
                im = Image.fromarray(np.asarray(thumb.data, dtype=np.uint8))
            im = _upright(im, flip)
        developed = im is None or min(im.size) < need
        if developed:
            try:  # LibRaw turns the result upright itself
                rgb = raw.postprocess(half_size=True, use_camera_wb=True, output_bps=8)
            except (rawpy.LibRawError, ValueError) as exc:
                raise RawError(f"LibRaw cannot develop it ({exc})") from exc
            im, quant = Image.fromarray(rgb), None
    assert im is not None
    if im.mode != "RGB" and "icc_profile" not in im.info:
        im = im.convert("RGB")
    return RawPreview(im, (w, h) if w and h else im.size, quant, _captured(data), developed)
