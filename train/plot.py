"""Small dependency-free SVG plots for a run folder: loss curves and predicted-vs-true.

SVG keeps the train package free of a plotting library while still giving a picture any
browser (or the GUI) can show.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from html import escape
from pathlib import Path

from curator.fsutil import atomic_write_bytes

log = logging.getLogger(__name__)

W, H, PAD = 420, 300, 44


def _scale(vals: Sequence[float], lo_px: float, hi_px: float) -> tuple[float, float, float, float]:
    lo, hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi, lo_px, (hi_px - lo_px) / (hi - lo)


def _panel(x0: float, title: str, xs_list: list[Sequence[float]], ys_list: list[Sequence[float]],
           colours: list[str], labels: list[str], scatter: bool, xlabel: str,
           ylabel: str) -> list[str]:
    allx = [v for xs in xs_list for v in xs]
    ally = [v for ys in ys_list for v in ys]
    xlo, xhi, _, xs_ = _scale(allx, 0, W - 2 * PAD)
    ylo, yhi, _, ys_ = _scale(ally, 0, H - 2 * PAD)

    def px(x: float) -> float:
        return x0 + PAD + (x - xlo) * xs_

    def py(y: float) -> float:
        return H - PAD - (y - ylo) * ys_

    out = [f'<rect x="{x0 + PAD}" y="{PAD}" width="{W - 2 * PAD}" height="{H - 2 * PAD}" '
           'fill="none" stroke="#999"/>',
           f'<text x="{x0 + W / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}'
           "</text>",
           f'<text x="{x0 + W / 2}" y="{H - 8}" text-anchor="middle" font-size="11">'
           f"{escape(xlabel)}</text>",
           f'<text x="{x0 + 12}" y="{H / 2}" font-size="11" transform="rotate(-90 {x0 + 12} '
           f'{H / 2})" text-anchor="middle">{escape(ylabel)}</text>',
           f'<text x="{x0 + PAD}" y="{H - PAD + 14}" font-size="10">{xlo:.3g}</text>',
           f'<text x="{x0 + W - PAD}" y="{H - PAD + 14}" font-size="10" text-anchor="end">'
           f"{xhi:.3g}</text>",
           f'<text x="{x0 + PAD - 4}" y="{H - PAD}" font-size="10" text-anchor="end">{ylo:.3g}'
           "</text>",
           f'<text x="{x0 + PAD - 4}" y="{PAD + 8}" font-size="10" text-anchor="end">{yhi:.3g}'
           "</text>"]
    for i, (xs, ys, c, lab) in enumerate(zip(xs_list, ys_list, colours, labels, strict=True)):
        if scatter:
            out += [f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.5" fill="{c}" '
                    'fill-opacity="0.6"/>' for x, y in zip(xs, ys, strict=True)]
        elif xs:
            pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys, strict=True))
            out.append(f'<polyline points="{pts}" fill="none" stroke="{c}" stroke-width="1.5"/>')
        out.append(f'<text x="{x0 + W - PAD - 4}" y="{PAD + 14 + 13 * i}" font-size="11" '
                   f'text-anchor="end" fill="{c}">{escape(lab)}</text>')
    if scatter and allx:  # the identity line: perfect predictions
        lo, hi = max(xlo, ylo), min(xhi, yhi)
        if hi > lo:
            out.append(f'<line x1="{px(lo):.1f}" y1="{py(lo):.1f}" x2="{px(hi):.1f}" '
                       f'y2="{py(hi):.1f}" stroke="#bbb" stroke-dasharray="4"/>')
    return out


def write_report_plot(path: Path, curve: list[dict[str, float]], true: Sequence[float],
                      pred: Sequence[float]) -> None:
    """Two panels: train/val loss per epoch, and out-of-fold predicted vs true mean score."""
    ep = [r["epoch"] for r in curve]
    tr = [r["train_loss"] for r in curve]
    vr = [(r["epoch"], r["val_loss"]) for r in curve if "val_loss" in r]
    parts = _panel(0, "Final fit: loss per epoch", [ep, [e for e, _ in vr]],
                   [tr, [v for _, v in vr]], ["#1f77b4", "#d62728"], ["train", "validation"],
                   False, "epoch", "loss")
    parts += _panel(W, "Out-of-fold: predicted vs true", [list(true)], [list(pred)],
                    ["#2ca02c"], [f"{len(true)} photos"], True, "true mean score",
                    "predicted mean score")
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * W}" height="{H}" '
           f'font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>'
           + "".join(parts) + "</svg>\n")
    atomic_write_bytes(path, svg.encode())
