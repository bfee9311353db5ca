"""Is a photo ready for a destination?  Each check says what is wrong and what to do.

Checks come from what Curator measures:

* size: the destination's crop of the photo against ``min_size`` (a hard rule), and whether
  it reaches the recommended size (Curator never enlarges a photo);
* the crop: how much of the photo a crop to the destination's ratio cuts, and whether it
  cuts the dish (``dish_cut``: less than 80 % of the dish box the dish map finds is kept);
* the score's reasons (``dark``, ``blur``, ``tilted`` …, ``curator.reasons``);
* ``black_and_white``: colourfulness (Hasler and Süsstrunk 2003, "Measuring colourfulness in
  natural images") under ``GREY_COLOURFULNESS``; a grey photo measures 0, the least colourful
  real food photos here ~17; a toned (sepia) print counts as colour;
* ``text``: RapidOCR (PP-OCR text detector and recogniser; ONNX models shipped inside the
  ``rapidocr`` wheel, run by onnxruntime on one thread): lines read with confidence 0.8 or
  more and at least two letters or digits;
* ``people``: faces, found by OpenCV's Haar cascade (``haarcascade_frontalface_default.xml``,
  shipped in the ``opencv-python-headless`` wheel) with strict settings (25 neighbours, faces
  at least 6 % of the short side): on 277 food photos here it found the one face and nothing
  else; hands and people seen from behind are **not** found.

A destination lists which checks leave a photo out (``reject``) and which are only shown
(``warn``); size, ratio, bytes and format are always hard rules (the export makes the ratio,
the format and the bytes; the size it cannot make).  A detector that is not installed gives a
``missing`` check instead of a silent pass.

The pixel checks need one decode; ``analyse`` does it and ``FactsCache`` (SQLite beside the
score cache) remembers the result per file (path, size, modification time).
"""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from curator.crop import Box, DishMap, kept_fraction, largest_crop, propose_crop
from curator.destinations import Destination
from curator.names import db_key

log = logging.getLogger(__name__)

#: Colourfulness (Hasler–Süsstrunk M, 0–~150) under which a photo reads as black and white.
GREY_COLOURFULNESS = 8.0
#: A crop keeping less than this share of the dish box cuts the dish.
DISH_KEEP = 0.8
#: A text line counts when read with at least this confidence and this many letters/digits.
TEXT_CONFIDENCE = 0.8
TEXT_MIN_CHARS = 2
#: Long side (px) the text detector and the face detector look at.
TEXT_SIDE = 736
FACE_SIDE = 640
#: Bump when what ``analyse`` measures changes: older cached facts are measured again.
FACTS_VERSION = 2  # 2: text_boxes and face_boxes (crop-aware checks)

#: Severity of a check's outcome.
OK, INFO, WARN, REJECT, MISSING = "ok", "info", "warn", "reject", "missing"

#: Plain words per reason: what is wrong, what to do (``{name}``: the destination).
REASON_ADVICE: dict[str, tuple[str, str]] = {
    "dark": ("too dark", "retake it in daylight or by a window, or brighten it"),
    "overexposed": ("highlights are blown to white", "retake it with less light or less "
                    "exposure"),
    "blur": ("out of focus or shaken", "retake it holding the phone steady, tapping the dish "
             "to focus"),
    "tilted": ("tilted: straight lines lean", "straighten it, or retake it with the phone "
               "level"),
    "noisy": ("grainy", "retake it in more light"),
    "compressed": ("heavily compressed (blocky)", "use the camera's original file, not one "
                   "sent through a messaging app"),
    "cropped": ("the dish is cut by the frame", "retake it with room around the plate"),
}


FracBox = tuple[float, float, float, float]


def _boxes(d: Any) -> tuple[FracBox, ...] | None:
    if d is None:
        return None
    return tuple((float(b[0]), float(b[1]), float(b[2]), float(b[3])) for b in d)


def _in_crop(box: FracBox, size: tuple[int, int], crop: Box) -> bool:
    """Whether any of ``box`` (fractions of the photo) lies inside ``crop`` (px)."""
    w, h = size
    return (box[0] * w < crop[2] and box[2] * w > crop[0]
            and box[1] * h < crop[3] and box[3] * h > crop[1])


@dataclass(frozen=True)
class PixelFacts:
    """What one decode of the photo tells (``analyse``).

    ``colourfulness``: Hasler–Süsstrunk M.  ``text``: lines read (``None``: no detector).
    ``faces``: faces found (``None``: no detector).  ``dish``: the dish map cells (rows of
    0–1 floats; ``None``: no map).
    """

    colourfulness: float
    text: tuple[str, ...] | None = None
    faces: int | None = None
    dish: tuple[tuple[float, ...], ...] | None = None
    #: Where each text line / face is: (left, top, right, bottom) as fractions (0–1) of the
    #: upright photo; ``None``: not measured (no detector, or facts of version 1).
    text_boxes: tuple[FracBox, ...] | None = None
    face_boxes: tuple[FracBox, ...] | None = None

    def dish_map(self) -> DishMap | None:
        return None if self.dish is None else DishMap(np.asarray(self.dish, dtype=np.float32))

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> PixelFacts:
        d = json.loads(text)
        return cls(float(d["colourfulness"]),
                   None if d.get("text") is None else tuple(d["text"]),
                   d.get("faces"),
                   None if d.get("dish") is None else tuple(tuple(r) for r in d["dish"]),
                   _boxes(d.get("text_boxes")), _boxes(d.get("face_boxes")))


@dataclass(frozen=True)
class Check:
    """One check's outcome: ``key`` (a destination check or ``size``/``ratio``/…),
    ``severity`` (``ok``/``info``/``warn``/``reject``/``missing``), what is wrong, what to do."""

    key: str
    severity: str
    message: str
    advice: str = ""

    def text(self) -> str:
        return f"{self.message}: {self.advice}" if self.advice else self.message


@dataclass(frozen=True)
class Readiness:
    """Every check of one photo for one destination, and the crop they were judged on."""

    destination: Destination
    checks: tuple[Check, ...]
    crop: Box | None = None
    output: tuple[int, int] | None = None
    #: False while the pixel checks (colour, text, people, dish) have not run yet.
    complete: bool = True

    @property
    def ready(self) -> bool:
        """No check leaves the photo out (pixel checks not yet run count as passed)."""
        return not any(c.severity == REJECT for c in self.checks)

    def rejections(self) -> list[Check]:
        return [c for c in self.checks if c.severity == REJECT]

    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.severity in (WARN, MISSING)]

    def why_not(self) -> str:
        """The reasons it is left out, in one line ("" when ready)."""
        return " · ".join(c.text() for c in self.rejections())

    def summary_keys(self) -> str:
        """``size;text`` …: the checks that failed (for picks.csv)."""
        return ";".join(f"{c.key}:{c.severity}" for c in self.checks
                        if c.severity in (REJECT, WARN, MISSING))


def _px(size: tuple[float, float]) -> str:
    return f"{round(size[0])} × {round(size[1])} px"


def check_photo(dest: Destination, size: tuple[int, int] | None, reasons: Iterable[str],
                facts: PixelFacts | None = None, crop: Box | None = None) -> Readiness:
    """Judge one photo (displayed ``size``, score ``reasons``) for ``dest``.

    ``crop`` is the box the photo would be cut to (default: ``propose_crop`` on the facts'
    dish map, else centred).  Without ``facts`` the pixel checks are left out and
    ``complete`` is False.
    """
    levels = dest.checks()
    out: list[Check] = []
    if size is None or size[0] <= 0 or size[1] <= 0:
        return Readiness(dest, (Check("size", REJECT, "size unknown",
                                      "Curator could not read this photo"),), None, None)
    dish = facts.dish_map() if facts is not None else None
    if crop is None:
        crop = propose_crop(size, dest.aspect, dish)
    cw, ch = crop[2] - crop[0], crop[3] - crop[1]
    output = dest.output_size(cw, ch)
    need = dest.min_output()
    if output is None:
        out.append(Check("size", REJECT,
                         f"too small for {dest.name}: the {dest.ratio_text} crop is "
                         f"{_px((cw, ch))}, {need[0]} × {need[1]} needed",
                         "use the camera's full-size original, or choose a larger photo"))
    elif output[0] < dest.recommended[0]:
        out.append(Check("upscale", WARN,
                         f"smaller than the recommended {dest.recommended[0]} × "
                         f"{dest.recommended[1]} px: it will be sent at {output[0]} × "
                         f"{output[1]} (Curator never enlarges; {dest.name} may, and soften it)",
                         "a larger original would look sharper"))
    else:
        out.append(Check("size", OK, f"large enough: sent at {output[0]} × {output[1]} px"))
    full_w, full_h = largest_crop(size, dest.aspect)
    cut = 1.0 - (full_w * full_h) / (size[0] * size[1])
    if cut > 0.005:
        side = "width" if full_w < size[0] else "height"
        out.append(Check("ratio", INFO, f"a {dest.ratio_text} crop cuts {100 * cut:.0f} % of "
                                        f"the {side}"))
    for key in reasons:
        level = levels.get(key)
        if level is None or key not in REASON_ADVICE:
            continue
        what, todo = REASON_ADVICE[key]
        also = f"; {dest.name} rejects such photos" if level == REJECT else ""
        out.append(Check(key, level, f"{what}{also}", todo))
    if facts is not None:
        out += _pixel_checks(dest, levels, facts, dish, size, crop)
    return Readiness(dest, tuple(out), crop, output, facts is not None)


def _pixel_checks(dest: Destination, levels: dict[str, str], facts: PixelFacts,
                  dish: DishMap | None, size: tuple[int, int], crop: Box) -> list[Check]:
    out: list[Check] = []
    rejects = f"{dest.name} rejects"
    if "black_and_white" in levels and facts.colourfulness < GREY_COLOURFULNESS:
        out.append(Check("black_and_white", levels["black_and_white"],
                         f"black and white (or nearly no colour); {rejects} black-and-white "
                         "photos" if levels["black_and_white"] == REJECT else
                         "black and white (or nearly no colour)",
                         "use the colour original (a dark dish on white can read as black "
                         "and white: check it by eye)"))
    if "text" in levels:
        if facts.text is None:
            out.append(Check("text", MISSING, "text in the photo not checked: the text "
                                              "detector (rapidocr) is not installed"))
        elif facts.text:
            inside, outside = _split(facts.text, facts.text_boxes, size, crop)
            if inside:
                shown = ", ".join(f"“{t}”" for t in inside[:3])
                out.append(Check("text", levels["text"],
                                 f"text in the photo ({shown})"
                                 + (f"; {rejects} text other than the store's logo"
                                    if levels["text"] == REJECT else ""),
                                 "crop it out, or choose a photo without signs, menus or "
                                 "packaging"))
            else:
                shown = ", ".join(f"“{t}”" for t in outside[:3])
                out.append(Check("text", INFO, f"text ({shown}) outside the "
                                               f"{dest.ratio_text} crop"))
    if "people" in levels:
        if facts.faces is None:
            out.append(Check("people", MISSING, "people not checked: the face detector "
                                                "(opencv-python-headless) is not installed"))
        elif facts.faces:
            inside_f, outside_f = _split(tuple(range(facts.faces)), facts.face_boxes, size,
                                         crop)
            n = len(inside_f)
            if n:
                out.append(Check("people", levels["people"],
                                 f"{'a face' if n == 1 else f'{n} faces'} in the photo"
                                 + (f"; {rejects} photos with people"
                                    if levels["people"] == REJECT else ""),
                                 "choose a photo of the food alone"))
            else:
                m = len(outside_f)
                out.append(Check("people", INFO, f"{'a face' if m == 1 else f'{m} faces'} "
                                                 f"outside the {dest.ratio_text} crop"))
    if "dish_cut" in levels and dish is not None:
        kept = kept_fraction(dish.box(size), crop)
        if kept < DISH_KEEP:
            out.append(Check("dish_cut", levels["dish_cut"],
                             f"the {dest.ratio_text} crop cuts the dish (keeps "
                             f"{_pct_under(kept, DISH_KEEP)} % of it, {100 * DISH_KEEP:.0f} % "
                             "needed)",
                             "drag the crop in Look Closer, or choose a photo with room "
                             "around the plate"))
    return out


def _pct_under(value: float, limit: float) -> str:
    """``value`` (0–1, under ``limit``) in whole per cent, never rounded up to the limit
    (0.798 under 0.8 reads "79", not "80")."""
    return f"{math.floor(100 * value):.0f}" if value < limit else f"{100 * value:.0f}"


def _split(items: tuple[Any, ...], boxes: tuple[FracBox, ...] | None, size: tuple[int, int],
           crop: Box) -> tuple[list[Any], list[Any]]:
    """``items`` inside ``crop`` and outside it; all inside when positions are unknown."""
    if boxes is None or len(boxes) != len(items):
        return list(items), []
    inside = [t for t, b in zip(items, boxes, strict=True) if _in_crop(b, size, crop)]
    outside = [t for t, b in zip(items, boxes, strict=True) if not _in_crop(b, size, crop)]
    return inside, outside


# -- measuring -----------------------------------------------------------------------------------
def colourfulness(im: Image.Image) -> float:
    """Hasler–Süsstrunk colourfulness M of an RGB image (0 for grey; ~20–100 for photos).

    M = σ_rgyb + 0.3 μ_rgyb with rg = R − G and yb = (R + G)/2 − B (their 2003 paper).
    """
    a = np.asarray(im.convert("RGB"), dtype=np.float32)
    r, g, b = a[..., 0], a[..., 1], a[..., 2]
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


class _Detectors:
    """The text and face detectors, loaded once, each behind its own lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ocr: Any = None
        self._faces: Any = None
        self.ocr_missing = self.faces_missing = False
        self._ocr_lock = threading.Lock()
        self._face_lock = threading.Lock()

    def ocr(self) -> Any:
        with self._lock:
            if self._ocr is None and not self.ocr_missing:
                try:
                    from rapidocr import RapidOCR

                    self._ocr = RapidOCR(params={
                        "Global.log_level": "error",
                        "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                        "Det.limit_side_len": TEXT_SIDE, "Det.limit_type": "max"})
                except Exception as exc:  # not installed, or its models unreadable
                    log.warning("text detector unavailable: %s", exc)
                    self.ocr_missing = True
            return self._ocr

    def faces(self) -> Any:
        with self._lock:
            if self._faces is None and not self.faces_missing:
                try:
                    import cv2

                    folder = getattr(cv2, "data").haarcascades  # noqa: B009 (no stub for it)
                    cascade = cv2.CascadeClassifier(
                        os.path.join(folder, "haarcascade_frontalface_default.xml"))
                    if cascade.empty():
                        raise OSError("haarcascade_frontalface_default.xml not found")
                    self._faces = cascade
                except Exception as exc:
                    log.warning("face detector unavailable: %s", exc)
                    self.faces_missing = True
            return self._faces

    def read_text(self, im: Image.Image
                  ) -> tuple[tuple[str, ...], tuple[FracBox, ...]] | None:
        """Lines read, and each line's box as fractions of ``im`` (``None``: no detector)."""
        engine = self.ocr()
        if engine is None:
            return None
        small = im.copy()
        small.thumbnail((TEXT_SIDE, TEXT_SIDE), Image.Resampling.BILINEAR)
        with self._ocr_lock:
            result = engine(np.asarray(small.convert("RGB"))[:, :, ::-1].copy(),
                            use_det=True, use_cls=False, use_rec=True)
        texts = getattr(result, "txts", None) or ()
        scores = getattr(result, "scores", None) or ()
        quads = getattr(result, "boxes", None)
        quads = [] if quads is None else list(quads)
        lines, boxes = [], []
        for i, (t, sc) in enumerate(zip(texts, scores, strict=False)):
            if sc < TEXT_CONFIDENCE or sum(ch.isalnum() for ch in t) < TEXT_MIN_CHARS:
                continue
            lines.append(t)
            if i < len(quads):  # four corners, px of ``small``
                q = np.asarray(quads[i], dtype=np.float64).reshape(-1, 2)
                boxes.append((float(q[:, 0].min()) / small.width,
                              float(q[:, 1].min()) / small.height,
                              float(q[:, 0].max()) / small.width,
                              float(q[:, 1].max()) / small.height))
            else:  # position unknown: the whole photo, so it is never missed
                boxes.append((0.0, 0.0, 1.0, 1.0))
        return tuple(lines), tuple(boxes)

    def find_faces(self, im: Image.Image) -> tuple[FracBox, ...] | None:
        """Each face's box as fractions of ``im`` (``None``: no detector)."""
        cascade = self.faces()
        if cascade is None:
            return None
        small = im.convert("L")
        small.thumbnail((FACE_SIDE, FACE_SIDE), Image.Resampling.BILINEAR)
        grey = np.asarray(small)
        side = max(24, int(0.06 * min(grey.shape)))
        with self._face_lock:
            found = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=25,
                                             minSize=(side, side))
        gh, gw = grey.shape
        return tuple((x / gw, y / gh, (x + w) / gw, (y + h) / gh)
                     for x, y, w, h in np.asarray(found).reshape(-1, 4).tolist())


DETECTORS = _Detectors()


def analyse(path: Path, dish: bool = True) -> PixelFacts:
    """Decode ``path`` once (sRGB, upright) and measure colour, text, faces and the dish.

    Raises what ``curator.loader.open_rgb`` raises for a file it cannot read.
    """
    from curator.crop import MAP_SIDE, shared_finder
    from curator.loader import open_rgb

    im, _size = open_rgb(path, max(TEXT_SIDE, FACE_SIDE) * 3 // 4)
    thumb = im.copy()
    thumb.thumbnail((256, 256), Image.Resampling.BILINEAR)
    dish_cells = None
    if dish:
        small = im.copy()
        small.thumbnail((MAP_SIDE * 2, MAP_SIDE * 2), Image.Resampling.BILINEAR)
        m = shared_finder().find(small).values
        dish_cells = tuple(tuple(round(float(v), 4) for v in row) for row in m)
    text = DETECTORS.read_text(im)
    faces = DETECTORS.find_faces(im)
    return PixelFacts(colourfulness(thumb), None if text is None else text[0],
                      None if faces is None else len(faces), dish_cells,
                      None if text is None else text[1], faces)


# -- remembering ---------------------------------------------------------------------------------
@dataclass
class FactsCache:
    """``PixelFacts`` per file, in SQLite (``facts.sqlite3`` in the cache folder).

    Keyed by absolute path (bytes when not UTF-8), size and modification time, so an edited
    photo is measured again; several processes may share it.
    """

    path: Path
    _conn: sqlite3.Connection = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None,
                                     check_same_thread=False)
        self._conn.execute("PRAGMA busy_timeout = 30000")
        self._conn.execute("CREATE TABLE IF NOT EXISTS facts (path PRIMARY KEY, size INTEGER, "
                           "mtime_ns INTEGER, version INTEGER, facts TEXT)")
        self._lock = threading.Lock()

    @classmethod
    def in_dir(cls, directory: Path | None = None) -> FactsCache:
        from curator.paths import default_cache_dir

        return cls((directory or default_cache_dir()) / "facts.sqlite3")

    def close(self) -> None:
        self._conn.close()

    def get(self, path: Path) -> PixelFacts | None:
        """The facts remembered for ``path`` as it is now, or ``None``."""
        try:
            st = os.stat(path)
        except OSError:
            return None
        with self._lock:
            row = self._conn.execute(
                "SELECT facts FROM facts WHERE path = ? AND size = ? AND mtime_ns = ? AND "
                "version = ?", (db_key(os.path.abspath(path)), st.st_size, st.st_mtime_ns,
                                FACTS_VERSION)).fetchone()
        if row is None:
            return None
        try:
            return PixelFacts.from_json(row[0])
        except (ValueError, KeyError, TypeError):
            return None

    def put(self, path: Path, facts: PixelFacts) -> None:
        try:
            st = os.stat(path)
        except OSError:
            return
        with self._lock:
            # A row a newer Curator wrote of this very file is kept (it knows more).
            self._conn.execute(
                "INSERT INTO facts VALUES (?,?,?,?,?) ON CONFLICT(path) DO UPDATE SET "
                "size = excluded.size, mtime_ns = excluded.mtime_ns, version = "
                "excluded.version, facts = excluded.facts WHERE NOT (facts.version > "
                "excluded.version AND facts.size = excluded.size AND facts.mtime_ns = "
                "excluded.mtime_ns)",
                (db_key(os.path.abspath(path)), st.st_size, st.st_mtime_ns, FACTS_VERSION,
                 facts.to_json()))

    def facts_for(self, path: Path) -> PixelFacts:
        """Remembered facts, else ``analyse`` (and remember); raises as ``analyse`` does."""
        got = self.get(path)
        if got is None:
            got = analyse(path)
            self.put(path, got)
        return got
