"""`LiveCurve`: a plot curve that grows by appends and is drawn only when asked.

However many points come between two `draw`s, the drawing is one `setData` on the
filled part of growing numpy buffers (`Series`), so a burst costs the same at point 10
and point 10,000. A curve with few points is drawn as it was made (a bold pen, and,
once its run has ended, symbols on the points); past `FEW_POINTS` it is a plain
one-pixel line: Qt draws a thicker
line segment by segment, several times slower, and a symbol per point costs a drawing
each and covers the line anyway. With peak downsampling at `SAMPLES_PER_PIXEL`, a
redraw then costs about the same at ten thousand points as at a thousand.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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
        bold, thin = QPen(item.opts["pen"]), QPen(item.opts["pen"])
        thin.setWidth(1)
        self._bold = {"pen": bold, "symbol": None}
        symbol = item.opts["symbol"]
        self._marked = {"pen": bold, "symbol": symbol} if symbol else self._bold
        self._thin = {"pen": thin, "symbol": None}
        self._changed = False
        self._style: dict[str, Any] = self._marked  # as last drawn: as it was made
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

    def draw(self, marks: bool = True) -> None:
        """Show the points added or cleared since the last draw, if any; `marks`: with
        symbols on them while they are few (a live run leaves them off: redrawing the
        symbols at every burst cost more than the rest of a frame)."""
        few = self.points.size <= FEW_POINTS
        style = (self._marked if marks else self._bold) if few else self._thin
        if not self._changed and style is self._style:
            return
        self._changed, self._style = False, style
        self.item.setData(self.points.x, self.points.y, **style)


def live_curve(plot: pg.PlotWidget, name: str, pen: QPen, **symbols) -> LiveCurve:
    """A new curve on `plot`, downsampled for drawing."""
    item = plot.plot(name=name, pen=pen, autoDownsampleFactor=SAMPLES_PER_PIXEL, **symbols)
    return LiveCurve(item)
