"""The fine-tuning rows of a layer that holds weights: frozen, and its learning-rate
multiplier. Each change is one undoable SetTuning."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QFormLayout, QLabel, QWidget

from engine.document.commands import Command, SetTuning
from engine.document.graph import MAX_LR_SCALE, Graph, Node

FROZEN_TIP = (
    "Keep this layer's weights as they are (loaded ones, usually): they get no gradient, "
    "and its batch norms keep their running statistics."
)
SCALE_TIP = "This layer learns at the learning rate times this (a parameter group)."


class TuningRows:
    """Two rows of a form; `show(node)` sets them from the node without pushing."""

    def __init__(
        self, form: QFormLayout, parent: QWidget, node_id: str, push: Callable, graph: Graph
    ):
        self.node_id = node_id
        self._push = push
        self._graph = graph
        self.frozen = QCheckBox("keep the weights as they are", parent)
        self.frozen.setObjectName("frozen")
        self.frozen.setToolTip(FROZEN_TIP)
        self.scale = QDoubleSpinBox(parent)
        self.scale.setObjectName("lr_scale")
        self.scale.setDecimals(3)
        self.scale.setRange(0.0001, MAX_LR_SCALE)
        self.scale.setPrefix("x ")
        self.scale.setToolTip(SCALE_TIP)
        for name, widget, tip in (
            ("frozen", self.frozen, FROZEN_TIP),
            ("lr", self.scale, SCALE_TIP),
        ):
            label = QLabel(name)
            label.setToolTip(tip)
            form.addRow(label, widget)
        self.frozen.clicked.connect(self._freeze)
        self.scale.editingFinished.connect(self._rescale)

    def _node(self) -> Node:
        return self._graph.nodes[self.node_id]

    def show(self, node: Node) -> None:
        self.frozen.setChecked(node.frozen)
        if not self.scale.hasFocus():
            self.scale.setValue(node.lr_scale)
        self.scale.setEnabled(not node.frozen)

    def _freeze(self, checked: bool) -> None:
        text = "Freeze" if checked else "Unfreeze"
        self._push_or_show(SetTuning([self.node_id], frozen=checked, text=text))

    def _rescale(self) -> None:
        if self.scale.value() == self._node().lr_scale:  # focus left, nothing changed
            return
        self._push_or_show(SetTuning([self.node_id], lr_scale=self.scale.value(), text="Set lr x"))

    def _push_or_show(self, command: Command) -> None:
        if self._push(command):  # refused (while training): show the node as it is
            self.show(self._node())
