"""The main window: open a folder, watch it get ranked, export the best, retrain the model."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QByteArray,
    QModelIndex,
    QSettings,
    Qt,
    QThread,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QProgressDialog,
    QPushButton,
    QSlider,
    QToolBar,
)

from curator.culling import score_percent
from curator.export import ExportOptions
from curator.gui.culling import CullingController
from curator.gui.delegate import PhotoDelegate
from curator.gui.destinations import DestinationsController
from curator.gui.dialogs import TextDialog, open_in_file_manager
from curator.gui.export_dialog import (
    ExportDialog,
    export_summary,
    remember_export_dir,
    remember_options,
    remembered_export_dir,
    remembered_options,
    show_export_result,
)
from curator.gui.export_runner import ExportWorker
from curator.gui.grid import MAX_THUMB, MIN_THUMB, PhotoGridView, zoom_step
from curator.gui.help import about_markdown, action_shortcuts, shortcuts_markdown
from curator.gui.models import PhotoFilterProxy, PhotoItem, PhotoListModel, Roles, SortKey
from curator.gui.preferences import PreferencesController
from curator.gui.preview import PreviewDialog
from curator.gui.retrain import RetrainDialog, model_card_markdown, models_dir, trained_models
from curator.gui.scoredisplay import configure_min_spin, format_score, min_from_spin, passes
from curator.gui.settings import ViewState, load_view, path_setting, save_view, setting_path
from curator.gui.skipped import SkippedButton
from curator.gui.thumbs import ThumbnailController
from curator.gui.worker import Generation, ScoreWorker
from curator.names import display_text
from curator.paths import BUNDLED_MODEL, SAMPLES_DIR, ModelFileError
from curator.preprocess import Preprocess
from curator.progress import format_eta
from curator.scan import PHOTO_EXTENSIONS, Skipped
from curator.score import PhotoScore

if TYPE_CHECKING:
    from curator.export import ExportReport

log = logging.getLogger(__name__)

MAX_RECENT = 8


def _unique_keys(*keys: str | QKeySequence.StandardKey) -> list[QKeySequence]:
    """Key sequences without repeats (a repeat makes Qt call the shortcut ambiguous)."""
    out: list[QKeySequence] = []
    for k in keys:
        seqs = (QKeySequence.keyBindings(k) if isinstance(k, QKeySequence.StandardKey)
                else [QKeySequence(k)])
        out += [s for s in seqs if not s.isEmpty() and s not in out]
    return out


def openable_kinds() -> str:
    """"JPEG, PNG, …": the photo kinds a folder is searched for, for the empty state."""
    names = {".jpg": "JPEG", ".png": "PNG", ".webp": "WebP", ".tif": "TIFF", ".bmp": "BMP",
             ".heic": "HEIC/HEIF"}
    return ", ".join(v for k, v in names.items() if k in PHOTO_EXTENSIONS)


class MainWindow(QMainWindow):
    """A thin layer over the core: every slow step runs in a worker thread."""

    #: Paths cross threads as ``Path`` objects, never ``str``: a QString drops the bytes of
    #: a name that is not UTF-8 (``root\xe9``), so the worker got another folder.
    start_job = Signal(int, object, object)  # generation, folder, model path
    preload_model = Signal(str)
    start_export = Signal(list, object, int, object, object)  # ranked, dest, …, ExportOptions
    #: GUI-thread notifications (tests and other widgets wait on these, never on a worker's).
    scoring_progressed = Signal(int, int)  # done, total
    noticed = Signal(str)  # a worker's notice, as shown in the status bar
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
        self.view = PhotoGridView()
        self.delegate = PhotoDelegate(self.view)
        self.view.setItemDelegate(self.delegate)
        self.view.setModel(self.proxy)
        self.view.set_cell(self.delegate.cell_size())
        self.view.doubleClicked.connect(self.open_preview)
        self.setCentralWidget(self.view)
        self.preview: PreviewDialog | None = None
        self.retrain: RetrainDialog | None = None
        self._model_loading = False
        self._cancelled_folder: Path | None = None
        #: Actions other parts of the window add at the end of the Model menu (Learn…).
        self._model_menu_extras: list[QAction] = []
        self._thumb_made = 0  # px the thumbnails were last made at (device pixels)
        self._build_actions()
        self._build_status()
        for sig in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset,
                    self.proxy.layoutChanged):
            sig.connect(self._update_counts)
        self._thread = QThread(self)
        self.worker = ScoreWorker(self.generation, cache_dir)
        self.worker.moveToThread(self._thread)
        self.start_job.connect(self.worker.run)
        self.preload_model.connect(self.worker.preload)
        self.worker.found.connect(self._found)
        self.worker.skipped.connect(self._skipped)
        self.worker.unpaired.connect(self._unpaired)
        self.worker.results.connect(self._results)
        self.worker.thumbnails.connect(self._thumbnails)
        self.worker.progress.connect(self._progress)
        self.worker.finished.connect(self._finished)
        self.worker.failed.connect(self._failed)
        self.worker.dates.connect(self._dates)
        self.worker.model_loading.connect(self._model_loads)
        self.worker.notice.connect(self._notice)
        self._thread.start()
        self.preload_model.emit(str(self.model_path))  # torch + model load while idle
        self._export_thread = QThread(self)
        self.exporter = ExportWorker()
        self.exporter.moveToThread(self._export_thread)
        self.start_export.connect(self.exporter.run)
        # Receivers are this window's slots (GUI thread): queued, never run in the worker.
        self.exporter.progress.connect(self._export_progressed)
        self.exporter.done.connect(self._export_done)
        self.exporter.failed.connect(self._export_failed)
        self._export_progress: QProgressDialog | None = None
        self._export_dest = Path()
        self._export_asked: tuple[int, float | None] = (0, None)
        self._export_top = 0  # the number the owner asked for
        self.last_export_message = ""
        self._export_thread.start()
        geo = self.settings.value("geometry")
        if isinstance(geo, QByteArray):
            self.restoreGeometry(geo)
        self.t_open = 0.0
        self.first_thumb_s: float | None = None
        self._rerank_timer = QTimer(self)
        self._rerank_timer.setSingleShot(True)
        self._rerank_timer.setInterval(500)
        self._rerank_timer.timeout.connect(lambda: self.model.rerank(reorder=False))
        self._thumb_timer = QTimer(self)
        self._thumb_timer.setSingleShot(True)
        self._thumb_timer.setInterval(300)
        self._thumb_timer.timeout.connect(self._thumbs_for_size)
        self.thumbs = ThumbnailController(self)  # cached, let-go and zoomed thumbnails
        self.culling = CullingController(self)  # keys, flags, stars, stacks, compare
        self.destinations = DestinationsController(self)  # ready for …, crops, export for
        self.preferences = PreferencesController(self)  # Cull ▸ Preferences (curator.prefs)
        self._restore_view()

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
        self.act_clear_recent = QAction("&Clear Recent", self)
        self.act_clear_recent.triggered.connect(self.clear_recent)
        self._refresh_recent()
        self.act_export = QAction("&Export Best Photos…", self)
        self.act_export.setShortcut(QKeySequence("Ctrl+E"))
        self.act_export.triggered.connect(self.export_dialog)
        file_menu.addAction(self.act_export)
        self.act_reveal = QAction("Show in &Folder", self)
        self.act_reveal.setShortcut(QKeySequence("Ctrl+Shift+R"))
        self.act_reveal.triggered.connect(self.reveal_current)
        file_menu.addAction(self.act_reveal)
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
        self.act_rerank = QAction("&Re-rank Now", self)
        self.act_rerank.setToolTip("Put the grid in score order now (while scoring, photos "
                                   "keep their places until scoring ends)")
        self.act_rerank.setShortcut(QKeySequence("Ctrl+R"))
        self.act_rerank.triggered.connect(lambda: self.model.rerank(reorder=True))
        view_menu.addAction(self.act_rerank)
        view_menu.addSeparator()
        self.act_zoom_in = QAction("&Larger Thumbnails", self)
        self.act_zoom_in.setShortcuts(_unique_keys("Ctrl+=", "Ctrl++",
                                                   QKeySequence.StandardKey.ZoomIn))
        self.act_zoom_in.triggered.connect(lambda: self.zoom(1))
        self.act_zoom_out = QAction("&Smaller Thumbnails", self)
        self.act_zoom_out.setShortcuts(_unique_keys("Ctrl+-", QKeySequence.StandardKey.ZoomOut))
        self.act_zoom_out.triggered.connect(lambda: self.zoom(-1))
        view_menu.addAction(self.act_zoom_in)
        view_menu.addAction(self.act_zoom_out)
        self.model_menu = mb.addMenu("&Model")
        self.model_menu.aboutToShow.connect(self._refresh_model_menu)
        self._model_group = QActionGroup(self)
        self._model_group.setExclusive(True)
        self._refresh_model_menu()
        help_menu = mb.addMenu("&Help")
        self.act_shortcuts = QAction("&Keyboard Shortcuts", self)
        self.act_shortcuts.setShortcut(QKeySequence.StandardKey.HelpContents)  # F1
        self.act_shortcuts.triggered.connect(self.show_shortcuts)
        help_menu.addAction(self.act_shortcuts)
        self.act_about = QAction("&About Curator", self)
        self.act_about.triggered.connect(self.show_about)
        help_menu.addAction(self.act_about)

        tb = QToolBar("Grid")
        tb.setObjectName("grid-toolbar")
        tb.setMovable(False)
        self.addToolBar(tb)
        tb.addAction(self.act_open)
        tb.addAction(self.act_export)
        tb.addAction(self.act_rerank)
        tb.addSeparator()
        tb.addWidget(QLabel(" Sort by "))
        self.sort_combo = QComboBox()
        self.sort_combo.addItems(["Score", "Name", "Date"])
        self.sort_combo.setItemData(2, "capture time (EXIF), else the file date",
                                    Qt.ItemDataRole.ToolTipRole)
        self.sort_combo.currentIndexChanged.connect(self._sort_changed)
        tb.addWidget(self.sort_combo)
        self.act_reverse = QAction("Reverse Sort Order", self, checkable=True)
        self.act_reverse.setToolTip("Worst, Z or oldest first")
        self.act_reverse.toggled.connect(lambda _on: self._sort_changed(
            self.sort_combo.currentIndex()))
        tb.addAction(self.act_reverse)
        tb.addWidget(QLabel("  Minimum score "))
        self.min_spin = QDoubleSpinBox()
        configure_min_spin(self.min_spin)
        self.min_spin.valueChanged.connect(self._min_changed)
        tb.addWidget(self.min_spin)
        tb.addWidget(QLabel("  Size "))
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(MIN_THUMB, MAX_THUMB)
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
        self.resume_btn = QPushButton("Resume")
        self.resume_btn.setToolTip("Score the rest; the photos already scored come from the "
                                   "cache at once")
        self.resume_btn.setVisible(False)
        self.resume_btn.clicked.connect(self.resume)
        self.count_label = QLabel()
        self.model_label = QLabel()
        self.skipped_btn = SkippedButton()
        sb.addWidget(self.status_label, 1)
        sb.addPermanentWidget(self.skipped_btn)
        sb.addPermanentWidget(self.count_label)
        sb.addPermanentWidget(self.bar)
        sb.addPermanentWidget(self.cancel_btn)
        sb.addPermanentWidget(self.resume_btn)
        sb.addPermanentWidget(self.model_label)
        self.show_model_label()

    def show_model_label(self) -> None:
        """The status bar's right side: the model in use, and a personal model over it."""
        self.model_label.setText(f"Model: {self.ranking_model_name()}")

    def ranking_model_name(self) -> str:
        """"bundled model", a trained model's name, or "your personal model (over …)"."""
        name = self.model_name(self.model_path)
        personal = getattr(getattr(self, "worker", None), "personal_path", None)
        return f"your personal model (over the {name})" if personal else name

    @staticmethod
    def model_name(path: Path) -> str:
        """"bundled model", a trained model's name (its folder), or the file's name."""
        if path == BUNDLED_MODEL:
            return "bundled model"
        return path.parent.name if path.name == "model.pt" else path.name

    # -- opening and scoring ------------------------------------------------------------------
    def choose_folder(self) -> None:
        start = str(self.folder) if self.folder else str(Path.home())  # a hint only
        d = QFileDialog.getExistingDirectory(self, "Open folder of photos", start)
        if d:
            self.open_folder(Path(d))

    def open_folder(self, folder: Path) -> None:
        """Show ``folder`` and score it; cancels whatever was running."""
        folder = Path(folder).expanduser().resolve()  # absolute: recent list, URLs, export
        if not folder.is_dir():
            QMessageBox.warning(self, "Curator", f"Not a folder:\n{display_text(folder)}")
            return
        self.folder = folder
        self.statusBar().clearMessage()  # e.g. the last folder's "Export failed: …"
        self.setWindowTitle(f"Curator — {display_text(folder.name)}")
        self.settings.setValue("last_folder", path_setting(folder))
        self._remember_recent(folder)
        self.rescore()

    def rescore(self) -> None:
        if self.folder is None:
            return
        self.current_gen = self.generation.next()  # cancels the previous job
        self.model.reset([])
        self.skipped_btn.set_skipped([], None)
        self.scoring = True
        self.delegate.busy = True
        self._model_loading = False
        self._cancelled_folder = None
        self.t_open = time.perf_counter()
        self.first_thumb_s = None
        self.bar.setValue(0)
        self.bar.setVisible(True)
        self.cancel_btn.setVisible(True)
        self.resume_btn.setVisible(False)
        self.view.set_empty_text("")
        self.status_label.setText(f"Looking for photos in {display_text(self.folder)}…")
        self.worker.thumb_px = self._wanted_thumb_px()
        self._thumb_made = self.model.thumb_px = self.worker.thumb_px
        self.start_job.emit(self.current_gen, self.folder, self.model_path)

    def cancel(self) -> None:
        """Stop scoring; what was scored stays, and Resume scores the rest."""
        self.current_gen = self.generation.next()
        self.model.rerank(reorder=True)
        items = self.model.items()
        scored = sum(it.score is not None or it.error is not None for it in items)
        self._stop_ui(f"Cancelled: {scored} of {len(items)} photos scored. "
                      "Resume scores the rest.")
        self._cancelled_folder = self.folder
        self.resume_btn.setVisible(scored < len(items))
        self.scoring_finished.emit(True)

    def resume(self) -> None:
        """Score the folder again after a cancel: done photos come from the cache at once."""
        if self._cancelled_folder is not None and self._cancelled_folder == self.folder:
            self.rescore()

    def _stop_ui(self, text: str) -> None:
        self.scoring = False
        self.delegate.busy = False
        self.model.flush_now()
        self.bar.setVisible(False)
        self.cancel_btn.setVisible(False)
        self.status_label.setText(text)
        self.view.viewport().update()
        self._update_counts()

    @Slot(int, list)
    def _found(self, gen: int, photos: list[PhotoItem]) -> None:
        if gen != self.current_gen:
            return
        self.model.reset(photos)
        self.bar.setRange(0, max(1, len(photos)))
        self.status_label.setText(f"{len(photos)} photos found; scoring…")
        self._update_counts()

    @Slot(int, list)
    def _unpaired(self, gen: int, pairs: list[tuple[Path, PhotoItem]]) -> None:
        if gen == self.current_gen:
            for photo, raw_item in pairs:
                self.model.unpair(photo, raw_item)

    @Slot(int, str)
    def _notice(self, gen: int, message: str) -> None:
        if gen == self.current_gen:
            self.statusBar().showMessage(message, 20000)
            self.noticed.emit(message)

    @Slot(int)
    def _model_loads(self, gen: int) -> None:
        if gen == self.current_gen:
            self._model_loading = True
            self.status_label.setText("Loading the model (a few seconds, the first time)…")

    @Slot(int, list)
    def _dates(self, gen: int, dates: list[tuple[Path, float, bool]]) -> None:
        if gen == self.current_gen:
            self.model.set_dates(dates)

    @Slot(int, list)
    def _skipped(self, gen: int, skipped: list[Skipped]) -> None:
        if gen == self.current_gen:
            self.skipped_btn.set_skipped(skipped, self.folder)

    @Slot(int, list)
    def _results(self, gen: int, rows: list[tuple[Any, ...]]) -> None:
        if gen != self.current_gen:
            return
        for path, score, sd, dist, size, error, ava_mean, reasons, percent in rows:
            self.model.set_result(path, score, sd, dist, size, error, ava_mean, reasons, percent)
        if not self._rerank_timer.isActive():
            self._rerank_timer.start()  # ranks and order: at most twice a second

    @Slot(int, list)
    def _thumbnails(self, gen: int, thumbs: list[tuple[Path, Any, int]]) -> None:
        if gen != self.current_gen:
            return
        if self.first_thumb_s is None and thumbs:
            self.first_thumb_s = time.perf_counter() - self.t_open
        for path, image, px in thumbs:
            self.model.set_thumbnail(path, image, px)

    @Slot(int, int, int, float)
    def _progress(self, gen: int, done: int, total: int, rate: float) -> None:
        if gen != self.current_gen:
            return
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(done)
        self.scoring_progressed.emit(done, total)
        if done == 0 or rate <= 0:
            self.status_label.setText("Loading the model (a few seconds, the first time)…"
                                      if self._model_loading else f"Scoring {total} photos…")
            return
        eta = (total - done) / rate
        self.status_label.setText(
            f"Scoring {done}/{total} · {rate:.1f} photos/s · about {format_eta(eta)} left")

    @Slot(int, bool)
    def _finished(self, gen: int, cancelled: bool) -> None:
        if gen != self.current_gen:
            return
        self._rerank_timer.stop()
        self.model.rerank(reorder=True)
        items = self.model.items()
        scored = sum(it.score is not None for it in items)
        broken = sum(it.error is not None for it in items)
        if not items:
            self._stop_ui("No photos in this folder.")
            self._update_counts()
            self.scoring_finished.emit(cancelled)
            return
        text = f"{scored} photos ranked"
        if broken:
            text += f" · {broken} could not be read (hover them for the reason)"
        self._stop_ui(("Cancelled. " if cancelled else "") + text)
        self.scoring_finished.emit(cancelled)

    def _update_counts(self) -> None:
        """"showing N of M" when the filter hides some, and the grid's empty state."""
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        minimum = self.proxy.min_score()
        culling = getattr(self, "culling", None)  # None while the window is being built
        stacked = culling.hidden_in_stacks() if culling is not None else 0
        why = f" ({stacked} inside stacks)" if stacked else ""
        self.count_label.setText(f"showing {shown} of {total}{why}" if shown != total else "")
        if self.folder is None:
            empty = "Open a folder of food photos (Ctrl+O) or drop one here."
        elif total == 0 and not self.scoring:
            empty = (f"No photos in {display_text(self.folder)}.\n\nCurator opens "
                     f"{openable_kinds()} files, in this folder and the folders inside it.")
        elif shown == 0 and minimum is not None:
            scores = [it.score for it in self.model.items() if it.score is not None]
            best = f" The best here scores {format_score(max(scores))}." if scores else ""
            unreadable = sum(it.error is not None for it in self.model.items())
            broken = (f" ({unreadable} file(s) could not be read and have no score.)"
                      if unreadable else "")
            empty = (f"No photo scores {format_score(minimum)} or more, so all {len(scores)} "
                     f"scored photos are hidden.{best}{broken}\n\nLower the minimum score in "
                     "the toolbar to see them.")
        else:
            empty = ""
        self.view.set_empty_text(empty)

    @Slot(int, str)
    def _failed(self, gen: int, message: str) -> None:
        if gen != self.current_gen:
            return
        self._stop_ui("Scoring failed.")
        QMessageBox.critical(self, "Curator", f"Scoring failed:\n{message}")

    # -- view ---------------------------------------------------------------------------------
    def set_thumb_size(self, px: int) -> None:
        self.delegate.set_thumb_size(px)
        self.view.set_cell(self.delegate.cell_size())
        # A new cell size is not a change of the model's layout: a bare layoutChanged (without
        # layoutAboutToBeChanged) left the proxy's persistent indexes dangling and the next
        # paint of a selection crashed.  The view just lays its items out again.
        self.view.doItemsLayout()
        self.view.viewport().update()
        self._save_view()
        if self._wanted_thumb_px() > self._thumb_made:
            self._thumb_timer.start()

    def zoom(self, direction: int) -> None:
        """Ctrl+= / Ctrl+−: the next thumbnail size up or down."""
        self.size_slider.setValue(zoom_step(self.size_slider.value(), direction))

    def _wanted_thumb_px(self) -> int:
        """Thumbnails are made at the size shown (in device pixels), never smaller."""
        return max(256, round(self.delegate.thumb * self.devicePixelRatioF()))

    def _thumbs_for_size(self) -> None:
        """The grid was zoomed past the thumbnails' size: make them again, larger."""
        px = self._wanted_thumb_px()
        if px <= self._thumb_made:
            return
        self._thumb_made = self.worker.thumb_px = px
        self.thumbs.remake(px)

    def _sort_changed(self, i: int) -> None:
        self.model.set_sort_key(SortKey(i), self.act_reverse.isChecked())
        self.act_reverse.setText(("Worst First", "Z to A", "Oldest First")[i]
                                 if self.act_reverse.isChecked() else "Reverse Sort Order")
        self._save_view()

    def _min_changed(self, _value: float) -> None:
        self.proxy.set_min_score(min_from_spin(self.min_spin))
        self._update_counts()
        self._save_view()

    def _restore_view(self) -> None:
        state = load_view(self.settings)
        self.act_reverse.setChecked(self.settings.value("view/sort_reverse", False)
                                    in (True, "true"))
        self.sort_combo.setCurrentIndex(max(0, min(2, state.sort)))
        self.size_slider.setValue(max(MIN_THUMB, min(MAX_THUMB, state.thumb)))
        self.min_spin.setValue(state.min_score if state.min_score is not None
                               else self.min_spin.minimum())

    def _save_view(self) -> None:
        self.settings.setValue("view/sort_reverse", self.act_reverse.isChecked())
        save_view(self.settings, ViewState(self.sort_combo.currentIndex(),
                                           self.size_slider.value(),
                                           min_from_spin(self.min_spin)))

    def selected_items(self) -> list[PhotoItem]:
        rows = sorted(i.row() for i in self.view.selectionModel().selectedIndexes())
        return [self.model.item(self.proxy.mapToSource(self.proxy.index(r, 0)).row())
                for r in rows]

    def reveal_current(self) -> None:
        """Show the current photo's folder in the file manager."""
        index = self.view.currentIndex()
        if index.isValid():
            path = self.model.item(self.proxy.mapToSource(index).row()).path
            open_in_file_manager(path.parent, self)

    def open_preview(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        if self.preview is None:
            self.preview = PreviewDialog(self, self.pre)
            self.preview.step = self._step_preview
            self.preview.cull = self.culling.preview_key
            self.culling.verdicts_changed.connect(self._preview_verdict)
            self.destinations.attach_preview(self.preview)
        self.view.setCurrentIndex(index)
        src = self.proxy.mapToSource(index)
        self.preview.show_item(self.model.item(src.row()))
        self.preview.show()
        self.preview.raise_()

    @Slot(list)
    def _preview_verdict(self, _paths: list[Path]) -> None:
        if self.preview is not None:
            self.preview.show_verdict()

    def _step_preview(self, delta: int) -> None:
        row = self.view.currentIndex().row() + delta
        if 0 <= row < self.proxy.rowCount():
            self.open_preview(self.proxy.index(row, 0))

    # -- export -------------------------------------------------------------------------------
    def ranked_scores(self) -> list[PhotoScore]:
        """Scored photos best first, as the core's ``rank`` orders them."""
        items = [it for it in self.model.items() if it.score is not None]
        # By score, not by the rank numbers: while scoring those lag behind the newest results.
        items.sort(key=lambda it: it.score_key)
        return [PhotoScore(it.path, it.ava_mean if it.ava_mean is not None else it.score or 0.0,
                           it.sd or 0.0, it.distribution,
                           score=it.score if it.percent else None, reasons=it.reasons)
                for it in items]

    def export_dialog(self) -> None:
        """Ask what to export (honouring the grid's filter, selection and stacks), then copy."""
        all_ranked = self.culling.without_rejects(self.ranked_scores())  # never rejects
        ranked = self.culling.export_candidates(all_ranked)  # the best of each stack
        if not ranked or self.folder is None:
            QMessageBox.information(self, "Curator", "No scored photos to export yet.")
            return
        chosen = {it.path for it in self.selected_items() if it.score is not None} & {
            s.path for s in all_ranked}
        dlg = ExportDialog(self, self.folder, remembered_export_dir(self.settings, self.folder),
                           len(ranked), len(chosen), self.proxy.min_score(),
                           still_scoring=self.scoring, pairs=self.model.raw_of(),
                           destinations=self.destinations.choices(),
                           destination=self.destinations.key,
                           **remembered_options(self.settings))
        self.culling.annotate_export_dialog(dlg)
        if dlg.exec() != ExportDialog.DialogCode.Accepted:
            return
        c = dlg.values()
        if c.destination:  # cropped JPEGs for one place; a stack's next best may stand in
            self.destinations.export([s for s in all_ranked if s.path in chosen] if
                                     c.selected_only else all_ranked, c.dest, c.top,
                                     c.min_score, c.destination, c.rank_prefix)
            return
        remember_export_dir(self.settings, self.folder, c.dest)
        remember_options(self.settings, c, bool(self.model.raw_of()))
        # Selected photos go as chosen, stacked or not; otherwise the best of each stack.
        source = [s for s in all_ranked if s.path in chosen] if c.selected_only else ranked
        self.run_export(source, c.dest, c.top, c.min_score, rank_prefix=c.rank_prefix,
                        with_raw=c.with_raw, sidecars=c.sidecars, embed=c.embed)

    def run_export(self, ranked: list[PhotoScore], dest: Path, top: int,
                   min_score: float | None, rank_prefix: bool = False,
                   with_raw: bool = False, sidecars: bool = False, embed: bool = False) -> None:
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
        self._export_asked = (min(top, len(ranked)), min_score)
        self._export_top = top
        if min_score is not None:
            # Kept exactly as the grid's filter keeps them: by the displayed (rounded) score.
            # Scores are sorted, so this keeps a prefix and the ranks do not change.
            ranked = [s for s in ranked if passes(score_percent(s), min_score)]
        self.exporter.scanned_root = self.folder
        self.start_export.emit(ranked, Path(dest), top, None, ExportOptions(
            rank_prefix, self.model.raw_of() if with_raw else None, sidecars,
            self.culling.embedded(ranked) if embed else None))

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

    @Slot(object)
    def _export_done(self, picks: ExportReport) -> None:
        self._close_export_progress()
        self.last_export = list(picks)
        dest = self._export_dest
        if not picks.ok:  # disk full part-way, originals gone: say what was and was not copied
            msg = picks.summary(dest)
            if (dest / "picks.csv").is_file():  # absent when nothing could be copied
                msg += f"\nThe copies made are listed in {dest / 'picks.csv'}."
            self.last_export_message = msg
            self.statusBar().showMessage(msg.replace("\n", " "), 10000)
            self.export_finished.emit(False)
            if not self.quiet_dialogs:
                show_export_result(self, msg, dest, False)
            return
        asked, minimum = self._export_asked
        # Unreadable files only matter when they left the export short of what was asked.
        unreadable = (sum(it.error is not None for it in self.model.items())
                      if len(picks) + len(picks.already) < self._export_top else 0)
        msg = export_summary(len(picks), asked, dest, minimum, unreadable,
                             sum(p.raw_dest is not None for p in picks), len(picks.already))
        self.last_export_message = msg
        self.statusBar().showMessage(msg.replace("\n", " "), 10000)
        self.export_finished.emit(True)
        if not self.quiet_dialogs:
            show_export_result(self, msg, dest, True)

    @Slot(str)
    def _export_failed(self, message: str) -> None:
        self._close_export_progress()
        self.statusBar().showMessage(f"Export failed: {message}", 10000)
        self.export_finished.emit(False)
        if not self.quiet_dialogs:
            QMessageBox.critical(self, "Export failed", message)

    # -- model --------------------------------------------------------------------------------
    def set_model(self, path: Path) -> bool:
        """Score with ``path`` from now on; a file that is not a model gets Curator's message."""
        from curator.modelfile import load_model_file  # torch import only when switching

        try:
            load_model_file(path)
        except ModelFileError as exc:
            QMessageBox.critical(self, "Curator", str(exc))
            return False
        self.model_path = Path(path)
        self.settings.setValue("model_path", "" if path == BUNDLED_MODEL else str(path))
        self.show_model_label()
        self._refresh_model_menu()
        self.rescore()
        return True

    def choose_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Model file", str(self.model_path.parent),
                                              "Curator models (*.pt)")
        if path:
            self.set_model(Path(path))

    def _refresh_model_menu(self) -> None:
        """Retrain, the models to choose from (the active one checked), About."""
        menu = self.model_menu
        menu.clear()
        for act in self._model_group.actions():
            self._model_group.removeAction(act)
        menu.addAction("&Retrain…", self.retrain_dialog)
        menu.addAction("Use Model &File…", self.choose_model)
        menu.addSeparator()
        choices = [("Bundled model", BUNDLED_MODEL)] + [
            (name, path) for name, path in trained_models(models_dir())]
        if self.model_path not in [p for _, p in choices]:
            choices.append((self.model_name(self.model_path), self.model_path))
        self.model_actions: dict[Path, QAction] = {}
        for name, path in choices:
            act = QAction(name, self)
            act.setCheckable(True)
            act.setChecked(path == self.model_path)
            act.setToolTip(str(path))
            act.triggered.connect(lambda _=False, p=path: self.set_model(p))
            self._model_group.addAction(act)
            menu.addAction(act)
            self.model_actions[path] = act
        menu.addSeparator()
        menu.addAction("&About This Model", self.about_model)
        if self._model_menu_extras:
            menu.addSeparator()
            menu.addActions(self._model_menu_extras)

    def add_model_menu_actions(self, actions: list[QAction]) -> None:
        """Keep ``actions`` at the end of the Model menu, which is rebuilt on every opening."""
        self._model_menu_extras += actions
        self._refresh_model_menu()

    def retrain_dialog(self) -> None:
        """The retrain window is not modal: browsing goes on while it trains."""
        if self.retrain is None:
            self.retrain = RetrainDialog(self, models_dir(), current_model=self.model_path)
            self.retrain.model_ready.connect(self._use_trained)
        self.retrain.current_model = self.model_path
        self.retrain.show()
        self.retrain.raise_()
        self.retrain.activateWindow()

    @Slot(str)
    def _use_trained(self, path: str) -> None:
        self.set_model(Path(path))

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
            text = model_card_markdown(self.model_name(self.model_path), mf.training,
                                       mf.metrics)
        TextDialog(self, "About this model", text).exec()

    def show_shortcuts(self) -> None:
        TextDialog(self, "Keyboard shortcuts", self.shortcuts_text(), (620, 560)).exec()

    def shortcuts_text(self) -> str:
        """Help ▸ Keyboard Shortcuts: the fixed list plus the Cull menu's keys and Compare's."""
        from curator.gui.compare import COMPARE_KEYS

        cull = [(k, f"{v} (on the grid and in Look Closer)")
                for k, v in action_shortcuts(self.culling.menu.actions())]
        return shortcuts_markdown([*cull, *COMPARE_KEYS])

    def show_about(self) -> None:
        TextDialog(self, "About Curator",
                   about_markdown(self.model_path, self.model_name(self.model_path),
                                  self.worker.personal_path),
                   (620, 620)).exec()

    # -- recent folders, drag and drop, closing --------------------------------------------------
    def _remember_recent(self, folder: Path) -> None:
        recent = [str(folder)] + [r for r in self._recent() if r != str(folder)]
        self.settings.setValue("recent_folders",
                               [path_setting(r) for r in recent[:MAX_RECENT]])
        self._refresh_recent()

    def _recent(self) -> list[str]:
        """Remembered folders as Python path strings (``str(Path)``, a name that is not UTF-8
        included), absolute only (older relative entries are dropped), no repeats."""
        value = self.settings.value("recent_folders") or []
        items = [value] if isinstance(value, str) else [str(v) for v in value]
        out: list[str] = []
        for stored in items:
            path = setting_path(stored)
            if path is not None and path.is_absolute() and str(path) not in out:
                out.append(str(path))
        return out

    def clear_recent(self) -> None:
        self.settings.setValue("recent_folders", [])
        self._refresh_recent()

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        recent = self._recent()
        for r in recent:  # the menu shows the name readably; the lambda keeps the real path
            act = self.recent_menu.addAction(display_text(r))
            if not Path(r).is_dir():
                act.setText(f"{display_text(r)} (not found)")
                act.setEnabled(False)
            act.triggered.connect(lambda _=False, r=r: self.open_folder(Path(r)))
        if recent:
            self.recent_menu.addSeparator()
        self.recent_menu.addAction(self.act_clear_recent)
        self.act_clear_recent.setEnabled(bool(recent))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and Path(urls[0].toLocalFile()).is_dir():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        if urls:
            self.open_folder(Path(urls[0].toLocalFile()))

    def closeEvent(self, event: Any) -> None:
        if self.retrain is not None and self.retrain.running():
            answer = QMessageBox.question(
                self, "Curator", "A model is still training. Stop it and quit?")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
            self.retrain.cancel()
        self.settings.setValue("geometry", self.saveGeometry())
        self.generation.next()  # cancel the running job
        for thread in (self._thread, self._export_thread):
            thread.quit()
            thread.wait(10000)
        self.thumbs.stop()
        super().closeEvent(event)


def startup_folder(arg: Path | None, settings: QSettings) -> Path:
    """The folder to open: the argument, else the last one, else the bundled samples."""
    if arg is not None:
        return arg
    last = setting_path(settings.value("last_folder"))
    if last is not None and last.is_dir():
        return last
    return SAMPLES_DIR


__all__ = ["MainWindow", "Roles", "startup_folder"]
