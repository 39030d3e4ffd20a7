"""Edits that make, fork, undo and repeat blocks, each one undoable command (a Macro of
the graph's own commands: the instance and the layers it replaces come and go together).

- `make_block`: selected layers become one instance of a new block type. The wires that
  enter the selection become its inputs (one per outside tensor, in graph order) and the
  one layer whose output leaves it, its output.
- `ungroup`: an instance is replaced by a copy of its body's layers, with the instance's
  parameter values written in.
- `make_unique`: an instance gets a copy of its type of its own, to edit apart.
- `repeat`: an instance becomes a sequential block of `count` instances of its type.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass, replace

from engine.document.blocks import BlockParam, BlockType, blocks_of, check_block, instance
from engine.document.commands import AddNode, Command, Connect, Macro, RemoveNode
from engine.document.graph import Edge, Graph, GraphError, Node, free_label
from engine.document.layout import lay_out
from engine.layers import CATALOG


@dataclass
class Selection:
    """What leaves and enters a set of layers."""

    sources: list[str]  # outside nodes feeding the selection, in graph order
    exit: str  # the one selected node whose output leaves the selection
    consumers: list[Edge]  # wires out of the selection
    entries: list[Edge]  # wires into the selection


def _selection(graph: Graph, node_ids: list[str]) -> Selection:
    chosen = set(node_ids)
    if not chosen:
        raise GraphError("select the layers that make the block")
    for node_id in chosen:
        if graph.node(node_id).spec.category == "Input / Output":
            raise GraphError("a block holds layers: leave the Inputs and Outputs out")
    entries = [e for e in sorted(graph.edges) if e.dst in chosen and e.src not in chosen]
    consumers = [e for e in sorted(graph.edges) if e.src in chosen and e.dst not in chosen]
    exits = {e.src for e in consumers}
    if len(exits) != 1:
        raise GraphError(
            "a block has one output: exactly one of the selected layers may feed layers "
            f"outside the selection ({len(exits)} do)"
        )
    order = list(graph.nodes)
    sources = sorted({e.src for e in entries}, key=order.index)
    if not sources:
        raise GraphError("nothing outside feeds the selected layers: a block needs an input")
    return Selection(sources, exits.pop(), consumers, entries)


def make_block(
    graph: Graph, node_ids: list[str], name: str, exposed: list[tuple[str, str]] = ()
) -> tuple[Macro, BlockType]:
    """The command replacing `node_ids` by an instance of a new block type `name`, and
    that type; `exposed`: (node id, parameter) pairs made parameters of the block."""
    selection = _selection(graph, node_ids)
    chosen_ids = set(node_ids)
    body = Graph()
    inputs = {}
    for i, source in enumerate(selection.sources):
        label = "x" if len(selection.sources) == 1 else f"x{i + 1}"
        node = body.make_node("Input", {}, label, node_id=f"in{i + 1}")
        body.insert_node(node)
        inputs[source] = node.id
    chosen = [n for n in graph.nodes if n in chosen_ids]
    for node_id in chosen:  # copies of their own: freezing is the instance's, not a layer's
        body.insert_node(_layer_copy(graph.nodes[node_id]))
    for edge in sorted(graph.edges):
        if edge.dst in chosen_ids and (edge.src in chosen_ids or edge.src in inputs):
            body.insert_edge(Edge(inputs.get(edge.src, edge.src), edge.dst, edge.port))
    output = body.make_node("Output", {}, "out", node_id="out")
    body.insert_node(output)
    body.insert_edge(Edge(selection.exit, output.id))
    _checked(graph, name)
    params = tuple(_exposed(body, exposed))
    block = BlockType(name, body, params)
    if problems := check_block(block, {b.name: b for b in block.uses()}):
        raise GraphError(f"the block cannot be made: {problems[0]}")
    lay_out(body)
    node = instance(graph, block)
    xs = [graph.nodes[n].pos for n in chosen]
    node.pos = (min(p[0] for p in xs), min(p[1] for p in xs))
    commands: list[Command] = [RemoveNode(n) for n in chosen]
    commands.append(AddNode(node))
    commands += [Connect(Edge(s, node.id, port)) for port, s in enumerate(selection.sources)]
    commands += [Connect(Edge(node.id, e.dst, e.port)) for e in selection.consumers]
    return Macro(commands, text=f"Make block {name}"), block


def _layer_copy(node: Node) -> Node:
    return replace(node, params=dict(node.params), frozen=False, lr_scale=1.0)


def _exposed(body: Graph, pairs) -> list[BlockParam]:
    taken: set[str] = set()
    exposed = []
    for node_id, param in dict.fromkeys(pairs):
        node = body.node(node_id)
        if param not in node.params:
            raise GraphError(f"'{node.label}' has no parameter {param!r} to expose")
        name = free_label(param if param not in taken else f"{node.label}_{param}", taken)
        taken.add(name)
        exposed.append(BlockParam(name, node.params[param], ((node_id, param),)))
    return exposed


def _checked(graph: Graph, name: str) -> None:
    """A new block type's name: a class name no layer or block of the graph has."""
    if not name.isidentifier() or not name[:1].isupper() or keyword.iskeyword(name):
        raise GraphError(
            f"{name!r} is not a class name (a capital letter, then letters, digits, _)"
        )
    if name in CATALOG or name in {b.name for b in blocks_of(graph)}:
        raise GraphError(f"{name!r} is a layer or block already: choose another name")


def _instance_of(graph: Graph, node_id: str) -> Node:
    node = graph.node(node_id)
    if node.block is None:
        raise GraphError(f"'{node.label}' is a layer, not a block")
    return node


def _fresh_ids(graph: Graph, count: int) -> list[str]:
    ids, number = [], 1
    while len(ids) < count:
        if f"n{number}" not in graph.nodes:
            ids.append(f"n{number}")
        number += 1
    return ids


def ungroup(graph: Graph, node_id: str) -> Macro:
    """The command replacing an instance by its body's layers."""
    node = _instance_of(graph, node_id)
    block = node.block
    body = block.bound(node.params)
    layers = [n for n in body.nodes.values() if not (n.is_input or n.is_output)]
    ids = dict(zip((n.id for n in layers), _fresh_ids(graph, len(layers)), strict=True))
    commands: list[Command] = [RemoveNode(node_id)]
    labels = graph.labels() - {node.label}
    for inner in layers:
        label = _free(inner.label, labels)
        x, y = inner.pos
        pos = (node.pos[0] + x, node.pos[1] + y)
        copied = Node(ids[inner.id], inner.type, dict(inner.params), label, pos, inner.block)
        commands.append(AddNode(copied))
    sources = {e.port: e.src for e in graph.inputs_of(node_id)}
    feeds = {inp: sources.get(port) for port, inp in enumerate(block.inputs)}
    for edge in sorted(body.edges):
        if edge.dst != block.output:
            src = feeds[edge.src] if edge.src in feeds else ids[edge.src]
            if src is not None:
                commands.append(Connect(Edge(src, ids[edge.dst], edge.port)))
    last = body.inputs_of(block.output)[0].src
    last = feeds.get(last) if last in feeds else ids[last]
    commands += [Connect(Edge(last, e.dst, e.port)) for e in graph.outputs_of(node_id)]
    return Macro(commands, text=f"Ungroup {node.label}")


def _free(label: str, taken: set[str]) -> str:
    name = free_label(label, taken)
    taken.add(name)
    return name


@dataclass
class SetBlock(Command):
    """Points an instance at another block type (Make Unique); undo points it back."""

    node_id: str
    block: BlockType
    text: str = "Make unique"
    _old: BlockType | None = None

    def do(self, graph: Graph) -> None:
        node = graph.node(self.node_id)
        self._old = node.block
        graph.set_block(self.node_id, self.block)

    def undo(self, graph: Graph) -> None:
        graph.set_block(self.node_id, self._old)


def make_unique(graph: Graph, node_id: str, name: str) -> SetBlock:
    """An instance's own copy of its block type, named `name`."""
    block = _instance_of(graph, node_id).block
    _checked(graph, name)
    body = Graph()
    for inner in block.graph.nodes.values():
        body.insert_node(_layer_copy(inner))
    for edge in sorted(block.graph.edges):
        body.insert_edge(edge)
    return SetBlock(node_id, BlockType(name, body, block.params, block.sequential, block.summary))


def repeat(graph: Graph, node_id: str, count: int, name: str) -> Macro:
    """The command replacing an instance by a stage: `count` instances of its type in a
    sequence (its parameter values in each), as a sequential block `name`."""
    node = _instance_of(graph, node_id)
    if not 2 <= count <= 1000:
        raise GraphError(f"repeat a block 2 to 1,000 times, not {count}")
    if len(node.block.inputs) != 1:
        raise GraphError("only a block with one input repeats: each feeds the next")
    _checked(graph, name)
    body = Graph()
    previous = body.make_node("Input", {}, "x")
    body.insert_node(previous)
    for _ in range(count):
        step = instance(body, node.block, **node.params)
        body.insert_node(step)
        body.insert_edge(Edge(previous.id, step.id))
        previous = step
    output = body.make_node("Output", {}, "out")
    body.insert_node(output)
    body.insert_edge(Edge(previous.id, output.id))
    lay_out(body)
    stage = BlockType(name, body, (), sequential=True, summary=f"{count} x {node.block.name}")
    replaced = Node(node.id, name, {}, node.label, node.pos, stage)
    wires = graph.edges_of(node_id)
    commands: list[Command] = [RemoveNode(node_id), AddNode(replaced)]
    commands += [Connect(e) for e in wires]
    return Macro(commands, text=f"Repeat {node.label} {count} times")
