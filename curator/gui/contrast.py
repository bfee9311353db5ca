"""WCAG 2 contrast: text colours that stay readable on whatever background the theme gives."""

from __future__ import annotations

from PySide6.QtGui import QColor

#: WCAG 2.1 AA for normal-size text.
MIN_CONTRAST = 4.5


def _channel(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(c: QColor) -> float:
    """Relative luminance (WCAG 2), 0 (black) … 1 (white)."""
    return (0.2126 * _channel(c.redF()) + 0.7152 * _channel(c.greenF())
            + 0.0722 * _channel(c.blueF()))


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio between two opaque colours, 1 … 21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def readable(colour: QColor, background: QColor, minimum: float = MIN_CONTRAST) -> QColor:
    """``colour``, darkened or lightened (same hue) until it reaches ``minimum`` on
    ``background``; black or white as the last resort."""
    if contrast_ratio(colour, background) >= minimum:
        return QColor(colour)
    toward_dark = luminance(background) > 0.18
    h, s, lightness = colour.hslHueF(), colour.hslSaturationF(), colour.lightnessF()
    a = colour.alphaF()
    for step in range(1, 21):
        lt = lightness * (1 - step / 20) if toward_dark else lightness + (1 - lightness) * step / 20
        c = QColor.fromHslF(max(0.0, h), s, min(1.0, max(0.0, lt)), a)
        if contrast_ratio(c, background) >= minimum:
            return c
    return QColor("black") if toward_dark else QColor("white")
