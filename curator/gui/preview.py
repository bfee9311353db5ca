"""Look Closer: one photo large, its score details, and the two views the model saw.

Keys (the dialog keeps the keyboard: its only button never takes focus):
Space, Escape close; Left/Right/Up/Down, Page Up/Down and Return move through the grid's
current order; a click toggles between "fit to window" and 100 % (one photo pixel per screen
pixel) around the clicked point, and dragging pans the zoomed photo.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QObject,
    QPoint,
    QPointF,
    QRect,
    QRunnable,
    QSize,
    Qt,
    QThreadPool,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
)
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from curator.culling import Flag
from curator.gui.dialogs import open_in_file_manager
from curator.gui.models import PhotoItem, capture_text, reason_meaning
from curator.gui.scoredisplay import format_score
from curator.gui.worker import to_qimage
from curator.loader import LoadedPhoto, load_photo, open_rgb
from curator.names import path_text
from curator.preprocess import Preprocess

log = logging.getLogger(__name__)

#: The preview decodes at full resolution up to this long side (px), so 100 % is real.
MAX_PREVIEW_SIDE = 8000


def array_to_qimage(arr: np.ndarray) -> QImage:
    """An ``(H, W, 3)`` uint8 array as a deep-copied RGB888 ``QImage``."""
    a = np.ascontiguousarray(arr)
    h, w, _ = a.shape
    return QImage(a.tobytes(), w, h, w * 3, QImage.Format.Format_RGB888).copy()


class _PreviewSignals(QObject):
    loaded = Signal(str, QImage, QImage, QImage)
    failed = Signal(str, str)


class _PreviewJob(QRunnable):
    """Decode the photo and the two model views off the GUI thread (a pool thread)."""

    def __init__(self, path: Path, pre: Preprocess, size: int) -> None:
        super().__init__()
        self.path, self.pre, self.size = path, pre, size
        self.signals = _PreviewSignals()

    def run(self) -> None:
        try:
            im, _ = open_rgb(self.path, self.size)
            im.thumbnail((self.size, self.size))
            views = load_photo(self.path, self.pre)
            if not isinstance(views, LoadedPhoto):
                raise OSError(views.reason)
            self.signals.loaded.emit(path_text(self.path), to_qimage(im),
                                     array_to_qimage(views.global_view),
                                     array_to_qimage(views.local_view))
        except Exception as exc:
            self.signals.failed.emit(path_text(self.path), str(exc))


#: What "Why not higher" says without a reason: a low score then comes from what the photo
#: shows (the editor's criteria), which the reason vocabulary has no word for.
NO_REASON = "nothing to flag"
NO_FLAW_LOW = ("no technical flaw found (focus, exposure, tilt, grain, compression): the score "
               "is about what the photo shows and how it is framed (the food as the subject, "
               "clutter, hands, packaging, light and colour)")


def preview_html(item: PhotoItem) -> str:
    """The preview's score block: the 0–100 score and its meaning, the reasons, and, for a
    photo in a near-duplicate stack, which frame won and why (``curator.bursts``).

    The AVA-style vote histogram and its mean ± spread are not shown: on held-out photos
    they predicted little (SRCC ~0.29 on AVA, a near-flat histogram on food photos)."""
    meaning = ("the chance a food-photo editor would post this photo, with the crowd's taste "
               "ordering good photos (see the model card)" if item.percent else
               "this model file has no calibrated score: its AVA mean, mapped to 0–100")
    why = ("".join(f"<li><b>{k}</b>: {html.escape(reason_meaning(item, k))}</li>"
                   for k in item.reasons)
           if item.reasons
           else f"<li>{NO_REASON if item.score is None or item.score >= 50 else NO_FLAW_LOW}</li>")
    return (f"<h2>Score {format_score(item.score or 0)} / 100</h2>rank {item.rank}<br>"
            f"<i>{meaning}</i><br><b>Why not higher:</b><ul>{why}</ul>{stack_html(item)}")


def stack_html(item: PhotoItem) -> str:
    """Which frame of its near-duplicate stack ``item`` is, and why ("" when alone)."""
    if item.group_size < 2:
        return ""
    place = ("<b>the best frame</b>" if item.group_best
             else f"frame {item.stack_pos + 1} of the stack")
    why = f": {html.escape(item.group_why)}" if item.group_why else ""
    return (f"<h4>Near-duplicates</h4>One of {item.group_size} near-identical photos; this is "
            f"{place}{why}.")


def _place(avail: int, size: int, centre: float) -> int:
    """Offset of a ``size``-long photo in ``avail`` pixels: centred if it fits, else clamped."""
    if size <= avail:
        return (avail - size) // 2
    return min(0, max(avail - size, round(avail / 2 - centre * size)))


class PhotoView(QWidget):
    """Paints a photo fitted to the widget (it follows the window's size) or at 100 %."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(320, 240)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._pix: QPixmap | None = None
        self._scaled: QPixmap | None = None
        self._text = ""
        self.zoomed = False
        self._centre = QPointF(0.5, 0.5)  # the photo point (fractions) shown at the centre
        self._drag: QPoint | None = None
        self.full_width = 0
        #: Draws over the fitted photo and may take the mouse (gui/crop_overlay.py).
        self.overlay: Any = None

    def set_text(self, text: str) -> None:
        self._pix, self._scaled, self._text, self.zoomed = None, None, text, False
        self.update()

    def set_image(self, image: QImage, full_width: int | None = None) -> None:
        """Show ``image``; ``full_width``: the photo's own width (px), when ``image`` was
        decoded smaller, for the "shown at N %" note."""
        self._pix, self._scaled, self._text, self.zoomed = QPixmap.fromImage(image), None, "", False
        self.full_width = full_width or image.width()
        self.update()

    def shown_percent(self) -> int | None:
        """How large the photo is shown, in % of its own pixels (None: no photo)."""
        if self._pix is None or not self.full_width:
            return None
        width = self._pix.width() if self.zoomed else self.fitted_rect().width()
        return max(1, round(100 * width / self.full_width))

    def has_image(self) -> bool:
        return self._pix is not None

    def fitted_rect(self) -> QRect:
        """Where the fitted photo is drawn, in widget pixels (empty without a photo)."""
        if self._pix is None:
            return QRect()
        size = self._pix.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        if size.width() > self._pix.width():  # never enlarged: a small photo looks softer
            size = self._pix.size()
        return QRect((self.width() - size.width()) // 2, (self.height() - size.height()) // 2,
                     size.width(), size.height())

    def zoomed_rect(self) -> QRect:
        """Where the photo is drawn at 100 %, in widget pixels."""
        assert self._pix is not None
        w, h = self._pix.width(), self._pix.height()
        return QRect(_place(self.width(), w, self._centre.x()),
                     _place(self.height(), h, self._centre.y()), w, h)

    def toggle_zoom(self, at: QPoint) -> None:
        """Fit ↔ 100 %, keeping the clicked photo point under the pointer's centre."""
        if self._pix is None:
            return
        if not self.zoomed:
            r = self.fitted_rect()
            if r.width() and r.height():
                self._centre = QPointF(min(1.0, max(0.0, (at.x() - r.x()) / r.width())),
                                       min(1.0, max(0.0, (at.y() - r.y()) / r.height())))
        self.zoomed = not self.zoomed
        self.setCursor(Qt.CursorShape.OpenHandCursor if self.zoomed
                       else Qt.CursorShape.PointingHandCursor)
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._drag = event.position().toPoint()
        self._moved = False
        if self.overlay is not None and not self.zoomed and self._pix is not None:
            self.overlay.press(event.position(), self.fitted_rect())  # a drag may move the crop

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self.overlay is not None and self.overlay.move(event.position(), self.fitted_rect()):
            self._moved = True
            return
        if self._drag is None or not self.zoomed or self._pix is None:
            return
        pos = event.position().toPoint()
        d = pos - self._drag
        if abs(d.x()) + abs(d.y()) > 2:
            self._moved = True
            self._centre = QPointF(self._centre.x() - d.x() / self._pix.width(),
                                   self._centre.y() - d.y() / self._pix.height())
            self._drag = pos
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self.overlay is not None and self.overlay.release():
            self._drag = None
            return  # the crop was moved: no zoom
        if self._drag is not None and not getattr(self, "_moved", False):
            self.toggle_zoom(event.position().toPoint())
        self._drag = None

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window())
        if self._pix is None:
            p.setPen(self.palette().windowText().color())
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       self._text)
        elif self.zoomed:
            p.drawPixmap(self.zoomed_rect().topLeft(), self._pix)
        else:
            r = self.fitted_rect()
            if self._scaled is None or self._scaled.size() != r.size():
                self._scaled = self._pix.scaled(r.size(), Qt.AspectRatioMode.IgnoreAspectRatio,
                                                Qt.TransformationMode.SmoothTransformation)
            p.drawPixmap(r.topLeft(), self._scaled)
            if self.overlay is not None:
                self.overlay.paint(p, r)
        pct = self.shown_percent()
        if pct is not None:
            text = f"shown at {pct} %"
            box = QRect(6, self.height() - 24, p.fontMetrics().horizontalAdvance(text) + 12, 20)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(0, 0, 0, 150))
            p.drawRoundedRect(box, 4, 4)
            p.setPen(QColor("white"))
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        p.end()

    def sizeHint(self) -> QSize:
        return QSize(720, 540)


class PreviewDialog(QDialog):
    """A large view of one photo, its score details, and the two views the model saw.

    Arrows move through the grid's current order: the owner sets ``step`` (``delta -> None``).
    """

    def __init__(self, parent: QWidget | None, pre: Preprocess) -> None:
        super().__init__(parent)
        self.pre = pre
        self.setWindowTitle("Photo")
        self.resize(1100, 760)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.image = PhotoView()
        self.details = QLabel()
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setWordWrap(True)
        self.details.setMinimumWidth(260)
        #: The owner's verdict on this photo (P/X/U, 0–5 here act on it, as on the grid).
        self.verdict = QLabel()
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)
        self.global_view = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.local_view = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.global_heading = QLabel("What the model saw — the whole photo:")
        self.local_heading = QLabel("…and a close-up, where it judges sharpness and detail:")
        self.hint = QLabel("Click the photo for 100 %, again to fit.\n"
                           "← → previous / next photo\nSpace or Esc closes")
        self.hint.setWordWrap(True)
        for label in (self.verdict, self.global_heading, self.local_heading):
            label.setWordWrap(True)  # the column is as wide as the scroll area, no wider
        side = QVBoxLayout()
        side.addWidget(self.details)
        side.addWidget(self.verdict)
        for w in (self.global_heading, self.global_view, self.local_heading, self.local_view):
            side.addWidget(w)
        self.open_folder = QPushButton("Show in Folder")
        self.open_folder.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # never swallows the keys
        self.open_folder.setAutoDefault(False)
        self.open_folder.clicked.connect(self.reveal)
        side.addWidget(self.open_folder)
        side.addStretch(1)
        side.addWidget(self.hint)
        # The side column scrolls rather than squashing its rows (a word-wrapped rich-text
        # label given less than its height-for-width shows as a 2-px strip).
        column = QWidget()
        column.setLayout(side)
        scroll = QScrollArea()
        scroll.setWidget(column)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrows and Space stay the dialog's
        scroll.setMinimumWidth(300)  # the 224-px model views, margins and a scroll bar
        self.side_scroll = scroll
        lay = QHBoxLayout(self)
        lay.addWidget(self.image, 3)
        lay.addWidget(scroll, 1)
        self.path: Path | None = None
        self.step: Callable[[int], None] = lambda delta: None
        #: Culling keys: the owner sets ``cull`` (key text, item -> handled); see show_verdict.
        self.cull: Callable[[str, PhotoItem], bool] = lambda key, item: False
        self.item: PhotoItem | None = None
        #: "Crop for: …" (gui/crop_overlay.py), added by gui/destinations.py.
        self.crop_panel: Any = None
        self._side = side
        self._set_views_visible(False)

    def add_crop_panel(self, panel: Any) -> None:
        """Put ``panel`` (a ``CropPanel``) under the score details; it follows the photo."""
        self.crop_panel = panel
        self._side.insertWidget(2, panel)

    def _set_views_visible(self, on: bool) -> None:
        for w in (self.global_heading, self.global_view, self.local_heading, self.local_view):
            w.setVisible(on)

    def show_item(self, item: PhotoItem) -> None:
        """Show ``item``: details now, the photo and model views when decoded."""
        self.path = item.path
        self.item = item
        self.setWindowTitle(path_text(item.path.name))
        self.show_verdict()
        if item.error:
            body = f"<p><b>Curator cannot read this file.</b><br>{item.error}</p>"
        elif item.score is not None:
            body = preview_html(item)
        else:
            body = "<p>not scored yet</p>"
        size = f"{item.size[0]} × {item.size[1]} px<br>" if item.size else ""
        taken = capture_text(item)
        self.details.setText(f"<b>{path_text(item.path.name)}</b><br>{size}{taken}<br>{body}")
        if self.crop_panel is not None:
            self.crop_panel.show_item(item)
        self._set_views_visible(False)
        self.global_view.clear()
        self.local_view.clear()
        if item.error:
            self.image.set_text(f"Cannot show this photo:\n{item.error}")
            return
        self.image.set_text("loading…")
        job = _PreviewJob(item.path, self.pre, MAX_PREVIEW_SIDE)
        job.signals.loaded.connect(self._loaded)
        job.signals.failed.connect(self._failed)
        QThreadPool.globalInstance().start(job)

    @Slot(str, QImage, QImage, QImage)
    def _loaded(self, path: str, big: QImage, g: QImage, loc: QImage) -> None:
        if self.path is None or path != path_text(self.path):
            return  # the user already moved on
        full = self.item.size[0] if self.item is not None and self.item.size else None
        self.image.set_image(big, full)
        self.global_view.setPixmap(QPixmap.fromImage(g))
        self.local_view.setPixmap(QPixmap.fromImage(loc))
        self._set_views_visible(True)

    @Slot(str, str)
    def _failed(self, path: str, reason: str) -> None:
        if self.path is not None and path == path_text(self.path):
            self.image.set_text(f"Cannot show this photo:\n{reason}")
            self._set_views_visible(False)

    def reveal(self) -> None:
        """Open the photo's folder in the file manager (an absolute ``file:`` URL)."""
        if self.path is not None:
            open_in_file_manager(self.path.parent, self)

    def show_verdict(self) -> None:
        """"Picked · ★★★☆☆", "Rejected", … for the photo shown (empty when none)."""
        v = self.item.verdict if self.item is not None else None
        if v is None or v.empty:
            self.verdict.setText("Not flagged (P pick, X reject, 0–5 stars)")
            return
        flag = {Flag.PICK: "Picked", Flag.REJECT: "Rejected"}.get(v.flag, "Not flagged")
        stars = f" · {'★' * v.stars}{'☆' * (5 - v.stars)}" if v.stars else ""
        self.verdict.setText(flag + stars)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if (self.item is not None and mods == Qt.KeyboardModifier.NoModifier
                and event.text() and self.cull(event.text().upper(), self.item)):
            self.show_verdict()
            return
        if key in (Qt.Key.Key_Space, Qt.Key.Key_Escape):
            self.close()
        elif key in (Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_PageDown,
                     Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.step(1)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Up, Qt.Key.Key_PageUp):
            self.step(-1)
        else:
            super().keyPressEvent(event)
