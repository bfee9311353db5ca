"""Help ▸ Keyboard Shortcuts and Help ▸ About Curator (version, model, licences)."""

from __future__ import annotations

import logging
import platform
from collections.abc import Iterable, Sequence
from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence

import curator
from curator.paths import BUNDLED_MODEL

log = logging.getLogger(__name__)

#: (keys, what they do): the one list the Help window shows.
SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("Ctrl+O", "Open a folder of photos (or drop one on the window)"),
    ("Ctrl+E", "Export the best photos (or the selected ones)"),
    ("Ctrl+R", "Re-rank now: put the grid in score order while scoring runs"),
    ("Space / double-click", "Look closer at the current photo"),
    ("In Look Closer: ← → ↑ ↓, Return", "Previous / next photo"),
    ("In Look Closer: Space, Esc", "Close"),
    ("In Look Closer: click", "Zoom to 100 % there; click again to fit; drag to pan"),
    ("Ctrl+= / Ctrl+−", "Larger / smaller thumbnails"),
    ("Ctrl+Shift+R", "Show the selected photo in its folder"),
    ("Arrow keys, Shift/Ctrl+click", "Move and select in the grid"),
    ("Ctrl+Q", "Quit"),
    ("F1", "This list"),
)

#: Curator's own licence, as About says it (the full text is LICENSE, beside README.md).
CURATOR_LICENCE = ("Curator is free software under the GNU General Public License, version 3 "
                   "or (at your option) any later version (GPL-3.0-or-later). It comes with "
                   "no warranty. It is built on:")

LICENCES = (
    ("PySide6 (Qt for Python)", "LGPL-3.0"),
    ("PyTorch, torchvision", "BSD-3-Clause"),
    ("EfficientNet-Lite0 weights and code", "Apache-2.0"),
    ("Pillow", "MIT-CMU (HPND)"),
    ("pillow-heif", "BSD-3-Clause (libheif: LGPL-3.0)"),
    ("NumPy, SciPy, scikit-learn", "BSD-3-Clause"),
    ("pyexiv2 (Exiv2)", "GPL-3.0"),
    ("rawpy (LibRaw)", "MIT (LibRaw: LGPL-2.1 or CDDL-1.0)"),
    ("platformdirs", "MIT"),
    ("Sample photos", "The Unlicense and MIT: see assets/samples/LICENSE-*.txt"),
)


def action_shortcuts(actions: Iterable[QAction]) -> list[tuple[str, str]]:
    """(keys, what they do) for every action that has a shortcut, in the menu's own words."""
    out: list[tuple[str, str]] = []
    for act in actions:
        keys = " / ".join(k.toString(QKeySequence.SequenceFormat.NativeText)
                          for k in act.shortcuts())
        if keys:
            out.append((keys, act.text().replace("&", "").rstrip("…")))
    return out


def shortcuts_markdown(extra: Sequence[tuple[str, str]] = ()) -> str:
    """The Help window's table: the fixed list, then ``extra`` rows (culling keys generated
    from the Cull menu's actions, the Compare window's keys) so the list cannot drift."""
    rows = "\n".join(f"| {k} | {v} |" for k, v in (*SHORTCUTS, *extra))
    return f"# Keyboard shortcuts\n\n| Keys | Does |\n|---|---|\n{rows}\n"


def about_markdown(model_path: Path, model_name: str, personal: Path | None = None) -> str:
    """Version, the model in use (and the personal model ranking over it), and the licences
    of what Curator is built on."""
    model = "the bundled model" if Path(model_path) == BUNDLED_MODEL else f"{model_name}"
    if personal is not None:
        model = (f"your personal model, learned from your choices, over {model}  \n"
                 f"`{personal}`")
    lic = "\n".join(f"| {name} | {kind} |" for name, kind in LICENCES)
    return (f"# Curator {curator.__version__}\n\n"
            "Ranks a restaurant's food photos so the best ones are easy to find and export.\n\n"
            f"**Model in use:** {model}  \n`{model_path}`\n\n"
            "Model ▸ About This Model describes what it was trained on and how well it does.\n\n"
            f"Python {platform.python_version()} on {platform.system()}.\n\n"
            f"## Licences\n\n{CURATOR_LICENCE}\n\n"
            f"| Component | Licence |\n|---|---|\n{lic}\n")
