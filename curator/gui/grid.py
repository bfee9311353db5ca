"""The photo grid: columns that fill the width, an empty state that says why, zoom steps."""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QRect, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

log = logging.getLogger(__name__)

#: Thumbnail sizes (px) the zoom keys step through; the slider allows anything between.
ZOOM_STEPS = (96, 128, 160, 200, 240, 300, 360, 420)
MIN_THUMB, MAX_THUMB = ZOOM_STEPS[0], ZOOM_STEPS[-1]
WRAP_SLACK = 6


def zoom_step(current: int, direction: int) -> int:
    """The next zoom step above (``direction`` > 0) or below ``current``, clamped."""
    if direction > 0:
        return next((s for s in ZOOM_STEPS if s > current), MAX_THUMB)
    return next((s for s in reversed(ZOOM_STEPS) if s < current), MIN_THUMB)


def fill_columns(avail: int, cell: int, spacing: int) -> tuple[int, int]:
    """(columns, grid cell width) so the columns share ``avail`` px with no strip left over."""
    cols = max(1, (avail + spacing) // (cell + spacing))
    return cols, max(cell, avail // cols)


class PhotoGridView(QListView):
    """An icon-mode list whose columns stretch to the width; paints ``empty_text`` when empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setSpacing(0)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)  # stable width
        self.empty_text = ""
        self.cell = QSize(192, 228)

    def set_cell(self, size: QSize) -> None:
        """The delegate's cell size; the grid widens it to fill the row."""
        self.cell = size
        self.relayout()

    def relayout(self) -> None:
        # QListView wraps a row a few pixels before the viewport's edge: leave it that slack,
        # or the last column drops to the next row and leaves a strip a column wide.
        _cols, w = fill_columns(self.viewport().width() - WRAP_SLACK, self.cell.width(), 0)
        grid = QSize(w, self.cell.height())
        if grid != self.gridSize():
            self.setGridSize(grid)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.relayout()

    def viewportEvent(self, event: QEvent) -> bool:
        # The viewport can change width without the view resizing (a window manager's
        # intermediate sizes, scroll bars): follow the viewport itself.
        handled = super().viewportEvent(event)
        if event.type() == QEvent.Type.Resize:
            self.relayout()
        return handled

    def set_empty_text(self, text: str) -> None:
        if text != self.empty_text:
            self.empty_text = text
            self.viewport().update()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if self.empty_text and (model is None or model.rowCount() == 0):
            p = QPainter(self.viewport())
            p.setPen(self.palette().text().color())
            f = p.font()
            f.setPointSizeF(f.pointSizeF() * 1.25)
            p.setFont(f)
            r = self.viewport().rect().adjusted(40, 40, -40, -40)
            box = QRect(r.left(), r.top() + r.height() // 4, r.width(), r.height() // 2)
            p.drawText(box, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
                       | Qt.TextFlag.TextWordWrap, self.empty_text)
            p.end()
