"""What comparing a stack's frames decided is kept in the score cache: a re-opened folder reads
no frame again, and only a group whose photos changed (or a new version of the comparison) is
compared again.  Real photos: the bundled samples, four near-copies each."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import curator.bursts as bursts
from curator.cache import ScoreCache
from curator.cli import main
from tests.shoot import make_shoot, sample_sources

#: What a photo's JSON says about its stack.
STACK_FIELDS = ("path", "rank", "score", "group", "group_best", "reasons")


def _score(capsys: pytest.CaptureFixture[str], folder: Path) -> list[dict[str, Any]]:
    bursts.MEMO.clear()  # as a new process: nothing remembered in memory
    bursts.SPLIT_MEMO.clear()
    assert main(["score", str(folder), "--json", "-q"]) == 0
    return [{k: p.get(k) for k in STACK_FIELDS}
            for p in json.loads(capsys.readouterr().out)["photos"]]


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The first frame of each group whose frames were read to compare them."""
    seen: list[Path] = []
    real = bursts.measure_frames

    def counting(paths: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(Path(paths[0]))
        return real(paths, *args, **kwargs)

    monkeypatch.setattr(bursts, "measure_frames", counting)
    return seen


def test_a_reopened_folder_takes_its_stacks_from_the_cache_and_reads_no_frame(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, reads: list[Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    truth = make_shoot(sample_sources(), tmp_path / "shoot")
    first = _score(capsys, tmp_path / "shoot")
    groups = {p["group"] for p in first}
    assert len(groups) == len(set(truth.values())) and len(reads) >= len(groups)
    with ScoreCache.in_dir() as cache:
        assert cache._conn.execute("SELECT COUNT(*) FROM group_verdicts").fetchone()[0] \
            == len(groups)

    reads.clear()
    again = _score(capsys, tmp_path / "shoot")
    assert reads == []
    assert again == first

    # One photo re-saved: its group alone is compared again, the others stay remembered.
    changed = next(p for p in truth if truth[p] == 0 and p.name.endswith("take1.jpg"))
    with Image.open(changed) as im:
        im.convert("RGB").save(changed, "JPEG", quality=80)
    reads.clear()
    third = _score(capsys, tmp_path / "shoot")
    assert len(reads) == 1 and truth[reads[0]] == 0

    def others(photos: list[dict[str, Any]]) -> set[tuple[Any, ...]]:  # ranks may shift
        return {(p["path"], p["score"], p["group_best"], tuple(p["reasons"])) for p in photos
                if truth[Path(p["path"])] != 0}

    assert others(third) == others(first)

    # A new version of the comparison: nothing remembered by the old one is used.
    monkeypatch.setattr(bursts, "VERDICTS_VERSION", bursts.VERDICTS_VERSION + 1)
    reads.clear()
    assert _score(capsys, tmp_path / "shoot") == third
    assert len(reads) == len(groups)


def test_a_damaged_remembered_verdict_is_compared_again(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, reads: list[Path]) -> None:
    make_shoot(sample_sources()[:2], tmp_path / "shoot")
    first = _score(capsys, tmp_path / "shoot")
    with ScoreCache.in_dir() as cache:
        keys = [k for (k,) in cache._conn.execute("SELECT key FROM group_verdicts")]
        assert len(keys) == 2
        with cache._conn:
            cache._conn.execute("UPDATE group_verdicts SET verdicts = ? WHERE key = ?",
                                ('[{"order": [0, 0]}]', keys[0]))
            cache._conn.execute("UPDATE group_verdicts SET verdicts = ? WHERE key = ?",
                                ("not json", keys[1]))
    reads.clear()
    assert _score(capsys, tmp_path / "shoot") == first
    assert len(reads) == 2


def test_verdicts_round_trip_through_their_text() -> None:
    paths = [Path(f"/photos/take{i}.jpg") for i in range(4)]
    verdicts = (bursts.Verdict((paths[1], paths[0]), frozenset({paths[0]}),
                               {paths[0]: "softer", paths[1]: "sharpest"},
                               {paths[0]: 0.61, paths[1]: 1.0}),
                bursts.Verdict((paths[2],)), bursts.Verdict((paths[3],)))
    text = bursts.encode_verdicts(paths, verdicts)
    assert bursts.decode_verdicts(paths, text) == verdicts
    assert bursts.decode_verdicts(paths[:3], text) is None  # another group's text
    assert bursts.decode_verdicts([*paths, Path("/photos/new.jpg")], text) is None
