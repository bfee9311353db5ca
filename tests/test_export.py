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


def test_export_twice_into_same_folder_loses_nothing_and_copies_nothing_twice(
    tmp_path: Path,
) -> None:
    src, dest = tmp_path / "src", tmp_path / "picks"
    ranked = _ranked(src, 6)
    before = tree_digest(src)
    first = export_top(ranked, dest, top=4)
    second = export_top(ranked, dest, top=4)
    assert tree_digest(src) == before
    assert len(first) == 4 and all(p.dest.read_bytes() == p.source.read_bytes() for p in first)
    # The same bytes are already there: not copied again, and said so (was: four "(2)" copies).
    assert len(second) == 0 and second.ok
    assert [(s, d.name) for s, d in second.already] == [(p.source, p.dest.name) for p in first]
    assert "4 already there (the same file), not copied again" in second.summary(dest)
    names = sorted(d.name for d in dest.iterdir() if d.suffix == ".jpg")
    assert names == ["dish0 (2).jpg", "dish0.jpg", "dish1 (2).jpg", "dish1.jpg"]
    rows = _rows(dest)
    assert len(rows) == 4 and [r["rank"] for r in rows] == ["1", "2", "3", "4"]
    assert {r["file"] for r in rows} == set(names)
    assert rows[0]["source"] == os.path.abspath(ranked[0].path)
    assert float(rows[0]["score"]) == 8.0 and float(rows[0]["ava_sd"]) == 1.0
    assert not [f for f in dest.iterdir() if f.name.startswith(".")], "no temp files left"
    # An original edited since is new bytes: it is copied again, beside the first copy.
    make_jpeg(ranked[0].path, 210, 150, seed=99)
    third = export_top(ranked, dest, top=1)
    assert len(third) == 1 and third[0].dest.name == "dish0 (3).jpg"


def test_rank_prefixes_number_the_copies_without_gaps(tmp_path: Path) -> None:
    ranked = _ranked(tmp_path / "src", 6)
    report = export_top(ranked, tmp_path / "out", 4, rank_prefix=True,
                        keep=lambda s: s is not ranked[1])  # the 2nd went with its stack
    assert [p.dest.name[:3] for p in report] == ["01 ", "02 ", "03 ", "04 "]
    assert [p.rank for p in report] == [1, 3, 4, 5], "picks.csv keeps the folder rank"


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
