"""The Explain area of Try It: why the model predicts what it does for the sample tried.

A picture gets a heat map laid over it: saliency, or Grad-CAM on a convolutional layer
chosen by its node's label. Any other sample gets gradient x input as a bar per feature
(`engine.runs.explain`). An explanation is a forward and a backward pass of the model, so
it runs in the background (`gui.background`), one at a time: a request made meanwhile
waits, taking the place of any earlier waiting one, and only the newest one's result
is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QComboBox, QGroupBox, QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout

from engine.errors import one_line
from gui.background import in_background
from gui.colour_scale import heat_colours
from gui.training.bar_charts import bar_plot, name_rows

if TYPE_CHECKING:  # torch loads in the background; this module is imported before
    import torch

    from engine.runs.evaluation import TrainedModel
    from engine.runs.explain import Explanation

METHODS = ("Saliency", "Grad-CAM")  # the method box's items; index 1 is Grad-CAM
PICTURE_SIDE = 144  # the overlay: the sample picture beside it is 168
FEATURES_SHOWN = 12  # the bars show the features that count most
OVERLAY_OPACITY = 0.65  # of the heat colour where the heat is 1; none where it is 0
RAISES_COLOR, LOWERS_COLOR = "#d62728", "#1f77b4"
WORKING = "Explaining…"


class ExplainView(QGroupBox):
    """The explanation of the sample Try It last predicted (objectName "explain").

    `allowed(model.custom_layers)`: whether a new choice of method or layer may run the
    model again (Try It's own question). `set_model(model)` for a new model (or None);
    `explain(x, output, about)` after each
    prediction: x the sample as the model took it, `output` the number of the output
    shown, `about` names the score explained, for the caption ("the score of '7'",
    "the predicted value"); `clear()` when there is nothing to explain.
    """

    def __init__(self, allowed: Callable[[dict[str, str]], bool]):
        super().__init__("Explain")
        self.allowed = allowed  # whether the model's Custom layers may run (may ask)
        self.setObjectName("explain")
        self.model: TrainedModel | None = None
        self._request: tuple[torch.Tensor, int, str] | None = None
        self._generation = 0  # of the newest request; results of older ones are dropped
        self._busy = False
        self._waiting: tuple[int, dict[str, Any]] | None = None
        self.method = QComboBox()
        self.method.setObjectName("explainMethod")
        self.method.addItems(METHODS)
        self.method.currentIndexChanged.connect(self._choice_changed)
        self.layer = QComboBox()
        self.layer.setObjectName("explainLayer")
        self.layer.setToolTip("The convolutional layer whose evidence Grad-CAM shows")
        self.layer.currentIndexChanged.connect(self._choice_changed)
        self.picture = QLabel()
        self.picture.setObjectName("explainOverlay")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.picture.setMinimumSize(PICTURE_SIDE, PICTURE_SIDE)
        self.bars = bar_plot("contributions", "gradient x input")
        self.pages = QStackedWidget()
        self.pages.addWidget(self.picture)
        self.pages.addWidget(self.bars)
        self.caption = QLabel()
        self.caption.setObjectName("explainStatus")
        self.caption.setWordWrap(True)
        self.caption.setMinimumHeight(2 * self.caption.fontMetrics().lineSpacing())
        choices = QHBoxLayout()
        choices.addWidget(self.method)
        choices.addWidget(self.layer, 1)
        column = QVBoxLayout(self)
        column.addLayout(choices)
        column.addWidget(self.pages, 1)
        column.addWidget(self.caption)
        self.set_model(None)

    @property
    def working(self) -> bool:
        """Whether an explanation is being worked out in the background now."""
        return self._busy

    @property
    def grad_cam(self) -> bool:
        return self.method.currentIndex() == 1

    @property
    def pictures(self) -> bool:
        """Whether the model's samples are pictures (explained by a heat map)."""
        return self.model is not None and self.model.image is not None

    def set_model(self, model: TrainedModel | None) -> None:
        self.model = model
        self.method.setVisible(self.pictures)
        self.pages.setCurrentWidget(self.picture if self.pictures else self.bars)
        self.layer.blockSignals(True)
        self.layer.clear()
        self.layer.blockSignals(False)
        self.layer.setVisible(self.pictures and self.grad_cam)
        self.clear()

    def clear(self) -> None:
        self._request = None
        self._generation += 1
        self._waiting = None
        self.picture.clear()
        self.bars.clear()
        self.caption.setText("")

    def explain(self, x: torch.Tensor, output: int, about: str) -> None:
        self._request = (x, output, about)
        self._start()

    # --- the work ---------------------------------------------------------------------

    def _choice_changed(self) -> None:
        self.layer.setVisible(self.pictures and self.grad_cam)
        if self._request is None:
            return
        if self.allowed(self.model.custom_layers):  # the code's permission may have gone
            self._start()
        else:
            self.clear()
            self.caption.setText("Not explained: the Custom layers' code was not allowed to run.")

    def _start(self) -> None:
        x, output, _ = self._request
        self._generation += 1
        job = {"model": self.model, "x": x, "output": output, "cam": self.grad_cam}
        job["layer"] = self.layer.currentData() if self.grad_cam else None
        self.caption.setText(WORKING)
        if self._busy:
            self._waiting = (self._generation, job)
        else:
            self._run(self._generation, job)

    def _run(self, generation: int, job: dict[str, Any]) -> None:
        from engine.runs.explain import explain

        self._busy = True
        in_background(lambda: explain(**job), self._done, generation)

    def _done(self, generation: int, result: Explanation | None, error: Exception | None) -> None:
        self._busy = False
        if self._waiting is not None:
            waiting, self._waiting = self._waiting, None
            self._run(*waiting)
        elif generation == self._generation:
            if error is not None:
                self.picture.clear()
                self.bars.clear()
                self.caption.setText(one_line(error))
            else:
                self._show(result)

    # --- showing ----------------------------------------------------------------------

    def _show(self, result: Explanation) -> None:
        x, _, about = self._request
        if result.heat is None:
            _draw_contributions(self.bars, result.features)
            self.caption.setText(
                "Gradient x input: how much each feature, as the model takes it, raises"
                f" (right) or lowers (left) {about}."
            )
            return
        from engine.runs.evaluation import sample_image

        base = sample_image(x[0], self.model.normalization)
        self.picture.setPixmap(overlay_pixmap(base, result.heat, PICTURE_SIDE))
        if result.layer is None:
            self.caption.setText(f"Saliency: the brighter, the more a pixel moves {about}.")
            return
        if self.layer.count() == 0:
            self._fill_layers(result.layers, result.layer)
        label = self.layer.currentText()
        self.caption.setText(f"Grad-CAM on {label}: where that layer sees what raises {about}.")

    def _fill_layers(self, layers: list[str], chosen: str) -> None:
        labels = self.model.layer_labels
        self.layer.blockSignals(True)
        for attribute in layers:
            self.layer.addItem(labels.get(attribute, attribute), attribute)
        self.layer.setCurrentIndex(layers.index(chosen))
        self.layer.blockSignals(False)


def overlay_pixmap(picture: np.ndarray, heat: np.ndarray, side: int) -> QPixmap:
    """A grayscale picture [H, W] (stretched between its lowest and highest value) with
    the heat's colours over it, the more opaque the hotter, enlarged with square pixels
    to fit `side`."""
    low, high = float(picture.min()), float(picture.max())
    gray = (picture - low) / (high - low) if high > low else np.zeros_like(picture)
    opacity = OVERLAY_OPACITY * np.clip(heat, 0, 1)[..., None]
    mixed = (1 - opacity) * (gray[..., None] * 255) + opacity * heat_colours(heat)
    rgb = np.ascontiguousarray(np.round(mixed), dtype=np.uint8)
    height, width = heat.shape
    image = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
    factor = max(1, side // max(height, width))
    return QPixmap.fromImage(image).scaled(
        width * factor, height * factor, mode=Qt.TransformationMode.FastTransformation
    )


def _draw_contributions(plot: pg.PlotWidget, features: list[tuple[str, float]]) -> None:
    """A bar per feature, the `FEATURES_SHOWN` largest (by size) first: right and red
    for a feature that raises the score, left and blue for one that lowers it."""
    shown = sorted(features, key=lambda pair: -abs(pair[1]))[:FEATURES_SHOWN]
    values = [value for _, value in shown]
    plot.clear()
    plot.addItem(
        pg.BarGraphItem(
            x0=[min(v, 0.0) for v in values],
            y=range(len(shown)),
            height=0.7,
            width=[abs(v) for v in values],
            brushes=[RAISES_COLOR if v > 0 else LOWERS_COLOR for v in values],
        )
    )
    plot.addItem(pg.InfiniteLine(0, angle=90, pen=pg.mkPen("#555")))
    name_rows(plot, [name for name, _ in shown])
    reach = max((abs(v) for v in values), default=0.0) or 1.0
    plot.setXRange(-reach, reach, padding=0.05)
