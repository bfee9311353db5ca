"""Compare two photos side by side: synchronised zoom and pan, scores under each, pick keys.

Keys: ``1`` picks the left photo, ``2`` the right one (``Shift+1`` / ``Shift+2`` reject it),
``+`` / ``-`` zoom both, ``F`` fits both, ``Esc`` closes.  The mouse wheel zooms both; dragging
one pans both.  Photos decode off the GUI thread; verdicts go through the culling controller,
so they reach the grid and the sidecars like any other.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeyEvent,
    QPalette,
    QPixmap,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QDialog,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QGridLayout,
    QLabel,
    QWidget,
)

from curator.culling import Flag
from curator.gui.contrast import readable
from curator.gui.culling import PICK_GREEN as PICK_TEXT
from curator.gui.culling import REJECT_RED as REJECT_TEXT
from curator.gui.culling import flag_change
from curator.gui.models import PhotoItem, reason_meaning
from curator.gui.scoredisplay import format_score
from curator.gui.worker import to_qimage
from curator.loader import open_rgb
from curator.names import path_text
from curator.reasons import REASONS

if TYPE_CHECKING:
    from curator.gui.culling import CullingController

log = logging.getLogger(__name__)

#: The Compare window's keys, for Help ▸ Keyboard Shortcuts (keep in step with keyPressEvent).
COMPARE_KEYS: tuple[tuple[str, str], ...] = (
    ("In Compare: 1 / 2", "Pick the left / right photo"),
    ("In Compare: Shift+1 / Shift+2", "Reject the left / right photo"),
    ("In Compare: + / −, mouse wheel", "Zoom both photos in / out"),
    ("In Compare: F", "Fit both photos"),
    ("In Compare: Esc", "Close"),
)

def caption_colours(pal: QPalette) -> dict[str, QColor]:
    """The flag colours of a caption, made readable (WCAG 4.5:1) on the dialog's background
    (``pal.window()``), as the grid's delegate does; "background" is that colour."""
    bg = pal.window().color()
    return {"picked": readable(PICK_TEXT, bg), "rejected": readable(REJECT_TEXT, bg),
            "text": readable(pal.windowText().color(), bg), "background": bg}


def caption_html(it: PhotoItem, colours: dict[str, QColor]) -> str:
    """Name, the 0–100 score and rank, the verdict, the stack and the reasons, as rich text."""
    v = it.verdict
    flag = {Flag.PICK: f" · <b style='color:{colours['picked'].name()}'>picked</b>",
            Flag.REJECT: f" · <b style='color:{colours['rejected'].name()}'>rejected</b>"
            }.get(v.flag, "")
    stars = f" · {'★' * v.stars}" if v.stars else ""
    name = html.escape(path_text(it.path.name))
    if it.score is not None:
        head = f"<b>{name}</b> — score {format_score(it.score)} / 100, rank {it.rank}"
    else:
        head = f"<b>{name}</b> — {html.escape(it.error or 'not scored yet')}"
    reasons = tuple(getattr(it, "reasons", ()) or ())
    why = ("<br>Why not higher: " + "; ".join(
        html.escape(f"{k} ({reason_meaning(it, k)})" if k in REASONS else k) for k in reasons)
        if reasons else "")
    place = " (its best)" if it.group_best else f" (frame {it.stack_pos + 1})"
    stack = (f"<br>near-duplicate group of {it.group_size}{place}"
             + (f": {html.escape(it.group_why)}" if it.group_why else "")
             ) if it.group_size > 1 else ""
    return f"{head}{flag}{stars}{stack}{why}"


DECODE_SIZE = 2400  # enough to judge sharpness at 100 % on a laptop screen


class _Signals(QObject):
    loaded = Signal(int, str, QImage)  # side, path, image
    failed = Signal(int, str, str)  # side, path, reason


class _DecodeJob(QRunnable):
    def __init__(self, side: int, path: Path) -> None:
        super().__init__()
        self.side, self.path = side, path
        self.signals = _Signals()  # created in the GUI thread: emits are queued to it

    def run(self) -> None:
        try:
            im, _ = open_rgb(self.path, DECODE_SIZE)
            im.thumbnail((DECODE_SIZE, DECODE_SIZE))
            self.signals.loaded.emit(self.side, path_text(self.path), to_qimage(im))
        except Exception as exc:
            self.signals.failed.emit(self.side, path_text(self.path), str(exc))


class _SyncView(QGraphicsView):
    """A zoomable view whose wheel zooms the whole dialog."""

    def __init__(self, owner: CompareDialog) -> None:
        super().__init__()
        self.owner = owner
        self.setScene(QGraphicsScene(self))
        self.pix = QGraphicsPixmapItem()
        self.pix.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self.pix)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.owner.zoom_by(1.25 if event.angleDelta().y() > 0 else 0.8)


class CompareDialog(QDialog):
    """Two photos side by side, zoomed and panned together."""

    picked = Signal(str)  # path of the photo picked here (GUI thread)

    def __init__(self, parent: QWidget | None, controller: CullingController) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setWindowTitle("Compare")
        self.resize(1400, 820)
        self.views = [_SyncView(self), _SyncView(self)]
        self.captions = [QLabel(), QLabel()]
        self.items: list[PhotoItem | None] = [None, None]
        self.zoom = 1.0
        self._fitted = True
        grid = QGridLayout(self)
        for side in (0, 1):
            self.captions[side].setTextFormat(Qt.TextFormat.RichText)
            self.captions[side].setWordWrap(True)
            grid.addWidget(self.views[side], 0, side)
            grid.addWidget(self.captions[side], 1, side)
        grid.setRowStretch(0, 1)
        hint = QLabel("1 / 2: pick left / right · Shift+1 / Shift+2: reject · "
                      "+ / − or wheel: zoom both · F: fit · drag: pan both · Esc: close")
        grid.addWidget(hint, 2, 0, 1, 2)
        a, b = self.views
        for x, y in ((a, b), (b, a)):  # pan together (setValue on an equal value is a no-op)
            x.horizontalScrollBar().valueChanged.connect(y.horizontalScrollBar().setValue)
            x.verticalScrollBar().valueChanged.connect(y.verticalScrollBar().setValue)

    # -- content --------------------------------------------------------------------------------
    def show_pair(self, left: PhotoItem, right: PhotoItem) -> None:
        self.items = [left, right]
        self.setWindowTitle(f"Compare — {path_text(left.path.name)} · {path_text(right.path.name)}")
        for side, it in enumerate(self.items):
            assert it is not None
            self.views[side].pix.setPixmap(QPixmap())
            self._caption(side)
            job = _DecodeJob(side, it.path)
            job.signals.loaded.connect(self._loaded)
            job.signals.failed.connect(self._failed)
            QThreadPool.globalInstance().start(job)

    def _caption(self, side: int) -> None:
        it = self.items[side]
        if it is None:
            return
        self.captions[side].setText(caption_html(it, caption_colours(
            self.captions[side].palette())))

    @Slot(int, str, QImage)
    def _loaded(self, side: int, path: str, image: QImage) -> None:
        it = self.items[side]
        if it is None or path_text(it.path) != path:
            return  # the pair changed meanwhile
        view = self.views[side]
        view.pix.setPixmap(QPixmap.fromImage(image))
        view.scene().setSceneRect(view.pix.boundingRect())
        if self._fitted:
            self.fit()
        else:
            self._apply_zoom()

    @Slot(int, str, str)
    def _failed(self, side: int, path: str, reason: str) -> None:
        it = self.items[side]
        if it is not None and path_text(it.path) == path:
            self.captions[side].setText(f"<b>{it.path.name}</b>: cannot show ({reason})")

    # -- zoom -----------------------------------------------------------------------------------
    def fit(self) -> None:
        """Both photos at the same scale, the larger one fitting its pane."""
        self._fitted = True
        scales = []
        for v in self.views:
            r = v.pix.boundingRect()
            if r.width() > 0 and r.height() > 0:
                vp = v.viewport().size()
                scales.append(min(vp.width() / r.width(), vp.height() / r.height()))
        self.zoom = min(scales) if scales else 1.0
        self._apply_zoom()

    def zoom_by(self, factor: float) -> None:
        self._fitted = False
        self.zoom = max(0.02, min(8.0, self.zoom * factor))
        self._apply_zoom()

    def _apply_zoom(self) -> None:
        for v in self.views:
            v.setTransform(QTransform.fromScale(self.zoom, self.zoom))

    # -- keys -----------------------------------------------------------------------------------
    def verdict(self, side: int, flag: Flag) -> None:
        it = self.items[side]
        if it is None:
            return
        self.controller.apply(flag_change(flag), [it])
        self._caption(side)
        if flag == Flag.PICK:
            self.picked.emit(str(it.path))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, shift = event.key(), bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        side = {Qt.Key.Key_1: 0, Qt.Key.Key_Exclam: 0, Qt.Key.Key_2: 1,
                Qt.Key.Key_At: 1, Qt.Key.Key_QuoteDbl: 1}.get(Qt.Key(key))
        if side is not None:
            self.verdict(side, Flag.REJECT if shift else Flag.PICK)
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(1.25)
        elif key == Qt.Key.Key_Minus:
            self.zoom_by(0.8)
        elif key == Qt.Key.Key_F:
            self.fit()
        else:
            super().keyPressEvent(event)
