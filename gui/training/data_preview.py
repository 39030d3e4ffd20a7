"""`DataPreviewView`: what the data settings name, at a glance.

A summary (source, samples for training and validation, a sample's shape, the classes
with their counts or the target columns), the problems found against the model in red,
and a few samples: as thumbnails with their labels when samples are pictures, else as a
small table of their first values. A table's columns (type, missing cells, use), a
series plotted over time with the start of its validation period, and texts with their
tokens and a histogram of their lengths.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.training.data_check import DataCheck

if TYPE_CHECKING:
    from engine.data.preview import DataPreview, PreviewSample
    from engine.data.table_preview import SeriesView, TextView

THUMB = 56  # pixels
COLUMNS = 4  # thumbnails per row
TABLE_VALUES = 6  # first values shown per sample
CLASSES_LISTED = 12


class DataPreviewView(QWidget):
    def __init__(self, check: DataCheck, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("dataPreview")
        self.check = check
        self.summary = QLabel()
        self.summary.setObjectName("dataPreviewSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.problems = warning_label("dataPreviewProblems")
        self.thumbnails = QWidget()
        self.thumbnails.setObjectName("dataPreviewSamples")
        self._grid = QGridLayout(self.thumbnails)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget()
        self.table.setObjectName("dataPreviewTable")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setMaximumHeight(180)
        self.columns = QTableWidget()
        self.columns.setObjectName("dataPreviewColumns")
        self.columns.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.columns.setMaximumHeight(180)
        self.series = small_plot("dataPreviewSeries")
        self.texts = QLabel()
        self.texts.setObjectName("dataPreviewTexts")
        self.texts.setWordWrap(True)
        self.texts.setTextFormat(Qt.TextFormat.PlainText)
        self.lengths = small_plot("dataPreviewLengths")
        self.lengths.setLabel("bottom", "tokens per text")
        self.reload = QPushButton("Reload")
        self.reload.setObjectName("reloadData")
        self.reload.setToolTip("Read the data again (after the file changed)")
        self.reload.clicked.connect(check.reload)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.reload)
        stacked(
            self,
            self.summary,
            self.problems,
            self.thumbnails,
            self.table,
            self.columns,
            self.series,
            self.texts,
            self.lengths,
            bottom,
        )
        check.changed.connect(self.refresh)
        document = check.document
        document.inference_updated.connect(self.show_problems)
        document.settings_changed.connect(self.show_problems)
        self.refresh()

    def refresh(self) -> None:
        check = self.check
        preview = check.preview
        if check.loading:
            text = "Loading the data..."
        elif check.error:
            text = f"The data cannot be read: {check.error}" if check.error_blocks else check.error
        elif preview is None:
            text = "The data is read once PyTorch has loaded."
        else:
            text = summary_text(preview)
        self.summary.setText(text)
        self._show_samples(preview if not check.loading else None)
        self.show_problems()

    def show_problems(self, *_) -> None:
        check = self.check
        problems = check.problems() if check.current() is not None else []
        self.problems.setText("\n".join(problem.message for problem in problems))
        self.problems.setVisible(bool(problems))

    def _show_samples(self, preview: DataPreview | None) -> None:
        while self._grid.count():
            self._grid.takeAt(0).widget().deleteLater()
        pictures = preview is not None and preview.pictures
        if pictures:
            for i, sample in enumerate(preview.samples):
                self._grid.addWidget(_thumbnail(sample), i // COLUMNS, i % COLUMNS)
        self.thumbnails.setVisible(pictures)
        tabular = preview is not None and not pictures and bool(preview.samples)
        tabular = tabular and preview.text is None and preview.series is None  # plotted instead
        if tabular:
            _fill_table(self.table, preview)
        self.table.setVisible(tabular)
        columns = preview.columns if preview is not None else []
        _fill_columns(self.columns, columns)
        self.columns.setVisible(bool(columns))
        series = preview.series if preview is not None else None
        self.series.setVisible(series is not None)
        if series is not None:
            _plot_series(self.series, series)
        text = preview.text if preview is not None else None
        self.texts.setVisible(text is not None)
        self.lengths.setVisible(text is not None)
        if text is not None:
            self.texts.setText(_examples_text(text))
            _plot_lengths(self.lengths, text)


def small_plot(name: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(background="w")
    plot.setObjectName(name)
    plot.setMinimumHeight(150)
    plot.setMaximumHeight(200)
    plot.showGrid(x=True, y=True, alpha=0.2)
    for side in ("left", "bottom"):
        plot.getAxis(side).setTextPen("#333")
    return plot


def _plot_series(plot: pg.PlotWidget, series: SeriesView) -> None:
    plot.clear()
    plot.setLabel("bottom", "year" if series.dates else "time")
    plot.setLabel("left", series.name)
    plot.plot(series.times, series.values, pen=pg.mkPen("#1565c0", width=1))
    if series.split_time is not None:
        line = pg.InfiniteLine(series.split_time, pen=pg.mkPen("#c62828", width=1.5))
        plot.addItem(line)
        label = pg.TextItem("validation", color="#c62828", anchor=(0, 0))
        label.setPos(series.split_time, float(np.max(series.values)))
        plot.addItem(label)


def _plot_lengths(plot: pg.PlotWidget, text: TextView) -> None:
    plot.clear()
    lengths = np.asarray(text.lengths)
    top = max(int(lengths.max(initial=0)), text.max_length) + 1
    counts, edges = np.histogram(lengths, bins=min(50, top), range=(0, top))
    plot.addItem(pg.BarGraphItem(x0=edges[:-1], x1=edges[1:], height=counts, brush="#90caf9"))
    plot.addItem(pg.InfiniteLine(text.max_length, pen=pg.mkPen("#c62828", width=1.5)))
    cut = int((lengths > text.max_length).sum())
    plot.setTitle(
        f"max_length {text.max_length}: {cut:,} of {len(lengths):,} texts are cut", size="9pt"
    )


def _examples_text(text: TextView) -> str:
    return "\n".join(f"{source}\n   → {tokens}" for source, tokens in text.examples)


def _fill_columns(table: QTableWidget, columns: list) -> None:
    table.clear()
    table.setColumnCount(4)
    table.setHorizontalHeaderLabels(["column", "type", "missing", "used as"])
    table.setRowCount(len(columns))
    for row, column in enumerate(columns):
        cells = [column.name, column.kind, f"{column.missing:,}", column.use]
        for position, text in enumerate(cells):
            table.setItem(row, position, QTableWidgetItem(text))
    table.resizeColumnsToContents()


def warning_label(name: str) -> QLabel:
    """A label for what is wrong: red, wrapped."""
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setStyleSheet("color: #c62828;")
    return label


def stacked(parent: QWidget, *items: QWidget | QHBoxLayout) -> None:
    """Lay `items` (widgets or rows) out top to bottom in `parent`, with no margins."""
    layout = QVBoxLayout(parent)
    layout.setContentsMargins(0, 0, 0, 0)
    for item in items:
        if isinstance(item, QWidget):
            layout.addWidget(item)
        else:
            layout.addLayout(item)


def summary_text(preview: DataPreview) -> str:
    total = preview.train_rows + preview.val_rows
    val_from = "own test files" if preview.own_validation else "split"
    if preview.series is not None:
        val_from = "split by time: the last steps"
    read = f" (the first {preview.rows_read:,} rows read)" if preview.rows_read else ""
    lines = [
        f"{preview.source}: {total:,} samples{read}",
        f"training {preview.train_rows:,}, validation {preview.val_rows:,} ({val_from})",
        f"sample shape {list(preview.sample_shape)}, {preview.dtype}",
    ]
    if preview.classes:
        first = preview.classes[:CLASSES_LISTED]
        listed = ", ".join(f"{name} ({count:,})" for name, count in first)
        more = len(preview.classes) - CLASSES_LISTED
        tail = f" and {more} more" if more > 0 else ""
        lines.append(f"{len(preview.classes)} classes, training samples of each: {listed}{tail}")
    else:
        lines.append(f"regression, {preview.target_columns} target column(s)")
    return "\n".join(lines)


def picture_pixmap(picture: np.ndarray, side: int = THUMB) -> QPixmap:
    """A picture in [0, 1], [H, W] or [C, H, W] (C 1 or 3: grey or colour), scaled to fit
    `side` pixels with sharp pixels (these are tiny images)."""
    values = np.clip(np.asarray(picture) * 255, 0, 255).round().astype(np.uint8)
    if values.ndim == 3 and values.shape[0] == 3:
        rgb = np.ascontiguousarray(values.transpose(1, 2, 0))
        height, width = rgb.shape[:2]
        image = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
    else:
        grey = np.ascontiguousarray(values.reshape(values.shape[-2:]))
        height, width = grey.shape
        image = QImage(grey.data, width, height, width, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(image).scaled(
        side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
    )


def _thumbnail(sample: PreviewSample) -> QWidget:
    pixmap = picture_pixmap(sample.picture)
    cell = QWidget()
    cell.setToolTip(sample.label)
    layout = QVBoxLayout(cell)
    layout.setContentsMargins(2, 2, 2, 2)
    layout.setSpacing(1)
    picture_label = QLabel()
    picture_label.setPixmap(pixmap)
    picture_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    caption = QLabel(sample.label)
    caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
    caption.setMaximumWidth(THUMB + 8)
    layout.addWidget(picture_label)
    layout.addWidget(caption)
    return cell


def _fill_table(table: QTableWidget, preview: DataPreview) -> None:
    width = len(preview.samples[0].values or [])
    shown = min(width, TABLE_VALUES)
    names = list(preview.feature_names or [])[:shown]
    names += [f"x{i}" for i in range(len(names), shown)]
    headers = ["target", *names, *(["..."] if width > shown else [])]
    table.clear()
    table.setColumnCount(len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setRowCount(len(preview.samples))
    for row, sample in enumerate(preview.samples):
        values = [f"{v:.4g}" for v in (sample.values or [])[:shown]]
        for column, text in enumerate([sample.label, *values]):
            table.setItem(row, column, QTableWidgetItem(text))
    table.resizeColumnsToContents()
