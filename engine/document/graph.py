"""The graph document: nodes (layers), edges (wires) and change events.

The document is the single source of truth that views observe. It refuses any edit that
would make it invalid - a cycle, a duplicate wire, too many wires into a port, a
parameter out of bounds - with a `GraphError` whose message is for the user, and leaves
itself unchanged. Edits meant for an undo stack go through `engine.document.commands`.
"""

from __future__ import annotations

import heapq
import keyword
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from engine.document.events import (
    EdgeAdded,
    EdgeRemoved,
    Listener,
    Listeners,
    NodeAdded,
    NodeChanged,
    NodeMoved,
    NodeRemoved,
)
from engine.errors import UserError
from engine.layers import LayerSpec, ParamError, Role, get_spec
from engine.layers.params import show

if TYPE_CHECKING:
    from engine.document.blocks import BlockType


class GraphError(UserError):
    """An edit the document refuses; the message says why, for the user."""


@dataclass
class Node:
    id: str
    type: str
    params: dict[str, Any]
    label: str
    pos: tuple[float, float] = (0.0, 0.0)
    # The block type of an instance of a block (engine.document.blocks), shared by all its
    # instances; None for a layer of the catalog.
    block: BlockType | None = field(default=None, compare=False, repr=False)
    # Transfer learning: the layer's weights stay as they are, or learn at lr * lr_scale.
    frozen: bool = False
    lr_scale: float = 1.0

    @property
    def spec(self) -> LayerSpec:
        return get_spec(self.type) if self.block is None else self.block.spec

    @property
    def is_input(self) -> bool:
        return self.spec.role is Role.INPUT

    @property
    def is_output(self) -> bool:
        return self.spec.role is Role.OUTPUT

    @property
    def runs_user_code(self) -> bool:
        return self.spec.runs_user_code


@dataclass(frozen=True, order=True)
class Edge:
    """A wire from `src`'s output into input `port` of `dst`."""

    src: str
    dst: str
    port: int = 0


_NOT_NAME = re.compile(r"\W+")
MAX_LR_SCALE = 1000.0


def python_name(text: str) -> str:
    """`text` as Python reads it in a name: NFKC-normalised, so that the fullwidth `ｆｃ`
    and the ligature in `ﬁ` are `fc` and `fi`."""
    return unicodedata.normalize("NFKC", text)


def clean_label(text: str) -> str:
    """A label usable as a Python name: `Conv 1` -> `Conv_1`, `ｆｃ` -> `fc`."""
    name = _NOT_NAME.sub("_", python_name(text).strip()).strip("_") or "layer"
    if name[0].isdigit():
        name = "l_" + name
    return name + "_" if keyword.iskeyword(name) else name


def free_label(base: str, taken: set[str]) -> str:
    """`base`, or when it is taken, `base` with the first free number: `fc` -> `fc1`."""
    if base not in taken:
        return base
    stem = re.sub(r"_?\d+$", "", base) or base
    number = 1
    while f"{stem}{number}" in taken:
        number += 1
    return f"{stem}{number}"


def check_params(layer: str | LayerSpec, params: dict[str, Any]) -> dict[str, Any]:
    """Validate a full or partial parameter dict for a layer (its type, or the spec of a
    block); return it normalised.

    Raises GraphError naming the first bad parameter.
    """
    spec = get_spec(layer) if isinstance(layer, str) else layer
    out = {}
    for name, value in params.items():
        if name not in spec.param_names:
            known = ", ".join(spec.param_names) or "none"
            raise GraphError(f"{spec.type} has no parameter {show(name)} (it has: {known})")
        try:
            out[name] = spec.param(name).validate(value)
        except ParamError as exc:
            raise GraphError(f"{name}: {exc}") from None
    return out


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: set[Edge] = field(default_factory=set)
    _listeners: Listeners = field(default_factory=Listeners, repr=False)
    _next_id: int = 1
    # Wires by node, kept with `edges` by insert_edge / delete_edge, so that looking up a
    # node's wires does not scan the whole graph.
    _ins: dict[str, set[Edge]] = field(default_factory=dict, repr=False)
    _outs: dict[str, set[Edge]] = field(default_factory=dict, repr=False)

    # --- observing ------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(event)` after every change (a bound method is held weakly);
        returns an unsubscribe function."""
        return self._listeners.add(listener)

    # --- queries --------------------------------------------------------------------

    def node(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise GraphError(f"there is no node {show(node_id)}") from None

    def inputs_of(self, node_id: str) -> list[Edge]:
        """Wires into a node, in port order."""
        return sorted(self._ins.get(node_id, ()), key=lambda e: e.port)

    def outputs_of(self, node_id: str) -> list[Edge]:
        return sorted(self._outs.get(node_id, ()))

    def edges_of(self, node_id: str) -> list[Edge]:
        return sorted(self._ins.get(node_id, set()) | self._outs.get(node_id, set()))

    def labels(self) -> set[str]:
        return {n.label for n in self.nodes.values()}

    def unique_label(self, base: str, ignore: str | None = None) -> str:
        taken = {n.label for n in self.nodes.values() if n.id != ignore}
        return free_label(clean_label(base), taken)

    def new_id(self) -> str:
        while f"n{self._next_id}" in self.nodes:
            self._next_id += 1
        return f"n{self._next_id}"

    def topological_order(self, node_ids: Iterable[str] | None = None) -> list[str]:
        """Node ids so that every node comes after its inputs (ties in insertion order)."""
        chosen = None if node_ids is None else set(node_ids)
        wanted = [n for n in self.nodes if chosen is None or n in chosen]
        rank = {n: i for i, n in enumerate(wanted)}
        indegree = {n: sum(e.src in rank for e in self._ins.get(n, ())) for n in wanted}
        ready = [rank[n] for n in wanted if indegree[n] == 0]
        heapq.heapify(ready)
        order = []
        while ready:
            current = wanted[heapq.heappop(ready)]
            order.append(current)
            for e in self._outs.get(current, ()):
                if e.dst in rank:
                    indegree[e.dst] -= 1
                    if indegree[e.dst] == 0:
                        heapq.heappush(ready, rank[e.dst])
        return order

    def descendants(self, node_id: str) -> set[str]:
        return self._reachable(node_id, lambda n: (e.dst for e in self.outputs_of(n)))

    def ancestors(self, node_id: str) -> set[str]:
        return self._reachable(node_id, lambda n: (e.src for e in self.inputs_of(n)))

    @staticmethod
    def _reachable(start: str, neighbours: Callable[[str], Iterable[str]]) -> set[str]:
        seen: set[str] = set()
        stack = [start]
        while stack:
            for other in neighbours(stack.pop()):
                if other not in seen:
                    seen.add(other)
                    stack.append(other)
        return seen

    # --- checks ---------------------------------------------------------------------

    def check_edge(self, edge: Edge) -> None:
        """Raise GraphError if `edge` cannot be added to the graph as it is."""
        src, dst = self.node(edge.src), self.node(edge.dst)
        if edge.src == edge.dst:
            raise GraphError(f"'{src.label}' cannot feed itself")
        if not src.spec.has_output:
            raise GraphError(f"'{src.label}' is an Output: nothing can follow it")
        spec = dst.spec
        if spec.max_inputs == 0:
            raise GraphError(f"'{dst.label}' is an Input: it takes no wires")
        if (
            not isinstance(edge.port, int)
            or edge.port < 0
            or (spec.max_inputs is not None and edge.port >= spec.max_inputs)
        ):
            raise GraphError(
                f"'{dst.label}' ({dst.type}) has no input port {show(edge.port)}; "
                f"it takes {spec.max_inputs} input{'s' if spec.max_inputs != 1 else ''}"
            )
        existing = self.inputs_of(edge.dst)
        if edge in self.edges or any(e.src == edge.src for e in existing):
            raise GraphError(f"'{src.label}' is already wired into '{dst.label}'")
        if edge.src in self.descendants(edge.dst):
            raise GraphError(
                f"wiring '{src.label}' into '{dst.label}' would make a loop: "
                f"'{dst.label}' already feeds '{src.label}'"
            )
        if any(e.port == edge.port for e in existing):
            raise GraphError(
                f"input {edge.port} of '{dst.label}' is already taken; remove that wire first"
            )

    def free_port(self, node_id: str) -> int:
        """The first input port of a node with no wire in it."""
        taken = {e.port for e in self.inputs_of(node_id)}
        port = 0
        while port in taken:
            port += 1
        return port

    # --- raw mutations (commands call these; each emits one event) ------------------

    def insert_node(self, node: Node, index: int | None = None) -> None:
        """Add a node, at position `index` of the node order when given (undoing a delete
        puts a node back where it was: the order decides forward()'s arguments and the
        order of its outputs)."""
        if node.id in self.nodes:
            raise GraphError(f"there is already a node {show(node.id)}")
        node.spec  # noqa: B018 - an unknown layer type raises here
        self.nodes[node.id] = node
        if index is not None and index < len(self.nodes) - 1:
            order = list(self.nodes.values())
            order.insert(index, order.pop())
            self.nodes = {n.id: n for n in order}
        self._listeners.send(NodeAdded(node.id))

    def delete_node(self, node_id: str) -> Node:
        if self._ins.get(node_id) or self._outs.get(node_id):
            raise GraphError("remove a node's wires before the node")
        node = self.nodes.pop(node_id)
        self._listeners.send(NodeRemoved(node_id))
        return node

    def insert_edge(self, edge: Edge) -> None:
        self.check_edge(edge)
        self._link(edge)
        self._listeners.send(EdgeAdded(edge))

    def _link(self, edge: Edge) -> None:
        self.edges.add(edge)
        self._ins.setdefault(edge.dst, set()).add(edge)
        self._outs.setdefault(edge.src, set()).add(edge)

    def without_edge(self, edge: Edge) -> Graph:
        """A copy (sharing the nodes, with no listeners) that lacks one wire: edits can be
        checked against the graph as it would be once that wire is gone."""
        return self._copy(dict(self.nodes), self.edges - {edge})

    def with_params(self, changes: dict[str, dict[str, Any]]) -> Graph:
        """A copy (with no listeners) in which each node named in `changes` has those
        parameters set; the other nodes are shared."""
        nodes = {
            node_id: replace(node, params={**node.params, **changes[node_id]})
            if node_id in changes
            else node
            for node_id, node in self.nodes.items()
        }
        return self._copy(nodes, self.edges)

    def _copy(self, nodes: dict[str, Node], edges: Iterable[Edge]) -> Graph:
        copy = Graph(nodes, _next_id=self._next_id)
        for edge in edges:
            copy._link(edge)
        return copy

    def delete_edge(self, edge: Edge) -> None:
        if edge not in self.edges:
            raise GraphError("that wire does not exist")
        self.edges.remove(edge)
        self._ins[edge.dst].discard(edge)
        self._outs[edge.src].discard(edge)
        self._listeners.send(EdgeRemoved(edge))

    def update_node(
        self,
        node_id: str,
        params: dict[str, Any] | None = None,
        label: str | None = None,
        pos: tuple[float, float] | None = None,
    ) -> None:
        node = self.node(node_id)
        if params is not None:
            node.params = {**node.params, **check_params(node.spec, params)}
        if label is not None:
            node.label = self.unique_label(label, ignore=node_id)
        if pos is not None:
            node.pos = (float(pos[0]), float(pos[1]))
        moved_only = params is None and label is None
        self._listeners.send(NodeMoved(node_id) if moved_only else NodeChanged(node_id))

    def set_tuning(self, node_id: str, frozen: bool, lr_scale: float) -> None:
        """Freeze or unfreeze a layer and set its learning-rate multiplier."""
        node = self.node(node_id)
        if not math.isfinite(lr_scale) or not 0 < lr_scale <= MAX_LR_SCALE:
            raise GraphError(
                f"a learning-rate multiplier is above 0 and at most "
                f"{MAX_LR_SCALE:g}, got {show(lr_scale)}"
            )
        node.frozen, node.lr_scale = bool(frozen), float(lr_scale)
        self._listeners.send(NodeChanged(node_id))

    def set_block(self, node_id: str, block: BlockType) -> None:
        """Point an instance at another block type with the same ports and parameters."""
        node = self.node(node_id)
        node.block, node.type = block, block.name
        self._listeners.send(NodeChanged(node_id))

    # --- building -------------------------------------------------------------------

    def make_node(
        self,
        layer_type: str,
        params: dict[str, Any] | None = None,
        label: str | None = None,
        pos: tuple[float, float] = (0.0, 0.0),
        node_id: str | None = None,
    ) -> Node:
        """A new node (not yet inserted) with defaults filled in and a unique label."""
        try:
            spec = get_spec(layer_type)
        except KeyError as exc:
            raise GraphError(str(exc.args[0])) from None
        values = {**spec.defaults(), **check_params(layer_type, params or {})}
        if label is None:
            # Layers are numbered as in hand-written models (fc1, fc2); inputs stay "x".
            label = spec.label if spec.category == "Input / Output" else f"{spec.label}1"
        return Node(
            id=node_id or self.new_id(),
            type=layer_type,
            params=values,
            label=self.unique_label(label),
            pos=(float(pos[0]), float(pos[1])),
        )
