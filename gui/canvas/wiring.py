"""The wiring gesture: drag from an output port to an input port to connect them.

While the mouse moves, a temporary wire follows it; the input port under the cursor (or
the first free port of the node under it) turns green when `Graph.check_edge` accepts
the wire and red when it refuses it (a loop, a taken port, an Input...). Releasing on a
green port pushes one `Connect`; releasing anywhere else changes nothing.

Dragging from an input port that has a wire picks that wire up: dropped on another port
it is re-routed (one undo step), dropped on empty canvas it is removed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QGraphicsPathItem

from engine.document.commands import Command, Connect, Disconnect, Macro
from engine.document.graph import Edge, GraphError
from gui.canvas import style
from gui.canvas.node_item import NodeItem
from gui.canvas.port_item import PortItem
from gui.canvas.routing import wire_path

if TYPE_CHECKING:
    from gui.canvas.scene import CanvasScene


class WireDrag:
    """One drag of a wire, from mouse press to release (or cancel)."""

    def __init__(self, scene: CanvasScene, source: str, picked_up: Edge | None = None):
        self.scene = scene
        self.source = source
        self.picked_up = picked_up
        graph = scene.document.graph
        # Checks run against the graph as it would be without the wire being moved.
        self._graph = graph if picked_up is None else graph.without_edge(picked_up)
        self.target: PortItem | None = None
        self.edge: Edge | None = None  # the wire a release would make
        self.problem = ""  # why that wire is refused, or ""
        self._start = scene.node_item(source).output_anchor()
        self._preview = QGraphicsPathItem()
        self._preview.setZValue(10)
        scene.addItem(self._preview)
        if picked_up is not None:
            scene.edge_item(picked_up).hide()

    @classmethod
    def start(cls, scene: CanvasScene, port: PortItem) -> WireDrag | None:
        """A drag from `port`: its output, or the wire in an input port; None if empty."""
        if port.is_output:
            return cls(scene, port.node_id)
        wired = [e for e in scene.document.graph.inputs_of(port.node_id) if e.port == port.port]
        return cls(scene, wired[0].src, wired[0]) if wired else None

    def move(self, pos: QPointF) -> None:
        self._aim(self._target_at(pos))
        end = self.target.scenePos() if self.target is not None and not self.problem else pos
        self._preview.setPath(wire_path(self._start, end))
        color = style.WIRE if self.edge is None else style.ERROR if self.problem else style.VALID
        pen = QPen(color, 2, Qt.PenStyle.DashLine)
        self._preview.setPen(pen)

    def finish(self, pos: QPointF) -> None:
        """Release: connect, re-route or remove the wire, or report why not."""
        self.move(pos)
        edge, problem, picked_up = self.edge, self.problem, self.picked_up
        self.cancel()
        document = self.scene.document
        if edge is not None and problem:
            document.edit_refused.emit(problem)
        elif edge is not None and edge != picked_up:
            document.push(self._connect(edge))
        elif edge is None and picked_up is not None:
            document.push(Disconnect(picked_up))

    def cancel(self) -> None:
        """Leave everything as it was."""
        self._aim(None)
        self.scene.removeItem(self._preview)
        if self.picked_up is not None and (item := self.scene.edge_item(self.picked_up)):
            item.show()

    def _connect(self, edge: Edge) -> Command:
        if self.picked_up is None:
            return Connect(edge)
        return Macro([Disconnect(self.picked_up), Connect(edge)], text="Reconnect")

    def _target_at(self, pos: QPointF) -> tuple[PortItem | None, Edge | None]:
        """The input port a release at `pos` would wire into, and that wire."""
        for item in self.scene.items(pos):
            if isinstance(item, PortItem) and not item.is_output:
                return item, Edge(self.source, item.node_id, item.port)
            if isinstance(item, NodeItem) and item.node_id != self.source:
                port, ports = self._graph.free_port(item.node_id), item.input_ports
                shown = ports.get(port) or (ports[min(ports)] if ports else None)
                return shown, Edge(self.source, item.node_id, port)
        return None, None

    def _aim(self, aim: tuple[PortItem | None, Edge | None] | None) -> None:
        port, edge = aim or (None, None)
        if edge == self.edge and port is self.target:
            return
        if self.target is not None:
            self.target.set_state("idle")
        self.target, self.edge, self.problem = port, edge, self._check(edge)
        if port is not None:
            port.set_state("invalid" if self.problem else "valid")

    def _check(self, edge: Edge | None) -> str:
        if edge is None:
            return ""
        try:
            self._graph.check_edge(edge)
        except GraphError as exc:
            return str(exc)
        return ""
