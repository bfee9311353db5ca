"""Score photos with the DCNN: cache first, then decode in threads while the model runs.

The model is loaded lazily, only when some photo is not in the cache, so re-opening an
unchanged folder costs a ``stat`` and one SQLite lookup per photo and never imports torch.
Decoding runs in a small thread pool (Pillow and torch both release the GIL) a few batches
ahead of inference, bounded so that memory stays flat however large the folder is.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from curator import precision
from curator.cache import CachedEmbedding, CachedScore, FileKey, ScoreCache
from curator.loader import LoadedPhoto, LoadError, load_photo
from curator.parallel import ordered_map, usable_cores
from curator.paths import default_model_path, file_digest
from curator.precision import CHOICES as PRECISIONS
from curator.precision import default_choice as precision_default

if TYPE_CHECKING:
    from curator.modelfile import ModelFile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PhotoScore:
    """A scored photo.

    ``score`` (0–100) is the user-facing number and the ranking key: the calibrated chance
    that a food-photo editor would post this photo (None for model files without a post-worthy
    output; those rank by ``mean``).  ``reasons`` are flaw keys from ``curator.reasons.REASONS``,
    strongest first, empty when there is nothing to say.  ``mean`` (1–10) and ``sd`` are the
    AVA-style vote mean and spread of the predicted ``distribution`` (secondary detail).
    """

    path: Path
    mean: float
    sd: float
    distribution: tuple[float, ...]
    width: int | None = None
    height: int | None = None
    cached: bool = False
    thumbnail: Image.Image | None = field(default=None, compare=False, repr=False)
    #: Near-duplicate embedding (``curator.groups.EMBED_DIM`` float16, L2-normalised) and the
    #: EXIF capture time (seconds, camera-local clock); see ``curator.groups``.
    embedding: Any = field(default=None, compare=False, repr=False)
    captured: float | None = field(default=None, compare=False)
    #: The calibrated 0–100 chance an editor would post it (None: an older model file) and
    #: the reasons it is not higher (``curator.reasons`` vocabulary).
    score: float | None = None
    reasons: tuple[str, ...] = ()
    #: The learned reasons alone and the classic measures they were merged with, so the
    #: reasons can be given again at another strictness (``with_thresholds``); None: unknown.
    learned: tuple[str, ...] | None = field(default=None, compare=False, repr=False)
    measures: dict[str, float] | None = field(default=None, compare=False, repr=False)

    def with_thresholds(self, thresholds: dict[str, float]) -> PhotoScore:
        """This score with its reasons given again under the classic rules' ``thresholds``
        (``curator.reasons.measured_reasons``); unchanged when its measures are unknown."""
        if self.measures is None or self.learned is None:
            return self
        from dataclasses import replace

        from curator.reasons import measured_reasons, merge_reasons

        return replace(self, reasons=merge_reasons(
            self.learned, measured_reasons(self.measures, thresholds)))

    @property
    def rank_value(self) -> float:
        """What ranking and minimum-score filters use: ``score`` (0–100), else ``mean``."""
        return self.score if self.score is not None else self.mean


@dataclass(frozen=True)
class PhotoError:
    """A file that could not be scored, and why."""

    path: Path
    reason: str
    cached: bool = False


Result = PhotoScore | PhotoError
ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]


def rank(results: Iterable[Result]) -> list[PhotoScore]:
    """Scored photos best first; ties broken by path so the order is stable."""
    scored = [r for r in results if isinstance(r, PhotoScore)]
    return sorted(scored, key=lambda s: (-s.rank_value, str(s.path)))


@contextlib.contextmanager
def _threads(n: int | None) -> Iterator[None]:
    """Run torch's intra-op pool with ``n`` threads inside the block (None: as it is)."""
    import torch

    before = torch.get_num_threads()
    if n is None or n == before:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def default_workers() -> int:
    """Decode threads: enough to keep the model fed, not so many they starve it."""
    return max(1, min(4, usable_cores()))


class Scorer:
    """Scores paths with one model file, using and filling an optional score cache."""

    def __init__(
        self,
        model_path: Path | None = None,
        cache: ScoreCache | None = None,
        batch_size: int = 16,
        workers: int | None = None,
        device: str = "auto",
        thumb_size: int | None = None,
        on_decoded: Callable[[LoadedPhoto], None] | None = None,
        precision: str | None = None,
    ) -> None:
        self.model_path = Path(model_path) if model_path else default_model_path()
        self.digest = file_digest(self.model_path)  # raises ModelFileError when missing
        self.cache = cache
        self.batch_size = max(1, batch_size)
        self.workers = workers or default_workers()
        self.device_name = device
        #: ``auto``, ``fp32`` or ``bf16`` (``curator.precision``); None: ``CURATOR_PRECISION``.
        self.precision = precision or precision_default()
        if self.precision not in PRECISIONS:
            raise ValueError(f"unknown precision {self.precision!r}")
        self.thumb_size = thumb_size
        #: Called (in the consuming thread) as each uncached photo is decoded, before its batch
        #: is scored: lets a GUI show the thumbnail without waiting for the model.
        self.on_decoded = on_decoded
        #: The classic rules' thresholds to give reasons with (``curator.prefs``' strictness);
        #: None: the model file's own.  Cached scores are given their reasons again too.
        self.measure_thresholds: dict[str, float] | None = None
        self._model: Any = None
        self._model_file: ModelFile | None = None
        self._device: Any = None
        #: The backbone in ONNX Runtime (``curator.onnx_backbone``) when the CPU runs float32.
        self._onnx: Any = None

    # -- model ---------------------------------------------------------------------------------
    @property
    def model_file(self) -> ModelFile:
        """The validated model file (loads torch on first use)."""
        if self._model_file is None:
            from curator.modelfile import load_model_file

            self._model_file = load_model_file(self.model_path)
        return self._model_file

    def _ensure_model(self) -> Any:
        if self._model is None:
            import torch

            t0 = time.perf_counter()
            if self.device_name == "auto":
                self._device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
            else:
                self._device = torch.device(self.device_name)
            self._model = self.model_file.build().to(self._device)
            self._model.cpu_bf16 = precision.resolve(self.precision, self._device.type)
            if self._device.type == "cpu" and not self._model.cpu_bf16:
                from curator import onnx_backbone

                self._onnx = onnx_backbone.load(self._model, self.model_file.backbone,
                                                self._infer_threads() or 1)
            log.info(
                "loaded %s (%s) on %s%s in %.2fs",
                self.model_path.name, self.model_file.backbone, self._device,
                f" (backbone: {self.runtime})", time.perf_counter() - t0,
            )
        return self._model

    @property
    def runtime(self) -> str | None:
        """What runs the backbone: ``"onnxruntime float32"``, ``"torch bfloat16"`` or
        ``"torch float32"``; None before the model loaded."""
        if self._model is None:
            return None
        if self._onnx is not None:
            return "onnxruntime float32"
        return f"torch {'bfloat16' if getattr(self._model, 'cpu_bf16', False) else 'float32'}"

    @property
    def precision_used(self) -> str | None:
        """``"bf16"`` or ``"fp32"``: what the backbone ran in, None before the model loaded
        (e.g. every photo came from the cache)."""
        if self._model is None:
            return None
        return "bf16" if getattr(self._model, "cpu_bf16", False) else "fp32"

    def _infer_threads(self) -> int | None:
        """Torch threads for a CPU batch: the cores the decode threads leave (at least 1), so
        the two never fight over a core (the process's affinity mask counts, and never more
        than torch's own setting); None (unchanged) on a GPU.  On the 2-core machine,
        2 decode threads + 2 torch threads ran 15-22 photos/s, + 1 torch thread 25-26."""
        if self._device is None or self._device.type != "cpu":
            return None
        import torch

        # Never more than torch already uses (OMP_NUM_THREADS, the user's own setting).
        return max(1, min(torch.get_num_threads(), usable_cores() - self.workers))

    def _infer(self, photos: Sequence[LoadedPhoto]) -> list[PhotoScore]:
        import numpy as np
        import torch

        from curator.groups import embedding_from_features
        from curator.model import distribution_stats

        model = self._ensure_model()
        mf = self.model_file
        views = np.stack([p.global_view for p in photos] + [p.local_view for p in photos])
        with torch.inference_mode(), _threads(self._infer_threads()):
            # One backbone pass: votes, score, reasons, groups.
            if self._onnx is not None:
                f = torch.from_numpy(self._onnx.embed(views))
                feats = torch.cat([f[:len(photos)], f[len(photos):]], dim=1)
            else:
                v = torch.from_numpy(views).to(self._device)
                feats = model.features(v[:len(photos)], v[len(photos):])
            logits = model.head(feats).float()
            probs = model.head.vote_logits(logits).softmax(-1)
            mean, sd = distribution_stats(probs)
        emb = embedding_from_features(feats.float().cpu().numpy(),
                                     self.model_file.head_config.in_features // 2)
        extra = logits[:, model.head.cfg.bins :].cpu().tolist()
        names = model.head.cfg.outputs
        probs_l, mean_l, sd_l = probs.cpu().tolist(), mean.cpu().tolist(), sd.cpu().tolist()
        out = []
        thresholds = self.thresholds()
        for p, m, s, d, row, e in zip(photos, mean_l, sd_l, probs_l, extra, emb, strict=True):
            score, learned = mf.read_outputs(dict(zip(names, row, strict=True)), None)
            out.append(PhotoScore(p.path, m, s, tuple(d), p.width, p.height, False, p.thumbnail,
                                  e, p.captured, score, learned, learned=learned,
                                  measures={k: float(v) for k, v in p.measures.items()}
                                  ).with_thresholds(thresholds))
        return out

    def thresholds(self) -> dict[str, float]:
        """The classic rules' thresholds in use: ``measure_thresholds``, else the model
        file's (loading it: reads the file, not torch)."""
        if self.measure_thresholds is not None:
            return self.measure_thresholds
        return dict(self.model_file.measure_thresholds)

    # -- scoring -------------------------------------------------------------------------------
    def score(
        self,
        paths: Sequence[Path],
        progress: ProgressFn | None = None,
        cancelled: CancelFn | None = None,
    ) -> Iterator[Result]:
        """Yield one result per path: cached ones first, then the rest as batches finish."""
        total, done = len(paths), 0

        def tick() -> None:
            nonlocal done
            done += 1
            if progress:
                progress(done, total)

        keys: dict[Path, FileKey] = {}
        for p in paths:
            try:
                keys[p] = FileKey.of(p)
            except OSError as exc:
                tick()
                yield PhotoError(p, _stat_reason(exc))
        hits = self.cache.get_many(list(keys.values()), self.digest) if self.cache else {}
        embeds = (self.cache.get_embeddings(list(hits), self.digest)
                  if self.cache and hits else {})
        todo: list[Path] = []
        # Reasons are given again under the thresholds in use now: the cache keeps the ones of
        # the strictness the photo was first scored at (the default's too, not only another's).
        thresholds = self.thresholds() if hits else {}
        for p, key in keys.items():
            hit = hits.get(key)
            emb = embeds.get(key)
            if hit is None or (hit.error is None and emb is None):
                todo.append(p)  # scored before embeddings were kept: score it once more
                continue
            tick()
            r = _from_cache(p, hit, emb)
            if isinstance(r, PhotoScore):
                r = r.with_thresholds(thresholds)  # no decode
            yield r
        if todo:
            for result in self._score_uncached(todo, keys, cancelled):
                tick()
                yield result

    def _score_uncached(
        self, paths: list[Path], keys: dict[Path, FileKey], cancelled: CancelFn | None
    ) -> Iterator[Result]:
        pre = self.model_file.preprocess  # the model itself loads while the first photos decode
        batch: list[LoadedPhoto] = []
        loads = ordered_map(
            lambda p: load_photo(p, pre, self.thumb_size), paths, self.workers,
            window=self.batch_size * 2 + self.workers, cancelled=cancelled, name="curator-decode",
        )
        for i, loaded in enumerate(loads, 1):
            if isinstance(loaded, LoadError):
                err = PhotoError(loaded.path, loaded.reason)
                if loaded.permanent:
                    self._remember([(keys[loaded.path], _error_entry(err))])
                yield err
            else:
                if self.on_decoded is not None:
                    self.on_decoded(loaded)
                batch.append(loaded)
            if len(batch) >= self.batch_size or (batch and i == len(paths)):
                yield from self._flush(batch, keys)
                batch = []
        if cancelled and cancelled():
            log.info("scoring cancelled")

    def _flush(self, batch: list[LoadedPhoto], keys: dict[Path, FileKey]) -> list[PhotoScore]:
        scores = self._infer(batch)
        self._remember([(keys[s.path], _score_entry(s)) for s in scores])
        if self.cache is not None:
            from curator.cache import CachedEmbedding

            self.cache.put_embeddings(
                [(keys[s.path], CachedEmbedding(s.embedding, s.captured)) for s in scores],
                self.digest)
        return scores

    def _remember(self, items: list[tuple[FileKey, CachedScore]]) -> None:
        if self.cache is not None:
            self.cache.put_many(items, self.digest)


def _stat_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "file not found (moved or deleted during the scan)"
    if isinstance(exc, PermissionError):
        return "unreadable: permission denied"
    return f"cannot read: {exc.strerror or exc}"


def _from_cache(path: Path, c: CachedScore, e: CachedEmbedding | None = None) -> Result:
    if c.error is not None or c.mean is None:
        return PhotoError(path, c.error or "unknown error", cached=True)
    return PhotoScore(
        path, c.mean, c.sd or 0.0, c.distribution or (), c.width, c.height, cached=True,
        embedding=e.vector if e else None, captured=e.captured if e else None,
        score=c.score, reasons=c.reasons, learned=c.learned, measures=c.measures,
    )


def _score_entry(s: PhotoScore) -> CachedScore:
    return CachedScore(s.mean, s.sd, s.distribution, s.width, s.height, None, s.score, s.reasons,
                       s.learned, s.measures)


def _error_entry(e: PhotoError) -> CachedScore:
    return CachedScore(None, None, None, None, None, e.reason)
