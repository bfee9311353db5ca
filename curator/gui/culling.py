"""Culling in the grid: Lightroom's keys, flags and stars on the thumbnails, stacks, filters.

Keys (on the grid): ``P`` pick, ``X`` reject, ``U`` unflag, ``0``–``5`` stars, ``S`` expands
or collapses the near-duplicate stack under the cursor, ``C`` compares two selected photos.
Every key applies to all selected photos; with Cull ▸ Auto-Advance on, a verdict on one photo
moves the cursor to the next.  Each verdict is merged into the photo's XMP sidecar at once
(``curator.sidecar``) and remembered for Model ▸ Learn From My Choices (``curator.choices``).

Stacks: when scoring finishes, near-duplicate groups (``curator.groups``) become stacks,
collapsed to their best photo with a count badge; expanding one shows its photos in place,
right after the best.  The window only calls ``CullingController(window)``; everything else
lives here.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QRect, Qt, Signal, Slot
from PySide6.QtGui import QAction, QColor, QFont, QKeySequence, QPainter, QPen
from PySide6.QtWidgets import QComboBox, QFileDialog, QFormLayout, QLabel, QToolBar

from curator.culling import Flag, Verdict
from curator.gui.export_dialog import remembered_options
from curator.gui.models import PhotoItem, Roles, StackInfo
from curator.gui.scoredisplay import passes as score_passes
from curator.names import display_text
from curator.prefs import Prefs
from curator.score import PhotoScore
from curator.sidecar import verdict_fields, write_sidecars
from curator.sidecar_paths import SidecarNote

if TYPE_CHECKING:
    from curator.gui.main_window import MainWindow

log = logging.getLogger(__name__)

#: How many verdict keys Ctrl+Z can take back.
UNDO_DEPTH = 50
PICK_GREEN = QColor(46, 160, 67)
REJECT_RED = QColor(215, 58, 73)
STAR_GOLD = QColor(250, 200, 40)


def flag_change(flag: Flag) -> Callable[[Verdict], Verdict]:
    """The verdict change of a flag key (a reject clears the stars)."""
    return lambda v: Verdict(flag, 0 if flag == Flag.REJECT else v.stars)


def _back_to(old: Verdict) -> Callable[[Verdict], Verdict]:
    """The change that puts a verdict back to ``old`` (undo)."""
    return lambda _v: old


def stars_change(stars: int) -> Callable[[Verdict], Verdict]:
    """The verdict change of a star key (stars lift a reject)."""
    return lambda v: Verdict(Flag.NONE if v.flag == Flag.REJECT else v.flag, stars)


class CullFilter(IntEnum):
    """What the grid shows (the Cull filter box, in this order)."""

    ALL = 0
    PICKS = 1
    NOT_REJECTED = 2
    REJECTS = 3
    UNFLAGGED = 4
    STARS_1 = 5
    STARS_2 = 6
    STARS_3 = 7
    STARS_4 = 8
    STARS_5 = 9


FILTER_LABELS = ["All photos", "Picks", "All but rejects", "Rejects", "Unflagged",
                 "★ 1 or more", "★★ 2 or more", "★★★ 3 or more", "★★★★ 4 or more",
                 "★★★★★ 5"]


def passes(f: CullFilter, v: Verdict) -> bool:
    """Whether a verdict passes the culling filter."""
    if f == CullFilter.PICKS:
        return v.flag == Flag.PICK
    if f == CullFilter.NOT_REJECTED:
        return v.flag != Flag.REJECT
    if f == CullFilter.REJECTS:
        return v.flag == Flag.REJECT
    if f == CullFilter.UNFLAGGED:
        return v.flag == Flag.NONE
    if f >= CullFilter.STARS_1:
        return v.stars >= int(f) - int(CullFilter.STARS_1) + 1
    return True


class CullingController(QObject):
    """Keys, verdicts, stacks and filters for one ``MainWindow`` (lives in the GUI thread)."""

    #: A verdict was applied (GUI thread): the paths it changed.
    verdicts_changed = Signal(list)
    #: Stacks were rebuilt after scoring (GUI thread): number of stacks with 2+ photos.
    stacks_changed = Signal(int)

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self.auto_advance = bool(win.settings.value("cull/auto_advance", False, type=bool))
        self.filter = CullFilter.ALL
        self.expanded: set[int] = set()
        self.stacking = bool(win.settings.value("cull/stacks", True, type=bool))
        self._stacks: dict[Path, StackInfo] = {}
        self.write_sidecars = True
        #: How many photos of each stack show collapsed and go to Export Best (Preferences).
        self.keep_per_group = 1
        #: Verdict changes to undo, newest last: [(item, its verdict before), …] per key.
        self._undo: list[list[tuple[PhotoItem, Verdict]]] = []
        #: The label mapping the thumbnails are drawn with (Preferences).
        self.label_prefs = Prefs()
        self.compare_dialog: Any = None
        win.proxy.extra_filter = self.accepts
        win.delegate.overlay = self.paint
        win.worker.grouped.connect(self._grouped)
        saved = str(win.settings.value("personal_model") or "")
        win.worker.personal_path = Path(saved) if saved and Path(saved).is_file() else None
        self._build_actions()

    # -- actions --------------------------------------------------------------------------------
    def _verdict_action(self, text: str, key: str,
                        change: Callable[[Verdict], Verdict]) -> QAction:
        """A verdict key: on the grid it changes the selection; in Look Closer the photo shown
        (``preview_key`` looks the key up here, so both follow the same actions)."""
        act = self._action(text, key, lambda: self.apply(change))
        self._verdict_changes[act] = change
        return act

    def preview_key(self, key: str, item: PhotoItem) -> bool:
        """Look Closer's culling keys: apply the verdict action whose shortcut is ``key`` to
        ``item``; False when ``key`` is no verdict key."""
        seq = QKeySequence(key)
        for act, change in self._verdict_changes.items():
            if act.isEnabled() and seq in act.shortcuts():
                self.apply(change, [item])
                return True
        return False

    def _action(self, text: str, key: str, slot: Callable[[], None]) -> QAction:
        act = QAction(text, self.win)
        act.setShortcut(QKeySequence(key))
        # On the grid only: typing in the toolbar's fields never flags a photo.
        act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        act.triggered.connect(slot)
        self.win.view.addAction(act)
        self.menu.addAction(act)
        return act

    def _build_actions(self) -> None:
        self.menu = self.win.menuBar().addMenu("&Cull")
        self._verdict_changes: dict[QAction, Callable[[Verdict], Verdict]] = {}
        self.act_pick = self._verdict_action("&Pick", "P", flag_change(Flag.PICK))
        self.act_reject = self._verdict_action("&Reject", "X", flag_change(Flag.REJECT))
        self._verdict_action("&Unflag", "U", flag_change(Flag.NONE))
        self.menu.addSeparator()
        for n in range(6):
            self._verdict_action(f"{n} Star{'s' if n != 1 else ''}" if n else "No Stars",
                                 str(n), stars_change(n))
        self.menu.addSeparator()
        self.act_undo = self._action("&Undo Last Verdict", "Ctrl+Z", self.undo)
        self.menu.addSeparator()
        self.act_stack = self._action("Expand/Collapse &Stack", "S", self.toggle_stack)
        self.act_compare = self._action("&Compare Two Photos", "C", self.compare_selected)
        self.menu.addSeparator()
        self.act_stacks = QAction("Stack &Near-Duplicates", self.win, checkable=True)
        self.act_stacks.setChecked(self.stacking)
        self.act_stacks.toggled.connect(self.set_stacking)
        self.menu.addAction(self.act_stacks)
        self.act_advance = QAction("&Auto-Advance", self.win, checkable=True)
        self.act_advance.setChecked(self.auto_advance)
        self.act_advance.toggled.connect(self.set_auto_advance)
        self.menu.addAction(self.act_advance)
        self.act_export_picks = QAction("Export &Picks…", self.win)
        self.act_export_picks.triggered.connect(self.export_picks_dialog)
        self.menu.addAction(self.act_export_picks)
        self.act_learn = QAction("&Learn From My Choices…", self.win)
        self.act_learn.triggered.connect(self.learn_dialog)
        self.act_personal_off = QAction("Stop Using My &Personal Model", self.win)
        self.act_personal_off.triggered.connect(lambda: self.use_personal(None))
        self.act_personal_off.setEnabled(self.win.worker.personal_path is not None)
        # The window rebuilds its Model menu each time it opens: it adds these every time.
        self.win.add_model_menu_actions([self.act_learn, self.act_personal_off])
        tb = QToolBar("Culling")
        tb.setObjectName("culling-toolbar")
        tb.setMovable(False)
        tb.addWidget(QLabel(" Show "))
        self.filter_combo = QComboBox()
        self.filter_combo.addItems(FILTER_LABELS)
        self.filter_combo.currentIndexChanged.connect(
            lambda i: self.set_filter(CullFilter(i)))
        tb.addWidget(self.filter_combo)
        tb.addAction(self.act_export_picks)
        self.win.addToolBar(tb)

    def set_stacking(self, on: bool) -> None:
        """Show near-duplicates as stacks (default), or every photo in plain rank order."""
        self.stacking = on
        self.win.settings.setValue("cull/stacks", on)
        self._apply_stacks()

    def set_auto_advance(self, on: bool) -> None:
        self.auto_advance = on
        self.win.settings.setValue("cull/auto_advance", on)

    # -- verdicts -------------------------------------------------------------------------------
    def selected_items(self) -> list[PhotoItem]:
        """The photos a verdict key acts on, in grid order: the selection when the photo
        shown as current is part of it, else the current photo alone (Ctrl+End, Ctrl+arrows
        and the like move the current photo without moving the selection: a verdict must
        never land on a photo the owner is not looking at)."""
        view, proxy = self.win.view, self.win.proxy
        current = view.currentIndex()
        rows = sorted(i.row() for i in view.selectionModel().selectedIndexes())
        if current.isValid() and current.row() not in rows:
            rows = [current.row()]
        return [self.win.model.item(proxy.mapToSource(proxy.index(r, 0)).row()) for r in rows]

    def set_flag(self, flag: Flag) -> None:
        self.apply(flag_change(flag))

    def set_stars(self, stars: int) -> None:
        self.apply(stars_change(stars))

    def apply(self, change: Callable[[Verdict], Verdict],
              items: list[PhotoItem] | None = None, undoing: bool = False) -> None:
        """Change the verdict of ``items`` (default: the selection), write their sidecars.

        Auto-advance applies to keys on the grid only (``items`` None).  Each change is
        remembered for Edit ▸ Undo (``undo``), unless it is an undo.
        """
        advance = items is None and self.auto_advance
        items = self.selected_items() if items is None else items
        unreadable = [it for it in items if it.error is not None]
        if unreadable:  # a file Curator cannot read gets no verdict and no sidecar
            self.win.statusBar().showMessage(
                f"{unreadable[0].path.name} cannot be read, so it cannot be picked, rejected "
                "or starred.", 8000)
            items = [it for it in items if it.error is None]
        if not items:
            return
        current_row = self.win.view.currentIndex().row()
        before = [(it, it.verdict) for it in items if change(it.verdict) != it.verdict]
        if before and not undoing:
            self._undo.append(before)
            del self._undo[:-UNDO_DEPTH]
        changed: list[Path] = []
        failed: list[SidecarNote] = []
        unwritten = 0
        saved_to = ""
        for it in items:
            new = change(it.verdict)
            if new == it.verdict:
                continue
            it.verdict = new
            changed.append(it.path)
            self.win.model.touch(it.path)
            saved = False
            if self.write_sidecars:
                result = write_sidecars(it.path, verdict_fields(int(new.flag), new.stars),
                                        raw=it.raw)
                saved = bool(result.written)
                failed += result.notes
                unwritten += 0 if result.written else 1
                if result.notes and result.written:
                    saved_to = ", ".join(display_text(w.name) for w in result.written)
            self._remember(it, new, saved)
        if failed:
            more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
            only = (f" {unwritten} photo(s) got no sidecar: Curator remembers the verdict, "
                    "but other programs will not see it." if unwritten else "")
            partly = f" The verdict was saved to {saved_to} only." if saved_to else ""
            self.win.statusBar().showMessage(
                f"{display_text(failed[0].text())}{more}.{partly}{only}", 15000)
        if self.filter != CullFilter.ALL:
            self.win.proxy.refilter()
        if advance and len(items) == 1:
            self._advance(current_row, items[0])
        self.verdicts_changed.emit(changed)

    def undo(self) -> None:
        """Ctrl+Z: put back the verdicts the last verdict key changed (sidecars too)."""
        if not self._undo:
            self.win.statusBar().showMessage("Nothing to undo.", 4000)
            return
        last = self._undo.pop()
        for it, old in last:
            self.apply(_back_to(old), [it], undoing=True)
        self.win.statusBar().showMessage(
            f"Undone: the verdict on {len(last)} photo(s) is back to what it was.", 6000)

    def _remember(self, it: PhotoItem, v: Verdict, saved: bool = True) -> None:
        try:
            from curator.choices import ChoiceStore

            with ChoiceStore.in_dir(self.win.worker.cache_dir) as store:
                store.record(it.path, v, it.score, saved)
        except Exception as exc:  # learning data is a bonus: never block a verdict
            log.warning("could not remember the choice for %s: %s", it.path, exc)

    def _advance(self, row: int, done: PhotoItem) -> None:
        proxy, view = self.win.proxy, self.win.view
        still_here = self._proxy_row(done)
        nxt = still_here + 1 if still_here is not None else row
        if 0 <= nxt < proxy.rowCount():
            view.setCurrentIndex(proxy.index(nxt, 0))

    def _proxy_row(self, item: PhotoItem) -> int | None:
        for r in range(self.win.proxy.rowCount()):
            if self.win.proxy.index(r, 0).data(Roles.Item) is item:
                return r
        return None

    # -- filters and stacks ---------------------------------------------------------------------
    def set_filter(self, f: CullFilter) -> None:
        self.filter = CullFilter(f)
        if self.filter_combo.currentIndex() != int(f):
            self.filter_combo.setCurrentIndex(int(f))
        self.win.proxy.refilter()

    def in_collapsed_stack(self, it: PhotoItem) -> bool:
        """Whether ``it`` is hidden under its stack's best photos (the best
        ``keep_per_group`` of each stack show: Preferences)."""
        return (self.stacking and it.group_size > 1 and it.stack_pos >= self.keep_per_group
                and it.group not in self.expanded)

    def refresh_stacks(self) -> None:
        """Show the stacks again after a setting changed (what is kept, labels)."""
        self.win.proxy.refilter()
        self.win.view.viewport().update()

    def accepts(self, it: PhotoItem) -> bool:
        """The proxy's extra test: collapsed stacks show their best; the culling filter."""
        if self.in_collapsed_stack(it):
            return False
        return passes(self.filter, it.verdict)

    def hidden_in_stacks(self) -> int:
        """Photos the grid hides only because they are inside a collapsed stack."""
        minimum = self.win.proxy.min_score()
        return sum(self.in_collapsed_stack(it) and passes(self.filter, it.verdict)
                   and score_passes(it.score, minimum) for it in self.win.model.items())

    @Slot(int, object)
    def _grouped(self, gen: int, info: dict[Path, StackInfo]) -> None:
        if gen != self.win.current_gen:
            return
        self._stacks = info
        self.expanded.clear()
        self._apply_stacks()
        self.stacks_changed.emit(sum(1 for g in info.values() if g[1] and g[2] > 1))

    def _apply_stacks(self) -> None:
        model = self.win.model
        for it in model.items():
            g = self._stacks.get(it.path)
            if g is None:
                it.group, it.group_best, it.group_size, it.stack_score = 0, True, 1, None
                it.stack_pos, it.group_why = 0, ""
            else:
                (it.group, it.group_best, it.group_size, it.stack_score, it.stack_pos,
                 it.group_why, it.softer, capped) = g
                if capped is not None and it.score is not None:
                    it.score = min(it.score, capped)  # under the sharper sibling before it
                if it.softer and "blur" not in it.reasons:
                    it.reasons = (*it.reasons, "blur")  # softer than its stack's best frame
            if not self.stacking:
                it.stack_score = None  # plain rank order
            it.update_score_key()
        model.rerank()
        self.win.proxy.refilter()

    def toggle_stack(self) -> None:
        """Expand the current photo's stack in place, or collapse it back to its best."""
        items = self.selected_items()
        if not items or items[0].group_size < 2:
            return
        g = items[0].group
        best = next((it for it in self.win.model.items()
                     if it.group == g and it.group_best), items[0])
        self.expanded.symmetric_difference_update({g})
        self.win.proxy.refilter()
        row = self._proxy_row(best)
        if row is not None:
            self.win.view.setCurrentIndex(self.win.proxy.index(row, 0))
        self.win.model.touch(best.path)

    def without_rejects(self, ranked: list[PhotoScore]) -> list[PhotoScore]:
        """``ranked`` less the photos the owner rejected (X): those are never exported."""
        by_path = {it.path: it for it in self.win.model.items()}
        return [s for s in ranked
                if (it := by_path.get(s.path)) is None or it.verdict.flag != Flag.REJECT]

    def export_candidates(self, ranked: list[PhotoScore]) -> list[PhotoScore]:
        """For the export dialog: rejects left out, then the best photo of each near-duplicate
        group that is left (a rejected best gives way to the next best of its stack).

        ``ranked`` is best first, so the first photo seen of each group is its best."""
        ranked = self.without_rejects(ranked)
        if not self.stacking:
            return ranked
        by_path = {it.path: it for it in self.win.model.items()}
        members: dict[int, list[PhotoItem]] = {}
        for s in ranked:
            it = by_path.get(s.path)
            if it is not None and it.group:
                members.setdefault(it.group, []).append(it)
        kept = {m.path for group in members.values()  # the stack's own order: sharpest first
                for m in sorted(group, key=lambda m: m.stack_pos)[:self.keep_per_group]}
        return [s for s in ranked if (it := by_path.get(s.path)) is None or it.group == 0
                or s.path in kept]

    def annotate_export_dialog(self, dialog: Any) -> None:
        """Tell the person, in the export dialog, that it takes one photo per group."""
        form = dialog.layout()
        if not isinstance(form, QFormLayout):
            return
        text = "Photos you rejected (X) are left out."
        if self.stacking:
            n = self.keep_per_group
            each = "One photo per near-duplicate group: the best of each stack" if n == 1 else \
                f"{n} photos per near-duplicate group: the best {n} of each stack"
            text = (f"{each} (Cull ▸ Preferences). "
                    "Expand a stack and pick (P) others to export them with "
                    "Cull ▸ Export Picks. " + text)
        note = QLabel(text)
        note.setWordWrap(True)
        form.insertRow(max(0, form.rowCount() - 1), note)

    def paint(self, p: QPainter, shown: QRect, it: PhotoItem) -> None:
        """The delegate's overlay hook."""
        label = it.label or (self.label_prefs.label_for(it.score) if it.percent else None)
        paint_overlay(p, shown, it, it.group in self.expanded, self.stacking, label)

    def embedded(self, ranked: list[PhotoScore]) -> dict[Path, dict[str, str | None]]:
        """For "write stars and labels into the copies": each photo's fields, from its
        verdict and label here (``curator.sidecar.embedded_fields``)."""
        from curator.sidecar import embedded_fields

        by_path = {it.path: it for it in self.win.model.items()}
        out = {}
        for s in ranked:
            it = by_path.get(s.path)
            if it is not None:
                out[s.path] = embedded_fields(int(it.verdict.flag), it.verdict.stars,
                                              it.score if it.percent else None,
                                              self.label_prefs, it.label)
        return out

    # -- export picks ---------------------------------------------------------------------------
    def picks(self) -> list[PhotoScore]:
        """The flagged picks, best first."""
        items = [it for it in self.win.model.items()
                 if it.verdict.flag == Flag.PICK and it.score is not None]
        items.sort(key=lambda it: it.rank_key)
        return [PhotoScore(it.path, it.score or 0.0, it.sd or 0.0, it.distribution)
                for it in items]

    def export_picks(self, dest: Path) -> int:
        """Copy every flagged pick to ``dest`` (export thread); returns how many."""
        picks = self.picks()
        if picks:  # a pick's RAW and sidecar go with it, as the export dialog last chose
            opts = remembered_options(self.win.settings)
            self.win.run_export(picks, dest, len(picks), None, with_raw=opts["with_raw"],
                                sidecars=opts["sidecars"])
        return len(picks)

    def export_picks_dialog(self) -> None:
        """Cull ▸ Export Picks: the folder picker starts at Export Best's remembered
        destination beside the photos (created for the picker when missing, removed again if
        the owner goes elsewhere and it stayed empty); the choice is remembered."""
        from curator.gui.export_dialog import remember_export_dir, remembered_export_dir

        if not self.picks():
            self.win.statusBar().showMessage("No picks yet: flag photos with P first.", 8000)
            return
        folder = self.win.folder
        start = remembered_export_dir(self.win.settings, folder) if folder else Path.home()
        made = False
        if not start.exists() and start.parent.is_dir():
            try:
                start.mkdir()
                made = True
            except OSError as exc:
                log.info("could not create %s: %s", start, exc)
        d = QFileDialog.getExistingDirectory(self.win, "Export picks to", str(start))
        if made and (not d or Path(d).resolve() != start.resolve()):
            with contextlib.suppress(OSError):
                start.rmdir()  # only if still empty
        if d:
            if folder is not None:
                remember_export_dir(self.win.settings, folder, Path(d))
            self.export_picks(Path(d))

    # -- learning from choices ------------------------------------------------------------------
    def learn_dialog(self) -> Any:
        """Model ▸ Learn From My Choices (``gui/learn.py``); returns the dialog, shown."""
        from curator.gui.learn import LearnDialog
        from curator.paths import default_cache_dir, file_digest

        cache = self.win.worker.cache_dir or default_cache_dir()
        from curator.gui.retrain import models_dir

        # With the other models in the data folder (clearing a cache never deletes one).
        dlg = LearnDialog(self.win, cache, file_digest(self.win.model_path),
                          models_dir() / "personal")
        dlg.personal_ready.connect(lambda p: self.use_personal(Path(p)))
        dlg.show()
        return dlg

    def use_personal(self, path: Path | None) -> None:
        """Rank with a personal model (None: the model's own score again), then rescore."""
        self.win.settings.setValue("personal_model", str(path) if path else "")
        self.win.worker.personal_path = path
        self.act_personal_off.setEnabled(path is not None)  # nothing to stop using otherwise
        self.win.statusBar().showMessage(
            f"Ranking with your personal model ({path})" if path else
            "Ranking with the model's own score.", 8000)
        self.win.show_model_label()
        self.win.rescore()

    # -- compare --------------------------------------------------------------------------------
    def compare_selected(self) -> None:
        """``C``: the two selected photos side by side (``gui/compare.py``)."""
        items = self.selected_items()
        if len(items) != 2:
            self.win.statusBar().showMessage("Select two photos to compare (Ctrl+click).", 6000)
            return
        from curator.gui.compare import CompareDialog

        if self.compare_dialog is None:
            self.compare_dialog = CompareDialog(self.win, self)
        self.compare_dialog.show_pair(items[0], items[1])
        self.compare_dialog.show()
        self.compare_dialog.raise_()


# -- painting (called by the delegate) ------------------------------------------------------------
def paint_overlay(p: QPainter, shown: QRect, it: PhotoItem, expanded: bool = False,
                  stacking: bool = True, label: str | None = None) -> None:
    """Flag, stars, colour label and stack badge over a thumbnail drawn in ``shown``."""
    v = it.verdict
    if label is not None:
        from curator.gui.preferences import LABEL_COLOURS

        colour = LABEL_COLOURS.get(label, QColor(128, 128, 128))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        p.drawRect(QRect(shown.left(), shown.bottom() - 5, shown.width(), 5))
    if v.flag == Flag.REJECT:
        p.fillRect(shown, QColor(0, 0, 0, 140))  # rejects fade, as in Lightroom
    if not stacking:
        pass
    elif it.group_size > 1 and it.group_best:
        _stack_badge(p, shown, it.group_size, expanded)
    elif it.group_size > 1:
        pen = QPen(QColor(120, 170, 255), 2)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(shown.adjusted(1, 1, -1, -1))
    if v.flag != Flag.NONE:
        r = QRect(shown.right() - 26, shown.top() + 4, 22, 22)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(PICK_GREEN if v.flag == Flag.PICK else REJECT_RED)
        p.drawEllipse(r)
        p.setPen(QColor("white"))
        f = QFont(p.font())
        f.setBold(True)
        p.setFont(f)
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, "✓" if v.flag == Flag.PICK else "✕")
    if v.stars:
        text = "★" * v.stars
        f = QFont(p.font())
        f.setBold(False)
        p.setFont(f)
        w = p.fontMetrics().horizontalAdvance(text) + 8
        r = QRect(shown.left() + 4, shown.bottom() - 22, w, 18)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(0, 0, 0, 170))
        p.drawRoundedRect(r, 5, 5)
        p.setPen(STAR_GOLD)
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)


def _stack_badge(p: QPainter, shown: QRect, size: int, expanded: bool) -> None:
    # Two cards peeking out behind the photo say "stack" before the number does.
    p.setPen(QPen(QColor(255, 255, 255, 200), 1))
    p.setBrush(Qt.BrushStyle.NoBrush)
    for k in (1, 2):
        p.drawRect(shown.adjusted(3 * k, -3 * k, 3 * k, -3 * k).intersected(
            shown.adjusted(0, -8, 8, 0)))
    text = f"{size} {'▾' if expanded else '▸'}"
    r = QRect(shown.right() - 46, shown.bottom() - 24, 42, 20)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(30, 90, 200, 220))
    p.drawRoundedRect(r, 6, 6)
    p.setPen(QColor("white"))
    f = QFont(p.font())
    f.setBold(True)
    p.setFont(f)
    p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)
