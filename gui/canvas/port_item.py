"""Ports: the circles on a node's sides where wires start (output) and end (inputs)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from engine.layers import LayerSpec
from gui.canvas import style

STATE_COLORS = {"valid": style.VALID, "invalid": style.ERROR}


def shown_input_ports(spec: LayerSpec, taken: set[int]) -> list[int]:
    """The input ports a node shows: all of them for a fixed number of inputs; for a
    merge (no upper bound), each wired port, the required ones and one free port."""
    if spec.max_inputs is not None:
        return list(range(spec.max_inputs))
    ports = taken | set(range(spec.min_inputs))
    if ports <= taken:
        ports.add(max(ports, default=-1) + 1)
    return sorted(ports)


class PortItem(QGraphicsItem):
    """One port of a node (a child item of its NodeItem). `port` is the input slot, or
    None for the output. `state` is "idle", or "valid"/"invalid" while a wire hovers."""

    def __init__(self, parent: QGraphicsItem, node_id: str, port: int | None, color):
        super().__init__(parent)
        self.node_id = node_id
        self.port = port
        self.connected = False
        self.state = "idle"
        self._color = color
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setToolTip("output: drag to an input" if port is None else f"input {port}")

    @property
    def is_output(self) -> bool:
        return self.port is None

    def set_connected(self, connected: bool) -> None:
        if connected != self.connected:
            self.connected = connected
            self.update()

    def set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.update()

    def boundingRect(self) -> QRectF:
        r = style.PORT_HIT_RADIUS
        return QRectF(-r, -r, 2 * r, 2 * r)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addEllipse(self.boundingRect())
        return path

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        highlight = STATE_COLORS.get(self.state)
        radius = style.PORT_RADIUS + (2 if highlight else 0)
        if highlight:
            painter.setPen(QPen(highlight, 2))
            painter.setBrush(QBrush(highlight.lighter(160)))
        else:
            painter.setPen(QPen(self._color if self.connected else style.PORT_CONNECTED, 1.5))
            painter.setBrush(QBrush(self._color if self.connected else style.PORT_FILL))
        painter.drawEllipse(QRectF(-radius, -radius, 2 * radius, 2 * radius))
