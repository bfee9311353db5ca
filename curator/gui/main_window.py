"""The main window: open a folder, watch it get ranked, export the best, retrain the model."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QByteArray,
    QModelIndex,
    QObject,
    QSettings,
    QSize,
    Qt,
    QThread,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QLabel,
    QListView,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QProgressDialog,
    QPushButton,
    QSlider,
    QToolBar,
)

from curator.gui.delegate import PhotoDelegate
from curator.gui.dialogs import ExportDialog, PreviewDialog, TextDialog
from curator.gui.models import PhotoFilterProxy, PhotoItem, PhotoListModel, Roles, SortKey
from curator.gui.retrain import RetrainDialog
from curator.gui.worker import Generation, ScoreWorker
from curator.paths import BUNDLED_MODEL, SAMPLES_DIR, ModelFileError, default_cache_dir
from curator.preprocess import Preprocess
from curator.progress import format_eta
from curator.score import PhotoScore

log = logging.getLogger(__name__)

MAX_RECENT = 8


class _ExportWorker(QObject):
    progress = Signal(int, int)
    done = Signal(list)
    failed = Signal(str)

    @Slot(list, str, int, object)
    def run(self, ranked: list[PhotoScore], dest: str, top: int, min_score: float | None) -> None:
        from curator.export import export_top

        try:
            picks = export_top(ranked, Path(dest), top, min_score, self.progress.emit)
            self.done.emit(picks)
        except Exception as exc:
            log.exception("export failed")
            self.failed.emit(str(exc))


class MainWindow(QMainWindow):
    """A thin layer over the core: every slow step runs in a worker thread."""

    start_job = Signal(int, str, str)
    preload_model = Signal(str)
    start_export = Signal(list, str, int, object)
    #: GUI-thread notifications (tests and other widgets wait on these, never on a worker's).
    scoring_progressed = Signal(int, int)  # done, total
    scoring_finished = Signal(bool)  # cancelled
    export_finished = Signal(bool)  # ok

    def __init__(self, settings: QSettings | None = None, cache_dir: Path | None = None) -> None:
        super().__init__()
        self.settings = settings or QSettings("Curator", "Curator")
        self.setWindowTitle("Curator")
        self.resize(1180, 800)
        self.setAcceptDrops(True)
        self.folder: Path | None = None
        self.generation = Generation()
        self.current_gen = 0
        self.scoring = False
        #: Report finished exports in the status bar only (tests, benchmarks).
        self.quiet_dialogs = False
        self.last_export: list[Any] = []
        self.model_path = self._initial_model()
        self.pre = Preprocess()
        self.model = PhotoListModel(self)
        self.proxy = PhotoFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.view = QListView()
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setUniformItemSizes(True)
        self.view.setLayoutMode(QListView.LayoutMode.Batched)
        self.view.setBatchSize(200)
        self.view.setSpacing(4)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.delegate = PhotoDelegate(self.view)
        self.view.setItemDelegate(self.delegate)
        self.view.setModel(self.proxy)
        self.view.doubleClicked.connect(self.open_preview)
        self.setCentralWidget(self.view)
        self.preview: PreviewDialog | None = None
        self._build_actions()
        self._build_status()
        self._thread = QThread(self)
        self.worker = ScoreWorker(self.generation, cache_dir)
        self.worker.moveToThread(self._thread)
        self.start_job.connect(self.worker.run)
        self.preload_model.connect(self.worker.preload)
        self.worker.found.connect(self._found)
        self.worker.results.connect(self._results)
        self.worker.thumbnails.connect(self._thumbnails)
        self.worker.progress.connect(self._progress)
        self.worker.finished.connect(self._finished)
        self.worker.failed.connect(self._failed)
        self._thread.start()
        self.preload_model.emit(str(self.model_path))  # torch + model load while idle
        self._export_thread = QThread(self)
        self.exporter = _ExportWorker()
        self.exporter.moveToThread(self._export_thread)
        self.start_export.connect(self.exporter.run)
        # Receivers are this window's slots (GUI thread): queued, never run in the worker.
        self.exporter.progress.connect(self._export_progressed)
        self.exporter.done.connect(self._export_done)
        self.exporter.failed.connect(self._export_failed)
        self._export_progress: QProgressDialog | None = None
        self._export_dest = Path()
        self._export_thread.start()
        geo = self.settings.value("geometry")
        if isinstance(geo, QByteArray):
            self.restoreGeometry(geo)
        self.t_open = 0.0
        self.first_thumb_s: float | None = None
        self._rerank_timer = QTimer(self)
        self._rerank_timer.setSingleShot(True)
        self._rerank_timer.setInterval(500)
        self._rerank_timer.timeout.connect(self.model.rerank)

    # -- construction -------------------------------------------------------------------------
    def _initial_model(self) -> Path:
        saved = self.settings.value("model_path")
        if saved and Path(str(saved)).is_file():
            return Path(str(saved))
        return BUNDLED_MODEL

    def _build_actions(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        self.act_open = QAction("&Open Folder…", self)
        self.act_open.setShortcut(QKeySequence.StandardKey.Open)
        self.act_open.triggered.connect(self.choose_folder)
        file_menu.addAction(self.act_open)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self._refresh_recent()
        self.act_export = QAction("&Export Best Photos…", self)
        self.act_export.setShortcut(QKeySequence("Ctrl+E"))
        self.act_export.triggered.connect(self.export_dialog)
        file_menu.addAction(self.act_export)
        file_menu.addSeparator()
        quit_act = QAction("&Quit", self)
        quit_act.setShortcut(QKeySequence.StandardKey.Quit)
        quit_act.triggered.connect(self.close)
        file_menu.addAction(quit_act)
        view_menu = mb.addMenu("&View")
        self.act_preview = QAction("Look Closer", self)
        self.act_preview.setShortcut(QKeySequence("Space"))
        self.act_preview.triggered.connect(lambda: self.open_preview(self.view.currentIndex()))
        view_menu.addAction(self.act_preview)
        self.addAction(self.act_preview)
        model_menu = mb.addMenu("&Model")
        retrain = QAction("&Retrain…", self)
        retrain.triggered.connect(self.retrain_dialog)
        model_menu.addAction(retrain)
        use_file = QAction("Use Model &File…", self)
        use_file.triggered.connect(self.choose_model)
        model_menu.addAction(use_file)
        use_bundled = QAction("Use &Bundled Model", self)
        use_bundled.triggered.connect(lambda: self.set_model(BUNDLED_MODEL))
        model_menu.addAction(use_bundled)
        about = QAction("&About This Model", self)
        about.triggered.connect(self.about_model)
        model_menu.addAction(about)

        tb = QToolBar("Grid")
        tb.setObjectName("grid-toolbar")
        tb.setMovable(False)
        self.addToolBar(tb)
        tb.addAction(self.act_open)
        tb.addAction(self.act_export)
        tb.addSeparator()
        tb.addWidget(QLabel(" Sort by "))
        self.sort_combo = QComboBox()
        self.sort_combo.addItems(["Score", "Name", "Date"])
        self.sort_combo.currentIndexChanged.connect(
            lambda i: self.model.set_sort_key(SortKey(i)))
        tb.addWidget(self.sort_combo)
        tb.addWidget(QLabel("  Minimum score "))
        self.min_spin = QDoubleSpinBox()
        self.min_spin.setRange(0.0, 100.0)  # the 0-100 score
        self.min_spin.setDecimals(0)
        self.min_spin.setSingleStep(5.0)
        self.min_spin.setSpecialValueText("any")
        self.min_spin.valueChanged.connect(
            lambda v: self.proxy.set_min_score(v if v > 0 else None))
        tb.addWidget(self.min_spin)
        tb.addWidget(QLabel("  Size "))
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(96, 320)
        self.size_slider.setValue(180)
        self.size_slider.setMaximumWidth(160)
        self.size_slider.valueChanged.connect(self.set_thumb_size)
        tb.addWidget(self.size_slider)

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.status_label = QLabel("Open a folder of photos (Ctrl+O) or drop one here.")
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(260)
        self.bar.setVisible(False)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setVisible(False)
        self.cancel_btn.clicked.connect(self.cancel)
        self.model_label = QLabel()
        sb.addWidget(self.status_label, 1)
        sb.addPermanentWidget(self.bar)
        sb.addPermanentWidget(self.cancel_btn)
        sb.addPermanentWidget(self.model_label)
        self._show_model_label()

    def _show_model_label(self) -> None:
        name = "bundled model" if self.model_path == BUNDLED_MODEL else self.model_path.name
        self.model_label.setText(f"Model: {name}")

    # -- opening and scoring ------------------------------------------------------------------
    def choose_folder(self) -> None:
        start = str(self.folder) if self.folder else str(Path.home())
        d = QFileDialog.getExistingDirectory(self, "Open folder of photos", start)
        if d:
            self.open_folder(Path(d))

    def open_folder(self, folder: Path) -> None:
        """Show ``folder`` and score it; cancels whatever was running."""
        folder = Path(folder).expanduser()
        if not folder.is_dir():
            QMessageBox.warning(self, "Curator", f"Not a folder:\n{folder}")
            return
        self.folder = folder
        self.setWindowTitle(f"Curator — {folder.name}")
        self.settings.setValue("last_folder", str(folder))
        self._remember_recent(folder)
        self.rescore()

    def rescore(self) -> None:
        if self.folder is None:
            return
        self.current_gen = self.generation.next()  # cancels the previous job
        self.model.reset([])
        self.scoring = True
        self.t_open = time.perf_counter()
        self.first_thumb_s = None
        self.bar.setValue(0)
        self.bar.setVisible(True)
        self.cancel_btn.setVisible(True)
        self.status_label.setText(f"Scanning {self.folder}…")
        self.start_job.emit(self.current_gen, str(self.folder), str(self.model_path))

    def cancel(self) -> None:
        self.current_gen = self.generation.next()
        self._stop_ui("Cancelled.")

    def _stop_ui(self, text: str) -> None:
        self.scoring = False
        self.model.flush_now()
        self.bar.setVisible(False)
        self.cancel_btn.setVisible(False)
        self.status_label.setText(text)

    @Slot(int, list)
    def _found(self, gen: int, photos: list[PhotoItem]) -> None:
        if gen != self.current_gen:
            return
        self.model.reset(photos)
        self.bar.setRange(0, max(1, len(photos)))
        self.status_label.setText(f"{len(photos)} photos found; scoring…")

    @Slot(int, list)
    def _results(self, gen: int, rows: list[tuple[Any, ...]]) -> None:
        if gen != self.current_gen:
            return
        for path, score, sd, dist, size, error, ava_mean, reasons, percent in rows:
            self.model.set_result(path, score, sd, dist, size, error, ava_mean, reasons, percent)
        if not self._rerank_timer.isActive():
            self._rerank_timer.start()  # ranks and order: at most twice a second

    @Slot(int, list)
    def _thumbnails(self, gen: int, thumbs: list[tuple[Path, Any]]) -> None:
        if gen != self.current_gen:
            return
        if self.first_thumb_s is None and thumbs:
            self.first_thumb_s = time.perf_counter() - self.t_open
        for path, image in thumbs:
            self.model.set_thumbnail(path, image)

    @Slot(int, int, int, float)
    def _progress(self, gen: int, done: int, total: int, rate: float) -> None:
        if gen != self.current_gen:
            return
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(done)
        self.scoring_progressed.emit(done, total)
        eta = (total - done) / rate if rate > 0 else float("inf")
        self.status_label.setText(
            f"Scoring {done}/{total} · {rate:.1f} photos/s · about {format_eta(eta)} left")

    @Slot(int, bool)
    def _finished(self, gen: int, cancelled: bool) -> None:
        if gen != self.current_gen:
            return
        self._rerank_timer.stop()
        self.model.rerank()
        items = self.model.items()
        scored = sum(it.score is not None for it in items)
        broken = sum(it.error is not None for it in items)
        text = f"{scored} photos ranked"
        if broken:
            text += f" · {broken} could not be read (hover them for the reason)"
        self._stop_ui(("Cancelled. " if cancelled else "") + text)
        self.scoring_finished.emit(cancelled)

    @Slot(int, str)
    def _failed(self, gen: int, message: str) -> None:
        if gen != self.current_gen:
            return
        self._stop_ui("Scoring failed.")
        QMessageBox.critical(self, "Curator", f"Scoring failed:\n{message}")

    # -- view ---------------------------------------------------------------------------------
    def set_thumb_size(self, px: int) -> None:
        self.delegate.set_thumb_size(px)
        self.view.setGridSize(QSize())  # let the uniform size hint apply
        self.model.layoutChanged.emit()

    def open_preview(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        if self.preview is None:
            self.preview = PreviewDialog(self, self.pre)
            self.preview.step = self._step_preview
        self.view.setCurrentIndex(index)
        src = self.proxy.mapToSource(index)
        self.preview.show_item(self.model.item(src.row()))
        self.preview.show()
        self.preview.raise_()

    def _step_preview(self, delta: int) -> None:
        row = self.view.currentIndex().row() + delta
        if 0 <= row < self.proxy.rowCount():
            self.open_preview(self.proxy.index(row, 0))

    # -- export -------------------------------------------------------------------------------
    def ranked_scores(self) -> list[PhotoScore]:
        """Scored photos best first, as the core's ``rank`` orders them."""
        items = [it for it in self.model.items() if it.score is not None]
        items.sort(key=lambda it: (it.rank or 0))
        return [PhotoScore(it.path, it.ava_mean if it.ava_mean is not None else it.score or 0.0,
                           it.sd or 0.0, it.distribution,
                           score=it.score if it.percent else None, reasons=it.reasons)
                for it in items]

    def export_dialog(self) -> None:
        ranked = self.ranked_scores()
        if not ranked:
            QMessageBox.information(self, "Curator", "No scored photos to export yet.")
            return
        default = self.settings.value("export_dir") or str(
            (self.folder or Path.home()) / "Curator picks")
        dlg = ExportDialog(self, str(default), len(ranked))
        if dlg.exec() != ExportDialog.DialogCode.Accepted:
            return
        top, dest, min_score = dlg.values()
        self.settings.setValue("export_dir", str(dest))
        self.run_export(ranked, dest, top, min_score)

    def run_export(self, ranked: list[PhotoScore], dest: Path, top: int,
                   min_score: float | None) -> None:
        """Copy the top photos in the export thread; its signals land on this window's slots."""
        if self._export_progress is not None:
            QMessageBox.information(self, "Curator", "An export is already running.")
            return
        progress = QProgressDialog("Copying photos…", "", 0, top, self)
        progress.setCancelButton(None)
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(300)
        self._export_progress = progress
        self._export_dest = Path(dest)
        self.start_export.emit(ranked, str(dest), top, min_score)

    def _close_export_progress(self) -> None:
        if self._export_progress is not None:
            self._export_progress.close()
            self._export_progress.deleteLater()
            self._export_progress = None

    @Slot(int, int)
    def _export_progressed(self, done: int, total: int) -> None:
        if self._export_progress is not None:
            self._export_progress.setMaximum(total)
            self._export_progress.setValue(done)

    @Slot(list)
    def _export_done(self, picks: list[Any]) -> None:
        self._close_export_progress()
        self.last_export = picks
        dest = self._export_dest
        if picks:
            msg = (f"Copied {len(picks)} photo(s) to {dest}.\n"
                   f"Their ranks and scores are listed in {dest / 'picks.csv'}.")
        else:
            msg = "No photo met the minimum score; nothing was copied."
        self.statusBar().showMessage(msg.replace("\n", " "), 10000)
        self.export_finished.emit(True)
        if not self.quiet_dialogs:
            QMessageBox.information(self, "Export finished", msg)

    @Slot(str)
    def _export_failed(self, message: str) -> None:
        self._close_export_progress()
        self.statusBar().showMessage(f"Export failed: {message}", 10000)
        self.export_finished.emit(False)
        if not self.quiet_dialogs:
            QMessageBox.critical(self, "Export failed", message)

    # -- model --------------------------------------------------------------------------------
    def set_model(self, path: Path) -> None:
        from curator.modelfile import load_model_file  # torch import only when switching

        try:
            load_model_file(path)
        except ModelFileError as exc:
            QMessageBox.critical(self, "Curator", str(exc))
            return
        self.model_path = Path(path)
        self.settings.setValue("model_path", "" if path == BUNDLED_MODEL else str(path))
        self._show_model_label()
        self.rescore()

    def choose_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Model file", str(self.model_path.parent),
                                              "Curator models (*.pt)")
        if path:
            self.set_model(Path(path))

    def retrain_dialog(self) -> None:
        runs = default_cache_dir().parent / "curator-models"
        dlg = RetrainDialog(self, runs)
        dlg.model_ready.connect(lambda p: self.set_model(Path(p)))
        dlg.exec()

    def about_model(self) -> None:
        from curator.modelfile import load_model_file

        try:
            mf = load_model_file(self.model_path)
        except ModelFileError as exc:
            QMessageBox.critical(self, "Curator", str(exc))
            return
        card = self.model_path.parent / "MODEL_CARD.md"
        if self.model_path == BUNDLED_MODEL and card.is_file():
            text = card.read_text(encoding="utf-8")
        else:
            t = mf.training
            text = (f"# {self.model_path.name}\n\nBackbone: {mf.backbone}\n\n"
                    f"Trained: {t.get('created', '?')}\n\nMethod: {t.get('method', '?')}\n\n"
                    f"Command: `{t.get('command', '?')}`\n\n")
            for k, v in sorted(mf.metrics.get("summary", {}).items()):
                if isinstance(v, dict) and "mean" in v:
                    text += f"- {k}: {v['mean']:.3f} ± {v['sd']:.3f}\n"
        TextDialog(self, "About this model", text).exec()

    # -- recent folders, drag and drop, closing --------------------------------------------------
    def _remember_recent(self, folder: Path) -> None:
        recent = [str(folder)] + [r for r in self._recent() if r != str(folder)]
        self.settings.setValue("recent_folders", recent[:MAX_RECENT])
        self._refresh_recent()

    def _recent(self) -> list[str]:
        value = self.settings.value("recent_folders") or []
        return [value] if isinstance(value, str) else [str(v) for v in value]

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        for r in self._recent():
            act = self.recent_menu.addAction(r)
            act.triggered.connect(lambda _=False, r=r: self.open_folder(Path(r)))
        self.recent_menu.setEnabled(bool(self._recent()))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and Path(urls[0].toLocalFile()).is_dir():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        if urls:
            self.open_folder(Path(urls[0].toLocalFile()))

    def closeEvent(self, event: Any) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.generation.next()  # cancel the running job
        for thread in (self._thread, self._export_thread):
            thread.quit()
            thread.wait(10000)
        super().closeEvent(event)


def startup_folder(arg: Path | None, settings: QSettings) -> Path:
    """The folder to open: the argument, else the last one, else the bundled samples."""
    if arg is not None:
        return arg
    last = settings.value("last_folder")
    if last and Path(str(last)).is_dir():
        return Path(str(last))
    return SAMPLES_DIR


__all__ = ["MainWindow", "Roles", "startup_folder"]
