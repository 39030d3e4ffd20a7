"""`SteadyRange`: a plot's y range that moves only when the data leaves it.

pyqtgraph's auto range follows the data at every update, and every new range redraws
the axis and the curves, the axis's tick labels the costliest part of a frame by far.
Here the range takes the data with a margin and stays until a value falls outside it;
then the side that was left grows by a good part of the data's span at once, and stops
at zero for data that never went below it. A loss that keeps falling moves the axis a
few times a run instead of at every burst. A new run keeps the last run's range while its
data fits it and fills a good part of it.
"""

from __future__ import annotations

import math

import pyqtgraph as pg

MARGIN = 0.08  # of the data's span, on either side, when the range is first set
GROWTH = 0.25  # of the data's span, on the side that the data left
FILLED = 0.25  # of the range, that a new run's first data must span to keep it


class SteadyRange:
    def __init__(self, plot: pg.PlotWidget, keep: float | None = None):
        """`keep`: a value the range always shows (0 for a learning rate, so that a
        constant rate reads as a flat line, not noise, and for losses, so that a falling
        loss never moves the axis; 1 for scores, the best there is)."""
        self.plot = plot
        self.keep = keep
        self.shown: tuple[float, float] | None = None
        self._carried = False  # `shown` is the last run's, waiting for this run's data

    def reset(self) -> None:
        self.shown = None
        self._carried = False

    def new_run(self) -> None:
        """A new run's data comes next: the range shown stays if that data fits it and
        fills at least `FILLED` of it, and is set afresh for it otherwise."""
        self._carried = self.shown is not None

    def fit(self, low: float, high: float) -> None:
        """Show at least [low, high]; nothing happens while the range holds it already."""
        if not (math.isfinite(low) and math.isfinite(high)):
            return
        if self.keep is not None:
            low, high = min(low, self.keep), max(high, self.keep)
        span = (high - low) or abs(high) or 1.0
        if self._carried:
            self._carried = False
            bottom, top = self.shown
            if bottom <= low and high <= top and span >= FILLED * (top - bottom):
                return
            self.shown = None
        if self.shown is None:
            shown = (low - MARGIN * span, high + MARGIN * span)
        else:
            bottom, top = self.shown
            if bottom <= low and high <= top:
                return
            bottom = bottom if bottom <= low else low - GROWTH * span
            shown = (bottom, top if high <= top else high + GROWTH * span)
        if low >= 0 > shown[0]:
            shown = (0.0, shown[1])
        self.shown = shown
        self.plot.setYRange(*shown, padding=0)
