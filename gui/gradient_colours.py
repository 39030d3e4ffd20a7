"""Training > Colour Layers by Gradient: the canvas's layers tinted by their gradient's size.

While on, the node of each layer with weights is filled by log10 of its gradient's norm
over its weights' norm in the run's newest layer record, on the scale of the Layers view
(gui.colour_scale) from 1e-5 in blue, where a gradient counts as vanishing, to 10 in red,
where it counts as exploding (engine.training.diagnosis); grey when no gradient reaches
it. The node's tooltip gives the number. The colours follow the records as they come,
start afresh with each run, and go when it is turned off.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QColor

from engine.training.diagnosis import EXPLODING, VANISHING, Record, gradient_state
from gui.colour_scale import NO_GRADIENT, scale_colours
from gui.training.layer_grid import gradient_ratio

if TYPE_CHECKING:
    from gui.canvas.scene import CanvasScene
    from gui.training.controller import TrainingController

LOW, HIGH = math.log10(VANISHING), math.log10(EXPLODING)
LEGEND = (
    "Layers coloured by gradient / weights (norms): blue 1e-5 (vanishing) to red 10 "
    "(exploding); grey: no gradient. The node's tooltip has the number."
)


def gradient_tints(record: Record) -> dict[str, tuple[QColor, str]]:
    """node id -> (its colour, its tooltip line), for each layer with weights."""
    tints = {}
    for node_id, stats in record["layers"].items():
        if stats.get("weight_norm") is None:
            continue
        state, ratio = gradient_state(stats), gradient_ratio(stats)
        if state is not None or ratio is None:
            why = state or "no gradient"
            tints[node_id] = (QColor(*NO_GRADIENT), f"gradient / weights: none ({why})")
            continue
        place = HIGH if not math.isfinite(ratio) else LOW if ratio <= 0 else math.log10(ratio)
        colour = QColor(*scale_colours(place, LOW, HIGH).tolist())
        tints[node_id] = (colour, f"gradient / weights {ratio:.1e}")
    return tints


class GradientColours(QObject):
    """Keeps the run's newest record and, while enabled, the scene's nodes tinted by it."""

    def __init__(self, scene: CanvasScene, controller: TrainingController, parent: QObject):
        super().__init__(parent)
        self.scene = scene
        self.enabled = False
        self.latest: Record | None = None
        controller.started.connect(self._started)
        controller.layer_records.connect(self._recorded)
        scene.document.project_replaced.connect(self._started)

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled
        self._show()

    def _started(self, *_) -> None:
        self.latest = None
        self._show()

    def _recorded(self, records: list[Record]) -> None:
        self.latest = records[-1]
        self._show()

    def _show(self) -> None:
        shown = self.enabled and self.latest is not None
        self.scene.show_gradient_tints(gradient_tints(self.latest) if shown else {})
