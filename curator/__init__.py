"""Curator: rank a restaurant's food photos by aesthetic appeal with a double-column CNN.

The core (scan, load, score, cache, export) never imports Qt; the desktop app sits on top.
"""

__version__ = "0.1.0"
