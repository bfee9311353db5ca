"""The window's thumbnail thread: thumbnails read from the photos, off the scoring thread.

Photos whose scores come from the cache get their thumbnails here, and so do photos whose
thumbnail the grid let go (``PhotoListModel.thumb_cap``) and paints again, and all of them
after a zoom past the size they were made at.  It runs in its own ``QThread`` so that a
re-opened folder is ranked and grouped while its thumbnails are still being read, and so a
scroll through a 20,000-photo folder is answered while the scoring thread is busy.  A newer
request for painted cells replaces an older one not yet done (the cells scrolled past);
opening another folder (a new generation) drops everything queued.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, Signal, Slot

from curator.gui.worker import Generation, to_qimage
from curator.loader import LoadError, load_thumbnail
from curator.parallel import ordered_map
from curator.score import default_workers

if TYPE_CHECKING:
    from curator.gui.main_window import MainWindow

log = logging.getLogger(__name__)


class ThumbnailLoader(QObject):
    """Lives in a ``QThread``; ``request`` (any thread) queues paths, ``thumbnails`` (to the
    window) gives ``(Path, QImage, px)`` batches about every 100 ms."""

    thumbnails = Signal(int, list)  # generation, [(Path, QImage, px)]
    _start = Signal(int, int, list, int)  # ticket, generation, paths, px

    def __init__(self, generation: Generation) -> None:
        super().__init__()
        self.generation = generation
        self._lock = threading.Lock()
        self._ticket = 0
        self._start.connect(self._run)

    def request(self, gen: int, paths: list[Path], px: int, replace: bool = False) -> None:
        """Read thumbnails of ``paths`` (``px`` on the long side) in this order; ``replace``:
        drop what an earlier replaceable request has not read yet (cells scrolled past)."""
        with self._lock:
            if replace:
                self._ticket += 1
            ticket = self._ticket if replace else -1
        self._start.emit(ticket, gen, list(paths), px)

    def _current(self, ticket: int, gen: int) -> Callable[[], bool]:
        def cancelled() -> bool:
            if self.generation.current() != gen:
                return True
            with self._lock:
                return ticket >= 0 and ticket != self._ticket
        return cancelled

    @Slot(int, int, list, int)
    def _run(self, ticket: int, gen: int, paths: list[Path], px: int) -> None:
        cancelled = self._current(ticket, gen)
        if cancelled():
            return
        batch: list[tuple[Path, object, int]] = []
        last = time.perf_counter()
        loads = ordered_map(lambda p: (p, load_thumbnail(p, px)), paths, default_workers(), 16,
                            cancelled, "curator-thumb")
        for p, im in loads:
            if not isinstance(im, LoadError):
                batch.append((p, to_qimage(im), px))
            if batch and (time.perf_counter() - last > 0.1 or len(batch) >= 64):
                self.thumbnails.emit(gen, batch)
                batch, last = [], time.perf_counter()
        if batch and not cancelled():
            self.thumbnails.emit(gen, batch)


class ThumbnailController(QObject):
    """The window's side: its loader thread, and which thumbnails to ask it for.

    A folder of up to ``PhotoListModel.thumb_cap`` photos has every cached photo's thumbnail
    read at once (best first, as the grid shows them), as before; a larger one only what the
    grid paints (``PhotoListModel.thumbnails_wanted``).
    """

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self._thread = QThread(win)
        self.loader = ThumbnailLoader(win.generation)
        self.loader.moveToThread(self._thread)
        self.loader.thumbnails.connect(win._thumbnails)
        win.model.thumbnails_wanted.connect(self._wanted)
        win.delegate.painted = win.model.painted
        win.worker.cached.connect(self._cached)
        self._thread.start()

    def _small(self) -> bool:
        return self.win.model.rowCount() <= self.win.model.thumb_cap

    @Slot(list)
    def _wanted(self, paths: list[Path]) -> None:
        self.loader.request(self.win.current_gen, paths, self.win.model.thumb_px, replace=True)

    @Slot(int, list)
    def _cached(self, gen: int, paths: list[Path]) -> None:
        """Photos whose scores came from the cache (worker signal): their thumbnails."""
        if gen == self.win.current_gen and self._small():
            self.loader.request(gen, self._best_first(paths), self.win.model.thumb_px)

    def _best_first(self, paths: list[Path]) -> list[Path]:
        model = self.win.model
        row = {it.path: i for i, it in enumerate(model.items())}
        return sorted(paths, key=lambda p: row.get(p, len(row)))

    def remake(self, px: int) -> None:
        """The grid was zoomed past the thumbnails' ``px``: every thumbnail again (a small
        folder), or those painted from now on."""
        self.win.model.thumb_px = px
        if self._small():
            paths = [it.path for it in self.win.model.items() if it.error is None]
            if paths:
                self.loader.request(self.win.current_gen, paths, px)

    def stop(self) -> None:
        self._thread.quit()
        self._thread.wait(10000)


__all__ = ["ThumbnailController", "ThumbnailLoader"]
