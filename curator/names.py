"""File names in text formats: any name the OS allows, written as valid UTF-8.

On Linux a file name is bytes; Python holds bytes that are not UTF-8 (Latin-1 names from old
FAT media, zip archives, Samba shares) as lone surrogates (PEP 383), which cannot be encoded
to UTF-8: SQLite, ``csv`` and ``json`` writers raise on them.  Curator's rule, documented in
README ("File names in picks.csv and JSON"):

* **Text** (``picks.csv``, JSON ``path``, CSV/console output): the name's bytes decoded as
  UTF-8, each byte that is not part of valid UTF-8 written as ``\\xNN`` (Python's
  ``backslashreplace``).  ``cr\\xe8me.jpg`` is the Latin-1 name ``crème.jpg``.  Valid UTF-8
  names are written unchanged.
* **Exact bytes**, only for names that are not valid UTF-8: JSON records add ``path_bytes``,
  the base64 of the full path's bytes (``os.fsencode``), so a program can reopen the file.
* **Score cache key**: the path as text when it is valid UTF-8 (as before), else its raw
  bytes as an SQLite BLOB, so two names never share a key.
"""

from __future__ import annotations

import base64
import csv
import io
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO


def path_bytes(path: Path | str) -> bytes:
    """The path exactly as the OS holds it (``os.fsencode``)."""
    return os.fsencode(path)


def is_utf8(path: Path | str) -> bool:
    """True when the path's bytes are valid UTF-8 (then ``str(path)`` is safe everywhere)."""
    try:
        path_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def path_text(path: Path | str) -> str:
    """Printable, UTF-8-safe text for a path; undecodable bytes become ``\\xNN``."""
    return path_bytes(path).decode("utf-8", "backslashreplace")


def path_bytes_b64(path: Path | str) -> str | None:
    """Base64 of the path's bytes when the name is not valid UTF-8, else ``None``."""
    if is_utf8(path):
        return None
    return base64.b64encode(path_bytes(path)).decode("ascii")


def db_key(path: str) -> str | bytes:
    """A cache key for an absolute path: text if valid UTF-8, else the raw bytes (a BLOB)."""
    return path if is_utf8(path) else path_bytes(path)


#: Characters a terminal acts on instead of printing: C0/C1 controls, DEL, and the Unicode
#: bidirectional overrides/isolates that reorder what is shown (``evil\u202egpj.jpg``).
_BIDI = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROL_ESCAPES = {
    **{c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))},
    **{ord(c): f"\\u{ord(c):04x}" for c in _BIDI},
    ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t",
}


def display_text(path: Path | str) -> str:
    """``path_text`` for a terminal or a message: control characters escaped.

    A newline, carriage return, tab, escape (``\\x1b``, the start of ANSI colour and
    cursor sequences), any other C0/C1 control and the bidi overrides are written as
    ``\\n``, ``\\r``, ``\\t``, ``\\x1b``, ``\\u202e``, so a file name can neither forge lines
    nor restyle the terminal.  Only for human-readable text: JSON and CSV keep names exact.
    """
    return path_text(path).translate(_CONTROL_ESCAPES)


#: First characters a spreadsheet takes as the start of a formula (OWASP "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """``text`` made safe for a spreadsheet: ``'`` put before a formula-like start.

    OWASP's CSV-injection advice: a cell starting with ``=``, ``+``, ``-``, ``@``, tab or
    carriage return gets a leading ``'``.  So that the rule can be undone exactly
    (``csv_uncell``), a cell that already starts with ``'``s followed by one of those gets
    one more.  Every other text is written unchanged.
    """
    return "'" + text if text.lstrip("'").startswith(_FORMULA_START) else text


def csv_uncell(cell: str) -> str:
    """The text ``csv_cell`` was given: one leading ``'`` removed where it added one."""
    if cell.startswith("'") and cell.lstrip("'").startswith(_FORMULA_START):
        return cell[1:]
    return cell


class CsvLines:
    """A ``csv.writer`` that ends rows with ``\\n`` and still quotes a lone ``\\r`` or ``\\n``.

    ``csv.writer(lineterminator="\\n")`` leaves a field holding a carriage return unquoted
    (it only quotes characters of its own line terminator), so a name like ``cr\\rret.jpg``
    would break the file for every reader.  Rows are formatted with ``\\r\\n`` (so both are
    quoted) and written ending in ``\\n``.  ``out``: any text stream.
    """

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._buf = io.StringIO()
        self._writer = csv.writer(self._buf, lineterminator="\r\n")

    def writerow(self, row: Iterable[object]) -> None:
        self._buf.seek(0)
        self._buf.truncate()
        self._writer.writerow(row)
        self._out.write(self._buf.getvalue()[:-2] + "\n")
