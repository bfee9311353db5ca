"""The window's destinations: "Ready for: …" on the grid, crops in Look Closer, export for one.

* Toolbar "Ready for: [Uber Eats cover]" with "Only ready": every scored photo gets a small
  badge on its thumbnail (✓ ready, … not checked yet, ✗ not ready when "Only ready" is off),
  and "Only ready" hides the others.  The quick checks (size, the score's reasons) apply at
  once; the pixel checks (colour, text, faces, the dish) run in a worker thread, best photos
  first, and each photo's badge follows as it is checked (results are remembered in
  ``facts.sqlite3``, so a second time is instant).
* Look Closer gets a ``CropPanel`` (gui/crop_overlay.py) set to the same destination.
* File ▸ Export's "For: …" writes the destination's JPEGs (``curator.export_presets``) in an
  export thread and says what was written and what was left out, and why.

The window only creates ``DestinationsController(window)`` and hands it Look Closer and the
export dialog's choice; everything else lives here.  Signals from the worker threads land on
this controller's slots, in the GUI thread.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QRect, Qt, QThread, Signal, Slot
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QProgressDialog, QToolBar

from curator.cropstore import CropStore
from curator.destinations import Destination, destinations, get
from curator.export_presets import PresetReport, default_preset_dir, export_for, judge
from curator.gui.crop_overlay import CropPanel
from curator.gui.models import PhotoItem
from curator.readiness import FactsCache, Readiness
from curator.score import PhotoScore

if TYPE_CHECKING:
    from curator.gui.main_window import MainWindow

log = logging.getLogger(__name__)

READY_GREEN = QColor(46, 125, 50, 230)
PENDING_GREY = QColor(90, 90, 90, 200)
NOT_READY_RED = QColor(179, 38, 30, 220)


def photo_score(it: PhotoItem) -> PhotoScore:
    """The grid's photo as the core ranks and judges it (score, reasons and size)."""
    w, h = it.size if it.size else (None, None)
    return PhotoScore(it.path, it.ava_mean if it.ava_mean is not None else it.score or 0.0,
                      it.sd or 0.0, it.distribution, w, h,
                      score=it.score if it.percent else None, reasons=it.reasons)


class ReadinessWorker(QObject):
    """Lives in a ``QThread``: measures photos' facts and judges them, best first."""

    checked = Signal(int, object, object)  # generation, Path, Readiness
    done = Signal(int)  # generation

    def __init__(self, facts: FactsCache, crops: CropStore) -> None:
        super().__init__()
        self.facts, self.crops = facts, crops
        self.generation = 0  # set from the GUI thread: a newer job cancels this one

    @Slot(int, list, str)
    def run(self, gen: int, photos: list[PhotoScore], key: str) -> None:
        dest = get(key)
        for s in photos:
            if gen != self.generation:
                return
            try:
                pixel = self.facts.facts_for(s.path)
            except Exception as exc:  # moved or unreadable since scoring: no badge
                log.info("cannot check %s: %s", s.path, exc)
                continue
            self.checked.emit(gen, s.path, judge(s, dest, pixel, self.crops))
        self.done.emit(gen)


class PresetExportWorker(QObject):
    """Lives in a ``QThread``: ``export_for`` one destination, reporting to the window."""

    done = Signal(object)  # PresetReport
    failed = Signal(str)

    def __init__(self, facts: FactsCache, crops: CropStore) -> None:
        super().__init__()
        self.facts, self.crops = facts, crops

    @Slot(list, object, str, int, object, object, bool, object)
    def run(self, ranked: list[PhotoScore], dest_dir: Path, key: str, top: int,
            groups: object, scanned_root: object, rank_prefix: bool, min_score: object) -> None:
        from curator.export import ExportError

        group_of = groups if callable(groups) else None
        try:
            report = export_for(ranked, Path(dest_dir), get(key), top,
                                min_score=min_score if isinstance(min_score, float) else None,
                                scanned_root=scanned_root if isinstance(scanned_root, Path)
                                else None, group_of=group_of, facts=self.facts,
                                crops=self.crops, rank_prefix=rank_prefix)
            self.done.emit(report)
        except ExportError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:
            log.exception("export for %s failed", key)
            self.failed.emit(str(exc))


class DestinationsController(QObject):
    """"Ready for: …", badges, Look Closer's crop, and export for a destination."""

    start_check = Signal(int, list, str)
    start_export = Signal(list, object, str, int, object, object, bool, object)
    #: GUI-thread notifications (tests wait on these): a photo was judged; an export ended.
    judged = Signal(object)  # Path
    export_finished = Signal(object)  # PresetReport, or a str message when it failed

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        from curator.paths import default_cache_dir

        self.facts = FactsCache.in_dir(win.worker.cache_dir or default_cache_dir())
        self.crops = CropStore.in_dir()
        self.key: str | None = None
        self.only_ready = False
        self.results: dict[Path, Readiness] = {}
        self._gen = 0
        self.last_report: PresetReport | None = None
        self._progress: QProgressDialog | None = None
        self._build_toolbar()
        prev_filter = win.proxy.extra_filter
        win.proxy.extra_filter = lambda it: ((prev_filter is None or prev_filter(it))
                                             and self.accepts(it))
        prev_paint = win.delegate.overlay

        def paint(p: QPainter, shown: QRect, it: PhotoItem) -> None:
            if prev_paint is not None:
                p.save()
                prev_paint(p, shown, it)
                p.restore()
            self.paint_badge(p, shown, it)

        win.delegate.overlay = paint
        self._thread = QThread(self)
        self.worker = ReadinessWorker(self.facts, self.crops)
        self.worker.moveToThread(self._thread)
        self.start_check.connect(self.worker.run)
        self.worker.checked.connect(self._checked)
        self.worker.done.connect(self._checks_done)
        self._export_thread = QThread(self)
        self.exporter = PresetExportWorker(self.facts, self.crops)
        self.exporter.moveToThread(self._export_thread)
        self.start_export.connect(self.exporter.run)
        self.exporter.done.connect(self._export_done)
        self.exporter.failed.connect(self._export_failed)
        self._thread.start()
        self._export_thread.start()
        win.scoring_finished.connect(lambda _cancelled: self.recheck())
        win.start_job.connect(self._new_job)  # another folder or model: stop checking this one
        win.installEventFilter(self)  # the window's close stops these threads too
        self.panel: CropPanel | None = None

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.win and event.type() == QEvent.Type.Close:
            self._stop()
        return False

    # -- toolbar --------------------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        tb = QToolBar("Destinations")
        tb.setObjectName("destinations-toolbar")
        tb.setMovable(False)
        tb.addWidget(QLabel(" Ready for "))
        self.combo = QComboBox()
        self.combo.addItem("—", None)
        for d in destinations().values():
            self.combo.addItem(d.name, d.key)
            self.combo.setItemData(self.combo.count() - 1,
                                   f"{d.ratio_text}, at least {d.min_output()[0]} × "
                                   f"{d.min_output()[1]} px", Qt.ItemDataRole.ToolTipRole)
        self.combo.setToolTip("Badges on the photos ready to post there; Look Closer shows "
                              "its crop; File ▸ Export can write its JPEGs")
        self.combo.currentIndexChanged.connect(lambda _i: self.set_destination(
            self.combo.currentData()))
        tb.addWidget(self.combo)
        self.only = QCheckBox("Only ready")
        self.only.setEnabled(False)
        self.only.toggled.connect(self.set_only_ready)
        tb.addWidget(self.only)
        self.win.addToolBarBreak()  # its own row: on a laptop-wide window nothing is hidden
        self.win.addToolBar(tb)

    def destination(self) -> Destination | None:
        return get(self.key) if self.key else None

    def set_destination(self, key: str | None) -> None:
        """Judge every scored photo for ``key`` (None: no destination, no badges)."""
        self.key = key or None
        if self.combo.currentData() != self.key:
            self.combo.setCurrentIndex(max(0, self.combo.findData(self.key)))
        self.only.setEnabled(self.key is not None)
        if self.key is None and self.only.isChecked():
            self.only.setChecked(False)
        if self.panel is not None:
            self.panel.set_destination(self.key)
        self.recheck()

    @Slot(int, object, object)
    def _new_job(self, _gen: int, _folder: object, _model: object) -> None:
        self._gen += 1
        self.worker.generation = self._gen
        self.results = {}

    def set_only_ready(self, on: bool) -> None:
        self.only_ready = on
        self.win.proxy.refilter()
        self.win._update_counts()

    # -- judging --------------------------------------------------------------------------------
    def recheck(self) -> None:
        """Quick checks now; pixel checks for the photos that pass them, in the worker."""
        self._gen += 1
        self.worker.generation = self._gen
        self.results = {}
        d = self.destination()
        if d is None:
            self._repaint()
            return
        items = sorted((it for it in self.win.model.items()
                        if it.score is not None and it.error is None),
                       key=lambda it: it.rank_key)
        todo = []
        for it in items:
            s = photo_score(it)
            r = judge(s, d, None, self.crops)
            self.results[it.path] = r
            if r.ready:
                todo.append(s)
        self._repaint()
        self._status()
        if todo and not self.win.scoring:
            if not self._thread.isRunning():
                self._thread.start()
            self.start_check.emit(self._gen, todo, d.key)

    @Slot(int, object, object)
    def _checked(self, gen: int, path: Path, r: Readiness) -> None:
        if gen != self._gen:
            return
        self.results[path] = r
        self.win.model.touch(path)
        if self.only_ready and not r.ready:
            self.win.proxy.refilter()
            self.win._update_counts()
        self._status()
        self.judged.emit(path)

    @Slot(int)
    def _checks_done(self, gen: int) -> None:
        if gen == self._gen:
            self._status()

    def _status(self) -> None:
        d = self.destination()
        if d is None:
            return
        ready = sum(r.ready and r.complete for r in self.results.values())
        pending = sum(r.ready and not r.complete for r in self.results.values())
        text = f"{ready} ready for {d.name}"
        if pending:
            text += f" · checking {pending} more…"
        self.win.statusBar().showMessage(text, 0 if pending else 15000)

    def _repaint(self) -> None:
        self.win.proxy.refilter()
        self.win.view.viewport().update()
        self.win._update_counts()

    def accepts(self, it: PhotoItem) -> bool:
        """The proxy's test: with "Only ready", hide photos known not to be ready."""
        if not self.only_ready or self.key is None:
            return True
        r = self.results.get(it.path)
        return r is not None and r.ready

    def paint_badge(self, p: QPainter, shown: QRect, it: PhotoItem) -> None:
        """A small badge beside the rank: ✓ ready, … being checked, ✗ not ready."""
        d = self.destination()
        r = self.results.get(it.path) if d is not None else None
        if d is None or r is None:
            return
        if r.ready and r.complete:
            text, colour = f"✓ {d.ratio_text}", READY_GREEN
        elif r.ready:
            text, colour = "…", PENDING_GREY
        else:
            text, colour = "✗", NOT_READY_RED
        f = QFont(p.font())
        f.setBold(True)
        p.setFont(f)
        w = p.fontMetrics().horizontalAdvance(text) + 10
        badge = QRect(shown.left() + 52, shown.top() + 4, w, 20)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        p.drawRoundedRect(badge, 6, 6)
        p.setPen(QColor("white"))
        p.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)

    # -- Look Closer ----------------------------------------------------------------------------
    def attach_preview(self, preview: Any) -> None:
        """Give Look Closer its "Crop for: …" panel, set to the grid's destination."""
        if getattr(preview, "crop_panel", None) is not None:
            return
        panel = CropPanel(preview.image, self.facts, self.crops)
        panel.set_destination(self.key)
        panel.crop_changed.connect(self._crop_changed)
        preview.add_crop_panel(panel)
        self.panel = panel

    @Slot(object)
    def _crop_changed(self, path: Path) -> None:
        d = self.destination()
        it = next((i for i in self.win.model.items() if i.path == path), None)
        if d is None or it is None:
            return
        pixel = self.facts.get(path)
        self.results[path] = judge(photo_score(it), d, pixel, self.crops)
        if pixel is None:  # not measured yet: the quick verdict, then the worker's
            self.results[path] = dataclasses.replace(self.results[path], complete=False)
        self.win.model.touch(path)

    # -- export ---------------------------------------------------------------------------------
    def choices(self) -> list[tuple[str, str, str]]:
        """(key, name, what it writes) for the export dialog's "For: …" menu."""
        return [(d.key, f"{d.name} ({d.ratio_text})",
                 f"Writes {d.ratio_text} JPEGs at {d.recommended[0]} × {d.recommended[1]} px "
                 f"(at least {d.min_output()[0]} × {d.min_output()[1]}; never enlarged), under "
                 f"{d.max_bytes / 1e6:g} MB, cropped to keep the dish (or where you moved the "
                 f"crop in Look Closer). Photos not ready for {d.name} are left out and "
                 "listed with the reason.") for d in destinations().values()]

    def default_dir(self, key: str) -> Path | None:
        return default_preset_dir(self.win.folder, get(key)) if self.win.folder else None

    def export(self, ranked: list[PhotoScore], dest_dir: Path, top: int,
               min_score: float | None, key: str, rank_prefix: bool = False) -> None:
        """Write ``top`` ready photos of ``ranked`` for ``key`` in the export thread."""
        if self._progress is not None:
            return
        if not self._export_thread.isRunning():
            self._export_thread.start()
        if min_score is not None:
            from curator.culling import score_percent
            from curator.gui.scoredisplay import passes

            # As the grid's filter keeps them: by the displayed (rounded) score.
            ranked = [s for s in ranked if passes(score_percent(s), min_score)]
            min_score = None
        by_path = {it.path: it for it in self.win.model.items()}
        photos = [photo_score(by_path[s.path]) if s.path in by_path else s for s in ranked]
        stacking = getattr(self.win.culling, "stacking", False)
        groups = ((lambda s: by_path[s.path].group or -hash(s.path)) if stacking else None)
        d = get(key)
        progress = QProgressDialog(f"Preparing {d.name} photos: checks, crops, JPEGs…", "",
                                   0, 0, self.win)
        progress.setCancelButton(None)
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(300)
        self._progress = progress
        self._export_dest = Path(dest_dir)
        self.start_export.emit(photos, Path(dest_dir), key, top, groups, self.win.folder,
                               rank_prefix, min_score)

    def _close_progress(self) -> None:
        if self._progress is not None:
            self._progress.close()
            self._progress.deleteLater()
            self._progress = None

    @Slot(object)
    def _export_done(self, report: PresetReport) -> None:
        from curator.gui.export_dialog import show_export_result

        self._close_progress()
        self.last_report = report
        msg = report.summary(self._export_dest)
        self.win.last_export_message = msg
        self.win.statusBar().showMessage(msg.splitlines()[0], 15000)
        self.export_finished.emit(report)
        if not self.win.quiet_dialogs:
            show_export_result(self.win, msg, self._export_dest, bool(report.picks) and report.ok)

    @Slot(str)
    def _export_failed(self, message: str) -> None:
        from PySide6.QtWidgets import QMessageBox

        self._close_progress()
        self.win.statusBar().showMessage(f"Export failed: {message}", 15000)
        self.export_finished.emit(message)
        if not self.win.quiet_dialogs:
            QMessageBox.critical(self.win, "Export failed", message)

    def _stop(self) -> None:
        self._gen += 1
        self.worker.generation = self._gen
        for t in (self._thread, self._export_thread):
            t.quit()
            t.wait(10000)
