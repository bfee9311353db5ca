"""File ▸ Export Best Photos: how many, which, where to, and how the copies are named.

The destination is never inside the folder being ranked (a re-open would rank the copies
too); the one chosen is remembered per source folder.  The result message says what was
copied, what was left out and where it went, and offers to open that folder.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QRadioButton,
    QSpinBox,
    QWidget,
)

from curator.gui.dialogs import open_in_file_manager, path_row
from curator.gui.scoredisplay import configure_min_spin, format_score
from curator.gui.settings import path_setting, setting_path
from curator.names import display_text, path_text

log = logging.getLogger(__name__)


def is_inside(path: Path, folder: Path) -> bool:
    """True when ``path`` is ``folder`` or somewhere under it (both made absolute)."""
    p, f = Path(path).expanduser().resolve(), Path(folder).expanduser().resolve()
    return p == f or f in p.parents


def default_export_dir(folder: Path) -> Path:
    """``<parent>/<folder> – best photos``: beside the ranked folder, never inside it."""
    folder = Path(folder).resolve()
    return folder.parent / f"{folder.name} – best photos"


def _settings_key(folder: Path) -> str:
    # The path's bytes (the same as its UTF-8 text for every UTF-8 name): a name that is not
    # UTF-8 cannot be ``str.encode``d.
    return "export_dir/" + hashlib.sha1(os.fsencode(Path(folder).resolve())).hexdigest()[:16]


def remembered_export_dir(settings: QSettings, folder: Path) -> Path:
    """The destination last used for ``folder``, else the default; never inside ``folder``."""
    dest = setting_path(settings.value(_settings_key(folder)))
    if dest is not None and not is_inside(dest, folder):
        return dest
    return default_export_dir(folder)


def remember_export_dir(settings: QSettings, folder: Path, dest: Path) -> None:
    settings.setValue(_settings_key(folder), path_setting(Path(dest).expanduser().resolve()))


@dataclass(frozen=True)
class ExportChoice:
    """What the owner asked for."""

    top: int
    dest: Path
    min_score: float | None
    rank_prefix: bool
    selected_only: bool
    #: Copy each photo's RAW with it (RAW+JPEG pairs), under the same name.
    with_raw: bool = False
    #: Copy each original's own sidecar beside its copy (stars, keywords, raw settings).
    sidecars: bool = True
    #: Write stars and colour label into the copies themselves (Lightroom reads them there).
    embed: bool = False
    #: A destination key (``curator/destinations.toml``): cropped JPEGs for it, not copies.
    destination: str | None = None


def remembered_options(settings: QSettings) -> dict[str, bool]:
    """The dialog's ticks as the owner last left them (``ExportDialog`` keywords)."""
    def flag(key: str, default: bool) -> bool:
        return settings.value(key, default) in (True, "true")
    return {"rank_prefix": flag("export/rank_prefix", False),
            "with_raw": flag("export/with_raw", True), "sidecars": flag("export/sidecars", True),
            "embed": flag("export/embed", False)}


def remember_options(settings: QSettings, c: ExportChoice, has_pairs: bool) -> None:
    """Keep the ticks for next time (the RAW one only when it was offered)."""
    settings.setValue("export/rank_prefix", c.rank_prefix)
    settings.setValue("export/sidecars", c.sidecars)
    settings.setValue("export/embed", c.embed)
    if has_pairs:
        settings.setValue("export/with_raw", c.with_raw)


class ExportDialog(QDialog):
    """How many photos, which ones (all ranked or the selection), where, and their names."""

    def __init__(self, parent: QWidget | None, folder: Path, dest: Path, n_ranked: int,
                 n_selected: int = 0, filter_min: float | None = None,
                 rank_prefix: bool = False, still_scoring: bool = False,
                 pairs: dict[Path, Path] | None = None, with_raw: bool = True,
                 sidecars: bool = True, embed: bool = False,
                 destinations: list[tuple[str, str, str]] | None = None,
                 destination: str | None = None) -> None:
        super().__init__(parent)
        self.folder = Path(folder).resolve()
        self.setWindowTitle("Export best photos")
        self.setMinimumWidth(560)
        form = QFormLayout(self)
        #: "For: …": copies of the originals, or JPEGs made for one destination.
        self.for_combo = QComboBox()
        self.for_combo.addItem("Copies of the originals", None)
        self._dest_dirs: dict[str | None, Path] = {None: Path(dest)}
        self._dest_notes: dict[str | None, str] = {None: ""}
        for key, name, what in destinations or []:
            self.for_combo.addItem(name, key)
            plain = name.rsplit(" (", 1)[0]  # "Uber Eats cover (5:4)" -> its folder name
            self._dest_dirs[key] = self.folder.parent / f"{self.folder.name} – {plain}"
            self._dest_notes[key] = what
        self.for_note = QLabel()
        self.for_note.setWordWrap(True)
        self.for_note.setVisible(False)
        if destinations:
            form.addRow("For:", self.for_combo)
            form.addRow(self.for_note)
        self.count = QSpinBox()
        self.count.setRange(1, max(1, n_ranked))
        self.count.setValue(min(10, max(1, n_ranked)))
        form.addRow("Number of photos:", self.count)
        if still_scoring:
            warn = QLabel(f"Scoring is still running: only the {n_ranked} photos scored so far "
                          "can be exported.")
            warn.setWordWrap(True)
            form.addRow(warn)
        self.all_ranked = QRadioButton(f"the best of all {n_ranked} ranked photos")
        self.selected = QRadioButton(f"only the {n_selected} selected photo(s)" if n_selected
                                     else "only selected photos (none selected)")
        # One group (exclusive) before either is ticked: two parentless radios are not
        # exclusive, and both showed ticked.
        self.which = QButtonGroup(self)
        self.which.addButton(self.all_ranked)
        self.which.addButton(self.selected)
        self.selected.setEnabled(n_selected > 0)
        if n_selected > 1:
            self.selected.setChecked(True)
            self.count.setValue(min(n_selected, self.count.maximum()))
        else:
            self.all_ranked.setChecked(True)
        which = QHBoxLayout()
        which.addWidget(self.all_ranked)
        which.addWidget(self.selected)
        form.addRow("From:", which)
        min_row = QHBoxLayout()
        self.use_min = QCheckBox("only photos scoring at least")
        self.min_score = QDoubleSpinBox()
        configure_min_spin(self.min_score, any_text="")
        self.min_score.setValue(filter_min if filter_min is not None else 5.0)
        self.use_min.setChecked(filter_min is not None)
        self.min_score.setEnabled(filter_min is not None)
        self.use_min.toggled.connect(self.min_score.setEnabled)
        min_row.addWidget(self.use_min)
        min_row.addWidget(self.min_score)
        min_row.addStretch(1)
        form.addRow(min_row)
        if filter_min is not None:
            form.addRow(QLabel(f"The grid shows only photos scoring {format_score(filter_min)} "
                               "or more; the export follows that filter unless you untick it."))
        # The field shows a name that is not UTF-8 as \xNN (a QString would drop the byte);
        # left unedited, the real path is used (``chosen_dest``).
        self._given_dest = Path(dest)
        self.dest = QLineEdit(path_text(dest))
        form.addRow("Copy to folder:", path_row(self.dest, self._browse))
        self._for_index = 0
        self.for_combo.currentIndexChanged.connect(self._for_changed)
        if destination is not None and self.for_combo.findData(destination) > 0:
            self.for_combo.setCurrentIndex(self.for_combo.findData(destination))
        self.prefix = QCheckBox("Put the rank in front of each name (01 pizza.jpg, 02 …) so "
                                "a file manager lists them best first")
        self.prefix.setChecked(rank_prefix)
        form.addRow(self.prefix)
        # RAW+JPEG pairs: offered only when the folder has some, named by one of them.
        pairs = pairs or {}
        example = next(iter(sorted(pairs.items())), None)
        shown = (f", e.g. {display_text(example[1].name)} with {display_text(example[0].name)}"
                 if example else "")
        self.with_raw = QCheckBox(f"Copy each photo's RAW file with it ({len(pairs)} photo(s) "
                                  f"here have one{shown})")
        self.with_raw.setChecked(with_raw and bool(pairs))
        self.with_raw.setVisible(bool(pairs))
        if pairs:
            form.addRow(self.with_raw)
        self.sidecars = QCheckBox("Copy each photo's sidecar (.xmp) with it: its stars, "
                                  "keywords and a raw editor's settings go along")
        self.sidecars.setChecked(sidecars)
        form.addRow(self.sidecars)
        self.embed = QCheckBox("For Lightroom: write stars and colour labels into the copies "
                               "(Lightroom reads them from inside a JPEG, not from a sidecar)")
        self.embed.setChecked(embed)
        form.addRow(self.embed)
        note = QLabel("Originals are never moved or changed; existing files in the folder are "
                      "never overwritten. picks.csv in that folder lists ranks and scores.")
        note.setWordWrap(True)
        form.addRow(note)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #a4262c; font-weight: bold")
        self.error.setVisible(False)
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _for_changed(self, index: int) -> None:
        """A destination chosen: its own folder beside the photos (unless the owner typed
        one), and what it will write."""
        old = self.for_combo.itemData(self._for_index)
        new = self.for_combo.itemData(index)
        self._for_index = index
        if self.dest.text().strip() == path_text(self._dest_dirs[old]).strip():
            self._given_dest = self._dest_dirs[new]
            self.dest.setText(path_text(self._given_dest))
        self.for_note.setText(self._dest_notes.get(new, ""))
        self.for_note.setVisible(bool(self._dest_notes.get(new)))
        self.setWindowTitle("Export best photos" if new is None else
                            f"Export for {self.for_combo.itemText(index)}")

    def _browse(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Export to", self.dest.text())
        if d:
            self.dest.setText(d)

    def chosen_dest(self) -> Path | None:
        """The destination in the field: the path given, unless the owner changed the text."""
        text = self.dest.text().strip()
        if not text:
            return None
        if text == path_text(self._given_dest).strip():
            return self._given_dest.expanduser()
        return Path(text).expanduser()

    def problem(self) -> str | None:
        """Why the chosen destination cannot be used, in the dialog's words; None if fine."""
        dest = self.chosen_dest()
        if dest is None:
            return "Choose a folder to copy the photos to."
        if not dest.is_absolute():
            return "Give the full path of the folder to copy to (or use Choose…)."
        if is_inside(dest, self.folder):
            return ("That folder is inside the folder being ranked, so the copies would be "
                    "ranked again next time. Choose a folder outside it.")
        if dest.exists() and not dest.is_dir():
            return "That path is a file, not a folder."
        return None

    def accept(self) -> None:
        problem = self.problem()
        if problem:
            self.error.setText(problem)
            self.error.setVisible(True)
            # Grow to the wrapped message's height (a fixed-size dialog clipped it).
            lay = self.layout()
            if lay is not None:
                lay.activate()
            self.error.setMinimumHeight(self.error.heightForWidth(self.error.width()))
            self.adjustSize()
            return
        super().accept()

    def values(self) -> ExportChoice:
        return ExportChoice(
            top=self.count.value(),
            dest=(self.chosen_dest() or Path()).resolve(),
            min_score=round(self.min_score.value(), 2) if self.use_min.isChecked() else None,
            rank_prefix=self.prefix.isChecked(),
            selected_only=self.selected.isChecked(),
            with_raw=self.with_raw.isChecked(),
            sidecars=self.sidecars.isChecked(),
            embed=self.embed.isChecked(),
            destination=self.for_combo.currentData(),
        )


def export_summary(copied: int, requested: int, dest: Path, min_score: float | None,
                   unreadable: int, raws: int = 0, already: int = 0) -> str:
    """The result in plain words: what was copied (``raws``: RAW files with their photos;
    ``already``: photos whose very file was there from an earlier export), what was left out,
    and where."""
    if copied:
        with_raw = f" with {raws} RAW file(s)" if raws else ""
        lines = [f"Copied {copied} photo(s){with_raw} to {display_text(dest)}."]
    else:
        lines = [f"Nothing was copied to {display_text(dest)}."]
    if already:
        lines.append(f"{already} were already there from an earlier export (the same files): "
                     "not copied again.")
    if copied + already < requested:
        why = (f"only {copied} scored {format_score(min_score)} or more"
               if min_score is not None else f"only {copied} photo(s) were available")
        lines.append(f"You asked for {requested}; {why}.")
    if unreadable:
        lines.append(f"{unreadable} file(s) that Curator could not read were skipped.")
    if copied:
        lines.append("picks.csv in that folder lists their ranks and scores.")
    return "\n".join(lines)


def show_export_result(parent: QWidget | None, text: str, dest: Path, ok: bool) -> None:
    """The result box, with "Open Folder" when something landed there."""
    box = QMessageBox(QMessageBox.Icon.Information if ok else QMessageBox.Icon.Warning,
                      "Export finished" if ok else "Export failed", text,
                      QMessageBox.StandardButton.Ok, parent)
    open_btn = box.addButton("Open Folder", QMessageBox.ButtonRole.ActionRole) \
        if Path(dest).is_dir() else None
    box.exec()
    if open_btn is not None and box.clickedButton() is open_btn:
        open_in_file_manager(Path(dest), parent)
