"""Look Closer's crop for a destination: the proposed crop drawn on the photo, draggable.

``CropPanel`` sits in Look Closer's side column ("Crop for: Uber Eats cover"); the overlay
draws the crop on the fitted photo (outside dimmed) and the owner drags it along the photo;
where it is let go is remembered per photo and ratio (``curator.cropstore``) and used by
every export for a destination of that ratio.  "Reset Crop" goes back to the proposal.  The
checks (``curator.readiness``) are listed under the menu and follow the crop as it moves.

The photo's facts (one decode: colour, text, faces, dish map) are measured in a pool thread
and come back through a signal received in the GUI thread; nothing here blocks the window.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPointF, QRect, QRectF, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from curator.crop import Box, move_crop, propose_crop
from curator.cropstore import CropStore
from curator.destinations import Destination, destinations
from curator.names import path_text
from curator.readiness import INFO, MISSING, OK, REJECT, WARN, FactsCache, PixelFacts, check_photo

if TYPE_CHECKING:
    from curator.gui.models import PhotoItem

log = logging.getLogger(__name__)

DIM = QColor(0, 0, 0, 150)
FRAME = QColor(255, 255, 255)
SEVERITY_COLOURS = {REJECT: "#b3261e", WARN: "#8a5a00", MISSING: "#8a5a00", OK: "#2e7d32",
                    INFO: "#555555"}
SEVERITY_MARKS = {REJECT: "✗", WARN: "!", MISSING: "?", OK: "✓", INFO: "·"}


class CropOverlay(QObject):
    """Draws a crop over the fitted photo of a ``PhotoView`` and lets the owner drag it.

    The view calls ``paint``/``press``/``move``/``release`` (``view.overlay``); ``moved`` is
    emitted once a drag ends.  Boxes are in pixels of the photo as displayed.
    """

    moved = Signal()

    def __init__(self, view: QWidget) -> None:
        super().__init__(view)
        self.view = view
        self.size: tuple[int, int] | None = None
        self.crop: Box | None = None
        self.label = ""
        self._drag: QPointF | None = None
        self._moved = False
        view.overlay = self  # type: ignore[attr-defined]

    def set_crop(self, size: tuple[int, int], crop: Box, label: str) -> None:
        self.size, self.crop, self.label = size, crop, label
        self.view.update()

    def clear(self) -> None:
        self.size = self.crop = None
        self._drag = None
        self.view.update()

    def _on_widget(self, rect: QRect) -> QRectF | None:
        if self.size is None or self.crop is None or rect.width() <= 0:
            return None
        sx, sy = rect.width() / self.size[0], rect.height() / self.size[1]
        c = self.crop
        return QRectF(rect.x() + c[0] * sx, rect.y() + c[1] * sy, (c[2] - c[0]) * sx,
                      (c[3] - c[1]) * sy)

    def paint(self, p: QPainter, rect: QRect) -> None:
        """Dim what the crop leaves out, frame what it keeps, name the destination."""
        box = self._on_widget(rect)
        if box is None:
            return
        p.save()
        whole = QRectF(rect)
        for part in (QRectF(whole.left(), whole.top(), whole.width(), box.top() - whole.top()),
                     QRectF(whole.left(), box.bottom(), whole.width(),
                            whole.bottom() - box.bottom()),
                     QRectF(whole.left(), box.top(), box.left() - whole.left(), box.height()),
                     QRectF(box.right(), box.top(), whole.right() - box.right(), box.height())):
            if part.width() > 0 and part.height() > 0:
                p.fillRect(part, DIM)
        p.setPen(QPen(FRAME, 2))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(box.adjusted(1, 1, -1, -1))
        if self.label:
            f = QFont(p.font())
            f.setBold(True)
            p.setFont(f)
            w = p.fontMetrics().horizontalAdvance(self.label) + 12
            tag = QRectF(box.left() + 6, box.top() + 6, w, p.fontMetrics().height() + 6)
            p.fillRect(tag, QColor(0, 0, 0, 190))
            p.setPen(QColor("white"))
            p.drawText(tag, Qt.AlignmentFlag.AlignCenter, self.label)
        p.restore()

    def press(self, pos: QPointF, rect: QRect) -> bool:
        """Start dragging when ``pos`` is inside the crop; True when the overlay took it."""
        box = self._on_widget(rect)
        if box is None or not box.contains(pos):
            return False
        self._drag = pos
        self._moved = False
        return True

    def move(self, pos: QPointF, rect: QRect) -> bool:
        if self._drag is None or self.size is None or self.crop is None or rect.width() <= 0:
            return False
        scale = self.size[0] / rect.width()
        d = pos - self._drag
        if not self._moved and abs(d.x()) + abs(d.y()) <= 2:
            return False  # not a drag yet (a click still zooms)
        if not self._moved:
            self._moved = True
            self.view.setCursor(Qt.CursorShape.ClosedHandCursor)
        self.crop = move_crop(self.size, self.crop, d.x() * scale, d.y() * scale)
        self._drag = pos
        self.view.update()
        return True

    def release(self) -> bool:
        """End a drag; True (and ``moved`` emitted) when the crop was moved."""
        if self._drag is None:
            return False
        self._drag = None
        if not self._moved:
            return False
        self._moved = False
        self.view.setCursor(Qt.CursorShape.PointingHandCursor)
        self.moved.emit()
        return True


class _FactsSignals(QObject):
    done = Signal(object, object)  # Path, PixelFacts
    failed = Signal(object, str)  # Path, reason


class FactsJob(QRunnable):
    """Measure (or recall) one photo's facts in a pool thread."""

    def __init__(self, facts: FactsCache, path: Path) -> None:
        super().__init__()
        self.facts, self.path = facts, path
        self.signals = _FactsSignals()  # created in the GUI thread: its receivers run there

    def run(self) -> None:
        try:
            self.signals.done.emit(self.path, self.facts.facts_for(self.path))
        except Exception as exc:  # a file that went away, or cannot be decoded
            log.info("facts of %s: %s", path_text(self.path), exc)
            self.signals.failed.emit(self.path, str(exc))


class CropPanel(QWidget):
    """"Crop for: …", the checks for that destination, and Reset Crop (Look Closer's side)."""

    #: The owner moved or reset a photo's crop (GUI thread): the grid's badge may change.
    crop_changed = Signal(object)  # Path

    def __init__(self, view: QWidget, facts: FactsCache, crops: CropStore,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.facts_cache, self.crops = facts, crops
        self.overlay = CropOverlay(view)
        self.overlay.moved.connect(self._moved)
        self.combo = QComboBox()
        self.combo.addItem("— (no crop shown)", None)
        for d in destinations().values():
            self.combo.addItem(f"{d.name} ({d.ratio_text})", d.key)
        self.combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrows stay Look Closer's
        self.combo.currentIndexChanged.connect(lambda _i: self._refresh())
        self.reset = QPushButton("Reset Crop")
        self.reset.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.reset.setAutoDefault(False)
        self.reset.setToolTip("Back to the crop Curator proposes (it keeps the dish)")
        self.reset.clicked.connect(self._reset)
        self.checks = QLabel()
        self.checks.setTextFormat(Qt.TextFormat.RichText)
        self.checks.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(QLabel("Crop for:"))
        row.addWidget(self.combo, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 6, 0, 0)
        lay.addLayout(row)
        lay.addWidget(self.checks)
        lay.addWidget(self.reset)
        self.item: PhotoItem | None = None
        self.pixel: PixelFacts | None = None
        self._jobs: list[FactsJob] = []
        self._refresh()

    # -- state ------------------------------------------------------------------------------------
    def destination(self) -> Destination | None:
        key = self.combo.currentData()
        return destinations().get(key) if key else None

    def set_destination(self, key: str | None) -> None:
        i = self.combo.findData(key) if key else 0
        self.combo.setCurrentIndex(max(0, i))

    def show_item(self, item: PhotoItem) -> None:
        """A new photo in Look Closer: its crop and checks for the chosen destination."""
        if self.item is None or item.path != self.item.path:
            self.pixel = None
        self.item = item
        self._refresh()

    # -- updates ----------------------------------------------------------------------------------
    def _refresh(self) -> None:
        d, it = self.destination(), self.item
        self.reset.setVisible(d is not None)
        if d is None or it is None or it.error or it.size is None:
            self.overlay.clear()
            self.checks.setText("" if d is None else "No crop: Curator cannot read this photo."
                                if it is not None and it.error else "")
            return
        if self.pixel is None:
            self.overlay.set_crop(it.size, self._crop(d, None), f"{d.name} · checking…")
            self.checks.setText("<i>checking the photo (colour, text, people, the dish)…</i>")
            if any(j.path == it.path for j in self._jobs):
                return  # already being measured
            job = FactsJob(self.facts_cache, it.path)
            job.signals.done.connect(self._facts)
            job.signals.failed.connect(self._failed)
            self._jobs.append(job)
            QThreadPool.globalInstance().start(job)
            return
        self._show(d, it)

    def _crop(self, d: Destination, pixel: PixelFacts | None) -> Box:
        assert self.item is not None and self.item.size is not None
        size = self.item.size
        kept = self.crops.crop(self.item.path, d.ratio_text, size, d.aspect)
        if kept is not None:
            return kept
        return propose_crop(size, d.aspect, pixel.dish_map() if pixel is not None else None)

    def _show(self, d: Destination, it: PhotoItem) -> None:
        assert it.size is not None
        crop = self._crop(d, self.pixel)
        r = check_photo(d, it.size, it.reasons, self.pixel, crop)
        moved = self.crops.centre(it.path, d.ratio_text) is not None
        verdict = "ready" if r.ready else "not ready"
        self.overlay.set_crop(it.size, crop, f"{d.name}: {verdict}"
                              + (" · moved" if moved else " · drag to move"))
        lines = [f"<b>{html.escape(d.name)}: {verdict}</b>"]
        order = {REJECT: 0, WARN: 1, MISSING: 1, INFO: 2, OK: 3}
        for c in sorted(r.checks, key=lambda c: order.get(c.severity, 4)):
            colour = SEVERITY_COLOURS.get(c.severity, "#555555")
            lines.append(f"<span style='color:{colour}'>{SEVERITY_MARKS.get(c.severity, '·')}"
                         f"</span> {html.escape(c.text())}")
        self.checks.setText("<br>".join(lines))

    def _facts(self, path: Path, pixel: PixelFacts) -> None:
        self._jobs = [j for j in self._jobs if j.path != path]
        if self.item is None or path != self.item.path:
            return  # the owner moved on
        self.pixel = pixel
        d = self.destination()
        if d is not None:
            self._show(d, self.item)

    def _failed(self, path: Path, reason: str) -> None:
        self._jobs = [j for j in self._jobs if j.path != path]
        if self.item is not None and path == self.item.path:
            self.checks.setText(f"Cannot check this photo: {html.escape(reason)}")

    def _moved(self) -> None:
        d, it = self.destination(), self.item
        if d is None or it is None or it.size is None or self.overlay.crop is None:
            return
        self.crops.remember(it.path, d.ratio_text, it.size, self.overlay.crop)
        if self.pixel is not None:
            self._show(d, it)
        self.crop_changed.emit(it.path)

    def _reset(self) -> None:
        d, it = self.destination(), self.item
        if d is None or it is None:
            return
        self.crops.forget(it.path, d.ratio_text)
        self._refresh()
        self.crop_changed.emit(it.path)
