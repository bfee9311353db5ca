"""Paints one grid cell: thumbnail, rank badge, and the score with its spread.

Every text colour is passed through ``readable`` against the background it is drawn on, so
it meets WCAG's 4.5:1 in light and dark themes and on the selection colour.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from curator.gui.contrast import readable
from curator.gui.models import PhotoItem, Roles, display_name
from curator.gui.scoredisplay import format_score, score_band

log = logging.getLogger(__name__)

TEXT_H = 38
PAD = 9
#: Hue of the score text per band (made readable against the actual background).
BAND_COLOURS = {"good": QColor(46, 139, 87), "fair": QColor(204, 140, 0),
                "poor": QColor(190, 60, 50)}
ERROR_FILL = QColor(60, 60, 60)
ERROR_TEXT = QColor(235, 120, 110)


def score_colour(score: float, background: QColor) -> QColor:
    """Green / amber / red by score band: a glanceable hint, readable on ``background``."""
    return readable(BAND_COLOURS[score_band(score)], background)


def card_colour(pal: QPalette) -> QColor:
    """A cell's card: the view's base a shade darker (lighter in a dark theme), so cells read
    as cells, as in a contact sheet."""
    base = pal.base().color()
    return base.darker(106) if base.lightnessF() > 0.5 else base.lighter(135)


def text_colours(pal: QPalette, selected: bool, score: float | None) -> dict[str, QColor]:
    """Every colour a cell's text uses, with the background it sits on (for tests too)."""
    bg = pal.highlight().color() if selected else card_colour(pal)
    plain = readable(pal.highlightedText().color() if selected else pal.text().color(), bg)
    cols = {"background": bg, "name": plain,
            "error": readable(BAND_COLOURS["poor"], bg),
            "placeholder": readable(pal.placeholderText().color(), pal.alternateBase().color()),
            "placeholder_bg": pal.alternateBase().color(),
            "broken": readable(ERROR_TEXT, ERROR_FILL), "broken_bg": ERROR_FILL}
    if score is not None:
        cols["score"] = plain if selected else score_colour(score, bg)
        cols["reasons"] = plain if selected else readable(BAND_COLOURS["poor"], bg)
    return cols


class PhotoDelegate(QStyledItemDelegate):
    """Fixed-size cells (the view uses uniform item sizes, so 10,000 rows lay out instantly)."""

    def __init__(self, parent: QWidget | None = None, thumb: int = 180) -> None:
        super().__init__(parent)
        self.thumb = thumb
        #: While scoring, a cell without a thumbnail says "loading…"; after, "not scored".
        self.busy = False
        #: Draws over the thumbnail (flags, stars, stacks: gui/culling.py), painter saved.
        self.overlay: Callable[[QPainter, QRect, PhotoItem], None] | None = None
        #: Told of every item painted (``PhotoListModel.painted``: keeps its thumbnail, or
        #: asks for one).
        self.painted: Callable[[PhotoItem], None] | None = None

    def set_thumb_size(self, px: int) -> None:
        self.thumb = px

    def cell_size(self) -> QSize:
        return QSize(self.thumb + 2 * PAD, self.thumb + TEXT_H + 2 * PAD)

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        return self.cell_size()

    def _scaled(self, it: PhotoItem, pix: QPixmap, size: QSize, dpr: float) -> QPixmap:
        """The thumbnail at the cell's size, cached per item (no per-paint smooth scaling)."""
        cached = it.scaled
        want = size * dpr
        if cached is not None and cached.width() <= want.width() \
                and cached.height() <= want.height() \
                and (cached.width() == want.width() or cached.height() == want.height()):
            return cached
        if pix.width() <= want.width() and pix.height() <= want.height():
            out = pix  # never upscale: the worker remakes thumbnails at the shown size
        else:
            out = pix.scaled(want, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
        out.setDevicePixelRatio(dpr)
        it.scaled = out
        return out

    def paint(self, p: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        p.save()
        cell = self.cell_size()
        o: QRect = option.rect
        x0 = o.left() + max(0, (o.width() - cell.width()) // 2)  # centred in a wide column
        r = QRect(x0, o.top(), min(cell.width(), o.width()), o.height()).adjusted(3, 3, -3, -3)
        pal: QPalette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        it: PhotoItem = index.data(Roles.Item)
        rank, score, error = it.rank, it.score, it.error
        cols = text_colours(pal, selected, score)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(r, cols["background"])
        img_rect = QRect(r.left() + 6, r.top() + 6, r.width() - 12, r.height() - TEXT_H - 8)
        pix = it.thumbnail()
        if self.painted is not None:
            self.painted(it)
        shown = img_rect
        if pix is not None and not pix.isNull():
            dpr = p.device().devicePixelRatioF() if p.device() is not None else 1.0
            scaled = self._scaled(it, pix, img_rect.size(), dpr)
            sw = round(scaled.width() / scaled.devicePixelRatio())
            sh = round(scaled.height() / scaled.devicePixelRatio())
            if sw > img_rect.width() or sh > img_rect.height():  # a smaller, older thumbnail
                s2 = QSize(sw, sh).scaled(img_rect.size(), Qt.AspectRatioMode.KeepAspectRatio)
                sw, sh = s2.width(), s2.height()
            x = img_rect.left() + (img_rect.width() - sw) // 2
            y = img_rect.bottom() - sh + 1  # sit on the caption, like a print
            shown = QRect(x, y, sw, sh)
            p.drawPixmap(shown, scaled)
        elif error:
            p.fillRect(img_rect, cols["broken_bg"])
            p.setPen(cols["broken"])
            p.drawText(img_rect, Qt.AlignmentFlag.AlignCenter, "cannot read")
        else:
            p.fillRect(img_rect, cols["placeholder_bg"])
            p.setPen(cols["placeholder"])
            p.drawText(img_rect, Qt.AlignmentFlag.AlignCenter,
                       "loading…" if self.busy else "not scored")
        if self.overlay is not None:
            p.save()
            self.overlay(p, shown, it)
            p.restore()
        if rank is not None:
            badge = QRect(shown.left() + 4, shown.top() + 4, 44, 20)
            p.setBrush(QColor(0, 0, 0, 190))
            p.setPen(Qt.PenStyle.NoPen)
            p.drawRoundedRect(badge, 6, 6)
            p.setPen(QColor("white"))
            f = QFont(p.font())
            f.setBold(True)
            p.setFont(f)
            p.drawText(badge, Qt.AlignmentFlag.AlignCenter, f"#{rank}")
        text_rect = QRect(r.left() + 6, r.bottom() - TEXT_H + 2, r.width() - 12, TEXT_H - 4)
        f = QFont(option.font)
        p.setFont(f)
        line1 = text_rect.adjusted(0, 0, 0, -TEXT_H // 2)
        line2 = text_rect.adjusted(0, TEXT_H // 2 - 2, 0, 0)
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        if score is not None:
            bold = QFont(f)
            bold.setBold(True)
            p.setFont(bold)
            p.setPen(cols["score"])
            text = format_score(score)
            p.drawText(line1, left, text)
            if it.reasons:  # the flaws, after the number (meanings in the tooltip)
                p.setFont(f)
                p.setPen(cols["reasons"])
                gap = p.fontMetrics().horizontalAdvance(text + "   ") + 4
                why = p.fontMetrics().elidedText(", ".join(it.reasons),
                                                 Qt.TextElideMode.ElideRight,
                                                 max(0, line1.width() - gap))
                p.drawText(line1.adjusted(gap, 0, 0, 0), left, why)
            p.setFont(f)
        elif error:
            p.setPen(cols["error"])
            p.drawText(line1, left, "broken file")
        p.setPen(cols["name"])
        name = p.fontMetrics().elidedText(display_name(it),
                                          Qt.TextElideMode.ElideMiddle, line2.width())
        p.drawText(line2, left, name)
        p.restore()
