"""Scoring real files with the bundled model: good ones scored, broken ones reported."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from curator.scan import scan_folder
from curator.score import PhotoError, PhotoScore, Scorer, rank
from tests.conftest import tree_digest


def test_mixed_folder_scores_every_good_file_and_reports_every_broken_one(
    mixed_folder: tuple[Path, list[str], list[str]],
) -> None:
    root, good, broken = mixed_folder
    before = tree_digest(root)
    results = list(Scorer(batch_size=3).score(scan_folder(root)))
    scored = {r.path.relative_to(root).as_posix(): r for r in results if isinstance(r, PhotoScore)}
    errors = {r.path.name: r.reason for r in results if isinstance(r, PhotoError)}
    assert sorted(scored) == good
    assert sorted(errors) == broken
    assert "empty" in errors["empty.jpg"]
    assert "not a recognised" in errors["notes.jpg"]
    assert "truncated" in errors["truncated.jpg"]
    for s in scored.values():
        assert 1.0 <= s.mean <= 10.0 and s.sd > 0
        assert len(s.distribution) == 10 and sum(s.distribution) == pytest.approx(1, abs=1e-4)
    assert tree_digest(root) == before, "originals are never modified"


def test_scores_are_deterministic_and_batch_independent(
    mixed_folder: tuple[Path, list[str], list[str]],
) -> None:
    root, _, _ = mixed_folder
    paths = scan_folder(root)
    a = {r.path: r.mean for r in Scorer(batch_size=1).score(paths) if isinstance(r, PhotoScore)}
    b = {r.path: r.mean for r in Scorer(batch_size=16).score(paths) if isinstance(r, PhotoScore)}
    assert a.keys() == b.keys()
    for p in a:
        assert a[p] == pytest.approx(b[p], abs=1e-4)


def test_rank_orders_best_first_with_stable_ties() -> None:
    d = (0.1,) * 10
    rs = [PhotoScore(Path("b"), 5.0, 1, d), PhotoScore(Path("a"), 5.0, 1, d),
          PhotoScore(Path("c"), 6.0, 1, d), PhotoError(Path("x"), "bad")]
    assert [r.path.name for r in rank(rs)] == ["c", "a", "b"]


def test_cancel_stops_early(mixed_folder: tuple[Path, list[str], list[str]]) -> None:
    root, _, _ = mixed_folder
    seen: list[object] = []
    for r in Scorer(batch_size=1).score(scan_folder(root), cancelled=lambda: len(seen) >= 2):
        seen.append(r)
    assert 2 <= len(seen) < len(scan_folder(root))


def test_precision_choice_bf16_scores_follow_fp32_and_threads_are_restored(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """``--precision``/``CURATOR_PRECISION``: a bfloat16 backbone moves the bundled model's
    0-100 scores on the real sample photos by a few points at most and keeps their order
    close; torch's thread count is back where it was after scoring."""
    import numpy as np
    import torch
    from scipy.stats import spearmanr

    from curator import precision
    from curator.paths import SAMPLES_DIR

    photos = scan_folder(SAMPLES_DIR)
    assert len(photos) >= 10
    threads = torch.get_num_threads()
    runs = {}
    for choice in ("fp32", "bf16"):
        scorer = Scorer(cache=None, precision=choice)
        runs[choice] = {r.path: r.score for r in scorer.score(photos)
                        if isinstance(r, PhotoScore)}
        assert scorer._model.cpu_bf16 is (choice == "bf16")
        assert scorer.precision_used == choice
        assert torch.get_num_threads() == threads
    torch.set_num_threads(1)  # the user's own limit is never raised
    try:
        one = Scorer(cache=None, workers=1)
        one._ensure_model()
        assert one._infer_threads() == 1
    finally:
        torch.set_num_threads(threads)
    a = np.array([runs["fp32"][p] for p in photos], dtype=float)
    b = np.array([runs["bf16"][p] for p in photos], dtype=float)
    assert np.all((a >= 0) & (a <= 100))
    assert np.abs(a - b).max() < 5.0, np.abs(a - b)
    assert spearmanr(a, b).statistic > 0.95

    monkeypatch.setenv(precision.ENV, " Float32 ")
    assert Scorer(cache=None).precision == "fp32"
    monkeypatch.setenv(precision.ENV, "")
    with caplog.at_level(logging.WARNING, logger="curator.precision"):
        assert Scorer(cache=None).precision == "auto"
    assert not caplog.text, "an empty variable reads as unset"
    monkeypatch.setenv(precision.ENV, "nonsense")
    with caplog.at_level(logging.WARNING, logger="curator.precision"):
        assert Scorer(cache=None).precision == "auto"
    assert "CURATOR_PRECISION='nonsense' is not one of auto, fp32, bf16" in caplog.text
    with pytest.raises(ValueError):
        Scorer(cache=None, precision="fp8")
    assert precision.resolve("auto", "cuda") is False
    assert precision.resolve("bf16", "cpu") is True
    assert precision.resolve("auto", "cpu") is precision.native_cpu_bf16()
