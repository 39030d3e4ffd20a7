"""`LiveCurve`: a plot curve that grows by appends and is drawn only when asked.

However many points come between two `draw`s, the drawing is one `setData` on the
filled part of growing numpy buffers (`Series`), so a burst costs the same at point 10
and point 10,000. A curve with few points is drawn as it was made (a bold pen, symbols
on the points); past `FEW_POINTS` it is a plain one-pixel line: Qt draws a thicker
line segment by segment, several times slower, and a symbol per point costs a drawing
each and covers the line anyway. With peak downsampling at `SAMPLES_PER_PIXEL`, a
redraw then costs about the same at ten thousand points as at a thousand.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QPen

from gui.training.series import Series

FEW_POINTS = 60
SAMPLES_PER_PIXEL = 2.0


class LiveCurve:
    def __init__(self, item: pg.PlotDataItem):
        self.item = item
        self.points = Series()
        self._bold = {"pen": QPen(item.opts["pen"]), "symbol": item.opts["symbol"]}
        thin = QPen(item.opts["pen"])
        thin.setWidth(1)
        self._thin = {"pen": thin, "symbol": None}
        self._changed = False
        self.low, self.high = np.inf, -np.inf  # of the finite y values

    def extend(self, xs: Iterable[float], ys: Iterable[float]) -> None:
        start = self.points.size
        self.points.extend(xs, ys)
        new = self.points.y[start:]
        new = new[np.isfinite(new)]
        if new.size:
            self.low, self.high = min(self.low, new.min()), max(self.high, new.max())
        self._changed = True

    def clear(self) -> None:
        self.points.clear()
        self.low, self.high = np.inf, -np.inf
        self._changed = True

    def draw(self) -> None:
        """Show the points added or cleared since the last draw, if any."""
        if not self._changed:
            return
        self._changed = False
        style = self._bold if self.points.size <= FEW_POINTS else self._thin
        self.item.setData(self.points.x, self.points.y, **style)


def live_curve(plot: pg.PlotWidget, name: str, pen: QPen, **symbols) -> LiveCurve:
    """A new curve on `plot`, downsampled for drawing."""
    item = plot.plot(name=name, pen=pen, autoDownsampleFactor=SAMPLES_PER_PIXEL, **symbols)
    return LiveCurve(item)
