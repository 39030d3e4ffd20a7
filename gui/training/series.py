"""A growing (x, y) series for a live plot: amortised appends into numpy buffers.

`setData` is handed views of the filled part, so each redraw copies nothing in Python
however long the run; pyqtgraph's clip-to-view and peak downsampling then keep the
drawing itself cheap at millions of points. Plain numpy, no Qt.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

SMOOTHING = 0.05  # weight of the newest batch in the smoothed loss (about a 20-batch window)


class Series:
    def __init__(self, capacity: int = 1024):
        self._x = np.empty(capacity)
        self._y = np.empty(capacity)
        self.size = 0

    @property
    def x(self) -> np.ndarray:
        return self._x[: self.size]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self.size]

    def extend(self, xs: Iterable[float], ys: Iterable[float]) -> None:
        xs, ys = np.fromiter(xs, float), np.fromiter(ys, float)
        end = self.size + len(xs)
        if end > len(self._x):
            capacity = max(end, 2 * len(self._x))
            self._x = _grown(self._x, capacity, self.size)
            self._y = _grown(self._y, capacity, self.size)
        self._x[self.size : end] = xs
        self._y[self.size : end] = ys
        self.size = end

    def clear(self) -> None:
        self.size = 0

    def nearest(self, x: float) -> int | None:
        """Index of the point whose x is closest to `x` (x must be increasing)."""
        if self.size == 0:
            return None
        i = int(np.searchsorted(self.x, x))
        if i == self.size or (i > 0 and x - self.x[i - 1] < self.x[i] - x):
            i -= 1
        return i


def _grown(buffer: np.ndarray, capacity: int, used: int) -> np.ndarray:
    bigger = np.empty(capacity)
    bigger[:used] = buffer[:used]
    return bigger


def smoothed(losses: Iterable[float], start: float | None) -> tuple[list[float], float | None]:
    """Exponential moving average of `losses`, continuing from `start` (the last smoothed
    value, None at the beginning of a run); returns the values and the new last one.
    Non-finite losses are skipped so that one bad batch does not poison the curve."""
    out = []
    current = start
    for loss in losses:
        if np.isfinite(loss):
            current = loss if current is None else current + SMOOTHING * (loss - current)
        out.append(np.nan if current is None else current)
    return out, current
