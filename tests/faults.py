"""Builders for the fault corpus (tests/test_faults*.py): all generated in tmp_path.

Includes a small ICC v2 matrix/TRC profile writer, so wide-gamut photos carry real
Display P3, Adobe RGB and ProPhoto profiles built from their published primaries.
"""

from __future__ import annotations

import contextlib
import os
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

D50 = (0.9642, 1.0, 0.8249)
#: D50-adapted XYZ of the red, green, blue primaries, and the transfer curve.
PROFILES: dict[str, tuple[tuple[tuple[float, float, float], ...], str]] = {
    "Display P3": (((0.5151, 0.2412, -0.0011), (0.2919, 0.6922, 0.0419),
                    (0.1571, 0.0666, 0.7841)), "srgb"),
    "Adobe RGB (1998)": (((0.6097, 0.3111, 0.0195), (0.2053, 0.6257, 0.0609),
                          (0.1492, 0.0632, 0.7446)), "gamma2.2"),
    "ProPhoto RGB": (((0.7977, 0.2880, 0.0000), (0.1352, 0.7119, 0.0000),
                      (0.0313, 0.0001, 0.8249)), "gamma1.8"),
}


def _s15f16(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz(xyz: tuple[float, ...]) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15f16(v) for v in xyz)


def _curve(kind: str) -> bytes:
    if kind.startswith("gamma"):
        g = float(kind[5:])
        return b"curv\0\0\0\0" + struct.pack(">IH", 1, round(g * 256)) + b"\0\0"
    vals = []
    for i in range(1024):
        x = i / 1023
        vals.append(round((x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4) * 65535))
    data = b"curv\0\0\0\0" + struct.pack(f">I{len(vals)}H", len(vals), *vals)
    return data + b"\0" * (-len(data) % 4)


def _desc(text: str) -> bytes:
    a = text.encode("ascii") + b"\0"
    return b"desc\0\0\0\0" + struct.pack(">I", len(a)) + a + b"\0" * 8 + b"\0\0\0" + b"\0" * 67


def icc_profile(name: str) -> bytes:
    """An ICC v2 RGB display profile for one of ``PROFILES``."""
    (r, g, b), trc = PROFILES[name]
    curve = _curve(trc)
    return _profile(b"RGB ", [(b"desc", _desc(name)), (b"cprt", b"text\0\0\0\0test\0"),
                              (b"wtpt", _xyz(D50)), (b"rXYZ", _xyz(r)), (b"gXYZ", _xyz(g)),
                              (b"bXYZ", _xyz(b)), (b"rTRC", curve), (b"gTRC", curve),
                              (b"bTRC", curve)])


def grey_profile(trc: str = "gamma1.8") -> bytes:
    """An ICC v2 grey display profile (``GRAY`` colour space, one ``kTRC`` curve)."""
    return _profile(b"GRAY", [(b"desc", _desc(f"Grey {trc}")), (b"cprt", b"text\0\0\0\0test\0"),
                              (b"wtpt", _xyz(D50)), (b"kTRC", _curve(trc))])


def _profile(space: bytes, tags: list[tuple[bytes, bytes]]) -> bytes:
    offset = 128 + 4 + 12 * len(tags)
    table, blob, placed = b"", b"", {}
    for sig, data in tags:
        data += b"\0" * (-len(data) % 4)
        if data not in placed:
            placed[data] = offset + len(blob)
            blob += data
        table += sig + struct.pack(">II", placed[data], len(data))
    body = struct.pack(">I", len(tags)) + table + blob
    header = (struct.pack(">I", 128 + len(body)) + b"lcms" + struct.pack(">I", 0x02100000)
              + b"mntr" + space + b"XYZ " + struct.pack(">6H", 2026, 1, 1, 0, 0, 0) + b"acsp"
              + b"\0" * 24 + struct.pack(">I", 0) + b"".join(_s15f16(v) for v in D50)
              + b"\0" * 48)
    assert len(header) == 128
    return header + body


@contextlib.contextmanager
def read_only_dir(path: Path) -> Iterator[Path]:
    """``path`` made unwritable: chmod for a normal user, a read-only bind mount for root."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        os.chmod(path, 0o555)
        try:
            yield path
        finally:
            os.chmod(path, 0o755)
        return
    try:
        subprocess.run(["mount", "--bind", str(path), str(path)], check=True,
                       capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("root without mount(8): cannot make a read-only folder")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(path)], check=True,
                       capture_output=True)
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=False, capture_output=True)
