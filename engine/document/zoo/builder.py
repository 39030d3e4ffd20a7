"""Writing a graph, or a block, in a few lines: one call per node, wired to the last."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.document.blocks import BlockParam, BlockType, check_block, instance
from engine.document.graph import Edge, Graph
from engine.document.layout import lay_out


class Builder:
    """`b("Conv2d", "conv1", out_channels=64)` adds a node wired from the node added last
    (or from `inputs`, one per port) and returns its id; a BlockType adds an instance."""

    def __init__(self) -> None:
        self.graph = Graph()
        self.last: str | None = None
        self.ids: dict[str, str] = {}  # label -> node id

    def __call__(
        self,
        kind: str | BlockType,
        label: str | None = None,
        inputs: list[str] | None = None,
        **params: Any,
    ) -> str:
        if isinstance(kind, BlockType):
            node = instance(self.graph, kind, label, **params)
        else:
            node = self.graph.make_node(kind, params, label)
        self.graph.insert_node(node)
        sources = inputs if inputs is not None else [self.last] if self.last else []
        for port, src in enumerate(sources):
            self.graph.insert_edge(Edge(src, node.id, port))
        self.last = node.id
        self.ids[node.label] = node.id
        return node.id

    def done(self) -> Graph:
        lay_out(self.graph)
        return self.graph


def block(
    name: str,
    body: Callable[[Builder], None],
    params: dict[str, tuple[Any, list[str]]] | None = None,
    sequential: bool = False,
    summary: str = "",
    known: dict[str, BlockType] | None = None,
) -> BlockType:
    """A block type whose body `body(builder)` writes after an Input `x`, ending at an
    Output; `params` maps each exposed name to (default, ["label.param", ...])."""
    b = Builder()
    b("Input", "x", inputs=[])
    body(b)
    b("Output", "out")
    exposed = []
    for param, (default, targets) in (params or {}).items():
        pairs = tuple((b.ids[t.split(".")[0]], t.split(".")[1]) for t in targets)
        exposed.append(BlockParam(param, default, pairs))
    made = BlockType(name, b.done(), tuple(exposed), sequential, summary)
    problems = check_block(made, {u.name: u for u in made.uses()} | (known or {}))
    if problems:
        raise ValueError(f"block {name}: {'; '.join(problems)}")
    return made
