"""Export: top-N copies, never overwriting, originals untouched, picks.csv keeps every row."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from curator.export import PICKS_CSV, copy_no_overwrite, export_top, select_top
from curator.score import PhotoScore
from tests.conftest import make_jpeg, tree_digest


def _ranked(root: Path, n: int) -> list[PhotoScore]:
    out = []
    for i in range(n):
        # Same file name in different folders: the export must keep both.
        p = make_jpeg(root / f"day{i % 2}" / f"dish{i // 2}.jpg", 200, 150, seed=i)
        out.append(PhotoScore(p, 8.0 - i * 0.5, 1.0, (0.1,) * 10))
    return out


def _rows(dest: Path) -> list[dict[str, str]]:
    with open(dest / PICKS_CSV, newline="") as fh:
        return list(csv.DictReader(fh))


def test_export_twice_into_same_folder_loses_nothing(tmp_path: Path) -> None:
    src, dest = tmp_path / "src", tmp_path / "picks"
    ranked = _ranked(src, 6)
    before = tree_digest(src)
    first = export_top(ranked, dest, top=4)
    second = export_top(ranked, dest, top=4)
    assert tree_digest(src) == before
    dests = [p.dest for p in first + second]
    assert len(set(dests)) == 8 and all(d.is_file() for d in dests)
    for p in first + second:
        assert p.dest.read_bytes() == p.source.read_bytes()
    names = sorted(d.name for d in dest.iterdir() if d.suffix == ".jpg")
    assert names == ["dish0 (2).jpg", "dish0 (3).jpg", "dish0 (4).jpg", "dish0.jpg",
                     "dish1 (2).jpg", "dish1 (3).jpg", "dish1 (4).jpg", "dish1.jpg"]
    rows = _rows(dest)
    assert len(rows) == 8
    assert [r["rank"] for r in rows] == ["1", "2", "3", "4"] * 2
    assert {r["file"] for r in rows} == set(names)
    assert rows[0]["source"] == os.path.abspath(ranked[0].path)
    assert float(rows[0]["score"]) == 8.0 and float(rows[0]["ava_sd"]) == 1.0
    assert not [f for f in dest.iterdir() if f.name.startswith(".")], "no temp files left"


def test_min_score_and_top(tmp_path: Path) -> None:
    ranked = _ranked(tmp_path / "src", 6)
    assert [r for r, _ in select_top(ranked, 10, min_score=6.6)] == [1, 2, 3]
    assert [r for r, _ in select_top(ranked, 2)] == [1, 2]
    assert export_top(ranked, tmp_path / "none", top=3, min_score=99) == []
    assert not (tmp_path / "none" / PICKS_CSV).exists()


def test_copy_never_overwrites_an_existing_file(tmp_path: Path) -> None:
    src = make_jpeg(tmp_path / "a.jpg", seed=1)
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "a.jpg").write_bytes(b"someone else's file")
    got, _raw = copy_no_overwrite(src, dest)
    assert got.name == "a (2).jpg"
    assert (dest / "a.jpg").read_bytes() == b"someone else's file"
