"""The Layers view of the Training tab: what each layer did over a run, as a heat map.

A row per layer, in forward order, a column per layer record (every `record_every`
batches), each cell coloured by the quantity the user picks: the norm of the layer's
gradient over the norm of its weights, the update ratio, the standard deviation of its
output (these three on a log10 scale) or the fraction of a ReLU's outputs exactly zero.
A layer no gradient reaches is a grey cell, and its row's name says why ("frozen", "no
gradient"), never a tiny number. The colour bar beside the map spans whole decades
around the values shown. Hovering a cell reads it out under the map.

Records come live from the controller, in its bursts; each is written into a
`LayerGrid`, and the image is made from its arrays by numpy, once per burst and only
while the view can be seen. A past run picked in the Runs table shows the layers.csv its
folder kept, read in the background.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from engine.errors import one_line
from engine.runs.store import RunRecord
from engine.training.diagnosis import Record
from gui.background import in_background
from gui.colour_scale import NO_GRADIENT, scale_colours
from gui.training.layer_grid import QUANTITIES, LayerGrid, Quantity, Table

EMPTY = (
    "No layer records yet: a run records its layers every 'record_every' batches "
    "(a training setting), and they show here as it trains."
)
LIVE = "The run training now"
LEGEND = (
    "Blue: low, red: high. Grey: no gradient reaches the layer (frozen, or its output "
    "does not lead to the loss). Empty: not recorded."
)
BAR_WIDTH = 70


class StepAxis(pg.AxisItem):
    """The map's x axis: column i is the record made at step `steps[i]`."""

    def __init__(self) -> None:
        super().__init__("bottom")
        self.steps: list[int] = []

    def tickStrings(self, values, scale, spacing) -> list[str]:
        return [self._step(value) for value in values]

    def _step(self, value: float) -> str:
        column = round(value)
        if abs(value - column) > 1e-6 or not 0 <= column < len(self.steps):
            return ""
        return str(self.steps[column])


class LayersView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("layersView")
        self.grid = LayerGrid()
        self.labels: dict[str, str] = {}
        self.quantity = QUANTITIES[0]
        self.table: Table | None = None  # what the map shows
        self.row_names: list[str] = []  # its rows' names, top to bottom
        self.live = False  # a run is training: its records are the ones shown
        self._run_shown: str | None = None  # the id of the past run shown
        self._due = False  # records came while the view was hidden
        self.combo = QComboBox()
        self.combo.setObjectName("layerQuantity")
        self.combo.addItems([quantity.name for quantity in QUANTITIES])
        self.combo.currentIndexChanged.connect(self._pick)
        self.title = _label("layersTitle", EMPTY)
        self.readout = _label("layersReadout", " ")
        self.map = pg.GraphicsLayoutWidget()
        self.map.setObjectName("layersMap")
        self._make_map()
        moved = self.map.scene().sigMouseMoved
        self._hover = pg.SignalProxy(moved, rateLimit=30, slot=self._hovered)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(QLabel("Colour by:"))
        top.addWidget(self.combo)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.map, 1)
        layout.addWidget(self.readout)
        layout.addWidget(_label("layersLegend", LEGEND))

    def _make_map(self) -> None:
        self.steps_axis = StepAxis()
        self.plot = self.map.addPlot(row=0, col=0, axisItems={"bottom": self.steps_axis})
        self.plot.setLabel("bottom", "step (batches trained)")
        self.plot.invertY(True)
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.getViewBox().setDefaultPadding(0)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.bar = self.map.addPlot(row=0, col=1)
        self.bar_image = pg.ImageItem(axisOrder="row-major")
        self.bar.addItem(self.bar_image)
        self.bar.hideAxis("left")
        self.bar.hideAxis("bottom")
        self.bar.showAxis("right")
        self.bar.setMouseEnabled(x=False, y=False)
        self.bar.hideButtons()
        self.map.ci.layout.setColumnFixedWidth(1, BAR_WIDTH)

    # --- what is shown ----------------------------------------------------------------

    def start_run(self, labels: dict[str, str]) -> None:
        """A run starts: forget what was shown, and follow its records (node id ->
        label: the names of the rows)."""
        self.live, self._run_shown = True, None
        self._show([], labels, LIVE)

    def add_records(self, records: list[Record]) -> None:
        """The live run's new records, oldest first (the controller's `layer_records`)."""
        if self.live:
            self.grid.add(records)
            self._draw()

    def end_run(self) -> None:
        if self.live:
            self.live = False
            self.title.setText("The run trained last")

    def clear(self) -> None:
        """Show nothing (another project is open)."""
        self.live, self._run_shown = False, None
        self._show([], {}, EMPTY)

    def show_run(self, record: RunRecord | None) -> None:
        """Show a past run's layers.csv, read in the background; not while a run
        trains (its records are shown then)."""
        if record is None or self.live:
            return
        self._run_shown = record.id
        self.title.setText(f"Reading the layer records of {record.name}...")
        folder = record.folder
        in_background(lambda: _read_layers(folder), self._read, (self._run_shown, record.name))

    def _read(self, tag, result, error: Exception | None) -> None:
        shown, name = tag
        if self.live or shown != self._run_shown:
            return  # a run started, or another run was picked, meanwhile
        if error is not None:
            self._show([], {}, f"Cannot read the layer records of {name}: {one_line(error)}")
        elif result is None:
            self._show([], {}, f"{name} kept no layer records ('record_every' was 0).")
        else:
            self._show(*result, f"{name}, from its layers.csv")

    def _show(self, records: list[Record], labels: dict[str, str], title: str) -> None:
        self.grid.clear()
        self.grid.add(records)
        self.labels = dict(labels)
        self.title.setText(title)
        self._draw()

    def _pick(self, index: int) -> None:
        self.quantity = QUANTITIES[index]
        self.readout.setText(" ")
        self._draw()

    # --- drawing ----------------------------------------------------------------------

    def _draw(self) -> None:
        if not self.isVisible():
            self._due = True
            return
        self._due = False
        self.table = table = self.grid.table(self.quantity)
        self.row_names = self._row_names(table)
        self.plot.getAxis("left").setTicks([list(enumerate(self.row_names))])
        self.steps_axis.steps = self.grid.steps
        self.steps_axis.setTicks(None)  # automatic ticks, drawn again: their texts changed
        rows, columns = table.values.shape
        if not rows or not columns:
            self.image.clear()
            self.bar_image.clear()
            return
        rgba, low, high = heat_image(table, self.quantity)
        self.image.setImage(rgba, levels=(0, 255))
        self.image.setRect(QRectF(-0.5, -0.5, columns, rows))
        self._draw_bar(low, high)

    def _row_names(self, table: Table) -> list[str]:
        names = []
        for node_id in table.nodes:
            name = self.labels.get(node_id, node_id)
            state = self.grid.gradient_states.get(node_id)
            names.append(f"{name} ({state})" if state and self.quantity.of_gradient else name)
        return names

    def _draw_bar(self, low: float, high: float) -> None:
        ramp = np.linspace(low, high, 256)[:, None]
        self.bar_image.setImage(scale_colours(ramp, low, high), levels=(0, 255))
        self.bar_image.setRect(QRectF(0, low, 1, high - low))
        self.bar.setRange(xRange=(0, 1), yRange=(low, high), padding=0)
        self.bar.getAxis("right").setTicks([bar_ticks(low, high, self.quantity.log)])

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._due:
            self._draw()

    # --- hover ------------------------------------------------------------------------

    def _hovered(self, event) -> None:
        point = self.plot.getViewBox().mapSceneToView(event[0])
        self.readout.setText(self.describe(point.x(), point.y()))

    def describe(self, x: float, y: float) -> str:
        """What the cell at map position (`x`, `y`) holds, for the read-out line."""
        table, column, row = self.table, round(x), round(y)
        if table is None or not 0 <= row < len(table.nodes):
            return " "
        if not 0 <= column < len(self.grid.steps):
            return " "
        node_id = table.nodes[row]
        where = (
            f"{self.labels.get(node_id, node_id)}, step {self.grid.steps[column]} "
            f"(epoch {self.grid.epochs[column]})"
        )
        value = table.values[row, column]
        if table.no_gradient[row, column]:
            what = self.grid.gradient_states.get(node_id, "no gradient")
        elif math.isnan(value):
            what = "not recorded"
        else:
            what = f"{value:.3g}" if self.quantity.log else f"{value:.1%}"
        return f"{where}: {self.quantity.name} {what}"


def heat_image(table: Table, quantity: Quantity) -> tuple[np.ndarray, float, float]:
    """The RGBA image [rows, columns, 4] of `table`, and the range its colours span
    (in log10 for a log quantity)."""
    shown = table.values
    if quantity.log:
        with np.errstate(divide="ignore", invalid="ignore"):
            shown = np.log10(shown)
    low, high = colour_range(shown, quantity)
    rgba = scale_colours(shown, low, high)
    rgba[table.no_gradient] = NO_GRADIENT
    return rgba, low, high


def colour_range(shown: np.ndarray, quantity: Quantity) -> tuple[float, float]:
    """From 0 to 1 for a fraction; for a log quantity the whole decades around its
    finite values, so the scale changes only when a value crosses a decade."""
    if not quantity.log:
        return 0.0, 1.0
    finite = shown[np.isfinite(shown)]
    if not finite.size:
        return -1.0, 0.0
    low, high = math.floor(finite.min()), math.ceil(finite.max())
    return float(low), float(max(high, low + 1))


def bar_ticks(low: float, high: float, log: bool) -> list[tuple[float, str]]:
    """The colour bar's labels: decades as 1e-3 for a log scale, or 0%, 50%, 100%."""
    if not log:
        return [(value, f"{value:.0%}") for value in (0.0, 0.5, 1.0)]
    every = max(1, math.ceil((high - low) / 6))
    return [(value, f"1e{value}") for value in range(int(low), int(high) + 1, every)]


def _read_layers(folder: Path):
    from engine.export.run_files import read_run_layers  # imports torch: off the GUI thread

    return read_run_layers(folder)


def _label(name: str, text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(True)
    return label
