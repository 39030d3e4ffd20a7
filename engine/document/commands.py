"""Edits of the graph as small command objects with `do` and `undo`.

The GUI wraps each in a QUndoCommand; scripts and tests call `do` directly. A command
checks everything in `do` before it changes anything, so a refused edit (GraphError)
leaves the graph as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.document.graph import Edge, Graph, GraphError, Node, check_params


class Command:
    text = "edit"

    def do(self, graph: Graph) -> None:
        raise NotImplementedError

    def undo(self, graph: Graph) -> None:
        raise NotImplementedError


@dataclass
class AddNode(Command):
    node: Node
    text: str = "Add layer"

    def do(self, graph: Graph) -> None:
        graph.insert_node(self.node)

    def undo(self, graph: Graph) -> None:
        graph.delete_node(self.node.id)


@dataclass
class Connect(Command):
    edge: Edge
    text: str = "Connect"

    def do(self, graph: Graph) -> None:
        graph.insert_edge(self.edge)

    def undo(self, graph: Graph) -> None:
        graph.delete_edge(self.edge)


@dataclass
class Disconnect(Command):
    edge: Edge
    text: str = "Disconnect"

    def do(self, graph: Graph) -> None:
        graph.delete_edge(self.edge)

    def undo(self, graph: Graph) -> None:
        graph.insert_edge(self.edge)


@dataclass
class RemoveNode(Command):
    """Removes a node and its wires; undo puts both back."""

    node_id: str
    text: str = "Delete layer"
    _node: Node | None = None
    _index: int = 0
    _edges: list[Edge] = field(default_factory=list)

    def do(self, graph: Graph) -> None:
        self._edges = graph.edges_of(self.node_id)
        graph.node(self.node_id)
        self._index = list(graph.nodes).index(self.node_id)
        for edge in self._edges:
            graph.delete_edge(edge)
        self._node = graph.delete_node(self.node_id)

    def undo(self, graph: Graph) -> None:
        graph.insert_node(self._node, self._index)
        for edge in self._edges:
            graph.insert_edge(edge)


@dataclass
class SetParams(Command):
    """Changes some parameters of one node (and/or its label)."""

    node_id: str
    params: dict[str, Any] = field(default_factory=dict)
    label: str | None = None
    text: str = "Change parameters"
    _old_params: dict[str, Any] = field(default_factory=dict)
    _old_label: str | None = None

    def do(self, graph: Graph) -> None:
        node = graph.node(self.node_id)
        check_params(node.spec, self.params)
        self._old_params = {k: node.params[k] for k in self.params}
        self._old_label = node.label
        graph.update_node(self.node_id, params=self.params, label=self.label)

    def undo(self, graph: Graph) -> None:
        graph.update_node(self.node_id, params=self._old_params, label=self._old_label)


@dataclass
class SetTuning(Command):
    """Freezes or unfreezes layers, or sets their learning-rate multiplier."""

    node_ids: list[str]
    frozen: bool | None = None
    lr_scale: float | None = None
    text: str = "Freeze"
    _old: dict[str, tuple[bool, float]] = field(default_factory=dict)

    def do(self, graph: Graph) -> None:
        self._old = {n: (graph.node(n).frozen, graph.node(n).lr_scale) for n in self.node_ids}
        try:
            for node_id, (frozen, scale) in self._old.items():
                new_frozen = frozen if self.frozen is None else self.frozen
                graph.set_tuning(
                    node_id, new_frozen, scale if self.lr_scale is None else self.lr_scale
                )
        except GraphError:
            self.undo(graph)
            raise

    def undo(self, graph: Graph) -> None:
        for node_id, (frozen, scale) in self._old.items():
            graph.set_tuning(node_id, frozen, scale)


@dataclass
class MoveNodes(Command):
    """Moves nodes to new canvas positions ({node_id: (x, y)})."""

    positions: dict[str, tuple[float, float]]
    text: str = "Move"
    _old: dict[str, tuple[float, float]] = field(default_factory=dict)

    def do(self, graph: Graph) -> None:
        self._old = {nid: graph.node(nid).pos for nid in self.positions}
        for nid, pos in self.positions.items():
            graph.update_node(nid, pos=pos)

    def undo(self, graph: Graph) -> None:
        for nid, pos in self._old.items():
            graph.update_node(nid, pos=pos)


@dataclass
class Macro(Command):
    """Several commands as one undo step; if one fails, those already done are undone."""

    commands: list[Command]
    text: str = "Edit"

    def do(self, graph: Graph) -> None:
        done: list[Command] = []
        try:
            for command in self.commands:
                command.do(graph)
                done.append(command)
        except GraphError:
            for command in reversed(done):
                command.undo(graph)
            raise

    def undo(self, graph: Graph) -> None:
        for command in reversed(self.commands):
            command.undo(graph)


def remove_nodes(node_ids: list[str]) -> Macro:
    """One undoable step deleting several nodes; wires shared between them go once."""
    return Macro([RemoveNode(nid) for nid in node_ids], text=f"Delete {len(node_ids)} layers")
