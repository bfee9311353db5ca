"""The command line, run in-process on real files (and as a real subprocess once)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from curator.cli import main
from tests.conftest import REPO, make_jpeg, tree_digest


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_score_json_ranks_good_files_and_lists_broken_ones(
    capsys: pytest.CaptureFixture[str], mixed_folder: tuple[Path, list[str], list[str]]
) -> None:
    root, good, broken = mixed_folder
    code, out, _ = run(capsys, "score", str(root), "--json", "-q")
    assert code == 1, "exit 1: the run finished but some files could not be scored"
    doc = json.loads(out)
    photos = doc["photos"]
    assert [p["rank"] for p in photos] == list(range(1, len(good) + 1))
    assert sorted(Path(p["path"]).relative_to(root).as_posix() for p in photos) == good
    scores = [p["score"] for p in photos]
    assert scores == sorted(scores, reverse=True), "ranked by the 0-100 score"
    assert all(p["sd"] > 0 and len(p["distribution"]) == 10 for p in photos)
    assert sorted(Path(e["path"]).name for e in doc["errors"]) == broken
    assert all(e["reason"] for e in doc["errors"])
    # Second run: everything from the cache, same ranking.
    _, out2, _ = run(capsys, "score", str(root), "--json", "-q")
    again = json.loads(out2)["photos"]
    assert all(p["cached"] for p in again)
    assert [p["path"] for p in again] == [p["path"] for p in photos]


def test_score_csv_and_table(
    capsys: pytest.CaptureFixture[str], mixed_folder: tuple[Path, list[str], list[str]]
) -> None:
    root, good, broken = mixed_folder
    _, out, _ = run(capsys, "score", str(root), "--csv", "-q")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == len(good) + len(broken)
    assert [r["error"] for r in rows[len(good):]] and all(r["error"] for r in rows[len(good):])
    _, table, _ = run(capsys, "score", str(root), "--top", "3", "-q")
    lines = table.splitlines()
    assert lines[0].split() == ["Rank", "Score", "Why", "not", "higher", "File"]
    assert [ln.split()[0] for ln in lines[1:4]] == ["1", "2", "3"]
    scores = [int(ln.split()[1]) for ln in lines[1:4]]
    assert all(0 <= s <= 100 for s in scores) and scores == sorted(scores, reverse=True)
    assert "±" not in lines[1], "the grid and table show the 0-100 score, not mean ± sd"
    assert f"{len(broken)} file(s) could not be scored" in table
    assert "truncated.jpg: truncated" in table


def test_export_cli_twice(
    capsys: pytest.CaptureFixture[str], mixed_folder: tuple[Path, list[str], list[str]],
    tmp_path: Path,
) -> None:
    root, _, _ = mixed_folder
    before = tree_digest(root)
    dest = tmp_path / "best"
    outs = []
    for _ in range(2):
        # --all-in-group: these generated gradients are near-copies of each other.
        code, out, _ = run(capsys, "export", str(root), "--top", "3", "--to", str(dest), "-q",
                           "--all-in-group")
        assert code == 1  # 1: mixed_folder has broken files
        outs.append(out)
    assert "Exported 3 photo(s)" in outs[0]
    assert "Exported 0 photo(s)" in outs[1] and outs[1].count("already there") == 3
    assert len([p for p in dest.iterdir() if p.suffix in (".jpg", ".png")]) == 3
    assert len((dest / "picks.csv").read_text().splitlines()) == 1 + 3
    assert tree_digest(root) == before


def test_clear_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "score", str(tmp_path / "nope"))
    assert code == 2 and "not a folder" in err
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a model")
    make_jpeg(tmp_path / "photos" / "a.jpg")
    code, _, err = run(capsys, "score", str(tmp_path / "photos"), "--model", str(bad))
    assert code == 2 and "is corrupt or not a curator model" in err.lower()
    assert err.count("\n") == 1, "one clear line, no traceback"
    code, _, err = run(capsys, "score", str(tmp_path / "photos"), "--model",
                       str(tmp_path / "missing.pt"))
    assert code == 2 and "model file not found" in err


def test_ava_sample_ranked_with_mean_and_sd(shared_data: Path, tmp_path: Path) -> None:
    """The issue's check, as a user runs it: a real process on the 85 real AVA photos."""
    proc = subprocess.run(
        [sys.executable, "-m", "curator", "score", str(shared_data / "ava-sample/images"),
         "--json", "--cache-dir", str(tmp_path / "cache")],
        capture_output=True, text=True, cwd=REPO, timeout=600, check=True,
    )
    doc = json.loads(proc.stdout)
    assert len(doc["photos"]) == 85 and doc["errors"] == []
    assert len({p["mean"] for p in doc["photos"]}) > 80, "scores differ photo to photo"
    assert all(1 <= p["mean"] <= 10 and p["sd"] > 0 for p in doc["photos"])


def test_precision_option_spellings_and_what_the_json_says(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``--precision`` takes auto/fp32/bf16 in any case (and float32/bfloat16); the JSON says
    what the run computed in, and null when every score came from the cache."""
    src = tmp_path / "photos"
    for i in range(3):
        make_jpeg(src / f"dish{i}.jpg", 320 + 16 * i, 240, seed=i)
    cache = str(tmp_path / "cache")
    code, out, _ = run(capsys, "score", str(src), "--json", "-q", "--cache-dir", cache,
                       "--precision", " Float32")
    assert code == 0 and json.loads(out)["model"]["precision"] == "fp32"
    code, out, _ = run(capsys, "score", str(src), "--json", "-q", "--cache-dir", cache,
                       "--precision", "BFLOAT16")
    doc = json.loads(out)
    assert code == 0 and doc["model"]["precision"] is None
    assert all(p["cached"] for p in doc["photos"])
    code, out, _ = run(capsys, "score", str(src), "--json", "-q", "--no-cache",
                       "--precision", "bf16")
    assert json.loads(out)["model"]["precision"] == "bf16"


def test_folder_shortcut_opens_the_window_with_its_options(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``curator FOLDER`` and ``curator --precision fp32 FOLDER`` open the window (as
    ``curator gui …``); the window's scorer gets the precision through the environment."""
    import curator.cli as cli
    from curator import precision

    opened: list[tuple[Path | None, str | None]] = []
    monkeypatch.setattr(cli, "cmd_gui", lambda folder: opened.append(
        (folder, os.environ.get(precision.ENV))) or 0)
    monkeypatch.setenv(precision.ENV, "auto")  # restored after the test: main() changes it
    assert main([str(tmp_path)]) == 0
    assert main(["--precision", "Float32", str(tmp_path)]) == 0
    assert opened == [(tmp_path, "auto"), (tmp_path, "fp32")]
    with pytest.raises(SystemExit) as usage:
        main(["--precision", "fp8", str(tmp_path)])
    assert usage.value.code == 2
