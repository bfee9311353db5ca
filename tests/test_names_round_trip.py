"""Any file name the OS allows comes back out of ``--json``, ``--csv`` and ``picks.csv`` in a
form a program can map back to the very file (README "File names in picks.csv and JSON")."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, make_jpeg

SHARED_CASES = REPO.parent / "shared" / "cases"


def fs(name: bytes) -> str:
    """A name given as bytes, as Python holds it (surrogate escapes for non-UTF-8 bytes)."""
    return os.fsdecode(name)


def file_of(entry: dict[str, str], key: str = "path") -> bytes:
    """The file a JSON entry names: ``<key>_bytes`` (base64) when present, else the text."""
    if f"{key}_bytes" in entry:
        return base64.b64decode(entry[f"{key}_bytes"], validate=True)
    return entry[key].encode("utf-8")


def odd_folder(root: Path) -> set[bytes]:
    """Photos with Latin-1 names, a name that *is* a backslash and x, e and 8, a folder that
    is not UTF-8, and a broken file and a skipped file with Latin-1 names."""
    sub = root / fs("caf\xe9".encode("latin-1"))
    made = [make_jpeg(root / fs("cr\xe8me-br\xfbl\xe9e.jpg".encode("latin-1")), seed=1),
            make_jpeg(root / "cr\\xe8me-br\\xfbl\\xe9e.jpg", seed=2),  # literal backslashes
            make_jpeg(sub / "plat.jpg", seed=3),
            make_jpeg(root / "plain.jpg", seed=4)]
    broken = root / fs("tr\xfcb.jpg".encode("latin-1"))
    broken.write_bytes(b"not a photo")
    vector = root / fs("men\xfc.svg".encode("latin-1"))
    vector.write_text("<svg/>")
    return {os.fsencode(p) for p in [*made, broken, vector]}


def score_json(folder: Path, *extra: str) -> dict:
    run = subprocess.run([sys.executable, "-m", "curator", "score", str(folder), "--json",
                          "--no-cache", *extra], capture_output=True, text=True, timeout=300)
    assert run.returncode in (0, 1), run.stderr
    return json.loads(run.stdout)


@pytest.mark.slow
def test_every_name_round_trips_from_json_csv_and_picks_csv(tmp_path: Path) -> None:
    root = tmp_path / "photos"
    root.mkdir()
    expected = odd_folder(root)
    doc = score_json(root)
    named = {file_of(e) for e in (*doc["photos"], *doc["errors"], *doc["skipped"])}
    assert named == expected, "every file, each by its exact bytes"
    assert all(os.path.lexists(n) for n in named)
    assert file_of(doc, "folder") == os.fsencode(root.resolve())
    literal = next(p for p in doc["photos"] if p["path"].endswith("cr\\xe8me-br\\xfbl\\xe9e.jpg")
                   and "path_bytes" not in p)
    assert os.path.exists(literal["path"]), "a UTF-8 name is its text, backslashes and all"

    run = subprocess.run([sys.executable, "-m", "curator", "score", str(root), "--csv",
                          "--no-cache"], capture_output=True, text=True, timeout=300)
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    from curator.names import csv_uncell

    got = {base64.b64decode(r["path_bytes"]) if r["path_bytes"]
           else os.fsencode(os.path.abspath(csv_uncell(r["path"]))) for r in rows}
    assert got == expected

    dest = tmp_path / "best"
    subprocess.run([sys.executable, "-m", "curator", "export", str(root), "--top", "5",
                    "--to", str(dest), "--all-in-group", "--no-cache", "-q"], timeout=300,
                   capture_output=True)
    with open(dest / "picks.csv", newline="", encoding="utf-8") as fh:
        picks = list(csv.DictReader(fh))
    assert len(picks) == 4
    for r in picks:
        source = base64.b64decode(r["source_bytes"]) if r["source_bytes"] else \
            csv_uncell(r["source"]).encode("utf-8")
        copy = base64.b64decode(r["file_bytes"]) if r["file_bytes"] else \
            csv_uncell(r["file"]).encode("utf-8")
        assert source in expected
        assert os.path.exists(os.path.join(os.fsencode(dest), copy))


@pytest.mark.slow
def test_shared_case_non_utf8_name_round_trips_from_json(tmp_path: Path) -> None:
    make = SHARED_CASES / "non-utf8-name" / "make.py"
    if not make.is_file():
        pytest.skip("../shared/cases is not present")
    out = tmp_path / "photos"
    subprocess.run([sys.executable, str(make), str(out)], check=True, capture_output=True)
    on_disk = {os.path.join(os.fsencode(out), n) for n in os.listdir(os.fsencode(out))}
    doc = score_json(out)
    named = {file_of(e) for e in (*doc["photos"], *doc["errors"], *doc["skipped"])}
    assert named == on_disk and len(named) == 2


@pytest.mark.slow
def test_a_raw_copied_with_its_photo_round_trips_from_picks_csv(tmp_path: Path) -> None:
    from PIL import Image

    from tests.rawfiles import make_dng

    root = tmp_path / "card"
    root.mkdir()
    stem = fs("R\xe9_1".encode("latin-1"))
    pic = Image.open(REPO / "assets" / "samples" / "pizza.jpg").convert("RGB").resize((960, 768))
    pic.save(root / f"{stem}.JPG")
    make_dng(root / f"{stem}.DNG", pic)
    dest = tmp_path / "best"
    subprocess.run([sys.executable, "-m", "curator", "export", str(root), "--to", str(dest),
                    "--with-raw", "--no-cache", "-q"], timeout=300, capture_output=True,
                   check=True)
    with open(dest / "picks.csv", newline="", encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    raw = base64.b64decode(row["raw_bytes"])
    assert raw == os.fsencode(f"{stem}.DNG")
    assert os.path.exists(os.path.join(os.fsencode(dest), raw))
