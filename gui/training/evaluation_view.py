"""After a run: how each output does on the data held out for validation.

A view only: the numbers come from `engine.runs.evaluation.evaluate`. A classification output
shows its confusion matrix (rows: true class, columns: predicted; the diagonal in blue,
mistakes in red, each cell shaded by its share of the true class, so rare classes read
as well as common ones), a table of per-class scores and the misclassified samples,
as pictures when the samples are images. A regression output shows predicted against
true values around the line y = x. With several outputs a picker chooses one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPoint, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from engine.runs.evaluation_results import (
    MISCLASSIFIED_LIMIT,
    ClassificationEvaluation,
    Forecast,
    OutputEvaluation,
    RegressionEvaluation,
)

EMPTY_TEXT = (
    "Nothing to evaluate yet: train the model, and its results on the validation data show here."
)
CELL_TEXT_LIMIT = 20  # classes up to which the matrix names its axes and writes its counts
HIT_COLOR, MISS_COLOR = QColor("#1f77b4"), QColor("#d62728")
COLUMN_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")
AXIS_COLOR = "#333"
THUMBNAIL = 56
INDEX_ROLE = Qt.ItemDataRole.UserRole + 1

SampleImages = Callable[[int], "np.ndarray | None"]
"""How sample i of the evaluated split looks (`TrainedModel.sample_image`)."""


def picture_pixmap(image: np.ndarray, side: int) -> QPixmap:
    """A grayscale picture [H, W], stretched between its own lowest and highest value,
    enlarged with square pixels (nearest neighbour) to fit `side` pixels."""
    low, high = float(image.min()), float(image.max())
    scaled = (image - low) / (high - low) if high > low else np.zeros_like(image)
    gray = np.ascontiguousarray(np.round(scaled * 255), dtype=np.uint8)
    height, width = gray.shape
    picture = QImage(gray.data, width, height, width, QImage.Format.Format_Grayscale8).copy()
    factor = max(1, side // max(height, width))
    return QPixmap.fromImage(picture).scaled(
        width * factor, height * factor, mode=Qt.TransformationMode.FastTransformation
    )


def dark_axes(plot: pg.PlotWidget) -> None:
    """Axes and their labels in dark grey on the white plots, whatever pyqtgraph's
    global foreground is."""
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(AXIS_COLOR)
        axis.setTextPen(AXIS_COLOR)


class EvaluationView(QWidget):
    """The evaluation of a trained model's outputs (objectName "evaluationView")."""

    sample_activated = Signal(int)  # index in the evaluated split of a double-clicked mistake

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("evaluationView")
        self._evaluations: list[OutputEvaluation] = []
        self._images: SampleImages | None = None
        self.output_picker = QComboBox()
        self.output_picker.setObjectName("evaluationOutput")
        self.output_picker.currentIndexChanged.connect(self._show_output)
        self.summary = QLabel()
        self.summary.setObjectName("evaluationSummary")
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setObjectName("evaluationEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.classes = ClassificationPage()
        self.classes.mistakes.itemDoubleClicked.connect(self._activated)
        self.regression = RegressionPage()
        self.pages = QStackedWidget()
        for page in (self.empty, self.classes, self.regression):
            self.pages.addWidget(page)
        header = QHBoxLayout()
        header.addWidget(self.output_picker)
        header.addWidget(self.summary, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.pages, 1)
        self.clear()

    def clear(self, message: str = EMPTY_TEXT) -> None:
        """Show `message` instead of results (nothing trained yet, or a new run)."""
        self._evaluations, self._images = [], None
        self.empty.setText(message)
        self.output_picker.hide()
        self.summary.clear()
        self.pages.setCurrentWidget(self.empty)

    def show_evaluation(
        self, evaluations: Sequence[OutputEvaluation], images: SampleImages | None = None
    ) -> None:
        """Show `engine.runs.evaluation.evaluate`'s results, one output at a time; `images`
        draws the misclassified samples when the data is pictures."""
        if not evaluations:
            self.clear()
            return
        self._evaluations, self._images = list(evaluations), images
        self.output_picker.blockSignals(True)
        self.output_picker.clear()
        self.output_picker.addItems([e.label for e in evaluations])
        self.output_picker.blockSignals(False)
        self.output_picker.setVisible(len(evaluations) > 1)
        self._show_output(0)

    def _show_output(self, number: int) -> None:
        if not 0 <= number < len(self._evaluations):
            return
        result = self._evaluations[number]
        self.summary.setText(_summary(result))
        if isinstance(result, ClassificationEvaluation):
            self.classes.show_result(result, self._images)
            self.pages.setCurrentWidget(self.classes)
        else:
            self.regression.show_result(result)
            self.pages.setCurrentWidget(self.regression)

    def _activated(self, item: QListWidgetItem) -> None:
        self.sample_activated.emit(item.data(INDEX_ROLE))


def _summary(result: OutputEvaluation) -> str:
    where = f"output {result.label!r} on {result.samples} {result.split} samples"
    if isinstance(result, ClassificationEvaluation):
        return f"{where}: accuracy {result.accuracy:.1%}, macro F1 {result.macro['f1']:.3f}"
    return f"{where}: R² {result.r2:.3f}, MAE {result.mae:.4g}"


# --- classification -----------------------------------------------------------------------


class ClassificationPage(QSplitter):
    """Confusion matrix | per-class table over the misclassified samples."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.matrix = ConfusionMatrix()
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("perClassTable")
        self.table.setHorizontalHeaderLabels(["class", "precision", "recall", "F1", "support"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.mistakes_title = QLabel()
        self.mistakes = QListWidget()
        self.mistakes.setObjectName("misclassifiedGrid")
        right = QWidget()
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.table, 3)
        column.addWidget(self.mistakes_title)
        column.addWidget(self.mistakes, 2)
        self.addWidget(self.matrix)
        self.addWidget(right)
        self.setStretchFactor(0, 1)
        self.setStretchFactor(1, 1)

    def show_result(self, result: ClassificationEvaluation, images: SampleImages | None) -> None:
        self.matrix.set_matrix(result.confusion, result.class_names)
        self._fill_table(result)
        self._fill_mistakes(result, images)

    def _fill_table(self, result: ClassificationEvaluation) -> None:
        rows = [(c.name, c.precision, c.recall, c.f1, c.support) for c in result.per_class]
        macro = result.macro
        rows.append(("macro average", macro["precision"], macro["recall"], macro["f1"], None))
        self.table.setRowCount(len(rows))
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                self.table.setItem(row, column, _cell(value))
        bold = QFont(self.table.font())
        bold.setBold(True)
        for column in range(self.table.columnCount()):
            self.table.item(len(rows) - 1, column).setFont(bold)

    def _fill_mistakes(self, result: ClassificationEvaluation, images: SampleImages | None) -> None:
        shown = len(result.misclassified)
        more = f" (the first {shown} below)" if result.misclassified_count > shown else ""
        self.mistakes_title.setText(
            f"Misclassified: {result.misclassified_count} of {result.samples}{more}; "
            "double-click one to try it"
        )
        self.mistakes.clear()
        pictures = images is not None
        self.mistakes.setViewMode(
            QListView.ViewMode.IconMode if pictures else QListView.ViewMode.ListMode
        )
        self.mistakes.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        self.mistakes.setResizeMode(QListView.ResizeMode.Adjust)
        self.mistakes.setMovement(QListView.Movement.Static)
        names = result.class_names
        for mistake in result.misclassified[:MISCLASSIFIED_LIMIT]:
            caption = f"{names[mistake.true]} → {names[mistake.predicted]}"
            item = QListWidgetItem(caption if pictures else f"sample {mistake.index}: {caption}")
            item.setData(INDEX_ROLE, mistake.index)
            item.setToolTip(
                f"{result.split} sample {mistake.index}: true {names[mistake.true]}, "
                f"predicted {names[mistake.predicted]}"
            )
            picture = images(mistake.index) if pictures else None
            if picture is not None:
                item.setIcon(picture_pixmap(picture, THUMBNAIL))
            self.mistakes.addItem(item)
        self.mistakes.setCurrentRow(-1)


def _cell(value: str | float | int | None) -> QTableWidgetItem:
    if value is None:
        text = ""
    elif isinstance(value, float):
        text = f"{value:.3f}"
    else:
        text = str(value)
    item = QTableWidgetItem(text)
    if not isinstance(value, str):
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class ConfusionMatrix(QWidget):
    """A painted heat map of a confusion matrix (objectName "confusionMatrix"); hovering a
    cell tells its count and share."""

    MARGIN = 8

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("confusionMatrix")
        self.setMinimumSize(220, 220)
        self.setMouseTracking(True)
        self.matrix = np.zeros((0, 0), dtype=np.int64)
        self.names: list[str] = []
        self._cells = QImage()

    def set_matrix(self, matrix: np.ndarray, names: Sequence[str]) -> None:
        """matrix: counts [true class, predicted class]; names: one per class."""
        self.matrix = np.asarray(matrix, dtype=np.int64)
        self.names = list(names)
        self._cells = _heat_image(self.matrix)
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(420, 420)

    @property
    def labelled(self) -> bool:
        return 0 < len(self.names) <= CELL_TEXT_LIMIT

    def name_room(self) -> int:
        """Pixels for the class names beside and above the cells."""
        if not self.labelled:
            return 0
        return min(max(self.fontMetrics().horizontalAdvance(n) for n in self.names), 120) + 4

    def grid_rect(self) -> QRectF:
        """Where the cells are drawn: a square, leaving room for names and axis titles,
        centred across the width."""
        room = self.name_room()
        left = top = self.MARGIN + self.fontMetrics().height() + room
        side = max(min(self.width() - left - self.MARGIN, self.height() - top - self.MARGIN), 1)
        spare = max(self.width() - left - self.MARGIN - side, 0)
        return QRectF(left + spare / 2, top, side, side)

    def cell_at(self, point: QPoint) -> tuple[int, int] | None:
        """(true, predicted) of the cell under `point`, or None."""
        grid, count = self.grid_rect(), len(self.matrix)
        if not count or not grid.contains(point.toPointF()):
            return None
        column = int((point.x() - grid.left()) / grid.width() * count)
        row = int((point.y() - grid.top()) / grid.height() * count)
        return min(row, count - 1), min(column, count - 1)

    def paintEvent(self, event: QPaintEvent) -> None:
        if not len(self.matrix):
            return
        painter = QPainter(self)
        grid = self.grid_rect()
        painter.drawImage(grid, self._cells)
        painter.setPen(QColor("#888"))
        painter.drawRect(grid)
        self._draw_titles(painter, grid)
        if self.labelled:
            self._draw_names(painter, grid)
            self._draw_counts(painter, grid)

    def _draw_titles(self, painter: QPainter, grid: QRectF) -> None:
        painter.setPen(self.palette().windowText().color())
        line = self.fontMetrics().height()
        top = QRectF(grid.left(), self.MARGIN, grid.width(), line)
        painter.drawText(top, Qt.AlignmentFlag.AlignCenter, "predicted class")
        painter.save()
        painter.translate(grid.left() - self.name_room() - line - 4, grid.bottom())
        painter.rotate(-90)
        painter.drawText(
            QRectF(0, 0, grid.height(), line), Qt.AlignmentFlag.AlignCenter, "true class"
        )
        painter.restore()

    def _draw_names(self, painter: QPainter, grid: QRectF) -> None:
        step = grid.width() / len(self.names)
        room = self.name_room() - 4
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for i, name in enumerate(self.names):
            text = self.fontMetrics().elidedText(name, Qt.TextElideMode.ElideRight, int(room))
            painter.drawText(
                QRectF(grid.left() - room - 4, grid.top() + i * step, room, step), right, text
            )
            painter.save()
            painter.translate(grid.left() + i * step, grid.top() - 4)
            painter.rotate(-90)
            left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
            painter.drawText(QRectF(0, 0, room, step), left, text)
            painter.restore()

    def _draw_counts(self, painter: QPainter, grid: QRectF) -> None:
        count = len(self.matrix)
        step = grid.width() / count
        font = QFont(self.font())
        font.setPixelSize(max(7, min(14, int(step / 3))))
        painter.setFont(font)
        shares = _shares(self.matrix)
        for row in range(count):
            for column in range(count):
                dark = shares[row, column] > 0.45
                painter.setPen(QColor("white") if dark else QColor("#222"))
                cell = QRectF(grid.left() + column * step, grid.top() + row * step, step, step)
                painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, str(self.matrix[row, column]))

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            cell = self.cell_at(event.pos())
            if cell is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), self.describe(*cell), self)
            return True
        return super().event(event)

    def describe(self, true: int, predicted: int) -> str:
        """The tooltip of a cell."""
        count, support = self.matrix[true, predicted], self.matrix[true].sum()
        share = f" ({count / support:.1%} of them)" if support else ""
        return (
            f"true {self.names[true]}, predicted {self.names[predicted]}: "
            f"{count} sample{'s' if count != 1 else ''}{share}"
        )


def _shares(matrix: np.ndarray) -> np.ndarray:
    """Each count as a share of its row (its true class); 0 for an empty row."""
    totals = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)


def _heat_image(matrix: np.ndarray) -> QImage:
    """One pixel per cell: white to blue on the diagonal, white to red elsewhere, by the
    square root of the cell's share of its row (so that a few mistakes still show)."""
    strength = np.sqrt(_shares(matrix))
    count = len(matrix)
    base = np.where(np.eye(count, dtype=bool)[..., None], _rgb(HIT_COLOR), _rgb(MISS_COLOR))
    rgb = 255 - strength[..., None] * (255 - base)
    pixels = np.ascontiguousarray(np.round(rgb), dtype=np.uint8)
    image = QImage(pixels.data, count, count, 3 * count, QImage.Format.Format_RGB888)
    return image.copy()


def _rgb(color: QColor) -> np.ndarray:
    return np.array([color.red(), color.green(), color.blue()], dtype=np.float64)


# --- regression ---------------------------------------------------------------------------


class RegressionPage(QWidget):
    """Predicted against true values (objectName "regressionScatter") and the scores;
    for a forecast, also the series over the validation period with the forecast over
    it (objectName "forecastPlot")."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setObjectName("regressionScatter")
        self.plot.setLabel("bottom", "true value")
        self.plot.setLabel("left", "predicted value")
        dark_axes(self.plot)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.legend = self.plot.addLegend(
            offset=(10, 10), labelTextSize="8pt", labelTextColor=AXIS_COLOR
        )
        self.forecast = pg.PlotWidget(background="w")
        self.forecast.setObjectName("forecastPlot")
        self.forecast.setLabel("left", "value")
        dark_axes(self.forecast)
        self.forecast.showGrid(x=True, y=True, alpha=0.2)
        self.forecast_legend = self.forecast.addLegend(
            offset=(10, 10), labelTextSize="8pt", labelTextColor=AXIS_COLOR
        )
        self.scores = QLabel()
        self.scores.setObjectName("regressionScores")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        plots = QHBoxLayout()
        plots.addWidget(self.plot, 1)
        plots.addWidget(self.forecast, 2)
        layout.addLayout(plots, 1)
        layout.addWidget(self.scores)

    def show_result(self, result: RegressionEvaluation) -> None:
        self.plot.clear()
        self.legend.clear()
        low, high = _span(result.true, result.predicted)
        self.plot.plot(
            [low, high],
            [low, high],
            pen=pg.mkPen("#888", width=1, style=Qt.PenStyle.DashLine),
            name="predicted = true",
        )
        for column, name in enumerate(result.column_names):
            color = COLUMN_COLORS[column % len(COLUMN_COLORS)]
            self.plot.plot(
                result.true[:, column],
                result.predicted[:, column],
                pen=None,
                symbol="o",
                symbolSize=6,
                symbolPen=None,
                symbolBrush=pg.mkBrush(color + "b0"),
                name=name,
            )
        self.plot.setRange(xRange=(low, high), yRange=(low, high))
        self._show_forecast(result.forecast)
        self.scores.setText(
            f"R² {result.r2:.4f}    MAE {result.mae:.4g}    MSE {result.mse:.4g}    "
            f"({result.samples} {result.split} samples, {result.loss})"
        )

    def _show_forecast(self, forecast: Forecast | None) -> None:
        self.forecast.setVisible(forecast is not None)
        self.forecast.clear()
        self.forecast_legend.clear()
        if forecast is None:
            return
        self.forecast.setTitle(f"{forecast.name}: one step ahead over the validation period")
        self.forecast.setLabel("bottom", "year" if forecast.dates else "time")
        self.forecast.setLabel("left", forecast.name)
        actual = pg.mkPen("#444", width=1.5)
        predicted = pg.mkPen(COLUMN_COLORS[0], width=1.5)
        self.forecast.plot(forecast.times, forecast.actual, pen=actual, name="actual")
        self.forecast.plot(forecast.times, forecast.predicted, pen=predicted, name="forecast")


def _span(*arrays: np.ndarray) -> tuple[float, float]:
    """The range both axes show: every finite value, with a little room."""
    values = np.concatenate([a.reshape(-1) for a in arrays])
    values = values[np.isfinite(values)]
    if not len(values):
        return 0.0, 1.0
    low, high = float(values.min()), float(values.max())
    pad = (high - low) * 0.05 or 1.0
    return low - pad, high + pad
