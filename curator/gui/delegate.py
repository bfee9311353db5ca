"""Paints one grid cell: thumbnail, rank badge, and the score with its spread."""

from __future__ import annotations

import logging

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from curator.gui.models import PhotoItem, Roles

log = logging.getLogger(__name__)

TEXT_H = 36


def score_colour(percent: float | None, mean: float = 0.0) -> QColor:
    """Green from 60, amber from 35, red below (0–100 score): a glanceable hint, the number
    rules.  Old model files without a 0–100 score: ``mean`` 6 / 5 on the AVA scale."""
    good, fair = (percent >= 60, percent >= 35) if percent is not None else (mean >= 6.0,
                                                                            mean >= 5.0)
    if good:
        return QColor(46, 139, 87)
    if fair:
        return QColor(204, 140, 0)
    return QColor(190, 60, 50)


class PhotoDelegate(QStyledItemDelegate):
    """Fixed-size cells (the view uses uniform item sizes, so 10,000 rows lay out instantly)."""

    def __init__(self, parent: QWidget | None = None, thumb: int = 180) -> None:
        super().__init__(parent)
        self.thumb = thumb

    def set_thumb_size(self, px: int) -> None:
        self.thumb = px

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(self.thumb + 12, self.thumb + TEXT_H + 12)

    def paint(self, p: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        p.save()
        r: QRect = option.rect.adjusted(4, 4, -4, -4)
        pal: QPalette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(r, pal.highlight() if selected else pal.base())
        img_rect = QRect(r.left() + 2, r.top() + 2, r.width() - 4, r.height() - TEXT_H - 4)
        it: PhotoItem = index.data(Roles.Item)
        pix, error = it.thumbnail(), it.error
        shown = img_rect
        if pix is not None and not pix.isNull():
            scaled = pix.scaled(img_rect.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                Qt.TransformationMode.SmoothTransformation)
            x = img_rect.left() + (img_rect.width() - scaled.width()) // 2
            y = img_rect.bottom() - scaled.height()  # sit on the caption, like a print
            p.drawPixmap(x, y, scaled)
            shown = QRect(x, y, scaled.width(), scaled.height())
        else:
            p.fillRect(img_rect, QColor(60, 60, 60) if error else pal.alternateBase())
            p.setPen(QColor(235, 120, 110) if error else pal.placeholderText().color())
            p.drawText(img_rect, Qt.AlignmentFlag.AlignCenter,
                       "cannot read" if error else "loading…")
        rank, score, sd = it.rank, it.score, it.sd
        if rank is not None:
            badge = QRect(shown.left() + 4, shown.top() + 4, 40, 20)
            p.setBrush(QColor(0, 0, 0, 170))
            p.setPen(Qt.PenStyle.NoPen)
            p.drawRoundedRect(badge, 6, 6)
            p.setPen(QColor("white"))
            f = QFont(p.font())
            f.setBold(True)
            p.setFont(f)
            p.drawText(badge, Qt.AlignmentFlag.AlignCenter, f"#{rank}")
        text_rect = QRect(r.left() + 4, r.bottom() - TEXT_H + 2, r.width() - 8, TEXT_H - 4)
        f = QFont(option.font)
        p.setFont(f)
        line1 = text_rect.adjusted(0, 0, 0, -TEXT_H // 2)
        line2 = text_rect.adjusted(0, TEXT_H // 2 - 2, 0, 0)
        text_col = pal.highlightedText().color() if selected else pal.text().color()
        if score is not None:
            bold = QFont(f)
            bold.setBold(True)
            p.setFont(bold)
            p.setPen(score_colour(score if it.percent else None, score) if not selected
                     else text_col)
            text = f"{score:.0f}" if it.percent else f"{score:.1f} ± {sd or 0:.1f}"
            p.drawText(line1, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
            if it.reasons:  # the flaws, after the number (meanings in the tooltip)
                p.setFont(f)
                p.setPen(QColor(190, 60, 50) if not selected else text_col)
                gap = p.fontMetrics().horizontalAdvance(text + "   ") + 4
                why = p.fontMetrics().elidedText(", ".join(it.reasons),
                                                 Qt.TextElideMode.ElideRight,
                                                 max(0, line1.width() - gap))
                p.drawText(line1.adjusted(gap, 0, 0, 0),
                           Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, why)
            p.setFont(f)
        elif error:
            p.setPen(QColor(200, 60, 50))
            p.drawText(line1, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       "broken file")
        p.setPen(text_col)
        name = p.fontMetrics().elidedText(it.path.name,
                                          Qt.TextElideMode.ElideMiddle, line2.width())
        p.drawText(line2, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
        p.restore()
