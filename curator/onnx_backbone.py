"""The frozen backbone run by ONNX Runtime on CPUs without native bfloat16.

On the 2-core AMD EPYC (Zen 3, AVX2, no AVX512-BF16) the float32 EfficientNet-Lite0 took
33-44 ms of CPU per 224 px view in torch eager and 16-20 ms in ONNX Runtime, the same
numbers to 4e-7 of the largest feature (``scripts/bench_score.py`` prints both in one run).
Two things make the difference: torch picks its slow im2col path for the 1x1 convolutions
when it runs on one thread ("THNN is faster single-threaded", not so in channels-last), and
each of the ~50 ops per call takes the GIL back from the decode threads; ONNX Runtime fuses
the graph and runs a whole call without the GIL.

The graph is exported once per backbone (its weights, normalisation, torch version and
``EXPORT_VERSION`` make the key) with ``torch.onnx.export`` and kept in ``engine_dir()``
(``$CURATOR_ENGINE_DIR``, else ``backbones/`` in the cache folder); the export is checked
against torch on a fixed batch before it is kept.  Anything that goes wrong (no ``onnx`` or
``onnxruntime``, an export or a check that fails, a file that will not load) is logged and
the backbone stays in torch.  ``CURATOR_BACKBONE_RUNTIME=torch`` keeps it in torch always.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from curator.paths import default_cache_dir

log = logging.getLogger(__name__)

#: Bumped whenever the exported graph would differ for the same weights.
EXPORT_VERSION = 1
RUNTIME_ENV = "CURATOR_BACKBONE_RUNTIME"
DIR_ENV = "CURATOR_ENGINE_DIR"
#: Backbones exported (their weights are small; VGG-16's 500 MB stay in torch).
EXPORTABLE = ("efficientnet-lite0", "efficientnet-lite0-ml")
#: Views per call, as the torch path (``curator.model.CPU_VIEW_CHUNK``): small calls keep the
#: feature maps in cache.
CHUNK = 4
#: The export must give torch's features to this share of their largest magnitude.
TOLERANCE = 1e-4


def engine_dir() -> Path:
    """Where exported backbones are kept: ``$CURATOR_ENGINE_DIR``, else
    ``<cache folder>/backbones``."""
    env = os.environ.get(DIR_ENV)
    return Path(env).expanduser() if env else default_cache_dir() / "backbones"


def wanted() -> bool:
    """False when ``CURATOR_BACKBONE_RUNTIME`` is ``torch`` (any case)."""
    return os.environ.get(RUNTIME_ENV, "").strip().lower() != "torch"


def _key(model: Any, backbone: str) -> str:
    """SHA-256 (hex, first 24) of what the exported graph computes: the backbone's name and
    weights (a fine-tuned one too), the views' normalisation, torch and ``EXPORT_VERSION``."""
    import torch

    h = hashlib.sha256(f"{backbone}|{EXPORT_VERSION}|{torch.__version__}".encode())
    h.update(model._mean.numpy().tobytes() + model._std.numpy().tobytes())
    for name, t in model.backbone.state_dict().items():
        h.update(name.encode())
        h.update(t.detach().contiguous().cpu().numpy().tobytes())
    return h.hexdigest()[:24]


def _prepped(model: Any) -> Any:
    """The module that is exported: uint8 NHWC views -> normalised -> backbone features."""
    import torch

    class Prepped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, views: torch.Tensor) -> torch.Tensor:
            return self.model.backbone(self.model._prep(views))

    return Prepped().eval()


def _check_views() -> np.ndarray:
    """A fixed batch of photo-like uint8 views (CHUNK, 224, 224, 3) for the export check."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:224, 0:224].astype(np.float32)
    base = np.stack([xx, yy, 224 - xx], axis=-1)[None] * (255 / 224)
    noise = rng.normal(0, 20, (CHUNK, 224, 224, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def _torch_features(model: Any, views: np.ndarray) -> np.ndarray:
    import torch

    with torch.inference_mode():
        return model.backbone(model._prep(torch.from_numpy(views))).float().numpy()


def _export(model: Any) -> bytes:
    import torch

    example = torch.from_numpy(_check_views())
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notes
        out = Path(tmp) / "backbone.onnx"
        torch.onnx.export(_prepped(model), (example,), out, dynamo=False,
                          input_names=["views"], output_names=["features"],
                          dynamic_axes={"views": {0: "n"}, "features": {0: "n"}},
                          opset_version=17)
        return out.read_bytes()


class OnnxBackbone:
    """A backbone in an ONNX Runtime session: ``embed`` maps (N, 224, 224, 3) uint8 views to
    (N, feature_dim) float32 features, as ``DCNN.embed`` does in float32."""

    def __init__(self, session: Any, path: Path | None) -> None:
        self.session = session
        self.path = path

    @classmethod
    def open(cls, source: Path | bytes, threads: int) -> OnnxBackbone:
        """A session on the exported graph (a file, or its bytes) with ``threads`` intra-op
        threads (no spinning: idle pool threads would take the decode threads' cores).  Raises
        on a graph ONNX Runtime cannot load."""
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = max(1, threads)
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        so.log_severity_level = 3
        what = str(source) if isinstance(source, Path) else source
        session = ort.InferenceSession(what, so, providers=["CPUExecutionProvider"])
        return cls(session, source if isinstance(source, Path) else None)

    def embed(self, views: np.ndarray) -> np.ndarray:
        """Features of ``views`` ((N, 224, 224, 3) uint8), (N, feature_dim) float32, in calls
        of ``CHUNK`` views."""
        views = np.ascontiguousarray(views, dtype=np.uint8)
        if len(views) == 0:
            return np.zeros((0, self.session.get_outputs()[0].shape[1]), np.float32)
        out = [self.session.run(None, {"views": views[i:i + CHUNK]})[0]
               for i in range(0, len(views), CHUNK)]
        return np.concatenate(out).astype(np.float32, copy=False)


def load(model: Any, backbone: str, threads: int) -> OnnxBackbone | None:
    """The ONNX Runtime form of ``model``'s backbone (a ``curator.model.DCNN`` on the CPU in
    float32), exporting and checking it on first use; None where it cannot be had (module
    docstring), and then the caller keeps the torch backbone."""
    if not wanted() or backbone not in EXPORTABLE:
        return None
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        log.info("onnxruntime is not installed: the backbone runs in torch")
        return None
    try:
        key = _key(model, backbone)
        path = engine_dir() / f"{backbone}-{key}.onnx"
        if path.is_file():
            try:
                return OnnxBackbone.open(path, threads)
            except Exception as exc:  # a damaged file: export it again below
                log.warning("exported backbone %s does not load (%s): exporting it again",
                            path, exc)
        t0 = time.perf_counter()
        data = _export(model)
        engine = OnnxBackbone.open(data, threads)
        views = _check_views()
        want, got = _torch_features(model, views), engine.embed(views)
        err = float(np.abs(want - got).max())
        scale = max(1.0, float(np.abs(want).max()))
        if not err <= TOLERANCE * scale:
            log.warning("exported backbone differs from torch by %.3g (largest feature %.3g): "
                        "the backbone runs in torch", err, scale)
            return None
        try:
            from curator.fsutil import atomic_write_bytes

            atomic_write_bytes(path, data)
            engine.path = path
        except OSError as exc:  # a read-only or full cache: used for this run only
            log.warning("exported backbone not kept (%s): it is exported again next run", exc)
        log.info("exported %s for ONNX Runtime in %.1fs (%s; largest difference from torch "
                 "%.2g)", backbone, time.perf_counter() - t0, path, err)
        return engine
    except Exception as exc:  # no onnx package, an export failure, a read-only cache …
        log.warning("backbone kept in torch: ONNX Runtime form unavailable (%s)", exc)
        return None
