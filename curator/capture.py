"""When a photo was taken: EXIF ``DateTimeOriginal``, else the file's modification time.

Photographers sort by capture time; a file's mtime changes on every copy.  Only the header is
read (Pillow opens lazily), about 1 ms a file, so callers run it off the GUI thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

log = logging.getLogger(__name__)

EXIF_IFD = 0x8769
DATETIME_ORIGINAL = 0x9003
DATETIME_DIGITIZED = 0x9004


@dataclass(frozen=True)
class CaptureTime:
    """Seconds since the epoch (local time, as cameras record it) and where it came from."""

    timestamp: float
    from_exif: bool


def parse_exif_datetime(text: object) -> float | None:
    """``"2024:05:03 19:22:41"`` → a POSIX timestamp (local time); None when unreadable."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    if not isinstance(text, str):
        return None
    text = text.strip().rstrip("\x00")
    for fmt in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y:%m:%d %H:%M"):
        try:
            return datetime.strptime(text[:19], fmt).timestamp()
        except ValueError:
            continue
    return None


def exif_seconds(exif: Image.Exif) -> float | None:
    """``DateTimeOriginal`` (or ``DateTimeDigitized``) of an open image's EXIF, in seconds.

    The camera's local clock read as if it were UTC, with sub-seconds when present: for
    differences between photos (near-duplicate bursts, ``curator.groups``).  Never raises.
    """
    try:
        ifd = exif.get_ifd(EXIF_IFD)
    except Exception:
        return None
    for tag, sub in ((DATETIME_ORIGINAL, 37521), (DATETIME_DIGITIZED, 37522)):
        raw = ifd.get(tag)
        if not isinstance(raw, str):
            continue
        try:
            t = datetime.strptime(raw.strip()[:19], "%Y:%m:%d %H:%M:%S").replace(tzinfo=UTC)
        except ValueError:
            continue
        frac = str(ifd.get(sub) or "").strip()
        return t.timestamp() + (float(f"0.{frac}") if frac.isdigit() else 0.0)
    return None


def capture_time(path: Path) -> CaptureTime:
    """EXIF ``DateTimeOriginal`` (then ``DateTimeDigitized``), falling back to the mtime.

    Never raises: an unreadable file gets its mtime, or 0 when even ``stat`` fails.
    """
    try:
        with Image.open(path) as im:
            exif = im.getexif().get_ifd(EXIF_IFD)
            for tag in (DATETIME_ORIGINAL, DATETIME_DIGITIZED):
                ts = parse_exif_datetime(exif.get(tag))
                if ts is not None:
                    return CaptureTime(ts, True)
    except Exception as exc:  # broken files are reported by the loader, not here
        log.debug("no EXIF date in %s: %s", path, exc)
    try:
        return CaptureTime(Path(path).stat().st_mtime, False)
    except OSError:
        return CaptureTime(0.0, False)
