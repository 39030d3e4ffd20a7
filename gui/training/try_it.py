"""Try a trained model on one sample: a validation sample, or a digit drawn by hand.

Every prediction is one forward pass of one sample, quick enough for the GUI thread; its
explanation (`gui.training.explain_view`) follows in the background. The
drawing pad is offered when samples are one-channel pictures (the 8x8 digits, MNIST);
`engine.runs.evaluation.drawn_sample` turns the drawing into a sample the way the data set
draws its own (size, placement, ink and background values, normalisation).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.errors import UserError, one_line
from gui.training.bar_charts import bar_plot, name_rows, short_name
from gui.training.evaluation_view import picture_pixmap
from gui.training.explain_view import ExplainView

if TYPE_CHECKING:  # torch loads in the background; this module is imported before
    import torch

    from engine.runs.evaluation import TrainedModel

EMPTY_TEXT = "Nothing to try yet: train the model, then try it on samples here."
PICTURE_SIDE = 168
SAMPLE_TAB, DRAW_TAB, TYPE_TAB = range(3)  # the pages of the inputs' tabs
TOP_BARS = 10  # above this many classes the chart shows the most likely ones only
FEATURES_SHOWN = 12
DRAWING = "your drawing"
TYPED = "your text"
NOT_RUN = "Not run: the Custom layers' code was not allowed to run."
BAR_COLOR, TOP_COLOR = "#1f77b4", "#ff7f0e"


class DrawingPad(QWidget):
    """A square to draw on with the left mouse button (objectName "drawingPad"): white
    ink on black, a thick round brush. `drawn` is emitted when a stroke ends.

    A stroke is one path, drawn whole at every repaint, so its joints leave no marks;
    it is burnt into the picture when the button is released."""

    drawn = Signal()
    SIDE = 224

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("drawingPad")
        self.setFixedSize(self.SIDE, self.SIDE)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.brush_width = 24
        self._image = QImage(self.SIDE, self.SIDE, QImage.Format.Format_RGB32)
        self._stroke: QPainterPath | None = None
        self.clear()

    @property
    def blank(self) -> bool:
        return self._blank and self._stroke is None

    def clear(self) -> None:
        self._image.fill(QColor("black"))
        self._blank = True
        self.update()

    def pixels(self) -> np.ndarray:
        """The finished strokes [SIDE, SIDE]: 0 background to 1 ink."""
        gray = self._image.convertToFormat(QImage.Format.Format_Grayscale8)
        buffer = np.frombuffer(gray.constBits(), dtype=np.uint8)
        rows = buffer.reshape(self.SIDE, gray.bytesPerLine())[:, : self.SIDE]
        return rows.astype(np.float32) / 255

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._stroke = QPainterPath(event.position())
            self._stroke.lineTo(event.position())
            self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._stroke is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self._stroke.lineTo(event.position())
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._stroke is not None:
            self._stroke.lineTo(event.position())
            painter = QPainter(self._image)
            self._draw_stroke(painter)
            painter.end()
            self._stroke, self._blank = None, False
            self.update()
            self.drawn.emit()

    def _draw_stroke(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor("white"), self.brush_width)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.strokePath(self._stroke, pen)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.drawImage(QPoint(0, 0), self._image)
        if self._stroke is not None:
            self._draw_stroke(painter)
        elif self.blank:
            painter.setPen(QColor("#999"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "draw here")


class TryItPanel(QWidget):
    """One sample through the trained model (objectName "tryIt").

    `set_model(TrainedModel.from_job(job))` after a run, `set_model(None)` when there is
    none; `show_sample(index)` selects a sample of `model.data` (the validation split).
    A model that fails on the sample says why in the panel and emits `failed`.

    A prediction runs the model's Custom layers' code: `allowed(model.custom_layers)`
    says whether it may (it may ask the user); without it, only models with no Custom
    layers are run. Every prediction is explained, for the output shown.
    """

    failed = Signal(str, object)  # one line for the user, the node it failed in (or None)

    def __init__(
        self,
        parent: QWidget | None = None,
        allowed: Callable[[dict[str, str]], bool] | None = None,
    ):
        super().__init__(parent)
        self.setObjectName("tryIt")
        self.allowed = allowed or (lambda custom_layers: not custom_layers)
        self.model: TrainedModel | None = None
        self._outputs: tuple[torch.Tensor, ...] = ()
        self._x: torch.Tensor | None = None  # the sample the outputs are for
        self._truth: list[torch.Tensor] = []  # the shown sample's target per output
        self._from_sample = True  # whether the outputs are the shown sample's
        self._random = random.Random()
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.content = QWidget()
        self.pages = QStackedWidget()
        self.pages.addWidget(self.empty)
        self.pages.addWidget(self.content)
        QVBoxLayout(self).addWidget(self.pages)
        row = QHBoxLayout(self.content)
        self.inputs = QTabWidget()  # what to try: a sample, a drawing, a text
        self.inputs.setObjectName("tryItInputs")
        self.inputs.addTab(self._sample_page(), "Sample")
        self.inputs.addTab(self._drawing_page(), "Draw")
        self.inputs.addTab(self._text_page(), "Type")
        self.inputs.currentChanged.connect(self._input_chosen)
        row.addWidget(self.inputs)
        row.addWidget(self._prediction_group(), 1)
        self.explanation = ExplainView(lambda custom: self.allowed(custom))
        row.addWidget(self.explanation, 1)
        self.set_model(None)

    # --- building ---------------------------------------------------------------------

    def _sample_page(self) -> QWidget:
        page = QWidget()
        self.sample_index = QSpinBox()
        self.sample_index.setObjectName("sampleIndex")
        self.sample_index.valueChanged.connect(self.show_sample)
        self.random_button = QPushButton("Random")
        self.random_button.setObjectName("randomSample")
        self.random_button.clicked.connect(self._pick_random)
        self.sample_picture = QLabel()
        self.sample_picture.setObjectName("sampleImage")
        self.true_label = QLabel()
        self.true_label.setObjectName("trueLabel")
        self.true_label.setWordWrap(True)
        grid = QGridLayout(page)
        grid.addWidget(self.sample_index, 0, 0)
        grid.addWidget(self.random_button, 0, 1)
        grid.addWidget(self.sample_picture, 1, 0, 1, 2)
        grid.addWidget(self.true_label, 2, 0, 1, 2)
        grid.setRowStretch(3, 1)
        return page

    def _drawing_page(self) -> QWidget:
        page = QWidget()
        self.pad = DrawingPad()
        self.pad.drawn.connect(self.predict_drawing)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setObjectName("clearDrawing")
        self.clear_button.clicked.connect(self.pad.clear)
        self.seen = QLabel()
        self.seen.setObjectName("drawingAsSample")
        self.seen.setToolTip("Your drawing as the model sees it")
        column = QVBoxLayout(page)
        column.addWidget(self.pad)
        buttons = QHBoxLayout()
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.seen)
        buttons.addStretch(1)
        column.addLayout(buttons)
        column.addStretch(1)
        return page

    def _text_page(self) -> QWidget:
        page = QWidget()
        self.typed = QPlainTextEdit()
        self.typed.setObjectName("typedText")
        self.typed.setPlaceholderText("Type a text: the prediction follows as you type")
        self.typed.setMaximumHeight(90)
        self.typed.textChanged.connect(self.predict_text)
        self.read_as = QLabel()
        self.read_as.setObjectName("textAsTokens")
        self.read_as.setWordWrap(True)
        self.read_as.setToolTip("Your text as the model reads it (<unk>: a word it never saw)")
        column = QVBoxLayout(page)
        column.addWidget(self.typed)
        column.addWidget(self.read_as)
        column.addStretch(1)
        return page

    def _prediction_group(self) -> QGroupBox:
        group = QGroupBox("Prediction")
        self.output_picker = QComboBox()
        self.output_picker.setObjectName("tryItOutput")
        self.output_picker.currentIndexChanged.connect(self._show_output)
        self.source = QLabel()
        self.source.setObjectName("predictionSource")
        self.prediction = QLabel()
        self.prediction.setObjectName("prediction")
        self.prediction.setWordWrap(True)
        font = self.prediction.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.prediction.setFont(font)
        self.chart = _probability_plot()
        self.error = QLabel()
        self.error.setObjectName("predictionError")
        self.error.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.error.setWordWrap(True)
        self.details = QStackedWidget()
        self.details.addWidget(self.chart)
        self.details.addWidget(self.error)
        column = QVBoxLayout(group)
        column.addWidget(self.output_picker)
        column.addWidget(self.source)
        column.addWidget(self.prediction)
        column.addWidget(self.details, 1)
        return group

    # --- the model --------------------------------------------------------------------

    def set_model(self, model: TrainedModel | None) -> None:
        """Try `model` from now on; None shows that there is nothing to try."""
        self.model = model
        self.pad.clear()
        self.seen.clear()
        self.explanation.set_model(model)
        if model is None:
            self._outputs, self._truth = (), []
            self.pages.setCurrentWidget(self.empty)
            return
        self.pages.setCurrentWidget(self.content)
        # only tried from now on: in eval mode for good, so that a prediction here and an
        # explanation in the background never switch its mode under each other
        model.module.eval()
        self.sample_index.blockSignals(True)
        self.sample_index.setRange(0, max(len(model.data) - 1, 0))
        self.sample_index.setValue(0)
        self.sample_index.blockSignals(False)
        layout = model.image
        self.inputs.blockSignals(True)  # the sample is predicted once, below
        self.inputs.setCurrentIndex(SAMPLE_TAB)
        self.inputs.blockSignals(False)
        self.inputs.setTabText(SAMPLE_TAB, f"{model.split.capitalize()} sample")
        self.inputs.setTabVisible(DRAW_TAB, layout is not None and layout.channels == 1)
        self.inputs.setTabVisible(TYPE_TAB, model.tokenizer is not None)
        self.typed.blockSignals(True)
        self.typed.clear()
        self.typed.blockSignals(False)
        self.read_as.clear()
        if layout is not None:
            self.pad.brush_width = max(20, round(1.6 * DrawingPad.SIDE / layout.height))
        self.output_picker.blockSignals(True)
        self.output_picker.clear()
        self.output_picker.addItems([spec.label for spec in model.outputs])
        self.output_picker.blockSignals(False)
        self.output_picker.setVisible(len(model.outputs) > 1)
        self.show_sample(0)

    def _input_chosen(self, tab: int) -> None:
        """The prediction follows the input shown: the sample, the drawing or the text."""
        if tab == SAMPLE_TAB:
            self.show_sample(self.sample_index.value())
        elif tab == DRAW_TAB:
            self.predict_drawing()
        elif tab == TYPE_TAB and self.typed.toPlainText().strip():
            self.predict_text()

    def show_sample(self, index: int) -> None:
        """Predict sample `index` of the model's data and show it with its true value."""
        model = self.model
        if model is None or not 0 <= index < len(model.data):
            return
        if self.sample_index.value() != index:
            self.sample_index.setValue(index)  # comes back here through valueChanged
            return
        self._show_picture(model, index)
        self._truth = model.targets(index)
        self._predict(model.data.x[index : index + 1], f"{model.split} sample {index}")
        self._show_truth(self.output_picker.currentIndex())

    def predict_drawing(self) -> None:
        """Predict what is on the drawing pad."""
        model = self.model
        if model is None or self.pad.blank:
            return
        from engine.runs.evaluation import sample_image  # torch is loaded once a model exists

        x = model.drawn_sample(self.pad.pixels())
        self.seen.setPixmap(picture_pixmap(sample_image(x[0], model.normalization), 56))
        self._predict(x, DRAWING)

    def predict_text(self) -> None:
        """Predict what is typed in the text box."""
        model = self.model
        text = self.typed.toPlainText()
        if model is None or model.tokenizer is None or not text.strip():
            return
        x = model.typed_text(text)
        self.read_as.setText(_words(model, x[0]))
        self._predict(x, TYPED)

    def _pick_random(self) -> None:
        if self.model is not None and len(self.model.data):
            self.show_sample(self._random.randrange(len(self.model.data)))

    def _show_picture(self, model: TrainedModel, index: int) -> None:
        picture = model.sample_image(index)
        words = model.sample_text(index)
        if words is not None:
            self.sample_picture.setMinimumSize(0, 0)
            self.sample_picture.setWordWrap(True)
            self.sample_picture.setText(words or "(no words)")
            return
        if picture is not None:
            self.sample_picture.setMinimumSize(PICTURE_SIDE, PICTURE_SIDE)
            self.sample_picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.sample_picture.setPixmap(picture_pixmap(picture, PICTURE_SIDE))
            return
        self.sample_picture.setMinimumSize(0, 0)
        self.sample_picture.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.sample_picture.setText(_features_text(model, index))

    def _predict(self, x: torch.Tensor, source: str) -> None:
        self._from_sample = source not in (DRAWING, TYPED)
        self.source.setText(f"for {source}")
        if not self.allowed(self.model.custom_layers):
            self._outputs = ()
            self.explanation.clear()
            self.prediction.setText(NOT_RUN)
            self.error.setText("")
            self.details.setCurrentWidget(self.error)
            return
        try:
            self._outputs = self.model.predict_one(x)
        except UserError as exc:
            self._outputs = ()
            self.explanation.clear()
            self.prediction.setText("No prediction")
            self.error.setText(one_line(exc))
            self.details.setCurrentWidget(self.error)
            self.failed.emit(one_line(exc), exc.node_id)
            return
        self._x = x
        self._show_prediction(self.output_picker.currentIndex())

    # --- showing ----------------------------------------------------------------------

    def _show_output(self, number: int) -> None:
        self._show_truth(number)
        self._show_prediction(number)

    def _show_truth(self, number: int) -> None:
        if not 0 <= number < len(self._truth):
            return
        spec, truth = self.model.outputs[number], self._truth[number]
        if spec.kind == "regression":
            text = _values(truth)
        elif spec.kind == "classes":
            text = self.model.class_names[number][int(truth)]
        else:
            values = (truth > 0.5).long().reshape(-1).tolist()
            names = self.model.class_names[number]
            text = names[values[0]] if len(values) == 1 else " ".join(map(str, values))
        which = f" {spec.label}" if len(self.model.outputs) > 1 else ""
        self.true_label.setText(f"true{which}: {text}")

    def _show_prediction(self, number: int) -> None:
        if not 0 <= number < len(self._outputs):
            return
        spec, output = self.model.outputs[number], self._outputs[number]
        self.explanation.explain(self._x, number, self._explained(number))
        if spec.kind == "regression":
            self.prediction.setText(_values(output))
            self.error.setText(self._error_text(number, output))
            self.details.setCurrentWidget(self.error)
            return
        from engine.runs.evaluation import class_probabilities

        names = self.model.probability_names(number)
        probabilities = class_probabilities(output, spec.loss)
        best = int(np.argmax(probabilities))
        self.prediction.setText(f"{names[best]} ({probabilities[best]:.1%})")
        self.details.setCurrentWidget(self.chart)
        _draw_bars(self.chart, names, probabilities)

    def _explained(self, number: int) -> str:
        """The score the explanation of output `number` is about (engine.runs.explain's
        `explained_index`): a regression's (first) value, a one-value binary output's
        value (the second class's score), else the predicted class's score."""
        spec = self.model.outputs[number]
        if spec.kind == "regression":
            return "the predicted value"
        names = self.model.probability_names(number)
        if spec.kind == "binary" and spec.width == 1:
            return f"the score of {names[1]!r}"
        return f"the score of {names[int(self._outputs[number].argmax())]!r}"

    def _error_text(self, number: int, output: torch.Tensor) -> str:
        if not self._from_sample:
            return ""
        error = output.reshape(-1) - self._truth[number].reshape(-1)
        return f"error (predicted - true): {_values(error)}"


def _probability_plot() -> pg.PlotWidget:
    plot = bar_plot("probabilities", "probability")
    plot.setXRange(0, 1, padding=0.02)
    return plot


def _draw_bars(plot: pg.PlotWidget, names: list[str], probabilities: list[float]) -> None:
    """Horizontal bars, the most likely class highlighted; with many classes only the
    `TOP_BARS` most likely, most likely first."""
    order = list(range(len(names)))
    if len(order) > TOP_BARS:
        order = sorted(order, key=lambda i: -probabilities[i])[:TOP_BARS]
    best = max(order, key=lambda i: probabilities[i])
    values = [probabilities[i] for i in order]
    brushes = [TOP_COLOR if i == best else BAR_COLOR for i in order]
    plot.clear()
    plot.addItem(
        pg.BarGraphItem(x0=0, y=range(len(order)), height=0.7, width=values, brushes=brushes)
    )
    name_rows(plot, [names[i] for i in order])
    plot.setXRange(0, 1, padding=0.02)


def _words(model: TrainedModel, ids: torch.Tensor) -> str:
    from engine.data.text import text_of

    return "reads: " + (text_of(ids, model.tokenizer) or "(no words)")


def _values(tensor: torch.Tensor) -> str:
    values = tensor.reshape(-1).tolist()
    text = ", ".join(f"{v:.4g}" for v in values)
    return text if len(values) == 1 else f"[{text}]"


def _features_text(model: TrainedModel, index: int) -> str:
    """A sample that is not a picture, as its first values (before normalisation)."""
    from engine.runs.evaluation import raw_samples
    from engine.runs.explain import feature_names

    values = raw_samples(model.data.x[index : index + 1], model.normalization).reshape(-1)
    names = feature_names(model.data.feature_names, len(values))
    pairs = zip(names, values.tolist(), strict=True)
    shown = [f"{short_name(name)} = {value:.4g}" for name, value in pairs][:FEATURES_SHOWN]
    more = f"\n… {len(values) - len(shown)} more" if len(values) > len(shown) else ""
    return "\n".join(shown) + more
