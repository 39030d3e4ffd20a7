"""The user's submodules (and nn.Sequential containers) imported as blocks, not as opaque
Custom layers, when their forward() is made of what the catalog holds.

Each instance is traced on its own, on the values it receives in the model's forward(),
and becomes a body graph. Once the whole model is read, instances of the same class whose
bodies have the same layers and wires become one block type (a class used with other
constructor arguments, or a different structure, gets a type of its own: `BasicBlock2`).
An inner parameter whose value differs between the instances of a type (a stage's
channels) is exposed as a parameter of the block, one per set of inner values that move
together. Layers keep their attribute names, and a Sequential's steps their numbers, so
the generated model's state_dict keys are the original's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import fx, nn

from engine.document.blocks import BlockParam, BlockType
from engine.document.graph import Graph
from engine.importing.source import ModelImportError
from engine.importing.tracing import node_values, trace
from engine.layers import CATALOG

if TYPE_CHECKING:
    from engine.importing.builder import GraphBuilder


@dataclass
class Made:
    """One instance, as traced: its own body until the types are settled."""

    block: BlockType
    cls: type
    parent: Graph  # the graph its instance node is in
    node_id: str


class BlockMaker:
    """Turns submodules into block instances while a model is read, then settles the
    block types (`finish`). `sequentials`: whether nn.Sequential containers become
    blocks too (else the tracer goes through them); `enabled` off: no blocks at all (a
    flat import: the user's submodules are Custom layers)."""

    def __init__(self, taken: set[str], sequentials: bool, enabled: bool = True):
        self.taken = set(taken) | set(CATALOG)
        self.sequentials = sequentials
        self.enabled = enabled
        self.made: list[Made] = []

    def body(self, builder: GraphBuilder, node: fx.Node, module: nn.Module) -> Graph | None:
        """The body graph of the submodule `node` calls, or None when it cannot be a
        block (it is then a Custom layer, or a problem)."""
        examples = [builder.model.values.get(a) if isinstance(a, fx.Node) else a for a in node.args]
        if (
            not self.enabled
            or node.kwargs
            or not examples
            or not all(isinstance(x, torch.Tensor) for x in examples)
        ):
            return None
        from engine.importing.builder import GraphBuilder, TracedModel

        source = builder.source
        try:
            traced = trace(module, source, {}, self.sequentials)
            values = node_values(traced, examples, source)
        except ModelImportError:
            return None
        specs = [
            (tuple(x.shape), "int64" if x.dtype == torch.int64 else "float32") for x in examples
        ]
        inner = TracedModel(traced, values, specs, type(module), None, [])
        built = GraphBuilder(inner, source, builder.recorder, builder.customs, self).build()
        graph = built.graph
        outputs = [n for n in graph.nodes.values() if n.is_output]
        if (
            built.problems
            or len(outputs) != 1
            or any(n.runs_user_code for n in graph.nodes.values())
        ):
            return None
        for inner_node in graph.nodes.values():
            if inner_node.is_input:
                inner_node.params = {**inner_node.params, "shape": None}  # each instance's own
        return graph

    def record(self, block: BlockType, cls: type, parent: Graph, node_id: str) -> None:
        self.made.append(Made(block, cls, parent, node_id))

    # --- settling the types ------------------------------------------------------------

    def finish(self) -> dict[str, BlockType]:
        """Merge the instances into block types (inner ones first); the types by name."""
        groups: dict[tuple, list[Made]] = {}
        names: dict[int, str] = {}  # id of an instance's own block -> its type's name
        for made in self.made:  # inner instances were made before the ones they are in
            key = (made.cls, made.block.sequential, _structure(made.block.graph, names))
            members = groups.setdefault(key, [])
            if not members:
                names[id(made.block)] = self._name(made)
            else:
                names[id(made.block)] = names[id(members[0].block)]
            members.append(made)
        settled = {}
        for members in groups.values():
            block = _merged(names[id(members[0].block)], members)
            settled[block.name] = block
        return settled

    def _name(self, made: Made) -> str:
        if made.cls is nn.Sequential:
            label = made.parent.nodes[made.node_id].label.rstrip("0123456789_") or "stage"
            wish = "".join(part[:1].upper() + part[1:] for part in label.split("_"))
        else:
            wish = made.cls.__name__
        name, number = wish, 2
        while name in self.taken:  # a second structure of the class: BasicBlock2
            name, number = f"{wish}{number}", number + 1
        self.taken.add(name)
        return name


def _structure(graph: Graph, names: dict[int, str]) -> tuple:
    """A body's layers (id, type or block, label, parameter names) and wires."""
    nodes = tuple(
        (n.id, names.get(id(n.block), n.type), n.label, tuple(sorted(n.params)))
        for n in graph.nodes.values()
    )
    return nodes, tuple(sorted(graph.edges))


def _merged(name: str, members: list[Made]) -> BlockType:
    """One block type for instances of the same structure: the first's body, with each
    inner value that differs between them exposed."""
    first = members[0].block
    nodes = first.graph.nodes
    moving: dict[tuple, list[tuple[str, str]]] = {}  # values in each instance -> targets
    for node_id, node in nodes.items():
        for param in node.params:
            values = tuple(_value(m.block.graph.nodes[node_id].params[param]) for m in members)
            if len(set(values)) > 1:
                moving.setdefault(values, []).append((node_id, param))
    exposed, taken = [], set()
    for targets in moving.values():
        node_id, param = targets[0]
        wish = param if param not in taken else f"{nodes[node_id].label}_{param}"
        taken.add(wish)
        exposed.append(BlockParam(wish, nodes[node_id].params[param], tuple(targets)))
    block = BlockType(name, first.graph, tuple(exposed), first.sequential)
    for made in members:
        node = made.parent.nodes[made.node_id]
        node.block, node.type = block, name
        node.params = {
            p.name: made.block.graph.nodes[p.targets[0][0]].params[p.targets[0][1]] for p in exposed
        }
    return block


def _value(value: Any) -> Any:
    """A parameter value that can be compared and hashed (lists as tuples)."""
    return tuple(_value(v) for v in value) if isinstance(value, list) else (type(value), value)
