"""Live plots of a run: loss (per batch, smoothed, per epoch), accuracy or R², learning rate.

The x axis counts epochs; batch k of epoch e sits at e - 1 + k / batches_per_epoch, so a
batch curve and the epoch points line up. Batch losses and epoch rows arrive in bursts
from the controller's timer (about 25 a second), and each burst is one `setData` per
curve it adds to (`LiveCurve`), at epoch 10 as at epoch 10,000; the end of a run is one
last burst. The three plots of a burst are drawn in turn, one per pass of the event loop,
so that the window paints each on its own and nothing else waits for all three. The x
axis spans the run set up (`span`), before it starts; the y ranges carry over from one
run to the next while the new data fits them well (`SteadyRange`): a new axis costs more
than the rest of a frame. Earlier runs can be overlaid (dashed) for comparison. The plots
export as one PNG and their data as CSV.
"""

from __future__ import annotations

import bisect
import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QIODevice, Qt, QTimer
from PySide6.QtWidgets import QGraphicsItem, QGridLayout, QLabel, QWidget

from engine.document.files import atomic_write, atomic_write_text
from engine.runs.store import SCORES
from gui.training.live_curve import LiveCurve, live_curve
from gui.training.series import Series, smoothed
from gui.training.steady_range import SteadyRange

pg.setConfigOptions(background="w", foreground="#333", antialias=False)

TRAIN_COLOR, VAL_COLOR = "#1f77b4", "#ff7f0e"
OVERLAY_COLORS = ("#7f7f7f", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def score_keys(row: dict[str, Any]) -> list[str]:
    """The history keys the score plot shows for a row: accuracy for classification
    outputs, R² for regression ones, train and validation, one per output."""
    return [
        key
        for key, value in row.items()
        if isinstance(value, float) and key.startswith(("train_", "val_")) and key.endswith(SCORES)
    ]


def score_name(key: str) -> str:
    """ "val accuracy", "train task_a R²"... for a score key of the history."""
    split, _, rest = key.partition("_")
    label, _, metric = rest.rpartition("_")
    return " ".join(part for part in (split, label, "R²" if metric == "r2" else metric) if part)


def _plot(object_name: str, title: str, y_label: str, columns: int = 1) -> pg.PlotWidget:
    plot = pg.PlotWidget(title=title)
    plot.setObjectName(object_name)
    plot.setLabel("bottom", "epoch")
    plot.setLabel("left", y_label)
    plot.showGrid(x=True, y=True, alpha=0.2)
    plot.addLegend(offset=(-10, -10), labelTextSize="8pt", colCount=columns)
    plot.setMouseEnabled(x=True, y=False)
    for name in ("left", "bottom"):
        # Axes repaint their text from a QPicture at every frame, the costliest part of a
        # redraw; kept as a pixmap, they are drawn again only when their range changes.
        plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    plot.getPlotItem().setClipToView(True)
    plot.getPlotItem().setDownsampling(auto=True, mode="peak")
    return plot


class TrainingPlots(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.loss_plot = _plot("lossPlot", "Loss", "loss")
        self.score_plot = _plot("accuracyPlot", "Accuracy / R²", "score", columns=2)
        self.lr_plot = _plot("lrPlot", "Learning rate", "lr")
        self.readout = QLabel(" ")
        self.readout.setObjectName("plotReadout")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot, 0, 0, 1, 2)
        layout.addWidget(self.score_plot, 1, 0)
        layout.addWidget(self.lr_plot, 1, 1)
        layout.addWidget(self.readout, 2, 0, 1, 2)
        layout.setRowStretch(0, 3)
        layout.setRowStretch(1, 2)
        self.history: list[dict[str, Any]] = []
        self._epochs: list[int] = []  # of the history rows, for finding one fast
        self.batches_per_epoch = 1
        self._last_smooth: float | None = None
        self._live = False  # a run is streaming in: its epoch points are not marked yet
        self._scores_known = False  # whether this run's score curves are the ones shown
        self._overlays: list[tuple[pg.PlotWidget, pg.PlotDataItem]] = []
        self._overlay_bounds: dict[pg.PlotWidget, tuple[float, float]] = {}  # y, per plot
        self._ranges = {
            # From zero: a falling loss then never leaves the range, and a run's first
            # seconds do not redraw the axis frame after frame.
            self.loss_plot: SteadyRange(self.loss_plot, keep=0.0),
            self.score_plot: SteadyRange(self.score_plot, keep=1.0),
            self.lr_plot: SteadyRange(self.lr_plot, keep=0.0),
        }
        self._span: float | None = None  # the epochs the x axes show
        self._due: list[pg.PlotWidget] = []  # plots with changes to draw, in turn
        self._turn = QTimer(self)
        self._turn.setSingleShot(True)
        self._turn.setInterval(0)  # the next pass of the event loop, after its paint
        self._turn.timeout.connect(self._draw_next)
        self._make_curves()
        self._hover = [
            pg.SignalProxy(p.scene().sigMouseMoved, rateLimit=30, slot=self._hovered(p))
            for p in (self.loss_plot, self.score_plot, self.lr_plot)
        ]

    def _make_curves(self) -> None:
        loss = self.loss_plot
        self.batch_curve = live_curve(loss, "batch", pg.mkPen("#aec7e8", width=1))
        self.smooth_curve = live_curve(loss, "batch, smoothed", pg.mkPen(TRAIN_COLOR, width=2))
        self.train_curve = _epoch_curve(loss, "train (epoch)", TRAIN_COLOR)
        self.val_curve = _epoch_curve(loss, "validation", VAL_COLOR)
        self.lr_curve = _epoch_curve(self.lr_plot, "lr", "#2ca02c")
        self.score_curves: dict[str, LiveCurve] = {}

    @property
    def batches(self) -> Series:
        return self.batch_curve.points

    @property
    def smooth(self) -> Series:
        return self.smooth_curve.points

    # --- a run ------------------------------------------------------------------------

    def start_run(self, plan: dict[str, Any]) -> None:
        """Forget the previous run's points (overlays stay); a resumed run keeps its
        history rows so far."""
        self.batches_per_epoch = max(1, int(plan.get("batches_per_epoch", 1)))
        self.span(plan.get("epochs", 1))
        self._last_smooth = None
        self._live = True
        self.history, self._epochs = [], []
        self._scores_known = False
        for curve in (self.batch_curve, self.smooth_curve, *self._epoch_curves()):
            curve.clear()
        for steady in self._ranges.values():
            steady.new_run()
        self.add_epochs(list(plan.get("history", [])))

    def span(self, epochs: int) -> None:
        """Show `epochs` across the x axes: the run set up, before it starts and while it
        goes, so that the axes do not change while batches come."""
        if epochs == self._span:
            return
        self._span = epochs
        for plot in self._ranges:
            plot.setXRange(0, epochs, padding=0.02)

    def add_batches(self, losses: list[tuple[int, int, float]]) -> None:
        """Batch losses (epoch, batch, loss), oldest first, as the controller delivers
        them: one update of each batch curve."""
        per = self.batches_per_epoch
        xs = [epoch - 1 + batch / per for epoch, batch, _ in losses]
        values = [loss for *_, loss in losses]
        averaged, self._last_smooth = smoothed(values, self._last_smooth)
        self.batch_curve.extend(xs, values)
        self.smooth_curve.extend(xs, averaged)
        self._show([self.loss_plot])

    def add_epochs(self, rows: list[dict[str, Any]]) -> None:
        """History rows, oldest first, as the controller delivers them: one update of
        each epoch curve however many rows come."""
        self.history.extend(rows)
        self._epochs.extend(row["epoch"] for row in rows)
        _extend(self.train_curve, rows, "train_loss")
        _extend(self.val_curve, rows, "val_loss")
        _extend(self.lr_curve, rows, "lr")
        keys = score_keys(rows[-1]) if rows else []
        if rows and not self._scores_known:
            self._keep_scores(keys)
        for key in keys:
            _extend(self.score_curves.get(key) or self._score_curve(key), rows, key)
        self._show(list(self._ranges))

    def end_run(self) -> None:
        """The run has ended, however: one last drawing, with the epoch points marked."""
        self._live = False
        self._show(list(self._ranges))

    @property
    def drawing(self) -> bool:
        """Whether some plot still waits for its turn to draw what it was given."""
        return bool(self._due)

    def _show(self, plots: list[pg.PlotWidget]) -> None:
        """Draw what changed on `plots`, while they can be seen, in turn, from the next
        pass of the event loop on: what a burst gives several plots comes together, and
        each plot is drawn once. Hidden (another tab is showing), they wait, and cost
        nothing, until `showEvent`."""
        if not self.isVisible():
            return
        self._due += [plot for plot in plots if plot not in self._due]
        if not self._turn.isActive():
            self._turn.start()

    def _draw_next(self) -> None:
        if not self._due:
            return
        plot = self._due.pop(0)
        if self.isVisible():
            self._fit(plot)  # first: a new range redraws the curves the plot holds
            for curve in self._curves_on(plot):
                curve.draw(marks=not self._live)
        if self._due:
            self._turn.start()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._show(list(self._ranges))

    def _epoch_curves(self) -> list[LiveCurve]:
        return [self.train_curve, self.val_curve, self.lr_curve, *self.score_curves.values()]

    def _curves_on(self, plot: pg.PlotWidget) -> list[LiveCurve]:
        if plot is self.loss_plot:
            return [self.batch_curve, self.smooth_curve, self.train_curve, self.val_curve]
        return list(self.score_curves.values()) if plot is self.score_plot else [self.lr_curve]

    def _fit(self, plot: pg.PlotWidget) -> None:
        """Keep `plot`'s y range around its curves and overlays (`SteadyRange`)."""
        low, high = self._overlay_bounds.get(plot, (np.inf, -np.inf))
        curves = self._curves_on(plot)
        low = min([low] + [curve.low for curve in curves])
        high = max([high] + [curve.high for curve in curves])
        self._ranges[plot].fit(low, high)

    def _keep_scores(self, keys: list[str]) -> None:
        """At a run's first rows: the score curves of the last run stay (emptied) when
        this run has the same scores, so its legend is not built again."""
        for key in [key for key in self.score_curves if key not in keys]:
            _remove(self.score_plot, self.score_curves.pop(key).item)
        self._scores_known = True

    def _score_curve(self, key: str) -> LiveCurve:
        color = VAL_COLOR if key.startswith("val_") else TRAIN_COLOR
        index = len(self.score_curves) // 2
        style = (Qt.PenStyle.SolidLine, Qt.PenStyle.DotLine, Qt.PenStyle.DashDotLine)[index % 3]
        curve = _epoch_curve(self.score_plot, score_name(key), color, style)
        self.score_curves[key] = curve
        return curve

    # --- overlays ---------------------------------------------------------------------

    def set_overlays(self, runs: list[tuple[str, list[dict[str, Any]]]]) -> None:
        """Draw earlier runs (name, history rows) dashed under the live one: validation
        loss (training loss without a validation split) and the first score."""
        for plot, item in self._overlays:
            _remove(plot, item)
        self._overlays, self._overlay_bounds = [], {}
        for index, (name, history) in enumerate(runs):
            color = OVERLAY_COLORS[index % len(OVERLAY_COLORS)]
            self._overlay(self.loss_plot, name, history, "val_loss", "train_loss", color)
            keys = score_keys(history[-1]) if history else []
            vals = [k for k in keys if k.startswith("val_")] or keys
            if vals:
                self._overlay(self.score_plot, name, history, vals[0], vals[0], color)
        for plot, steady in self._ranges.items():
            steady.reset()
            self._fit(plot)

    def _overlay(self, plot, name, history, key, fallback, color) -> None:
        key = key if history and key in history[-1] else fallback
        rows = [row for row in history if key in row]
        if not rows:
            return
        # One pixel wide: Qt strokes a wider dashed line of thousands of epochs for
        # hundreds of milliseconds, at every frame of the live curves over it.
        pen = pg.mkPen(color, width=1, style=Qt.PenStyle.DashLine)
        values = [r[key] for r in rows]
        item = plot.plot([r["epoch"] for r in rows], values, pen=pen, name=name)
        self._overlays.append((plot, item))
        finite = [value for value in values if np.isfinite(value)]
        if finite:
            low, high = self._overlay_bounds.get(plot, (np.inf, -np.inf))
            self._overlay_bounds[plot] = (min(low, *finite), max(high, *finite))

    # --- hover ------------------------------------------------------------------------

    def _hovered(self, plot: pg.PlotWidget):
        def show(event) -> None:
            point = plot.getPlotItem().vb.mapSceneToView(event[0])
            self.readout.setText(self.describe(point.x()))

        return show

    def describe(self, x: float) -> str:
        """What the plots hold near epoch position `x`, for the read-out line."""
        parts = []
        i = self.batches.nearest(x)
        if i is not None and abs(self.batches.x[i] - x) <= 1:
            epoch = int(self.batches.x[i] + 1 - 1e-9)
            parts.append(
                f"epoch {epoch} batch: loss {self.batches.y[i]:.4g} "
                f"(smoothed {self.smooth.y[i]:.4g})"
            )
        row = self._row_near(x)
        if row is not None and abs(row["epoch"] - x) <= 0.5:
            values = [f"lr {row['lr']:.3g}", f"train loss {row['train_loss']:.4g}"]
            if "val_loss" in row:
                values.append(f"val loss {row['val_loss']:.4g}")
            values += [f"{score_name(k)} {row[k]:.4g}" for k in score_keys(row)]
            parts.append(f"epoch {row['epoch']}: " + ", ".join(values))
        return "   |   ".join(parts) or " "

    def _row_near(self, x: float) -> dict[str, Any] | None:
        """The history row whose epoch is closest to `x` (epochs increase)."""
        i = bisect.bisect_left(self._epochs, x)
        near = self.history[max(0, i - 1) : i + 1]
        return min(near, key=lambda row: abs(row["epoch"] - x), default=None)

    # --- export -----------------------------------------------------------------------

    def export_png(self, path: Path) -> None:
        """The three plots as they are on screen, as one PNG (written atomically)."""
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        self.grab().save(buffer, "PNG")
        data = bytes(buffer.data())
        atomic_write(path, lambda handle: handle.write(data))

    def export_csv(self, path: Path) -> Path:
        """Per-epoch history to `path`, and every batch loss to `<stem>-batches.csv` beside
        it; returns the second path."""
        from engine.export.run_files import history_csv

        batches_path = path.with_name(f"{path.stem}-batches.csv")
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(["epoch_position", "loss", "smoothed_loss"])
        writer.writerows(zip(self.batches.x, self.batches.y, self.smooth.y, strict=True))
        atomic_write_text(path, history_csv(self.history))
        atomic_write_text(batches_path, text.getvalue())
        return batches_path


def _epoch_curve(plot, name: str, color: str, style=Qt.PenStyle.SolidLine) -> LiveCurve:
    # The symbol's pen and brush as objects, made once: pyqtgraph caches a symbol's
    # picture under their identity, and would draw it again at every update otherwise.
    symbols = {"symbolPen": pg.mkPen(None), "symbolBrush": pg.mkBrush(color)}
    pen = pg.mkPen(color, width=2, style=style)
    return live_curve(plot, name, pen, symbol="o", symbolSize=5, **symbols)


def _extend(curve: LiveCurve, rows: list[dict[str, Any]], key: str) -> None:
    having = [row for row in rows if key in row]
    curve.extend((row["epoch"] for row in having), (row[key] for row in having))


def _remove(plot: pg.PlotWidget, item: pg.PlotDataItem) -> None:
    plot.removeItem(item)
    plot.getPlotItem().legend.removeItem(item)
