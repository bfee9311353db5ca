"""Decode a photo once into everything scoring and display need.

One decode per photo feeds the global view, the local view and the thumbnail, because decoding a
12 MP JPEG costs more than running the model on its two views.  JPEGs are decoded with
``draft()`` at the smallest DCT scale that still covers the working resolution, which is ~6x
cheaper than a full decode.  Broken files never raise: they come back as a ``LoadError`` with a
reason a restaurant owner can read, so one bad file never stops a scan.

Decoding faults handled as kinds (README "When things go wrong"):

* colour: an embedded ICC profile (Display P3, Adobe RGB, ProPhoto, CMYK, grey) is converted to
  sRGB with LittleCMS (Pillow ``ImageCms``) right after decoding, before views and thumbnails,
  so a wide-gamut photo scores like its sRGB twin; a broken profile is logged and ignored;
* shape: the working image is bounded (``MAX_WORK_ASPECT``): a 4000x2 strip or a 12000x1 line
  is scored from its centre instead of being scaled to a 7 GB working image;
* metadata: PNG text/XMP chunks up to ``MAX_TEXT_CHUNK`` decode (Pillow's default is 1 MB);
* size: ``width``/``height`` are as displayed, taken from the decoded image after EXIF
  orientation, whatever the format;
* library warnings raised while decoding a file are logged with that file's name.
"""

from __future__ import annotations

import functools
import io
import logging
import math
import os
import stat
import threading
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from PIL import Image, ImageCms, ImageOps, PngImagePlugin, UnidentifiedImageError

from curator import raw
from curator.capture import exif_seconds
from curator.measures import measure, measures_image
from curator.names import path_text
from curator.preprocess import Preprocess

log = logging.getLogger(__name__)

try:  # HEIC/HEIF is what iPhones save; optional so a broken wheel never blocks JPEG scoring.
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF_AVAILABLE = True
except Exception as exc:  # pragma: no cover - depends on the platform wheel
    log.warning("HEIC/HEIF support unavailable: %s", exc)
    HEIF_AVAILABLE = False

#: Curator's own memory bound: the working memory one photo may take while it is decoded and
#: turned into views and measures (bytes).  It is checked on the size that will really be
#: decoded, before any pixel is (``check_pixels``), with ``PEAK_BYTES_PER_PIXEL`` of its pixel
#: format: a JPEG decodes at a reduced DCT scale (``draft``), so a 225 MP panorama decodes at
#: 1/8 scale (3.5 MP) and scores, while a 225 MP PNG or TIFF, decoded whole, is listed as too
#: large with its size, what it would need and this bound.
MAX_DECODE_BYTES = 1_700_000_000
#: Peak working memory per decoded pixel, by Pillow mode: load_photo's peak RSS over the
#: process's own, on 30 MP images of each mode (``python scripts/measure_decode_memory.py``
#: prints them).  Grey and palette images become RGB on the way, alpha is composited on white.
PEAK_BYTES_PER_PIXEL: dict[str, float] = {
    "1": 8.5, "L": 8.5, "P": 8.5, "RGB": 8.5, "YCbCr": 8.5, "LAB": 8.5, "HSV": 8.5,
    "CMYK": 12.0, "I;16": 16.0, "I;16L": 16.0, "I;16B": 16.0, "I;16N": 16.0,
    "I": 20.0, "F": 20.0, "LA": 24.0, "La": 24.0, "PA": 24.0, "RGBA": 24.0, "RGBa": 24.0,
}
_UNKNOWN_MODE_BYTES = 24.0
#: RGB photos up to this many pixels decode within the bound (200 MP).
MAX_PIXELS = int(MAX_DECODE_BYTES / PEAK_BYTES_PER_PIXEL["RGB"])
#: A photo decoded to more pixels than this waits for any other such decode to finish, so the
#: decode threads never hold two near the bound at once (memory: one big photo at a time).
BIG_DECODE_PIXELS = 40_000_000
_big_decode = threading.BoundedSemaphore(1)
#: Pillow's decompression-bomb check is switched off on purpose: it runs when a file is
#: *opened*, on its full header size, before a JPEG's draft, so it warned ("decompression
#: bomb DOS attack") about photos Curator decodes at a fraction of that size, and it would
#: only repeat ``MAX_PIXELS``, which every decode in Curator (scoring, thumbnails, Look
#: Closer, Compare, training) goes through.  Scripts that open images without
#: ``curator.loader`` keep Pillow's default.
Image.MAX_IMAGE_PIXELS = None

#: Valid photos from Lightroom/Photoshop carry XMP packets of several MB in compressed PNG
#: iTXt chunks; Pillow refuses any over 1 MB.  Still bounded (a zip bomb stops here).
MAX_TEXT_CHUNK = 64 * 1024 * 1024
PngImagePlugin.MAX_TEXT_CHUNK = max(PngImagePlugin.MAX_TEXT_CHUNK, MAX_TEXT_CHUNK)
PngImagePlugin.MAX_TEXT_MEMORY = max(PngImagePlugin.MAX_TEXT_MEMORY, 4 * MAX_TEXT_CHUNK)

#: The working image (for the local view) is at most this many times longer than wide; longer
#: shapes keep their centre.  Bounds memory at ~(448*8)*448*3 bytes = 4.8 MB whatever the shape.
MAX_WORK_ASPECT = 8.0

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_decoding = threading.local()  # the file the current thread is decoding, for warnings
_show_warning = warnings.showwarning


def _warning_with_file(
    message: Warning | str, category: type[Warning], filename: str, lineno: int,
    file: TextIO | None = None, line: str | None = None,
) -> None:
    """``warnings.showwarning`` that names the photo being decoded in this thread, if any."""
    path = getattr(_decoding, "path", None)
    if path is None:
        _show_warning(message, category, filename, lineno, file, line)
    else:
        log.warning("%s: %s (%s)", path_text(path), message, category.__name__)


warnings.showwarning = _warning_with_file


@contextmanager
def decoding(path: Path) -> Iterator[None]:
    """Library warnings raised inside this block name ``path`` (thread-local, nests)."""
    before = getattr(_decoding, "path", None)
    _decoding.path = path
    try:
        yield
    finally:
        _decoding.path = before


@functools.lru_cache(maxsize=32)
def _srgb_transform(icc: bytes, mode: str) -> Any:
    """A cached LittleCMS transform from the profile ``icc`` to sRGB for images of ``mode``."""
    src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    out = "RGBA" if mode == "RGBA" else "RGB"
    # NOCACHE: one transform is shared by the decode threads; lcms's pixel cache is not.
    return ImageCms.buildTransform(src, _SRGB, mode, out, flags=ImageCms.Flags.NOCACHE)


_CMS_MODES = ("RGB", "RGBA", "CMYK", "L")
_HIGH_BIT_GREY = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


def _for_profile(im: Image.Image, icc: bytes) -> tuple[Image.Image, Image.Image | None]:
    """``im`` in a mode LittleCMS takes for the profile's colour space, and its alpha apart.

    Grey+alpha, palette, 1-bit, 16/32-bit grey and the like have no LittleCMS mode: they go
    through L (a grey profile) or RGB/RGBA (an RGB profile) first, the way ``_to_rgb``
    shows them, so their profile applies like it does for their 8-bit RGB/L twin.  An 8-bit
    grey (L) image whose profile is RGB (sRGB, ProPhoto …) is brought to RGB the same way,
    so a grey JPEG scores like its 16-bit grey PNG twin with the same profile.
    """
    grey_profile = icc[16:20] == b"GRAY"
    rgb_profile = icc[16:20] == b"RGB "
    if im.mode in _CMS_MODES and not (im.mode == "L" and rgb_profile):
        return im, None
    alpha = None
    if im.mode in _HIGH_BIT_GREY:
        base = _to_rgb(im).convert("L")
    else:
        has_alpha = "A" in im.getbands() or "a" in im.getbands() or (
            im.mode == "P" and "transparency" in im.info)
        if has_alpha:
            rgba = im.convert("RGBA")
            alpha = rgba.getchannel("A")
            base = rgba.convert("L") if grey_profile else rgba.convert("RGB")
        else:
            base = im.convert("L" if grey_profile else "RGB")
    if not grey_profile and base.mode == "L":
        base = base.convert("RGB")
    return base, alpha


def to_srgb(im: Image.Image, path: Path | None = None) -> Image.Image:
    """``im`` converted from its embedded ICC profile to sRGB (unchanged when it has none).

    Modes RGB, RGBA, CMYK and L are converted (CMYK and L to RGB); every other mode (LA,
    P, 1, I;16 …), and L with an RGB profile, is first brought to L or RGB(A) to match the
    profile (``_for_profile``), so its profile is applied too, and any alpha is kept (the
    result is then RGBA).  A profile LittleCMS cannot use is logged with the file name and
    ignored: the pixels are then taken as sRGB.
    """
    icc = im.info.get("icc_profile")
    if not icc:
        return im
    try:
        base, alpha = _for_profile(im, bytes(icc))
        transform = _srgb_transform(bytes(icc), base.mode)
        out = ImageCms.applyTransform(base, transform)
        if out is None:
            return im
        if alpha is not None:
            out.putalpha(alpha)
        return out
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        log.warning("%s: colour profile ignored (%s)", path_text(path or "photo"), exc)
        return im


@dataclass(frozen=True)
class LoadedPhoto:
    """The two model views (HxWx3 uint8) and an optional thumbnail, all from one decode."""

    path: Path
    width: int  # size after EXIF orientation, in original pixels
    height: int
    global_view: np.ndarray
    local_view: np.ndarray
    thumbnail: Image.Image | None = None
    #: Classic measures of the decoded pixels (``curator.measures``), for the reasons.
    measures: dict[str, float] = field(default_factory=dict)
    #: EXIF capture time, seconds (``curator.capture.exif_seconds``); None without one.
    captured: float | None = None


@dataclass(frozen=True)
class LoadError:
    """Why a file could not be used; the scan reports it and moves on."""

    path: Path
    reason: str
    #: False when retrying later may work (permissions, a file being moved): never cached.
    permanent: bool = True


def _to_rgb(im: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB the way a viewer would show it."""
    if im.mode == "RGB":
        return im
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        # 16-bit and 32-bit greyscale: Pillow's convert() clips at 255, which turns a 16-bit
        # photo white.  Scale by the container's range instead.
        arr = np.asarray(im).astype(np.float32)
        top = 65535.0 if im.mode.startswith("I;16") or arr.max(initial=0) > 255 else 255.0
        if im.mode == "F" and arr.max(initial=0) <= 1.0:
            top = 1.0
        grey = np.clip(arr * (255.0 / top), 0, 255).astype(np.uint8)
        return Image.fromarray(np.stack([grey] * 3, axis=-1))
    has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        im.mode == "P" and "transparency" in im.info
    )
    if has_alpha:
        # Transparent areas are shown on white, as a browser or file manager would.
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return im.convert("RGB")


def _draft_request(size: tuple[int, int], short_side: int) -> tuple[int, int]:
    """The smallest decode size whose short side still reaches ``short_side``."""
    w, h = size
    scale = min(1.0, short_side / max(1, min(w, h)))
    return max(1, math.ceil(w * scale)), max(1, math.ceil(h * scale))


#: Reductions of this factor or more first box-shrink by a whole factor (Pillow's
#: ``reducing_gap``): quality stays close to a full antialiased resize at a fraction of the
#: cost.
_REDUCING_GAP = 3.0


def _resize(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    if im.size == size:
        return im
    return im.resize(size, Image.Resampling.BILINEAR, reducing_gap=_REDUCING_GAP)


def _work_geometry(im: Image.Image, pre: Preprocess, crop_box: tuple[int, int] | None
                   ) -> tuple[tuple[float, float, float, float], tuple[int, int], int, int]:
    """(the part of ``im`` the working image shows, its size, the crop's left and top)."""
    v = pre.view_size
    w, h = im.size
    short = max(v, pre.local_short_side)
    s = short / min(w, h)
    # The part of the photo that is kept: all of it unless its aspect exceeds the bound.
    keep_w = min(float(w), min(w, h) * MAX_WORK_ASPECT)
    keep_h = min(float(h), min(w, h) * MAX_WORK_ASPECT)
    box = ((w - keep_w) / 2, (h - keep_h) / 2, (w + keep_w) / 2, (h + keep_h) / 2)
    work_size = (max(v, round(keep_w * s)), max(v, round(keep_h * s)))
    if crop_box is None:
        left, top = (work_size[0] - v) // 2, (work_size[1] - v) // 2
    else:
        left = min(max(0, crop_box[0]), work_size[0] - v)
        top = min(max(0, crop_box[1]), work_size[1] - v)
    return box, work_size, left, top


def views_from_image(
    im: Image.Image, pre: Preprocess, crop_box: tuple[int, int] | None = None
) -> tuple[np.ndarray, np.ndarray, Image.Image]:
    """Build (global view, local view, working image) from an RGB image.

    The global view is the whole photo squashed to ``view_size`` square (composition, as the
    seed did).  The local view is a ``view_size`` crop from the photo scaled so its short side is
    ``local_short_side`` (detail and sharpness at a fixed scale, whatever the camera).
    ``crop_box`` is the crop's top-left corner; ``None`` means the deterministic centre crop.
    The working image keeps at most ``MAX_WORK_ASPECT`` : 1 of the photo's centre, so memory
    stays bounded for strips and lines (a 12000x1 line would otherwise need 7 GB).
    """
    v = pre.view_size
    global_view = np.asarray(_resize(im, (v, v)))
    box, work_size, left, top = _work_geometry(im, pre, crop_box)
    if box != (0.0, 0.0, float(im.width), float(im.height)):
        work = im.resize(work_size, Image.Resampling.BILINEAR, box=box)
    else:
        work = _resize(im, work_size)
    local_view = np.asarray(work.crop((left, top, left + v, top + v)))
    return global_view, local_view, work


def model_views(im: Image.Image, pre: Preprocess) -> tuple[np.ndarray, np.ndarray]:
    """``views_from_image``'s (global view, local view) without its working image.

    Where Pillow resizes without a box pre-shrink (the photo under 6x the working size: every
    JPEG draft), only the local view's part of the photo is resized: Pillow places each output
    pixel's filter by the box's own scale, which is the working image's, so the view is that
    image's crop within one level (Pillow rounds its filter weights once more; ``tests/
    test_loader.py`` compares them on real photos), at a quarter of the cost for a 12 MP
    photo's draft.  Elsewhere the working image is made and cropped as before.
    """
    v = pre.view_size
    box, work_size, left, top = _work_geometry(im, pre, None)
    sx, sy = (box[2] - box[0]) / work_size[0], (box[3] - box[1]) / work_size[1]
    strip = box != (0.0, 0.0, float(im.width), float(im.height))
    # Pillow box-shrinks first only by a whole factor of 2 or more: int(scale / gap) >= 2.
    if not strip and max(int(sx / _REDUCING_GAP), int(sy / _REDUCING_GAP)) >= 2:
        g, loc, _ = views_from_image(im, pre)
        return g, loc
    part = (box[0] + left * sx, box[1] + top * sy,
            box[0] + (left + v) * sx, box[1] + (top + v) * sy)
    local_view = np.asarray(im.resize((v, v), Image.Resampling.BILINEAR, box=part))
    return np.asarray(_resize(im, (v, v))), local_view


class TooLarge(ValueError):
    """A photo that would need more than ``MAX_DECODE_BYTES`` to decode: its full size, the
    size it would be decoded at (smaller for a drafted JPEG), both in pixels, its Pillow
    mode and the bytes it would need."""

    def __init__(self, size: tuple[int, int], decoded: tuple[int, int], mode: str,
                 need: float) -> None:
        super().__init__(f"{size[0]}x{size[1]} pixels")
        self.size, self.decoded, self.mode, self.need = size, decoded, mode, need

    def reason(self) -> str:
        """The owner's one line: the photo's size, what it would take, and the bound."""
        w, h = self.size
        dw, dh = self.decoded
        text = (f"too large to decode within Curator's memory bound: {w}×{h} "
                f"({_mp(w * h)}{_kind(self.mode)})")
        if (dw, dh) != (w, h):
            text += f", {dw}×{dh} even at its smallest decoding scale,"
        return (text + f" would need about {_gb(self.need)} while decoded; the bound is "
                f"{_gb(MAX_DECODE_BYTES)}")


def _mp(pixels: int) -> str:
    return f"{pixels / 1e6:.0f} MP" if pixels >= 10_000_000 else f"{pixels / 1e6:.1f} MP"


def _gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB"


def _kind(mode: str) -> str:
    kinds = {"I;16": "16-bit grey", "I;16L": "16-bit grey", "I;16B": "16-bit grey",
             "I;16N": "16-bit grey", "I": "32-bit grey", "F": "32-bit float grey",
             "RGBA": "with transparency", "LA": "grey with transparency", "CMYK": "CMYK"}
    return f", {kinds[mode]}" if mode in kinds else ""


def decode_bytes(decoded: tuple[int, int], mode: str, transparent: bool = False) -> float:
    """The working memory (bytes) decoding an image of ``decoded`` (width, height) pixels in
    Pillow ``mode`` takes (``PEAK_BYTES_PER_PIXEL``; a palette with transparency as RGBA)."""
    per = PEAK_BYTES_PER_PIXEL.get("RGBA" if mode == "P" and transparent else mode,
                                   _UNKNOWN_MODE_BYTES)
    return decoded[0] * decoded[1] * per


def check_pixels(decoded: tuple[int, int], size: tuple[int, int] | None = None,
                 mode: str = "RGB", transparent: bool = False) -> None:
    """Raise ``TooLarge`` when decoding an image of ``decoded`` (width, height) pixels in
    ``mode`` would need more than ``MAX_DECODE_BYTES`` (``size``: the photo's full size,
    when it differs: a drafted JPEG)."""
    need = decode_bytes(decoded, mode, transparent)
    if need > MAX_DECODE_BYTES:
        raise TooLarge(size or decoded, decoded, mode, need)


@dataclass(frozen=True)
class Decoded:
    """One decoded photo: RGB (possibly JPEG-draft reduced), the displayed full size, whether
    ``image`` is at the file's own resolution, and the JPEG quantisation tables if any."""

    image: Image.Image
    size: tuple[int, int]
    native: bool
    quantization: dict[int, Any] | None
    #: EXIF capture time (``curator.capture.exif_seconds``), read from the same open.
    captured: float | None = None


def decode(path: Path, min_short_side: int, gate: ExitStack | None = None) -> Decoded:
    """Open, draft-decode, convert to sRGB, orient and convert one photo; raises on failure.

    The image may be reduced by JPEG draft to no less than ``min_short_side``; ``size`` is the
    full-resolution size as displayed (after EXIF orientation), read from the header so no
    second open is needed.  A camera RAW is decoded from its embedded preview
    (``curator.raw``).  Library warnings raised meanwhile are logged with the file name.
    ``gate``: a big photo (over ``BIG_DECODE_PIXELS`` decoded) enters it the one-at-a-time
    lock, held until the caller closes the stack.
    """
    if raw.is_raw(path):
        try:
            with decoding(path):
                prev = raw.read_preview(path, min_short_side)
                return Decoded(_to_rgb(to_srgb(prev.image, path)), prev.size, False,
                               prev.quantization, prev.captured)
        except raw.RawError as exc:
            # Not a RAW LibRaw knows: a JPEG or TIFF given a RAW's name still decodes below.
            try:
                return _decode_pillow(path, min_short_side, gate)
            except Exception:
                raise exc from None
    return _decode_pillow(path, min_short_side, gate)


def _decode_pillow(path: Path, min_short_side: int, gate: ExitStack | None = None) -> Decoded:
    """``decode`` for every format Pillow opens."""
    with decoding(path), Image.open(path) as src:
        w, h = src.size
        quant = None
        if src.format == "JPEG":
            quant = dict(getattr(src, "quantization", None) or {}) or None
            src.draft("RGB", _draft_request(src.size, min_short_side))
        check_pixels(src.size, (w, h), src.mode, "transparency" in src.info)
        if gate is not None and src.size[0] * src.size[1] > BIG_DECODE_PIXELS:
            gate.enter_context(_big_decode)  # held until the caller is done with it
        src.load()
        decoded = src.size
        native = decoded == (w, h)
        oriented = ImageOps.exif_transpose(src)  # keeps info, so the ICC profile too
        # The size as displayed, for every format: whatever exif_transpose did is the truth
        # (PNG/WebP/TIFF orientation tags are only known after load; HEIF is pre-rotated).
        if oriented.size != decoded and oriented.size == decoded[::-1]:
            w, h = h, w
        return Decoded(_to_rgb(to_srgb(oriented, path)), (w, h), native, quant,
                       exif_seconds(src.getexif()))


def open_rgb(path: Path, min_short_side: int) -> tuple[Image.Image, tuple[int, int]]:
    """``decode``'s RGB image and displayed full-resolution size; raises on failure."""
    d = decode(path, min_short_side)
    return d.image, d.size


def describe_error(path: Path, exc: BaseException) -> str:
    """Turn a decoding exception into a short reason a person can act on."""
    if isinstance(exc, FileNotFoundError) and os.path.islink(path):
        return "broken link (its target does not exist)"
    if isinstance(exc, FileNotFoundError):
        return "file not found (moved or deleted during the scan)"
    if isinstance(exc, PermissionError):
        return "unreadable: permission denied"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a photo"
    if isinstance(exc, TooLarge):
        return exc.reason()
    if isinstance(exc, Image.DecompressionBombError):
        return f"image too large to open safely ({exc})"
    if isinstance(exc, raw.RawError):
        return f"cannot read this camera raw file: {exc}"
    if isinstance(exc, UnidentifiedImageError):
        try:
            if path.stat().st_size == 0:
                return "empty file (0 bytes)"
        except OSError:
            pass
        return "not a recognised image format"
    if isinstance(exc, MemoryError):
        return "image too large to decode in memory"
    text = str(exc) or type(exc).__name__
    if "truncated" in text.lower():
        return f"truncated or damaged file ({text})"
    return f"cannot decode: {text}"


def load_photo(
    path: Path, pre: Preprocess, thumb_size: int | None = None
) -> LoadedPhoto | LoadError:
    """Decode ``path`` once into both model views and (optionally) a thumbnail.

    Never raises for a bad file; returns ``LoadError`` with a reason instead.
    """
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
            # a FIFO would block the open forever; a device is not a photo
            return LoadError(path, "not a regular file (a FIFO, device or socket)")
        if st.st_size == 0 and stat.S_ISREG(st.st_mode):
            return LoadError(path, "empty file (0 bytes)")
        need = max(pre.local_short_side, pre.view_size, thumb_size or 0)
        with ExitStack() as gate:  # a big photo holds the one-big-decode lock until done
            d = decode(path, need, gate)
            im, (ow, oh) = d.image, d.size
            global_view, local_view = model_views(im, pre)
            small = measures_image(im)
            thumb = None
            if thumb_size:
                # The measures' small image when it is the thumbnail's size (the window's
                # default), else one more resize of the decoded image.
                thumb = small if max(small.size) == thumb_size else thumbnail_of(im, thumb_size)
            measures = measure(im, d.native, d.quantization, small)
        return LoadedPhoto(path, ow, oh, global_view, local_view, thumb, measures, d.captured)
    except Exception as exc:  # every failure becomes a per-file error, by design
        reason = describe_error(path, exc)
        log.debug("cannot load %s: %s", path, reason, exc_info=True)
        transient = isinstance(exc, PermissionError | FileNotFoundError | MemoryError)
        return LoadError(path, reason, permanent=not transient)


def thumbnail_of(im: Image.Image, size: int) -> Image.Image:
    """``im`` resized to fit ``size`` px square (aspect kept, never enlarged), as Pillow's
    ``thumbnail`` does (bilinear after a box pre-shrink), as a new image."""
    if max(im.size) <= size:
        return im.copy()
    k = size / max(im.size)
    target = (max(1, round(im.width * k)), max(1, round(im.height * k)))
    return im.resize(target, Image.Resampling.BILINEAR, reducing_gap=2.0)


def load_thumbnail(path: Path, size: int) -> Image.Image | LoadError:
    """Just a thumbnail (for photos whose score came from the cache): draft decode, oriented."""
    try:
        im, _ = open_rgb(path, size)
        im.thumbnail((size, size), Image.Resampling.BILINEAR)
        return im
    except Exception as exc:
        return LoadError(path, describe_error(path, exc))
