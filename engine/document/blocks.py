"""Blocks: sub-graphs used as layer types, the way PyTorch code nests `nn.Module`s.

A `BlockType` holds a body - a graph with an Input node per argument of its forward() and
one Output - and the inner parameters it exposes as its own (`BlockParam`: `channels` set
on an instance is written into every inner parameter it targets). An instance of a block
is a node like any other whose `block` is the type: its spec (`block_spec`) gives the
canvas, the inspector and the wiring rules its ports and parameters, and shape inference
and codegen go through its body.

A *sequential* block is a chain of layers written as an `nn.Sequential`, so that its
children are numbered (`features.0.1.weight`) as in torchvision's models.

No torch here: this is the document.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from engine.document.graph import Graph, GraphError, Node
from engine.layers import LayerSpec, Param, ParamError, Role
from engine.layers.params import show

BLOCKS_CATEGORY = "Blocks"
MAX_DEPTH = 32  # blocks inside blocks: inference and codegen recurse once per level


@dataclass(frozen=True)
class BlockParam:
    """An inner parameter (or several that move together) made a parameter of the block.

    targets: (inner node id, parameter name) pairs that take the instance's value.
    """

    name: str
    default: Any
    targets: tuple[tuple[str, str], ...]
    help: str = ""


@dataclass(eq=False)
class BlockType:
    """A block's name (its class name in generated code), body and exposed parameters."""

    name: str
    graph: Graph
    params: tuple[BlockParam, ...] = ()
    sequential: bool = False
    summary: str = ""
    _spec: LayerSpec | None = field(default=None, repr=False)

    @property
    def inputs(self) -> list[str]:
        """The body's Input node ids: the block's input ports, in order."""
        return [n.id for n in self.graph.nodes.values() if n.is_input]

    @property
    def output(self) -> str:
        return next(n.id for n in self.graph.nodes.values() if n.is_output)

    def changed(self) -> None:
        """The body was edited: the spec (ports, parameters) is made again when asked."""
        self._spec = None

    @property
    def spec(self) -> LayerSpec:
        if self._spec is None:
            self._spec = block_spec(self)
        return self._spec

    def param_schema(self, param: BlockParam) -> Param:
        """The schema of an exposed parameter: its first target's, renamed."""
        node_id, inner = param.targets[0]
        schema = self.graph.nodes[node_id].spec.param(inner)
        return replace(
            schema, name=param.name, default=param.default, help=param.help or schema.help
        )

    def bound(self, values: dict[str, Any]) -> Graph:
        """The body with an instance's parameter values written into their targets."""
        changes: dict[str, dict[str, Any]] = {}
        for param in self.params:
            for node_id, inner in param.targets:
                changes.setdefault(node_id, {})[inner] = values.get(param.name, param.default)
        return self.graph.with_params(changes)

    def chain(self) -> list[str]:
        """The body's layers from input to output, for a sequential block."""
        order = []
        current = self.inputs[0]
        while True:
            nexts = self.graph.outputs_of(current)
            current = nexts[0].dst
            if current == self.output:
                return order
            order.append(current)

    def uses(self) -> list[BlockType]:
        """The block types instanced directly in the body."""
        found: dict[str, BlockType] = {}
        for node in self.graph.nodes.values():
            if node.block is not None:
                found.setdefault(node.block.name, node.block)
        return list(found.values())


def block_spec(block: BlockType) -> LayerSpec:
    ports = len(block.inputs)
    return LayerSpec(
        type=block.name,
        category=BLOCKS_CATEGORY,
        summary=block.summary or f"A block of {len(block.graph.nodes) - ports - 1} layers.",
        params=tuple(block.param_schema(p) for p in block.params),
        min_inputs=ports,
        max_inputs=ports,
        module=block.name,
        label=snake_name(block.name),
    )


def snake_name(name: str) -> str:
    """`BasicBlock` -> `basic_block`: an instance's default label."""
    out = []
    for i, char in enumerate(name):
        if char.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(char.lower())
    return "".join(out)


def check_block(block: BlockType, known: dict[str, BlockType]) -> list[str]:
    """What is wrong with a block type, as sentences; `known` are the block types that
    may be instanced inside it (those defined before it)."""
    graph = block.graph
    problems = []
    if not block.name.isidentifier() or not block.name[0].isupper():
        problems.append(f"the name {show(block.name)} must be a class name (Letters, digits, _)")
    outputs = [n for n in graph.nodes.values() if n.is_output]
    if len(outputs) != 1:
        problems.append(f"a block has one Output; this one has {len(outputs)}")
    if not block.inputs:
        problems.append("a block has at least one Input")
    for node in graph.nodes.values():
        if node.block is not None and known.get(node.block.name) is not node.block:
            problems.append(f"'{node.label}' uses block {node.block.name}, defined after it")
        if node.runs_user_code:  # its class would have to be written inside the block's
            problems.append(f"'{node.label}' is a Custom layer, which a block cannot hold yet")
    if depth(block) > MAX_DEPTH:
        problems.append(f"blocks nest more than {MAX_DEPTH} levels deep here")
    names = [p.name for p in block.params]
    for param in block.params:
        problems += _param_problems(block, param, names)
    if block.sequential and not problems:
        problems += _chain_problems(block)
    return problems


def _param_problems(block: BlockType, param: BlockParam, names: list[str]) -> list[str]:
    where = f"parameter {show(param.name)}"
    if not param.name.isidentifier() or names.count(param.name) > 1:
        return [f"{where} needs a unique Python name"]
    if not param.targets:
        return [f"{where} sets no inner parameter"]
    for node_id, inner in param.targets:
        node = block.graph.nodes.get(node_id)
        if node is None or inner not in node.spec.param_names:
            return [f"{where} targets {show(node_id)}.{show(inner)}, which does not exist"]
    try:
        block.param_schema(param).validate(param.default)
    except ParamError as exc:
        return [f"{where}'s default {exc}"]
    return []


def _chain_problems(block: BlockType) -> list[str]:
    """A sequential block is one Input, then a chain of single-input layers, each of which
    can be a module, then the Output."""
    graph = block.graph
    if len(block.inputs) != 1:
        return ["a sequential block has one Input"]
    for node in graph.nodes.values():
        if len(graph.outputs_of(node.id)) > 1 or len(graph.inputs_of(node.id)) > 1:
            return [f"a sequential block is a chain, but '{node.label}' branches or merges"]
        if node.spec.role is Role.LAYER and not _is_module(node):
            return [f"'{node.label}' ({node.type}) cannot be a step of an nn.Sequential"]
    reached = len(_walk(graph, block.inputs[0]))
    if reached != len(graph.nodes):
        return ["a sequential block's layers must all lie on the chain from Input to Output"]
    return []


def _is_module(node: Node) -> bool:
    spec = node.spec
    return node.block is not None or spec.module is not None or spec.as_module is not None


def _walk(graph: Graph, start: str) -> list[str]:
    seen = [start]
    while nexts := graph.outputs_of(seen[-1]):
        seen.append(nexts[0].dst)
    return seen


def instance(graph: Graph, block: BlockType, label: str | None = None, **params: Any) -> Node:
    """A new instance node of `block` for `graph` (not yet inserted)."""
    spec = block.spec
    values = spec.defaults()
    for name, value in params.items():
        if name not in spec.param_names:
            raise GraphError(f"block {block.name} has no parameter {show(name)}")
        try:
            values[name] = spec.param(name).validate(value)
        except ParamError as exc:
            raise GraphError(f"{name}: {exc}") from None
    return Node(
        id=graph.new_id(),
        type=block.name,
        params=values,
        label=graph.unique_label(label or spec.label),
        block=block,
    )


def depth(block: BlockType) -> int:
    """1 for a block of layers, one more for each level of blocks inside."""
    return 1 + max((depth(inner) for inner in block.uses()), default=0)


def dependency_order(blocks: list[BlockType]) -> list[BlockType]:
    """Every block type reachable from `blocks`, each after the blocks it uses."""
    order: list[BlockType] = []
    seen: set[str] = set()

    def visit(block: BlockType) -> None:
        if block.name in seen:
            return
        seen.add(block.name)
        for inner in block.uses():
            visit(inner)
        order.append(block)

    for block in blocks:
        visit(block)
    return order


def blocks_of(graph: Graph) -> list[BlockType]:
    """The block types a graph uses, directly or inside other blocks, dependencies first."""
    direct = [n.block for n in graph.nodes.values() if n.block is not None]
    return dependency_order(direct)
