"""Qt model/view layer over the scoring core: one list model, one sort/filter proxy.

Workers hand over ``QImage`` thumbnails and results in batches; the model turns them into
``QPixmap`` lazily on the GUI thread and coalesces ``dataChanged`` on a short timer, so a
10,000-photo folder stays smooth.  It holds at most ``THUMB_CAP`` thumbnails (the least
recently painted go first; a 20,000-photo folder's would take ~3 GB) and asks for the ones
the grid paints without one (``thumbnails_wanted``), which the window's thumbnail thread
reads from the photos (``gui/thumbs.py``).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from operator import attrgetter
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QImage, QPixmap

from curator.culling import Verdict
from curator.gui.scoredisplay import format_score, passes
from curator.names import path_text
from curator.reasons import REASONS

log = logging.getLogger(__name__)

Index = QModelIndex | QPersistentModelIndex

#: Thumbnails held at 256 px (fewer at larger sizes, by area): ~300 kB each once painted
#: (the pixmap and its copy at the cell's size), so ~360 MB at most.  A folder of up to this
#: many photos keeps every thumbnail, as before.
THUMB_CAP = 1200
#: Paths asked for at once (the cells painted meanwhile, latest first).
WANT_BATCH = 120


class Roles(IntEnum):
    """Data roles of ``PhotoListModel`` (beyond Qt's display/tooltip roles)."""

    Path = Qt.ItemDataRole.UserRole + 1
    Score = Qt.ItemDataRole.UserRole + 2
    Sd = Qt.ItemDataRole.UserRole + 3
    Rank = Qt.ItemDataRole.UserRole + 4
    Thumbnail = Qt.ItemDataRole.UserRole + 5
    Error = Qt.ItemDataRole.UserRole + 6
    Mtime = Qt.ItemDataRole.UserRole + 7
    Distribution = Qt.ItemDataRole.UserRole + 8
    Size = Qt.ItemDataRole.UserRole + 9
    Item = Qt.ItemDataRole.UserRole + 10  # the PhotoItem itself, for the delegate and proxy


class SortKey(IntEnum):
    """What the grid is ordered by."""

    Score = 0
    Name = 1
    Date = 2


#: What the grid learns about a photo's stack: group id, whether it is the best, the group's
#: size, the best photo's score, its place in the stack, why, and whether it is softer than
#: the best frame, and the score to show when the comparison capped it
#: (``curator.groups.Groups``).
StackInfo = tuple[int, bool, int, float, int, str, bool, float | None]


@dataclass
class PhotoItem:
    """Everything the grid shows about one photo."""

    path: Path
    mtime: float = 0.0  # when it was taken: EXIF DateTimeOriginal, else the file's mtime
    taken_from_exif: bool = False
    key: str = ""  # str(path), made in the worker thread: ties sort by it
    #: The ranking value: the 0–100 score (``percent``), or the AVA-style mean for model
    #: files without one.
    score: float | None = None
    sd: float | None = None
    ava_mean: float | None = None
    reasons: tuple[str, ...] = ()
    percent: bool = False
    distribution: tuple[float, ...] = ()
    size: tuple[int, int] | None = None
    error: str | None = None
    rank: int | None = None
    image: QImage | None = None
    pixmap: QPixmap | None = None
    scaled: QPixmap | None = None  # the pixmap at the cell's size (delegate's cache)
    thumb_px: int = 0  # the size (px) the thumbnail was made for, 0: none
    #: The person's flag and stars (from the sidecar when the folder opens; see gui/culling.py).
    verdict: Verdict = field(default_factory=Verdict)
    #: The photo's RAW (a RAW+JPEG pair, ``curator.scan.pair_raws``): verdicts go to both.
    raw: Path | None = None
    #: Why its sidecar cannot be read (then its rating is not shown), for the tooltip.
    sidecar_problem: str | None = None
    #: The colour label a person gave it (xmp:Label in its sidecar), or None.
    label: str | None = None
    #: Near-duplicate stack: group id (0 = not grouped yet), whether this is its best photo,
    #: its size, and the best photo's score (stacks sort by it, members right after it).
    group: int = 0
    group_best: bool = True
    group_size: int = 1
    stack_score: float | None = None
    #: Place in its stack (0 = its best), what decided it (``curator.bursts``), and whether
    #: it is clearly softer than its stack's best frame (then ``blur`` is among its reasons).
    stack_pos: int = 0
    group_why: str = ""
    softer: bool = False
    # Sort keys kept as plain attributes so sorting runs with a C key function: a Python
    # key function lets the busy worker thread take the GIL thousands of times mid-sort.
    score_key: tuple[int, float, int, int, float, str] = (1, 0.0, 0, 0, 0.0, "")
    rank_key: tuple[int, float, str] = (1, 0.0, "")
    name_key: tuple[str, str] = ("", "")
    date_key: tuple[float, str] = (0.0, "")

    def __post_init__(self) -> None:
        self.key = self.key or str(self.path)
        self.name_key = (self.path.name.lower(), self.key)
        self.date_key = (-self.mtime, self.key)
        self.update_score_key()

    def update_score_key(self) -> None:
        """Best first; unscored and broken photos after every scored one; ties by path.

        The display order keeps a near-duplicate stack together after its best photo, in
        the stack's own order (``curator.bursts``: sharpness, exposure, then score); the rank
        order is by the photo's own score.
        """
        if self.score is None:
            self.score_key, self.rank_key = (1, 0.0, 0, 0, 0.0, self.key), (1, 0.0, self.key)
            return
        lead = self.stack_score if self.stack_score is not None else self.score
        pos = self.stack_pos if self.stack_score is not None else 0
        self.score_key = (0, -lead, self.group, pos, -self.score, self.key)
        self.rank_key = (0, -self.score, self.key)

    def thumbnail(self) -> QPixmap | None:
        """The thumbnail as a pixmap, converted on first use (GUI thread only)."""
        if self.pixmap is None and self.image is not None:
            self.pixmap = QPixmap.fromImage(self.image)
            self.image = None
        return self.pixmap


def display_name(it: PhotoItem) -> str:
    """The name the grid shows: ``DSC_0042.jpg + NEF`` for a RAW+JPEG pair."""
    name = path_text(it.path.name)
    return f"{name} + {path_text(it.raw.suffix[1:]).upper()}" if it.raw is not None else name


def score_text(it: PhotoItem) -> str:
    """How the grid writes a score: a whole number 0–100, or ``mean ± sd`` for old models."""
    if it.score is None:
        return ""
    if it.percent:
        return f"Score {format_score(it.score)}"
    # An older model file without the calibrated score: its AVA mean, mapped to 0–100.
    return f"Score {format_score(it.score)} (AVA mean {it.ava_mean or 0:.2f})"


def reasons_text(it: PhotoItem) -> str:
    """Tooltip lines naming each reason and what it means (empty when there are none)."""
    return "".join(f"\n• {k}: {reason_meaning(it, k)}" for k in it.reasons)


#: What ``blur`` means on a frame that is clearly softer than its stack's best frame.
SOFTER_THAN_BEST = "softer than the best frame of its group"


def reason_meaning(it: PhotoItem, key: str) -> str:
    """The one-line meaning of reason ``key`` on ``it`` (``blur`` says when it is relative)."""
    if key == "blur" and it.softer:
        return SOFTER_THAN_BEST
    return REASONS.get(key, "")


class PhotoListModel(QAbstractListModel):
    """The photos of the open folder, in scan order; ranks follow the scores."""

    #: Paths of scored photos the grid painted without a thumbnail of ``thumb_px`` (or a
    #: smaller one), latest first: the window has them read (GUI thread signal).
    thumbnails_wanted = Signal(list)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[PhotoItem] = []
        self._row: dict[Path, int] = {}
        self._dirty: set[int] = set()
        self._flush = QTimer(self)
        self._flush.setInterval(50)  # batch dataChanged: at most 20 repaints a second
        self._flush.setSingleShot(True)
        self._flush.timeout.connect(self._emit_changed)
        self._sort_key = SortKey.Score
        self._reverse = False  # best, A or newest first
        #: Most thumbnails held at once (``THUMB_CAP``), and the size they are made at.
        self.thumb_cap = THUMB_CAP
        self.thumb_px = 0
        self._held: OrderedDict[Path, None] = OrderedDict()  # least recently painted first
        self._wanted: dict[Path, None] = {}
        self._asked: set[Path] = set()
        self._want_timer = QTimer(self)
        self._want_timer.setInterval(30)
        self._want_timer.setSingleShot(True)
        self._want_timer.timeout.connect(self._ask)

    # -- Qt API ---------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def roleNames(self) -> dict[int, QByteArray]:
        names = {int(r): QByteArray(r.name.lower().encode()) for r in Roles}
        names[int(Qt.ItemDataRole.DisplayRole)] = QByteArray(b"display")
        return names

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        it = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return display_name(it)
        if role == Qt.ItemDataRole.ToolTipRole:
            name = path_text(it.path.name)
            if it.raw is not None:
                name += (f"\nwith its RAW {path_text(it.raw.name)}: picks and stars go to "
                         "both")
            if it.sidecar_problem:
                name += f"\n{it.sidecar_problem}"
            if it.error:
                return f"{name}\nCannot be scored: {it.error}"
            taken = capture_text(it)
            if it.score is not None:
                return (f"{name}\n{score_text(it)} (rank {it.rank})"
                        f"{reasons_text(it)}\n{taken}")
            return f"{name}\nnot scored yet\n{taken}"
        if role == Roles.Path:
            return str(it.path)
        if role == Roles.Score:
            return it.score
        if role == Roles.Sd:
            return it.sd
        if role == Roles.Rank:
            return it.rank
        if role == Roles.Error:
            return it.error
        if role == Roles.Mtime:
            return it.mtime
        if role == Roles.Distribution:
            return list(it.distribution)
        if role == Roles.Size:
            return it.size
        if role == Roles.Thumbnail:
            return it.thumbnail()
        if role == Roles.Item:
            return it
        return None

    # -- updates ------------------------------------------------------------------------------
    def reset(self, items: list[PhotoItem]) -> None:
        """A new folder: all photos as placeholders, in one reset.

        The items are built by the worker thread: 10,000 of them cost ~110 ms of Python that
        the window would otherwise spend frozen.
        """
        self.beginResetModel()
        self._items = self._ordered(list(items))
        self._row = {it.path: i for i, it in enumerate(self._items)}
        self._dirty.clear()
        self._held.clear()
        self._wanted.clear()
        self._asked.clear()
        for it in self._items:
            if it.image is not None or it.pixmap is not None:
                self._held[it.path] = None
        self.endResetModel()

    def unpair(self, photo: Path, raw_item: PhotoItem) -> None:
        """A pair whose photo cannot be read: the photo loses its RAW, which becomes a photo
        of its own (``raw_item``, added at the end; the next re-rank sorts it in)."""
        row = self._row.get(photo)
        if row is not None:
            self._items[row].raw = None
            self._mark(row)
        if raw_item.path in self._row:
            return
        n = len(self._items)
        self.beginInsertRows(QModelIndex(), n, n)
        self._items.append(raw_item)
        self._row[raw_item.path] = n
        self.endInsertRows()

    # -- ordering -----------------------------------------------------------------------------
    # Sorting happens here, in Python's C sort, not in the proxy: a proxy calls back into
    # Python for every comparison (~22,000 for 2,000 photos), which froze the window for
    # 200+ ms on every batch of results.  A layout change with persistent indexes kept
    # current is what QSortFilterProxyModel would do, at a fraction of the cost.
    def set_sort_key(self, key: SortKey, reverse: bool | None = None) -> None:
        """Order by ``key``; ``reverse``: the other way round (worst, Z or oldest first)."""
        self._sort_key = SortKey(key)
        if reverse is not None:
            self._reverse = reverse
        self.resort()

    def _ordered(self, items: list[PhotoItem]) -> list[PhotoItem]:
        order = sorted(items, key=self._order_key())
        if not self._reverse:
            return order
        order.reverse()
        if self._sort_key == SortKey.Score:  # photos without a score stay at the end
            order = [it for it in order if it.score is not None] + \
                [it for it in order if it.score is None]
        return order

    def _order_key(self) -> Any:
        return attrgetter({SortKey.Name: "name_key", SortKey.Date: "date_key"}.get(
            self._sort_key, "score_key"))

    def resort(self) -> None:
        """Reorder rows by the sort key, keeping selections and the current item in place."""
        order = self._ordered(self._items)
        if order == self._items:
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        held = [self._items[i.row()] if i.isValid() else None for i in old]
        self._items = order
        self._row = {it.path: i for i, it in enumerate(self._items)}
        new = [self.index(self._row[it.path]) if it is not None else QModelIndex()
               for it in held]
        self.changePersistentIndexList(old, new)
        self._dirty.clear()
        self.layoutChanged.emit()

    def set_result(self, path: Path, score: float | None, sd: float | None,
                   distribution: tuple[float, ...], size: tuple[int, int] | None,
                   error: str | None, ava_mean: float | None = None,
                   reasons: tuple[str, ...] = (), percent: bool = False) -> None:
        row = self._row.get(path)
        if row is None:
            return
        it = self._items[row]
        it.score, it.sd, it.distribution, it.size, it.error = score, sd, distribution, size, error
        it.ava_mean = score if ava_mean is None and not percent else ava_mean
        it.reasons, it.percent = tuple(reasons), percent
        it.update_score_key()
        self._mark(row)

    def set_dates(self, dates: list[tuple[Path, float, bool]]) -> None:
        """Capture times read by the worker; re-sorts when the grid is ordered by date."""
        for path, ts, exif in dates:
            row = self._row.get(path)
            if row is None:
                continue
            it = self._items[row]
            it.mtime, it.taken_from_exif = ts, exif
            it.date_key = (-ts, it.key)
        if self._sort_key == SortKey.Date:
            self.resort()

    def set_thumbnail(self, path: Path, image: QImage, px: int = 0) -> None:
        """``path``'s thumbnail, made for ``px`` (0: its own long side); past ``thumb_cap``
        the least recently painted thumbnail is let go (asked for again when painted)."""
        row = self._row.get(path)
        if row is None:
            return
        it = self._items[row]
        it.image, it.pixmap, it.scaled = image, None, None
        it.thumb_px = px or max(image.width(), image.height())
        self._asked.discard(path)
        self._held[path] = None
        self._held.move_to_end(path)
        while len(self._held) > max(1, self.thumb_cap):
            old, _ = self._held.popitem(last=False)
            r = self._row.get(old)
            if r is not None:
                gone = self._items[r]
                gone.image = gone.pixmap = gone.scaled = None
                gone.thumb_px = 0
        self._mark(row)

    def painted(self, it: PhotoItem) -> None:
        """The grid painted ``it`` (delegate hook): keep its thumbnail, or ask for one when
        it is scored and has none, or one smaller than ``thumb_px``."""
        if it.thumb_px and it.path in self._held:
            self._held.move_to_end(it.path)
            if it.thumb_px >= self.thumb_px:
                return
        if it.score is None or it.error is not None or it.path in self._asked:
            return  # an unscored photo's thumbnail comes with its decode
        self._wanted[it.path] = None
        if not self._want_timer.isActive():
            self._want_timer.start()

    def _ask(self) -> None:
        paths = list(reversed(self._wanted))[:WANT_BATCH]
        self._wanted.clear()
        paths = [p for p in paths if p in self._row]
        if paths:
            self._asked.update(paths)
            self.thumbnails_wanted.emit(paths)

    def held_thumbnails(self) -> int:
        """How many thumbnails the model holds now (at most ``thumb_cap``)."""
        return len(self._held)

    def rerank(self, reorder: bool = True) -> None:
        """Ranks 1..N by score (ties by path), then the row order: call it throttled.

        With ``reorder`` False only the rank numbers change: positions stay put (while
        scoring, so the grid never reshuffles under the pointer).
        """
        scored = sorted((it for it in self._items if it.score is not None),
                        key=attrgetter("rank_key"))
        for it in self._items:
            it.rank = None
        for r, it in enumerate(scored, 1):
            it.rank = r
        if reorder:
            self.resort()
        if self._items:
            self._dirty.update(range(len(self._items)))
            self._flush.start()

    def item(self, row: int) -> PhotoItem:
        return self._items[row]

    def items(self) -> list[PhotoItem]:
        return list(self._items)

    def raw_of(self) -> dict[Path, Path]:
        """The RAW+JPEG pairs shown: photo -> its RAW."""
        return {it.path: it.raw for it in self._items if it.raw is not None}

    def touch(self, path: Path) -> None:
        """Repaint one photo's cell soon (its verdict or stack changed)."""
        row = self._row.get(path)
        if row is not None:
            self._mark(row)

    def _mark(self, row: int) -> None:
        self._dirty.add(row)
        if not self._flush.isActive():
            self._flush.start()

    def flush_now(self) -> None:
        self._flush.stop()
        self._emit_changed()

    def _emit_changed(self) -> None:
        if not self._dirty:
            return
        lo, hi = min(self._dirty), max(self._dirty)
        self._dirty.clear()
        self.dataChanged.emit(self.index(lo), self.index(hi))


class PhotoFilterProxy(QSortFilterProxyModel):
    """Hides photos under a minimum score; the order comes from the source model."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._min_score: float | None = None
        #: Further test a photo must pass (culling filter, collapsed stacks: gui/culling.py).
        self.extra_filter: Callable[[PhotoItem], bool] | None = None
        self.setDynamicSortFilter(True)  # re-filter rows whose score changes

    def set_min_score(self, value: float | None) -> None:
        self.beginFilterChange()
        self._min_score = value
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def refilter(self) -> None:
        """Apply a changed ``extra_filter``."""
        self.beginFilterChange()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, row: int, parent: Index) -> bool:
        src = self.sourceModel()
        assert isinstance(src, PhotoListModel)
        it = src.item(row)  # the Python object: no QVariant round trip
        if self.extra_filter is not None and not self.extra_filter(it):
            return False
        return passes(it.score, self._min_score)  # compared as displayed (rounded)

    def min_score(self) -> float | None:
        return self._min_score


def capture_text(item: PhotoItem) -> str:
    """"Taken 3 May 2024, 19:22" from EXIF, else the file date, said as such."""
    if not item.mtime:
        return ""
    from datetime import datetime

    when = datetime.fromtimestamp(item.mtime).strftime("%-d %b %Y, %H:%M")
    return f"Taken {when}" if item.taken_from_exif else f"File date {when} (no capture date)"

