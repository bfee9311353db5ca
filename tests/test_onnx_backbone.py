"""The float32 backbone in ONNX Runtime (``curator.onnx_backbone``) scores like torch's.

Real photos (the bundled samples), the real bundled model; the exported graph lives in the
session's engine folder (``tests/conftest.py``), so it is exported once per test session.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from curator import onnx_backbone
from curator.paths import SAMPLES_DIR
from curator.scan import scan_folder
from curator.score import PhotoScore, Scorer


def _scores(scorer: Scorer) -> dict[Path, PhotoScore]:
    return {r.path: r for r in scorer.score(scan_folder(SAMPLES_DIR))
            if isinstance(r, PhotoScore)}


def test_onnx_runtime_backbone_gives_torchs_scores_reasons_and_groups(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(onnx_backbone.RUNTIME_ENV, "torch")
    in_torch = Scorer(cache=None, precision="fp32")
    want = _scores(in_torch)
    assert in_torch.runtime == "torch float32"
    monkeypatch.delenv(onnx_backbone.RUNTIME_ENV)
    in_ort = Scorer(cache=None, precision="fp32")
    got = _scores(in_ort)
    assert in_ort.runtime == "onnxruntime float32"
    assert len(want) >= 10 and want.keys() == got.keys()
    for p, w in want.items():
        g = got[p]
        assert w.score is not None and g.score is not None
        assert abs(w.score - g.score) < 0.01, (p.name, w.score, g.score)
        assert abs(w.mean - g.mean) < 1e-3
        assert w.reasons == g.reasons, p.name
        emb_w = np.asarray(w.embedding, np.float32)
        emb_g = np.asarray(g.embedding, np.float32)
        assert np.abs(emb_w - emb_g).max() < 2e-3  # float16 embeddings: a step or two


def test_the_export_is_kept_reused_and_a_damaged_one_exported_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    first = Scorer(cache=None, precision="fp32")
    first._ensure_model()
    kept = first._onnx.path
    assert kept is not None and kept.is_file() and kept.parent == onnx_backbone.engine_dir()
    with caplog.at_level(logging.INFO, logger="curator.onnx_backbone"):
        again = Scorer(cache=None, precision="fp32")
        again._ensure_model()
    assert again._onnx.path == kept and "exported" not in caplog.text  # read, not exported
    # A damaged file in another engine folder: exported again, with a warning, and replaced.
    monkeypatch.setenv(onnx_backbone.DIR_ENV, str(tmp_path))
    shutil.copyfile(kept, tmp_path / kept.name)
    (tmp_path / kept.name).write_bytes(b"not an onnx graph")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="curator.onnx_backbone"):
        fresh = Scorer(cache=None, precision="fp32")
        fresh._ensure_model()
    assert "does not load" in caplog.text and "exported efficientnet-lite0-ml" in caplog.text
    assert fresh.runtime == "onnxruntime float32"
    assert (tmp_path / kept.name).read_bytes() == kept.read_bytes()


def test_bfloat16_and_the_torch_setting_keep_the_backbone_in_torch(
        monkeypatch: pytest.MonkeyPatch) -> None:
    bf16 = Scorer(cache=None, precision="bf16")
    bf16._ensure_model()
    assert bf16.runtime == "torch bfloat16" and bf16._onnx is None
    monkeypatch.setenv(onnx_backbone.RUNTIME_ENV, " Torch ")
    fp32 = Scorer(cache=None, precision="fp32")
    fp32._ensure_model()
    assert fp32.runtime == "torch float32"
