"""Copy and paste of part of a graph, as plain JSON-able data (for the clipboard)."""

from __future__ import annotations

import math
from typing import Any

from engine.document.blocks import BlockType, instance
from engine.document.commands import AddNode, Connect, Macro
from engine.document.graph import Edge, Graph, GraphError, clean_label

MAX_NODES = 2000


def copy_fragment(graph: Graph, node_ids: list[str]) -> dict[str, Any]:
    """The given nodes and the wires between them; wires to other nodes are left out."""
    index = {node_id: i for i, node_id in enumerate(n for n in graph.nodes if n in node_ids)}
    nodes = [graph.nodes[n] for n in index]
    return {
        "nodes": [
            {"type": n.type, "label": n.label, "params": dict(n.params), "pos": list(n.pos)}
            for n in nodes
        ],
        "edges": [
            {"src": index[e.src], "dst": index[e.dst], "port": e.port}
            for e in sorted(graph.edges)
            if e.src in index and e.dst in index
        ],
    }


def paste_command(
    graph: Graph,
    fragment: Any,
    offset: tuple[float, float] = (40.0, 40.0),
    blocks: dict[str, BlockType] | None = None,
) -> tuple[Macro, list[str]]:
    """One undoable command adding a copy of `fragment` (new ids and labels, shifted by
    `offset`), and the new nodes' ids; `blocks`: the project's block types by name, which
    the fragment's instances are of. Raises GraphError if the fragment is not valid."""
    try:
        items, wires = fragment["nodes"], fragment["edges"]
        if not isinstance(items, list) or not isinstance(wires, list) or len(items) > MAX_NODES:
            raise TypeError
        nodes = _new_nodes(graph, items, offset, blocks or {})
        edges = [Edge(nodes[w["src"]].id, nodes[w["dst"]].id, w["port"]) for w in wires]
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, RecursionError):
        raise GraphError("the clipboard does not hold Torchwright layers") from None
    commands = [AddNode(n) for n in nodes] + [Connect(e) for e in edges]
    text = f"Paste {len(nodes)} layer{'s' if len(nodes) != 1 else ''}"
    return Macro(commands, text=text), [n.id for n in nodes]


def _new_nodes(graph: Graph, items: list, offset: tuple[float, float], blocks: dict) -> list:
    taken_ids, taken_labels = set(graph.nodes), graph.labels()
    nodes = []
    for item in items:
        node_id = _fresh(graph.new_id(), taken_ids)
        label = _fresh(clean_label(str(item["label"])), taken_labels)
        x, y = (float(v) for v in item["pos"])
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError("positions must be finite")
        pos = (x + offset[0], y + offset[1])
        block = blocks.get(item["type"])
        if block is None:
            node = graph.make_node(item["type"], item["params"], label, pos, node_id)
        else:  # an instance of one of the project's block types
            node = instance(graph, block, label, **item["params"])
            node.id, node.label, node.pos = node_id, label, pos
        taken_ids.add(node.id)
        taken_labels.add(node.label)
        nodes.append(node)
    return nodes


def _fresh(name: str, taken: set[str]) -> str:
    """`name`, or `name` with the first free number after it."""
    if name not in taken:
        return name
    stem = name.rstrip("0123456789") or name
    i = 1
    while f"{stem}{i}" in taken:
        i += 1
    return f"{stem}{i}"
