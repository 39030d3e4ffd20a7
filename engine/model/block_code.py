"""One class per block type, with `__init__` arguments, as a person would write it.

A block's instances may see different inputs (a ResNet stage's first block gets 64
channels, the next ones 128), so a value inferred inside the body may differ from one
instance to the next. `signatures` looks at every instance the model holds (inside other
blocks too) and decides, per inner value:
- an exposed parameter's target is written as that argument (`channels`);
- an inferred value that is the same in every instance is written as a number, unless an
  argument of the same name holds it;
- one that differs becomes an argument (`in_channels`), or reuses the argument that
  holds the same values in every instance (a BatchNorm's `num_features` is `channels`).

So `class BasicBlockDown(nn.Module): def __init__(self, in_channels, channels=128,
stride=2)` and `self.layer2 = DownStage2(64, 128)`. A sequential block's class is an `nn.Sequential`
whose steps are numbered, as torchvision's are.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any

from engine.document.blocks import BlockType, dependency_order
from engine.document.graph import Graph, Node
from engine.layers.spec import literal
from engine.model.code_body import LINE_ROOM, BodyWriter, Lines, docstring_text, wrapped
from engine.model.naming import Namespace
from engine.model.shapes import NodeResult

NO_DEFAULT = object()


class Code:
    """Source standing for a value in a block's class (an argument's name); `seen` is told
    each time it is written."""

    def __init__(self, text: str, seen=None):
        self.text = text
        self.seen = seen

    def __repr__(self) -> str:
        if self.seen is not None:
            self.seen(self.text)
        return self.text


@dataclass
class Arg:
    name: str
    default: Any = NO_DEFAULT
    positional: bool = True

    @property
    def required(self) -> bool:
        return self.default is NO_DEFAULT


@dataclass
class Signature:
    """A block type's `__init__` arguments, the inner values written with them, and each
    instance's values for them."""

    block: BlockType
    order: list[str]  # the body's nodes that lead to its Output, inputs first
    args: list[Arg] = field(default_factory=list)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # inner node -> param
    shapes: dict[str, str | None] = field(default_factory=dict)  # the same in every instance
    _instances: dict[int, dict[str, Any]] = field(default_factory=dict)

    def of(self, result: NodeResult) -> dict[str, Any]:
        """An instance's values for the arguments (by its inference result)."""
        return self._instances[id(result)]

    def call(self, arguments: dict[str, Any]) -> str:
        """`BasicBlock(64, 128, stride=2)`."""
        parts = []
        for arg in self.args:
            value = arguments[arg.name]
            if arg.positional:
                parts.append(literal(value))
            elif isinstance(value, Code) or value != arg.default:
                parts.append(f"{arg.name}={literal(value)}")
        return f"{self.block.name}({', '.join(parts)})"

    def definition(self) -> list[str]:
        return [a.name if a.required else f"{a.name}={literal(a.default)}" for a in self.args]


def body_order(block: BlockType) -> list[str]:
    graph = block.graph
    return graph.topological_order({*graph.ancestors(block.output), block.output, *block.inputs})


def signatures(graph: Graph, results: dict[str, NodeResult], order: list[str]) -> dict:
    """Block name -> Signature for every block type instanced among `order`, nested ones
    included, each after the blocks it uses."""
    found: dict[str, list[NodeResult]] = {}
    blocks: dict[str, BlockType] = {}
    _collect(graph, results, order, found, blocks)
    signed: dict[str, Signature] = {}
    for block in dependency_order(list(blocks.values())):
        if block.name in found:  # a block inside a body but off its way to the Output: unused
            signed[block.name] = _signature(block, found[block.name], signed)
    return signed


def _collect(graph, results, order, found, blocks) -> None:
    for node_id in order:
        node = graph.nodes[node_id]
        if node.block is None:
            continue
        result = results[node_id]
        found.setdefault(node.block.name, []).append(result)
        blocks[node.block.name] = node.block
        inner = result.inner
        _collect(inner.graph, inner.results, body_order(node.block), found, blocks)


def _same(a: tuple, b: tuple) -> bool:
    return all(type(x) is type(y) and x == y for x, y in zip(a, b, strict=True))


def _varies(values: tuple) -> bool:
    return any(not _same((values[0],), (v,)) for v in values[1:])


def _signature(block: BlockType, results: list[NodeResult], signed: dict) -> Signature:
    sig = Signature(block, body_order(block))
    inner = [r.inner.results for r in results]
    names = Namespace({p.name for p in block.params})
    targets = {t: p.name for p in block.params for t in p.targets}
    held: dict[str, tuple] = {}  # argument -> its value in each instance
    exposed: list[Arg] = []
    for param in block.params:
        node_id, name = param.targets[0]
        held[param.name] = _values_of(block.graph.nodes[node_id], node_id, inner, signed)[name][0]
        default = NO_DEFAULT if param.default is None else param.default
        positional = default is NO_DEFAULT or block.param_schema(param).positional
        exposed.append(Arg(param.name, default, positional))
    found: list[Arg] = []
    for node_id in sig.order:
        node = block.graph.nodes[node_id]
        if node.is_input or node.is_output:
            continue
        written = {}
        for name, (values, inferred) in _values_of(node, node_id, inner, signed).items():
            if (node_id, name) in targets:
                written[name] = Code(targets[node_id, name])
                continue
            holder = next(
                (
                    a
                    for a in [*exposed, *found]
                    if _same(held[a.name], values) and (_varies(values) or a.name == name)
                ),
                None,
            )
            if holder is not None and (inferred or _varies(values)):
                written[name] = Code(holder.name)
            elif not _varies(values):
                written[name] = values[0]
            else:
                arg = Arg(names.take(name))
                found.append(arg)
                held[arg.name] = values
                written[name] = Code(arg.name)
        sig.values[node_id] = written
        shapes = {r[node_id].output.describe() for r in inner}
        sig.shapes[node_id] = shapes.pop() if len(shapes) == 1 else None
    ordered = [*found, *(a for a in exposed if a.required)]
    ordered += [a for a in exposed if not a.required and a.positional]
    sig.args = ordered + [a for a in exposed if not a.required and not a.positional]
    for i, result in enumerate(results):
        sig._instances[id(result)] = {a.name: held[a.name][i] for a in sig.args}
    return sig


def _values_of(node: Node, node_id: str, inner: list, signed: dict) -> dict[str, tuple]:
    """Param (or a nested block's argument) -> (its value in each instance, whether it
    was inferred rather than set)."""
    here = [results[node_id] for results in inner]
    if node.block is not None:
        nested = signed[node.block.name]
        return {
            a.name: (tuple(nested.of(r)[a.name] for r in here), a.required) for a in nested.args
        }
    return {
        p.name: (tuple(r.params[p.name] for r in here), p.name in here[0].inferred)
        for p in node.spec.params
    }


# --- writing a block's class -----------------------------------------------------------------


class _BlockBody(BodyWriter):
    def __init__(self, sig: Signature, signed: dict, taken: set[str]):
        block = sig.block
        super().__init__(block.graph, sig.order, [block.output], taken)
        self.sig = sig
        self.signed = signed
        self.stored: list[str] = []  # the arguments forward() reads from self

    def values(self, node_id: str) -> dict[str, Any]:
        return self.sig.values[node_id]

    def forward_values(self, node_id: str) -> dict[str, Any]:
        return {
            name: Code(f"self.{value.text}", self._store) if isinstance(value, Code) else value
            for name, value in self.values(node_id).items()
        }

    def _store(self, text: str) -> None:
        if text[5:] not in self.stored:
            self.stored.append(text[5:])

    def constructor(self, node: Node, values: dict[str, Any]) -> str | None:
        if node.block is not None:
            return self.signed[node.block.name].call(values)
        return super().constructor(node, values)

    def shape(self, node_id: str) -> str | None:
        return self.sig.shapes[node_id]


def write_block(sig: Signature, signed: dict, taken: set[str]) -> tuple[Lines, set[str]]:
    """The class of one block type, and the names of the imports it uses."""
    block = sig.block
    lines = Lines()
    base = "nn.Sequential" if block.sequential else "nn.Module"
    lines.add(f"class {block.name}({base}):")
    if block.summary:
        text = textwrap.wrap(docstring_text(block.summary), LINE_ROOM - 6)
        lines.add(f'"""{chr(10).join(text)}"""', indent=1)
        lines.add()
    if block.sequential:
        return lines, _write_steps(lines, sig, signed)
    body = _BlockBody(sig, signed, taken | {arg.name for arg in sig.args})
    body.write()
    before = [f"self.{name} = {name}" for name in body.stored]
    body.write_methods(lines, block.inputs, sig.definition(), before)
    # The lines belong to every instance at once: an error raised in them is told by the
    # model's line that builds or calls the instance, where the traceback passes first.
    lines.nodes.clear()
    return lines, body.uses | {"nn"}


def _write_steps(lines: Lines, sig: Signature, signed: dict) -> set[str]:
    uses = {"nn"}
    lines.add(wrapped(f"def __init__({', '.join(['self', *sig.definition()])}):", 1), indent=1)
    lines.add("super().__init__(", indent=2)
    for node_id in sig.block.chain():
        node = sig.block.graph.nodes[node_id]
        values = sig.values[node_id]
        if node.block is not None:
            step = signed[node.block.name].call(values)
        elif node.spec.module is not None:
            step = node.spec.constructor(values)
            uses |= node.spec.imports(values)
        else:
            step = node.spec.as_module(values)
        lines.add(wrapped(f"{step},", 3), indent=3)
    lines.add(")", indent=2)
    return uses
