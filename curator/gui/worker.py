"""Background scan-and-score worker: the GUI thread never decodes or runs the model.

Every job carries a generation stamp.  Opening another folder bumps the generation, which
both cancels the running job (its ``cancelled`` check turns true) and lets the window drop
any signal still in flight from the old job.  Thumbnails cross threads as ``QImage``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QImage

from curator.cache import ScoreCache, open_cache
from curator.capture import capture_time
from curator.culling import score_percent
from curator.groups import GroupConfig, VerdictStore, group_photos
from curator.gui.models import PhotoItem, StackInfo
from curator.loader import LoadedPhoto
from curator.names import display_text
from curator.pairs import rescue_broken_pairs
from curator.paths import default_cache_dir, file_digest
from curator.personal import PersonalModel
from curator.prefs import Prefs, load_prefs
from curator.scan import scan
from curator.score import PhotoError, PhotoScore, Result, Scorer, rank
from curator.sidecar_paths import SidecarNote
from curator.verdicts import VerdictReader

log = logging.getLogger(__name__)

THUMB_SIZE = 256
BATCH = 8  # small batches: results and thumbnails reach the grid sooner


def to_qimage(im: Image.Image) -> QImage:
    """A deep-copied RGB888 ``QImage`` (safe to hand to another thread)."""
    rgb = im.convert("RGB")
    data = rgb.tobytes()
    q = QImage(data, rgb.width, rgb.height, rgb.width * 3, QImage.Format.Format_RGB888)
    return q.copy()


class Generation:
    """A thread-safe job counter: the current job is the only one not cancelled."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = 0

    def next(self) -> int:
        with self._lock:
            self._value += 1
            return self._value

    def current(self) -> int:
        with self._lock:
            return self._value


class ScoreWorker(QObject):
    """Lives in a ``QThread``; ``run`` scans a folder and scores it, emitting in batches."""

    found = Signal(int, list)  # generation, [PhotoItem] placeholders
    skipped = Signal(int, list)  # generation, [scan.Skipped]: image files left out, with why
    results = Signal(int, list)  # generation, [(Path, score, sd, dist, (w, h), error)]
    thumbnails = Signal(int, list)  # generation, [(Path, QImage, px)]
    #: generation, [Path]: photos whose scores came from the cache (their thumbnails are read
    #: by the window's thumbnail thread, ``gui/thumbs.py``)
    cached = Signal(int, list)
    progress = Signal(int, int, int, float)  # generation, done, total, photos/s
    dates = Signal(int, list)  # generation, [(Path, capture timestamp, from EXIF)]
    model_loading = Signal(int)  # generation: the model is loading (first use, seconds)
    #: generation, {Path: (group id, is the group's best, group size, best's score)}
    grouped = Signal(int, object)
    finished = Signal(int, bool)  # generation, cancelled
    failed = Signal(int, str)  # generation, message
    #: Something the owner should know that does not stop scoring (shown in the status bar).
    notice = Signal(int, str)  # generation, message
    #: generation, [(photo, PhotoItem of its RAW)]: pairs whose photo cannot be read; each
    #: RAW is added to the grid as a photo of its own (``curator.pairs``).
    unpaired = Signal(int, list)

    def __init__(self, generation: Generation, cache_dir: Path | None = None) -> None:
        super().__init__()
        self.generation = generation
        self.cache_dir = cache_dir
        self._scorer: Scorer | None = None  # kept across folders: the model loads once
        #: Long side of new thumbnails (px): the window sets it to the size it shows.
        self.thumb_px = THUMB_SIZE
        #: A personal model (Model ▸ Learn From My Choices) to rank with, or None.
        self.personal_path: Path | None = None
        #: The culling settings of the last run (``curator.prefs``).
        self.prefs = Prefs()
        #: (generation, its scores, the personal model used): what ``reapply`` regroups.
        self._last: tuple[int, list[PhotoScore], PersonalModel | None] | None = None

    def scorer_for(self, model_path: Path, cache: ScoreCache | None) -> Scorer:
        """The scorer for ``model_path``, reusing the loaded model when it has not changed."""
        s = self._scorer
        if s is None or s.model_path != model_path or s.digest != file_digest(model_path):
            s = Scorer(model_path, batch_size=BATCH, thumb_size=THUMB_SIZE)
            self._scorer = s
        s.cache = cache
        s.thumb_size = self.thumb_px
        return s

    @Slot(str)
    def preload(self, model_path: str) -> None:
        """Import torch and load the model before the user opens a folder (startup, idle)."""
        try:
            scorer = self.scorer_for(Path(model_path), None)
            scorer._ensure_model()
        except Exception as exc:  # the real job will report it
            log.warning("could not preload %s: %s", model_path, exc)

    @Slot(int, object, object)
    def run(self, gen: int, folder: Path | str, model_path: Path | str) -> None:
        """Scan and score ``folder``: ``Path`` objects, since a Qt ``str`` would lose the
        bytes of a name that is not UTF-8."""
        try:
            self._run(gen, Path(folder), Path(model_path))
        except Exception as exc:  # reported to the window, never a silent thread death
            log.exception("scoring %s failed", display_text(folder))
            self.failed.emit(gen, str(exc))

    def _run(self, gen: int, folder: Path, model_path: Path) -> None:
        def cancelled() -> bool:
            return self.generation.current() != gen

        found = scan(folder)
        paths = found.photos
        self.skipped.emit(gen, found.skipped)
        verdicts = VerdictReader.with_choices(self.cache_dir)
        self.found.emit(gen, [_placeholder(p, found.raw_of.get(p), verdicts) for p in paths])
        if verdicts.unreadable:
            self.notice.emit(gen, unreadable_sidecars_text(verdicts.unreadable))
        total = len(paths)
        if not total:
            self.finished.emit(gen, False)
            return
        # Capture times (EXIF headers, ~1 ms a file) in a side thread: the grid shows at once.
        threading.Thread(target=self._read_dates, args=(gen, paths, cancelled),
                         name="curator-dates", daemon=True).start()
        notes: list[str] = []  # busy, full, newer: one line for the status bar
        cache = open_cache(self.cache_dir or default_cache_dir(), notes=notes)
        for note in notes:
            self.notice.emit(gen, note)
        thumbs: list[tuple[Path, QImage, int]] = []
        pending: list[tuple[Any, ...]] = []
        last_emit = [0.0]
        t0, done = time.perf_counter(), 0

        def flush(force: bool = False) -> None:
            # One throttle for everything the window hears: results, thumbnails, progress.
            now = time.perf_counter()
            if force or now - last_emit[0] > 0.1:
                last_emit[0] = now
                elapsed = now - t0
                self.progress.emit(gen, done, total, done / elapsed if elapsed > 0 else 0.0)
                if thumbs:
                    self.thumbnails.emit(gen, list(thumbs))
                    thumbs.clear()
                if pending:
                    self.results.emit(gen, list(pending))
                    pending.clear()

        px = self.thumb_px

        def decoded(photo: LoadedPhoto) -> None:
            if photo.thumbnail is not None:
                thumbs.append((photo.path, to_qimage(photo.thumbnail), px))
                flush()

        scorer = self.scorer_for(model_path, cache)
        scorer.on_decoded = decoded
        self.prefs = load_prefs()  # the settings as saved now (Preferences)
        scorer.measure_thresholds = None
        if (self.prefs.blur, self.prefs.exposure) != ("default", "default"):
            scorer.measure_thresholds = self._thresholds(self.prefs)
        if getattr(scorer, "_model", None) is None:
            self.model_loading.emit(gen)
        cached_paths: list[Path] = []
        scored: list[PhotoScore] = []
        personal, unused = self._personal(scorer.digest)
        if unused is not None:
            self.notice.emit(gen, f"Your personal model is not used: {unused}. Run Model ▸ "
                                  "Learn From My Choices again to rank with your choices.")
        raw_of = dict(found.raw_of)
        todo = paths
        try:
            while todo:
                errors: list[Result] = []
                for r in scorer.score(todo, cancelled=cancelled):
                    done += 1
                    if isinstance(r, PhotoScore):
                        scored.append(r)
                        pending.append(_result_row(r, personal))
                        if r.cached:
                            cached_paths.append(r.path)
                    else:
                        errors.append(r)
                        pending.append((r.path, None, None, (), None, r.reason, None, (), False))
                    if cached_paths and not (isinstance(r, PhotoScore) and r.cached):
                        # The cached results have all arrived: show their scores now (their
                        # thumbnails are read in the window's thumbnail thread).
                        flush(force=True)
                        self.cached.emit(gen, cached_paths)
                        cached_paths = []
                    flush()
                    if cancelled():
                        break
                flush(force=True)
                if cached_paths and not cancelled():
                    self.cached.emit(gen, cached_paths)
                    cached_paths = []
                if cancelled():
                    break
                # A pair whose JPEG cannot be read: its RAW becomes an entry of its own.
                rescued = rescue_broken_pairs(errors, raw_of)
                if rescued:
                    total += len(rescued)
                    broken = {e.path: e.reason for e in errors if isinstance(e, PhotoError)}
                    self.unpaired.emit(gen, [(photo, _placeholder(raw, None, verdicts))
                                             for photo, raw in rescued])
                    pending.extend((photo, None, None, (), None, broken[photo], None, (),
                                    False) for photo, _raw in rescued)
                todo = [raw for _photo, raw in rescued]
        finally:
            scorer.on_decoded = None
            scorer.cache = None
            if cache is not None and cache.bypassed is not None and cache.note is not None:
                self.notice.emit(gen, cache.note)  # it failed mid-run (disk full, …)
        try:
            raw_scored = scored
            if scored and not cancelled():
                if personal is not None:
                    scored = [replace(s, score=personal.display_score(np.asarray(s.embedding),
                                                                      s.mean))
                              if s.embedding is not None else s for s in scored]
                self._last = (gen, list(raw_scored), personal)
                # The cache also remembers what comparing each group's frames decided.
                self.grouped.emit(gen, stacks(scored, self.prefs.group_config(), cache))
        finally:
            if cache is not None:
                cache.close()
        self.finished.emit(gen, cancelled())

    @Slot(int, object)
    def reapply(self, gen: int, prefs: Prefs) -> None:
        """New culling settings: the last folder's reasons (another strictness) and stacks
        given again from what scoring kept — no photo is decoded for the scores."""
        self.prefs = prefs
        if self._last is None or self._last[0] != gen or self.generation.current() != gen:
            return
        _gen, scored, personal = self._last
        thresholds = self._thresholds(prefs)
        scored = [s.with_thresholds(thresholds) if thresholds else s for s in scored]
        self._last = (gen, scored, personal)
        self.results.emit(gen, [_result_row(r, personal) for r in scored])
        shown = [replace(s, score=personal.display_score(np.asarray(s.embedding), s.mean))
                 if personal is not None and s.embedding is not None else s for s in scored]
        cache = open_cache(self.cache_dir or default_cache_dir())
        try:
            self.grouped.emit(gen, stacks(shown, prefs.group_config(), cache))
        finally:
            if cache is not None:
                cache.close()

    def _thresholds(self, prefs: Prefs) -> dict[str, float] | None:
        """The classic rules' thresholds for ``prefs`` (None: the model file's own)."""
        s = self._scorer
        if s is None:
            return None
        base = dict(s.model_file.measure_thresholds)
        return prefs.measure_thresholds(base) if (prefs.blur, prefs.exposure) != (
            "default", "default") else base

    def _read_dates(self, gen: int, paths: list[Path], cancelled: Any) -> None:
        """Emit capture times in batches (runs in its own thread; the window's slot queues)."""
        batch: list[tuple[Path, float, bool]] = []
        last = time.perf_counter()
        for p in paths:
            if cancelled():
                return
            t = capture_time(p)
            batch.append((p, t.timestamp, t.from_exif))
            if time.perf_counter() - last > 0.25:
                self.dates.emit(gen, batch)
                batch, last = [], time.perf_counter()
        if batch:
            self.dates.emit(gen, batch)

    def _personal(self, digest: str) -> tuple[PersonalModel | None, str | None]:
        """The personal model to rank with, if one is set and fits this scoring model, and,
        when one is set but cannot be used, why (in the owner's words)."""
        if self.personal_path is None:
            return None, None
        try:
            pm = PersonalModel.load(self.personal_path)
        except (OSError, ValueError) as exc:
            log.warning("personal model %s unusable: %s", self.personal_path, exc)
            return None, "its file cannot be read"
        if pm.base_model != digest:
            log.warning("personal model %s was trained with another model; not used",
                        self.personal_path)
            return None, "it was learned with another version of the scoring model"
        return pm, None


def _result_row(r: PhotoScore, personal: PersonalModel | None) -> tuple[Any, ...]:
    """One photo's row for the window's ``results`` slot."""
    # The grid's number is always 0-100: the calibrated score, or an older model's AVA mean
    # mapped onto 0-100 (culling.score_percent); a personal model's keep chance replaces it.
    shown = score_percent(r)
    if personal is not None and r.embedding is not None:
        shown = personal.display_score(np.asarray(r.embedding), r.mean)
    return (r.path, shown, r.sd, r.distribution, (r.width, r.height) if r.width else None,
            None, r.mean, r.reasons, r.score is not None)


def stacks(scored: list[PhotoScore], cfg: GroupConfig | None = None,
           store: VerdictStore | None = None) -> dict[Path, StackInfo]:
    """Near-duplicate groups of the scored photos, as the grid's stacks need them (each group
    of two or more ordered by comparing its frames: one full-resolution read per member, none
    for a group whose verdict ``store`` remembers)."""
    ranked = rank(scored)
    groups = group_photos(ranked, cfg, store=store)
    sizes = groups.sizes()
    by_path = {s.path: s for s in ranked}
    return {s.path: (g := groups.group_of[s.path], groups.is_best(s.path), sizes[g],
                     by_path[groups.best[g]].rank_value, groups.position(s.path),
                     groups.why.get(s.path, ""), s.path in groups.softer,
                     groups.capped.get(s.path)) for s in ranked}


def _placeholder(path: Path, raw: Path | None = None,
                 verdicts: VerdictReader | None = None) -> PhotoItem:
    """A grid item before scoring, with the person's verdict (``curator.verdicts``: the
    photo's own sidecar, for a pair the JPEG's else the RAW's, or a newer remembered choice;
    stars the model wrote are not a verdict: the score itself shows them)."""
    item = PhotoItem(path, _mtime(path), raw=raw)
    reader = verdicts or VerdictReader()
    seen = len(reader.unreadable)
    item.verdict = reader.verdict(path, raw)
    item.label = reader.labels.get(path)
    for note in reader.unreadable[seen:]:
        item.sidecar_problem = (f"Its sidecar {display_text(note.sidecar.name)} {note.reason}: "
                                "its rating is not shown, and Curator leaves it as it is.")
    return item


def unreadable_sidecars_text(notes: list[SidecarNote]) -> str:
    """The status bar's line for sidecars that cannot be read completely at folder open."""
    first = notes[0]
    more = f" (and {len(notes) - 1} more)" if len(notes) > 1 else ""
    return (f"{display_text(first.sidecar.name)} is damaged or in a form Curator cannot read"
            f"{more}: its rating is not shown, and Curator leaves it as it is.")


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


__all__ = ["BATCH", "THUMB_SIZE", "Generation", "ScoreWorker", "to_qimage"]
