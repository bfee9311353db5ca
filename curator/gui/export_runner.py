"""The export thread's worker: copies the chosen photos off the GUI thread.

Lives in its own ``QThread``; its signals land on ``MainWindow`` slots (GUI thread).  What is
copied and how is ``curator.export.export_top``; the options cross threads as one
``ExportOptions``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from curator.export import ExportOptions
from curator.score import PhotoScore

log = logging.getLogger(__name__)


class ExportWorker(QObject):
    """``run`` copies ``ranked``'s best into ``dest`` and reports back (never raises)."""

    progress = Signal(int, int)
    done = Signal(object)  # export.ExportReport (a list of picks + failures)
    failed = Signal(str)
    #: The folder being shown (set from the GUI thread before each export): never export into it.
    scanned_root: Path | None = None

    @Slot(list, object, int, object, object)
    def run(self, ranked: list[PhotoScore], dest: Path, top: int, min_score: float | None,
            opts: ExportOptions) -> None:
        from curator.export import ExportError, export_top

        embed = opts.embed
        try:
            report = export_top(ranked, Path(dest), top, min_score, self.progress.emit,
                                scanned_root=self.scanned_root, rank_prefix=opts.rank_prefix,
                                raw_of=opts.raw_of, sidecars=opts.sidecars,
                                embed=None if embed is None else
                                (lambda s: dict(embed.get(s.path, {}))))
            self.done.emit(report)
        except ExportError as exc:  # a destination fault: one line, no traceback
            self.failed.emit(str(exc))
        except Exception as exc:
            log.exception("export failed")
            self.failed.emit(str(exc))
