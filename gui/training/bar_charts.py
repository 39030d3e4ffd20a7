"""Horizontal bar charts with a name per bar, as Try It draws them (class probabilities,
feature contributions)."""

from __future__ import annotations

import pyqtgraph as pg

from gui.training.evaluation_view import dark_axes

MIN_ROWS = 5  # a chart has room for this many bars, so that two are not fat slabs
NAME_LIMIT = 22


def bar_plot(object_name: str, axis_label: str) -> pg.PlotWidget:
    """A white plot for bars listed downwards, that the mouse does not move."""
    plot = pg.PlotWidget(background="w")
    plot.setObjectName(object_name)
    plot.setLabel("bottom", axis_label)
    dark_axes(plot)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    plot.invertY(True)
    plot.setMinimumSize(190, 150)
    return plot


def name_rows(plot: pg.PlotWidget, names: list[str]) -> None:
    """Name the bars (rows 0, 1...) on the left axis, long names shortened, and show
    at least `MIN_ROWS` rows."""
    plot.getAxis("left").setTicks([[(row, short_name(name)) for row, name in enumerate(names)]])
    plot.setYRange(-0.6, max(len(names), MIN_ROWS) - 0.4, padding=0)


def short_name(name: str, limit: int = NAME_LIMIT) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"
