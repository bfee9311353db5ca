"""The model file: a trained head plus everything needed to use it honestly.

Only the head's weights are stored; the backbone's come from its own package by name.  The
file is a plain dict of tensors and primitives, so ``torch.load(weights_only=True)`` opens it
without running any pickled code.  Its SHA-256 keys the score cache, so a new model never
reuses old scores.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from curator.backbones import get_spec
from curator.calibration import Calibration
from curator.fsutil import atomic_write_bytes
from curator.model import DCNN, SCORE_RANGE, Head, HeadConfig, build_dcnn
from curator.paths import ModelFileError, default_model_path, file_digest
from curator.preprocess import Preprocess
from curator.reasons import OUTPUT_PREFIX, measured_reasons, merge_reasons, pick_reasons

log = logging.getLogger(__name__)

__all__ = [
    "ModelFile",
    "ModelFileError",
    "default_model_path",
    "file_digest",
    "load_model_file",
    "save_model_file",
]

FORMAT_VERSION = 1
#: Version 2 adds ``backbone_state``: a backbone fine-tuned by ``train --finetune``.
FINETUNED_FORMAT_VERSION = 2
#: Version 3: the head has extra outputs (``HeadConfig.outputs``: the post-worthy logit and the
#: reasons), with ``calibration`` (logit -> 0-100 score) and ``reason_thresholds``.  Older
#: Curators refuse it with a clear message instead of misreading the wider head.
SCORED_FORMAT_VERSION = 3
READABLE_VERSIONS = (FORMAT_VERSION, FINETUNED_FORMAT_VERSION, SCORED_FORMAT_VERSION)
ARCH = "dcnn"


@dataclass
class ModelFile:
    """Contents of a model file, validated."""

    backbone: str
    head_config: HeadConfig
    head_state: dict[str, torch.Tensor]
    preprocess: Preprocess
    score_range: tuple[float, float] = SCORE_RANGE
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    #: Inference-form (batch norm folded) backbone weights, only when fine-tuned.
    backbone_state: dict[str, torch.Tensor] | None = None
    #: Post-worthy logit -> calibrated probability; None in files without that output.
    calibration: Calibration | None = None
    #: Logit threshold of each reason key the head reads (``curator.reasons``).
    reason_thresholds: dict[str, float] = field(default_factory=dict)
    #: Threshold of each classic rule (``curator.reasons.MEASURE_RULES``, by rule key); rules
    #: without one never fire.  Optional in version 3 files (older ones have none).
    measure_thresholds: dict[str, float] = field(default_factory=dict)

    @property
    def format_version(self) -> int:
        if self.head_config.outputs or self.calibration or self.reason_thresholds:
            return SCORED_FORMAT_VERSION
        return FINETUNED_FORMAT_VERSION if self.backbone_state else FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        scored = self.format_version == SCORED_FORMAT_VERSION
        return {
            "format_version": self.format_version,
            "arch": ARCH,
            "backbone": self.backbone,
            "config": {"head": self.head_config.to_dict(), "preprocess": self.preprocess.to_dict()},
            "state_dict": {k: v.detach().cpu().clone() for k, v in self.head_state.items()},
            "score_range": list(self.score_range),
            "training": plain(self.training),
            "metrics": plain(self.metrics),
        } | ({"calibration": plain(self.calibration.to_dict()) if self.calibration else None,
              "reason_thresholds": {str(k): float(v) for k, v in self.reason_thresholds.items()},
              "measure_thresholds": {str(k): float(v)
                                     for k, v in self.measure_thresholds.items()}}
             if scored else {}) | ({"backbone_state": {k: v.detach().cpu().clone()
                                 for k, v in self.backbone_state.items()}}
             if self.backbone_state else {})

    def read_outputs(self, logits: dict[str, float], measures: dict[str, float] | None = None
                     ) -> tuple[float | None, tuple[str, ...]]:
        """(0–100 score or None, reasons) from one photo's extra head logits, by output name.

        The score is the calibrated post-worthy probability x 100 (a plain sigmoid if the file
        has no calibration); reasons are those whose logit reaches the stored threshold, then
        those a classic rule gives from ``measures`` (``curator.measures``), if any.
        """
        score = None
        z = logits.get("postworthy")
        if z is not None:
            score = (self.calibration.score(z) if self.calibration is not None
                     else 100.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z)))))
        reasons = pick_reasons({n[len(OUTPUT_PREFIX):]: v for n, v in logits.items()
                                if n.startswith(OUTPUT_PREFIX)}, self.reason_thresholds)
        if measures and self.measure_thresholds:
            reasons = merge_reasons(reasons, measured_reasons(measures, self.measure_thresholds))
        return score, reasons

    def build(self, pretrained: bool = True) -> DCNN:
        """The scoring model this file describes, in eval mode."""
        model = build_dcnn(self.backbone, self.head_config, self.preprocess, pretrained)
        model.head.load_state_dict(self.head_state)
        if self.backbone_state:
            model.backbone.load_state_dict(self.backbone_state)
        return model.eval()


def save_model_file(path: Path, mf: ModelFile) -> str:
    """Write ``mf`` atomically; returns the new file's digest."""
    buf = io.BytesIO()
    torch.save(mf.to_dict(), buf)
    data = buf.getvalue()
    atomic_write_bytes(Path(path), data)
    return hashlib.sha256(data).hexdigest()


def load_model_file(path: Path) -> ModelFile:
    """Read and validate a model file; every failure is one clear ``ModelFileError``."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path}")
    if not _looks_like_torch_file(path):
        raise ModelFileError(not_a_model_message(path))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's pickle-protocol notes are not for users
            raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        # Never pass on PyTorch's text: it advises weights_only=False, i.e. running code
        # from an untrusted file.  The detail goes to the log only.
        log.info("cannot load %s: %s", path, _one_line(exc))
        raise ModelFileError(not_a_model_message(path)) from exc
    if not isinstance(raw, dict) or raw.get("arch") != ARCH:
        raise ModelFileError(not_a_model_message(path))
    version = raw.get("format_version")
    if version not in READABLE_VERSIONS:
        raise ModelFileError(
            f"{path} has format_version {version!r}; this Curator reads "
            f"{', '.join(map(str, READABLE_VERSIONS))}"
        )
    try:
        get_spec(raw["backbone"])
        mf = ModelFile(
            backbone=raw["backbone"],
            head_config=HeadConfig.from_dict(raw["config"]["head"]),
            head_state=dict(raw["state_dict"]),
            preprocess=Preprocess.from_dict(raw["config"]["preprocess"]),
            score_range=(float(raw["score_range"][0]), float(raw["score_range"][1])),
            training=dict(raw.get("training", {})),
            metrics=dict(raw.get("metrics", {})),
            backbone_state=dict(raw["backbone_state"]) if "backbone_state" in raw else None,
            calibration=(Calibration.from_dict(raw["calibration"])
                         if raw.get("calibration") else None),
            reason_thresholds={str(k): float(v)
                               for k, v in (raw.get("reason_thresholds") or {}).items()},
            measure_thresholds={str(k): float(v)
                                for k, v in (raw.get("measure_thresholds") or {}).items()},
        )
        # Catch a head/state mismatch now, not halfway through a scan.
        Head(mf.head_config).load_state_dict(mf.head_state)
        if mf.backbone_state:
            from curator.backbones import build_backbone

            build_backbone(mf.backbone, pretrained=False).load_state_dict(mf.backbone_state)
    except Exception as exc:
        # Curator's words, never Python's ("KeyError: 174812789"); the detail is logged.
        log.info("model file %s is inconsistent: %s", path, _one_line(exc))
        what = (f"it lacks the entry {exc.args[0]!r}" if isinstance(exc, KeyError) and exc.args
                else "its parts do not fit together")
        raise ModelFileError(
            f"model file {path} is incomplete or inconsistent ({what}). Curator models are the "
            "model.pt files Curator itself makes (Model ▸ Retrain) or ships with."
        ) from exc
    return mf


def not_a_model_message(path: Path) -> str:
    """Curator's own words for "this file is not a model it can use"."""
    return (f"{path} is corrupt or not a Curator model file. Curator models are the "
            "model.pt files Curator itself makes (Model ▸ Retrain) or ships with.")


def _looks_like_torch_file(path: Path) -> bool:
    """A zip archive (torch.save's format) or a legacy pickle, by the first bytes."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError:
        return False
    return head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"


def plain(obj: Any) -> Any:
    """Nested dicts/lists of str, int, float, bool and None only (numpy scalars converted).

    ``torch.load(weights_only=True)`` refuses any other global, so one stray ``np.float64``
    in a metrics dict would make the whole model file unloadable.
    """
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [plain(v) for v in obj]
    if obj is None:
        return None
    if hasattr(obj, "item") and not isinstance(obj, str):  # numpy scalars (np.float64 too)
        obj = obj.item()
    for kind in (bool, int, float, str):  # builtin types, never their numpy subclasses
        if isinstance(obj, kind):
            return kind(obj)
    return str(obj)


def _one_line(exc: BaseException) -> str:
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {first}"
