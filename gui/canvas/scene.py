"""The canvas scene: items for the nodes and wires of the document's graph.

The scene is a view. It builds its items from the graph, then follows the graph's events
(one item changes per event), the document's shape inference (only the nodes it
re-inferred) and the document's selection. Gestures become engine commands pushed on the
document, so every edit can be undone; the items then follow the resulting events.

Coordinates: a node's `pos` is the top-left corner of its item, in scene coordinates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, QRectF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsSceneMouseEvent

from engine.document.commands import Macro, MoveNodes
from engine.document.events import (
    EdgeAdded,
    EdgeRemoved,
    GraphEvent,
    NodeAdded,
    NodeChanged,
    NodeMoved,
    NodeRemoved,
)
from engine.document.graph import Edge, Node
from engine.document.layout import ROW_COLUMNS, layered_positions
from gui.canvas import style
from gui.canvas.edge_item import EdgeItem
from gui.canvas.node_item import NodeItem
from gui.canvas.port_item import PortItem
from gui.canvas.wiring import WireDrag

if TYPE_CHECKING:
    from engine.model.shapes import NodeResult
    from engine.training.activation_preview import Thumbnail
    from gui.document import Document

SCENE_MARGIN = 2000.0  # room to pan (and drop layers) around the nodes


class CanvasScene(QGraphicsScene):
    def __init__(self, document: Document, parent: QObject | None = None):
        super().__init__(parent)
        self.document = document
        self._nodes: dict[str, NodeItem] = {}
        self._edges: dict[Edge, EdgeItem] = {}
        self._unsubscribe: Callable[[], None] = lambda: None
        self._syncing_selection = False
        self._wire: WireDrag | None = None
        self.setBackgroundBrush(style.BACKGROUND)
        self.setSceneRect(QRectF(-SCENE_MARGIN, -SCENE_MARGIN, 2 * SCENE_MARGIN, 2 * SCENE_MARGIN))
        document.project_replaced.connect(self.rebuild)
        document.inference_updated.connect(self._on_inference)
        document.selection_changed.connect(self._on_document_selection)
        self.selectionChanged.connect(self._on_scene_selection)
        self.rebuild()

    # --- public ---------------------------------------------------------------------------

    def node_item(self, node_id: str) -> NodeItem | None:
        return self._nodes.get(node_id)

    def node_items(self) -> list[NodeItem]:
        return list(self._nodes.values())

    def edge_item(self, edge: Edge) -> EdgeItem | None:
        return self._edges.get(edge)

    def edge_items(self) -> list[EdgeItem]:
        return list(self._edges.values())

    def selected_ids(self) -> list[str]:
        """Selected node ids, in the graph's order."""
        return [n for n, item in self._nodes.items() if item.isSelected()]

    def auto_layout(self, columns: int | None = ROW_COLUMNS) -> bool:
        """Lay the graph out left to right, in rows of at most `columns`, as one undoable
        move; False if nothing moved."""
        graph = self.document.graph
        wanted = layered_positions(graph, columns)
        moves = {n: p for n, p in wanted.items() if graph.nodes[n].pos != p}
        # In a Macro, so the undo stack never merges it with a drag of the same nodes.
        return bool(moves) and self.document.push(Macro([MoveNodes(moves)], text="Auto layout"))

    def rebuild(self) -> None:
        """Throw the items away and build them again from the document's graph."""
        self.cancel_interaction()
        self._unsubscribe()
        self._syncing_selection = True
        self.clear()
        self._nodes.clear()
        self._edges.clear()
        graph = self.document.graph
        for node in graph.nodes.values():
            self._new_node_item(node)
        for edge in sorted(graph.edges):
            self._new_edge_item(edge)
        for node_id, item in self._nodes.items():
            item.refresh(graph.nodes[node_id], self._result(node_id))
        for edge_item in self._edges.values():
            edge_item.adjust()
            self._style_edge(edge_item)
        # held weakly by the graph: a scene that is dropped stops listening by itself
        self._unsubscribe = graph.subscribe(self._on_graph_event)
        self._syncing_selection = False
        self._on_document_selection(self.document.selected)

    def cancel_interaction(self) -> bool:
        """Abandon a wire being dragged; True if there was one."""
        wire, self._wire = self._wire, None
        if wire is not None:
            wire.cancel()
        return wire is not None

    # --- following the graph ----------------------------------------------------------

    def _on_graph_event(self, event: GraphEvent) -> None:
        if not shiboken6.isValid(self):  # Qt deleted the scene; a Python reference lingers
            self._unsubscribe()
            return
        self.cancel_interaction()
        match event:
            case NodeAdded():
                self._add_node(event.node_id)
            case NodeRemoved():
                self.removeItem(self._nodes.pop(event.node_id))
            case NodeChanged() | NodeMoved():
                self._node_changed(event.node_id)
            case EdgeAdded():
                self._add_edge(event.edge)
            case EdgeRemoved():
                self._remove_edge(event.edge)

    def _new_node_item(self, node: Node) -> NodeItem:
        item = self._nodes[node.id] = NodeItem(node)
        self.addItem(item)
        self._make_room(item)
        return item

    def _add_node(self, node_id: str) -> None:
        node = self.document.graph.nodes[node_id]
        self._new_node_item(node).refresh(node, self._result(node_id))

    def show_training_notes(self, notes: dict[str, list[str]]) -> None:
        """Pin each layer's warnings from a run (node id -> sentences) to its node, and
        take them off the others."""
        for node_id, item in self._nodes.items():
            wanted = list(notes.get(node_id, ()))
            if wanted != item.training_notes:
                item.training_notes = wanted
                self._node_changed(node_id)

    def show_activations(self, thumbnails: dict[str, Thumbnail]) -> None:
        """Draw each layer's activation thumbnail (node id -> Thumbnail) on its node, and
        none on the others."""
        for node_id, item in self._nodes.items():
            wanted = thumbnails.get(node_id)
            if wanted is not item.activation:
                item.set_activation(wanted)
                self._node_changed(node_id)

    def show_gradient_tints(self, tints: dict[str, tuple[QColor, str]]) -> None:
        """Fill each layer's node by its gradient (node id -> colour and tooltip line),
        and the others as usual."""
        for node_id, item in self._nodes.items():
            tint = tints.get(node_id)
            if tint != item.gradient_tint:
                item.set_gradient_tint(tint)
                self._node_changed(node_id)

    def _node_changed(self, node_id: str) -> None:
        node, item = self.document.graph.nodes[node_id], self._nodes[node_id]
        item.place(node.pos)
        item.refresh(node, self._result(node_id))
        self._make_room(item)

    def _new_edge_item(self, edge: Edge) -> EdgeItem:
        source, target = self._nodes[edge.src], self._nodes[edge.dst]
        item = self._edges[edge] = EdgeItem(edge, source, target)
        source.edges.add(item)
        target.edges.add(item)
        self.addItem(item)
        return item

    def _add_edge(self, edge: Edge) -> None:
        item = self._new_edge_item(edge)
        self._refresh_ends(edge)
        item.adjust()
        self._style_edge(item)

    def _remove_edge(self, edge: Edge) -> None:
        item = self._edges.pop(edge)
        item.source.edges.discard(item)
        item.target.edges.discard(item)
        self.removeItem(item)
        self._refresh_ends(edge)

    def _refresh_ends(self, edge: Edge) -> None:
        graph = self.document.graph
        for node_id in (edge.src, edge.dst):
            self._nodes[node_id].refresh(graph.nodes[node_id], self._result(node_id))

    def _make_room(self, item: QGraphicsItem) -> None:
        """Grow the scene so that one can pan well beyond any node."""
        wanted = item.sceneBoundingRect().adjusted(
            -SCENE_MARGIN, -SCENE_MARGIN, SCENE_MARGIN, SCENE_MARGIN
        )
        if not self.sceneRect().contains(wanted):
            self.setSceneRect(self.sceneRect().united(wanted))

    # --- following inference --------------------------------------------------------------

    def _result(self, node_id: str) -> NodeResult | None:
        inference = self.document.inference
        return inference.results.get(node_id) if inference is not None else None

    def _on_inference(self, changed: set[str]) -> None:
        graph = self.document.graph
        edges: set[EdgeItem] = set()
        for node_id in changed:
            item = self._nodes.get(node_id)
            if item is not None:
                item.refresh(graph.nodes[node_id], self._result(node_id))
                edges |= item.edges
        for edge in edges:
            self._style_edge(edge)
        self._reroute()

    def _reroute(self) -> None:
        """Wires that go around layers, or were moved without looking, look again for
        their way: after an edit, layers other than their own ends may have moved or
        grown into it."""
        for edge in self._edges.values():
            if edge.routed:
                edge.adjust()

    def _style_edge(self, item: EdgeItem) -> None:
        """The shape a wire carries, and red if its target's problem is on this wire."""
        source, target = self._result(item.edge.src), self._result(item.edge.dst)
        label = source.output.describe() if source and source.ok and source.output else ""
        error = target is not None and target.status == "error" and target.edge == item.edge
        item.set_style(label, error, target.message if error else "")

    # --- selection, both ways -------------------------------------------------------------

    def _on_scene_selection(self) -> None:
        if not self._syncing_selection:
            self.document.select(self.selected_ids())

    def _on_document_selection(self, node_ids: list[str]) -> None:
        wanted = set(node_ids)
        self._syncing_selection = True
        for node_id, item in self._nodes.items():
            if item.isSelected() != (node_id in wanted):
                item.setSelected(node_id in wanted)
        self._syncing_selection = False

    # --- gestures -------------------------------------------------------------------------

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._wire is None:
            port = next((i for i in self.items(event.scenePos()) if isinstance(i, PortItem)), None)
            self._wire = WireDrag.start(self, port) if port is not None else None
            if self._wire is not None:
                self._wire.move(event.scenePos())
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._wire is not None:
            self._wire.move(event.scenePos())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._wire is not None and event.button() == Qt.MouseButton.LeftButton:
            wire, self._wire = self._wire, None
            wire.finish(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            self._commit_moves()

    def _commit_moves(self) -> None:
        """One MoveNodes for every node dragged since the press (to whole pixels)."""
        graph = self.document.graph
        moved = [item for item in self._nodes.values() if item.moved]
        positions = {i.node_id: (float(round(i.x())), float(round(i.y()))) for i in moved}
        changes = {n: p for n, p in positions.items() if graph.nodes[n].pos != p}
        if changes:
            self.document.push(MoveNodes(changes))
        for item in moved:  # snapped to the document (already done for those it moved)
            item.place(graph.nodes[item.node_id].pos)
