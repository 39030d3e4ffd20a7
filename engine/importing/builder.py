"""The traced forward() -> a Torchwright graph, one torch.fx node at a time.

Every fx node gets a value: a `Wire` (a tensor: the output of a graph node), a marker for
something that is not a tensor yet (what an LSTM returns, a tensor's shape, the batch
size), or a plain value computed on the example inputs (`x.size(1)`, `16 * 5 * 5`). An
operation that cannot be expressed is reported with its line and its value is `BAD`, so
that the operations using its result are not reported again.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import fx, nn

from engine.document.blocks import BlockType, instance
from engine.document.graph import Edge, Graph, GraphError, clean_label, free_label
from engine.importing import operations
from engine.importing.arguments import CONVERTERS, Args
from engine.importing.blocks import BlockMaker
from engine.importing.custom import CustomLayers, Unsupported
from engine.importing.functions import (
    ADD,
    CHUNK,
    CONCAT,
    MATMUL,
    MULTIPLY,
    PASS_THROUGH,
    PERMUTE,
    RESHAPE,
    SIGNATURES,
    SUBTRACT,
    describe,
)
from engine.importing.loading import ArgumentRecorder
from engine.importing.modules import PAIRED, RECURRENT, layer_for
from engine.importing.source import SourceFile
from engine.importing.values import (
    BAD,
    BATCH,
    LAST_STEP,
    TENSORS,
    Chunks,
    Marker,
    Paired,
    Recurrent,
    Sequence,
    Shape,
    Wire,
    contains,
    describe_value,
    index_text,
)
from engine.layers import get_spec
from engine.layers.params import show

MAX_LABEL = 60  # project files allow 64 characters; the rest is room for a number


@dataclass
class BuiltGraph:
    graph: Graph
    lines: dict[str, int | None] = field(default_factory=dict)  # node id -> line of the code
    modules: dict[str, str] = field(default_factory=dict)  # node id -> submodule it stands for
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line or 0, message)
    blocks: dict[str, BlockType] = field(default_factory=dict)  # the block types made


@dataclass
class TracedModel:
    """What the builder reads: the traced forward(), each node's value on the example
    inputs, and each Input's (shape with the batch dimension, dtype)."""

    module: fx.GraphModule
    values: dict[fx.Node, Any]
    inputs: list[tuple[tuple[int, ...], str]]
    cls: type[nn.Module]
    return_line: int | None
    return_names: list[str | None]


class GraphBuilder:
    def __init__(
        self,
        model: TracedModel,
        source: SourceFile,
        recorder: ArgumentRecorder,
        customs: CustomLayers,
        blocks: BlockMaker,
    ):
        self.model = model
        self.source = source
        self.recorder = recorder
        self.customs = customs
        self.blocks = blocks
        self.built = BuiltGraph(Graph())
        self.graph = self.built.graph
        self.values: dict[fx.Node, Any] = {}
        self.line: int | None = None
        self.order: dict[fx.Node, int] = {}
        self.reserved: set[str] = set()
        self.called: set[str] = set()
        self.inputs_seen = 0
        self.recurrent_uses: dict[str, set[str]] = {}
        self.handlers: dict[Any, Callable[[fx.Node, tuple, dict], Any]] = {
            operator.getitem: self._getitem,
            getattr: self._getattr,
            "size": self._size,
            "dim": self._fold,
            **{t: self._pass for t in PASS_THROUGH},
            **{t: self._reshape for t in RESHAPE},
            **{t: self._concat for t in CONCAT},
            **{t: self._merge for t in ADD | MULTIPLY},
            **{t: functools.partial(operations.permute, self) for t in PERMUTE},
            **{t: functools.partial(operations.two_tensors, self) for t in SUBTRACT | MATMUL},
            **{t: functools.partial(operations.chunk, self) for t in CHUNK},
        }

    def build(self) -> BuiltGraph:
        """The graph of every operation that could be imported, and the problems."""
        nodes = list(self.model.module.graph.nodes)
        self.order = {node: i for i, node in enumerate(nodes)}
        self.reserved = {_label_of(n.target) for n in nodes if n.op == "call_module"}
        visit = {
            "placeholder": self._input,
            "get_attr": self._attribute,
            "call_module": self._module,
            "call_function": self._call,
            "call_method": self._call,
            "output": self._outputs,
        }
        for node in nodes:
            self.line = self.source.node_line(node)
            self.values[node] = visit[node.op](node)
        self._settle_recurrent()
        return self.built

    # --- reporting and graph edits --------------------------------------------------

    def _report(self, message: str, line: int | None = None) -> Marker:
        self.built.problems.append((line or self.line or 0, message))
        return BAD

    def _label(self, wish: str, claim: bool = False) -> str:
        """A free label; `claim`: the label of a submodule, which it may take."""
        blocked = self.graph.labels() | (set() if claim else self.reserved)
        return free_label(clean_label(wish)[:MAX_LABEL], blocked)

    def _add(
        self, layer: str, params: dict, sources: list[str], label: str, what: str
    ) -> str | None:
        try:
            node = self.graph.make_node(layer, params, label=label)
        except GraphError as exc:
            self._report(f"{what}: {exc}")
            return None
        self.graph.insert_node(node)
        self.built.lines[node.id] = self.line
        for port, source_id in enumerate(sources):
            self._connect(source_id, node.id, port)
        return node.id

    def _connect(self, source_id: str, node_id: str, port: int) -> None:
        """Wire source -> node; the same tensor twice (x * x) goes once through an Identity."""
        if any(e.src == source_id for e in self.graph.inputs_of(node_id)):
            hop = self.graph.make_node("Identity", label=self._label("identity1"))
            self.graph.insert_node(hop)
            self.built.lines[hop.id] = self.line
            self.graph.insert_edge(Edge(source_id, hop.id))
            source_id = hop.id
        self.graph.insert_edge(Edge(source_id, node_id, port))

    def _wires(self, values: list[Any], what: str) -> list[str] | None:
        """Graph node ids of tensors; None (reported, unless already) if one is not a tensor."""
        ids = []
        for value in values:
            if value is BAD:
                return None
            if isinstance(value, Sequence):
                self.recurrent_uses.setdefault(value.node_id, set()).add("sequence")
            if not isinstance(value, Wire | Sequence):
                self._report(f"{what} is given {describe_value(value)} where it needs a tensor")
                return None
            ids.append(value.node_id)
        return ids

    def _layer(
        self, layer: str, params: dict, inputs: list[Any], what: str, label: str
    ) -> Wire | Marker:
        sources = self._wires(inputs, what)
        if sources is None:
            return BAD
        node_id = self._add(layer, params, sources, label, what)
        return BAD if node_id is None else Wire(node_id)

    def _settings(self, node: fx.Node, layer: str, args: Args, what: str) -> bool:
        """Whether the layer's settings and its use in place are supported (else reported)."""
        if args.problems:
            self._report(
                f"{what} uses {', '.join(args.problems)}, which Torchwright's {layer} "
                "cannot express"
            )
            return False
        first = node.args[0] if node.args else None
        mutates = args.inplace or (node.op == "call_method" and node.target.endswith("_"))
        if mutates and isinstance(first, fx.Node) and self._read_later(first, node):
            self._report(
                f"{what} changes its input in place, and that input is used again; "
                "Torchwright's layers never change their input"
            )
            return False
        return True

    # --- one handler per kind of fx node ----------------------------------------------

    def _input(self, node: fx.Node) -> Any:
        index = self.inputs_seen
        self.inputs_seen += 1
        if index >= len(self.model.inputs):  # an optional argument left at its default
            return node.args[0] if node.args else None
        if not node.users:
            self._report(
                f"forward() does not use its argument {node.target}; a Torchwright model "
                "uses every input",
                self.source.definition_line(self.model.cls.forward),
            )
        shape, dtype = self.model.inputs[index]
        params = {"shape": list(shape[1:]), "dtype": dtype}
        node_id = self._add("Input", params, [], self._label(node.target), "an input")
        return Wire(node_id) if node_id else BAD

    def _attribute(self, node: fx.Node) -> Marker:
        return self._report(
            f"forward() uses self.{node.target} directly; Torchwright keeps weights only "
            "inside layers (move it into a submodule of its own)"
        )

    def _module(self, node: fx.Node) -> Any:
        module = self.model.module.get_submodule(node.target)
        what = f"`{_class_text(type(module))}` ({_attribute_path(node.target)})"
        args = self._mapped(node.args)
        if node.kwargs:
            return self._report(f"{what} is called with keyword arguments")
        first_use = node.target not in self.called
        self.called.add(node.target)
        if not first_use and any(True for _ in [*module.parameters(), *module.buffers()]):
            return self._report(
                f"{what} is called more than once; Torchwright layers cannot share weights"
            )
        label = self._label(_label_of(node.target), claim=first_use)
        found = layer_for(module, _rank(node, self.model.values))
        body = None if found is not None else self.blocks.body(self, node, module)
        if found is not None:
            value = self._catalog_module(node, found, list(args), what, label)
        elif body is not None:
            value = self._block(body, module, list(args), what, label)
        elif self.recorder.call_of(module) is not None:
            value = self._custom_module(node, module, list(args), what, label)
        else:
            extra = (
                "" if _from_torch(type(module)) else f", nor is it defined in {self.source.shown}"
            )
            return self._report(f"{what} has no Torchwright layer{extra}")
        if isinstance(value, Wire | Recurrent | Paired) and first_use:
            self.built.modules[value.node_id] = node.target
        return value

    def _catalog_module(
        self, node: fx.Node, found: tuple[str, dict, Args], args: list, what: str, label: str
    ) -> Any:
        layer, params, settings = found
        if not self._settings(node, layer, settings, what):
            return BAD
        if layer in PAIRED and len(args) == 3 and args[0] == args[1] == args[2]:
            args = args[:1]  # self-attention: one input
        spec = get_spec(layer)
        if not spec.accepts(len(args)):
            takes = "one" if spec.max_inputs == 1 else f"{spec.min_inputs} to {spec.max_inputs}"
            return self._report(
                f"{what} is given {len(args)} inputs; Torchwright's {layer} takes {takes}"
            )
        value = self._layer(layer, params, args, what, label)
        if not isinstance(value, Wire):
            return value
        if layer in PAIRED:
            return Paired(value.node_id)
        return Recurrent(value.node_id) if layer in RECURRENT else value

    def _block(self, body: Graph, module: nn.Module, args: list, what: str, label: str) -> Any:
        sources = self._wires(args, what)
        if sources is None:
            return BAD
        block = BlockType(type(module).__name__, body, sequential=type(module) is nn.Sequential)
        node = instance(self.graph, block, label)
        self.graph.insert_node(node)
        self.built.lines[node.id] = self.line
        for port, source_id in enumerate(sources):
            self._connect(source_id, node.id, port)
        self.blocks.record(block, type(module), self.graph, node.id)
        return Wire(node.id)

    def _custom_module(
        self, node: fx.Node, module: nn.Module, args: list, what: str, label: str
    ) -> Any:
        try:
            params = self.customs.params(module, self.recorder.call_of(module))
        except Unsupported as exc:
            return self._report(f"{what} cannot become a Custom layer: {exc}")
        result = self.model.values[node]
        if not isinstance(result, torch.Tensor):
            return self._report(
                f"{what} returns {type(result).__name__}; a Custom layer returns one tensor"
            )
        return self._layer("Custom", params, args, what, label)

    def _call(self, node: fx.Node) -> Any:
        args, kwargs = self._mapped(node.args), self._mapped(node.kwargs)
        handler = self.handlers.get(node.target)
        if handler is not None:
            return BAD if contains((args, kwargs), BAD) else handler(node, args, kwargs)
        signature = SIGNATURES.get(node.target)
        if signature is None or not contains((args, kwargs), *TENSORS, BAD):
            return self._other(node, args, kwargs)
        bound = signature.bind(args, kwargs)
        settings = Args(bound, _rank(node, self.model.values))
        params = CONVERTERS[signature.layer](settings)
        what = describe(node)
        if not self._settings(node, signature.layer, settings, what):
            return BAD
        label = self._default_label(signature.layer)
        return self._layer(signature.layer, params, [bound["input"]], what, label)

    def _other(self, node: fx.Node, args: tuple, kwargs: dict) -> Any:
        """A call with no layer: computed once here when it works on plain values."""
        what = describe(node)
        if contains((args, kwargs), *TENSORS, BAD):
            return self._report(f"{what} has no Torchwright layer")
        if contains((args, kwargs), BATCH, Shape):
            return self._report(
                f"{what} on the batch size has no Torchwright layer; a Reshape keeps the "
                "batch dimension first, as x.size(0) or -1"
            )
        return self._fold(node, args, kwargs)

    def _fold(self, node: fx.Node, args: tuple, kwargs: dict) -> Any:
        value = self.model.values[node]
        if isinstance(value, torch.Tensor):
            return self._report(
                f"{describe(node)} makes a tensor inside forward(), which no Torchwright layer does"
            )
        return value

    def _outputs(self, node: fx.Node) -> None:
        self.line = self.model.return_line
        result = self._mapped(node.args[0])
        if isinstance(result, dict):
            self._report("forward() returns a dict; a Torchwright model returns tensors")
            return
        items = list(result) if isinstance(result, tuple | list) else [result]
        names = self.model.return_names if len(self.model.return_names) == len(items) else []
        for i, item in enumerate(items):
            if item is not BAD and not isinstance(item, Wire | Sequence):
                self._report(f"forward() returns {describe_value(item)}; a model returns tensors")
                continue
            name = clean_label(names[i]) if names and names[i] else None
            if name is None or name in self.graph.labels() | self.reserved:
                name = "out" if len(items) == 1 else f"out{i + 1}"
            self._layer("Output", {}, [item], "forward()", self._label(name))

    # --- calls with a rule of their own -------------------------------------------------

    def _getitem(self, node: fx.Node, args: tuple, kwargs: dict) -> Any:
        obj, index = args
        if isinstance(obj, Shape):
            return obj.dims[index]
        if isinstance(obj, Chunks):
            return operations.piece(self, node, obj, index)
        if isinstance(obj, Paired):
            if index == 0:
                return Wire(obj.node_id)
            return self._report(
                "the attention weights (the second item nn.MultiheadAttention returns) have no "
                "Torchwright layer; take its output: out, _ = attn(q, k, v)"
            )
        if isinstance(obj, tuple | list) and not contains(obj, *TENSORS):
            return obj[index]
        if isinstance(obj, Recurrent):
            if index == 0:
                return Sequence(obj.node_id)
            layer = self.graph.nodes[obj.node_id].type
            return self._report(
                f"the hidden state (the second item {layer} returns) has no Torchwright "
                f"equivalent; Torchwright's {layer} gives its output or, with output=last, "
                "its last step out[:, -1]"
            )
        if isinstance(obj, Sequence) and any(index == last for last in LAST_STEP):
            self.recurrent_uses.setdefault(obj.node_id, set()).add("last")
            return Wire(obj.node_id)
        if isinstance(obj, Wire | Sequence):
            text = index_text(index)
            return self._report(f"indexing a tensor ([{text}]) has no Torchwright layer")
        return self._other(node, args, kwargs)

    def _getattr(self, node: fx.Node, args: tuple, kwargs: dict) -> Any:
        obj, name = args[0], args[1]
        if not isinstance(obj, Wire | Sequence):
            return self._other(node, args, kwargs)
        if name == "shape":
            return Shape((BATCH, *self.model.values[node][1:]))
        return self._fold(node, args, kwargs)  # x.ndim, x.dtype

    def _size(self, node: fx.Node, args: tuple, kwargs: dict) -> Any:
        if not isinstance(args[0], Wire | Sequence):
            return self._other(node, args, kwargs)
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        value = self.model.values[node]
        if dim is None:
            return Shape((BATCH, *value[1:]))
        return BATCH if dim % _rank(node, self.model.values) == 0 else value

    def _pass(self, node: fx.Node, args: tuple, kwargs: dict) -> Any:
        return args[0] if isinstance(args[0], Wire | Sequence) else self._other(node, args, kwargs)

    def _reshape(self, node: fx.Node, args: tuple, kwargs: dict) -> Any:
        what = describe(node)
        dims = list(args[1:]) or [kwargs.get("shape")]
        if len(dims) == 1 and isinstance(dims[0], tuple | list | Shape):
            dims = list(dims[0].dims if isinstance(dims[0], Shape) else dims[0])
        first, rest = dims[0], dims[1:]
        numbers = all(isinstance(d, int) and not isinstance(d, bool) for d in rest)
        if not (rest and numbers and (first is BATCH or (first == -1 and -1 not in rest))):
            shown = ", ".join("x.size(0)" if d is BATCH else show(d) for d in dims)
            return self._report(
                f"{what} to ({shown}) cannot be imported: a Reshape keeps the batch "
                "dimension first (as x.size(0) or -1) and gives the other sizes as numbers"
            )
        label = self._default_label("Reshape")
        return self._layer("Reshape", {"shape": rest}, [args[0]], what, label)

    def _concat(self, node: fx.Node, args: tuple, kwargs: dict) -> Any:
        tensors = args[0] if args else kwargs.get("tensors")
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        label = self._default_label("Concat")
        return self._layer("Concat", {"dim": dim}, list(tensors), describe(node), label)

    def _merge(self, node: fx.Node, args: tuple, kwargs: dict) -> Any:
        layer = "Add" if node.target in ADD else "Multiply"
        what = describe(node)
        operands = list(args[:2])
        if not contains(operands, *TENSORS):
            return self._other(node, args, kwargs)
        scaled = operations.scale(self, node, operands) if layer == "Multiply" else None
        if scaled is not None:
            return scaled
        if not all(isinstance(v, Wire | Sequence) for v in operands):
            return self._report(f"{what} between a tensor and a number has no Torchwright layer")
        if kwargs.get("alpha", 1) != 1:
            return self._report(f"{what} uses alpha={kwargs['alpha']!r}, which Add cannot express")
        return self._layer(layer, {}, operands, what, self._default_label(layer))

    # --- helpers ------------------------------------------------------------------------

    def _read_later(self, value: fx.Node, node: fx.Node) -> bool:
        """Whether `value` is used after `node` (which changes it in place)."""
        return any(self.order[user] > self.order[node] for user in value.users)

    def _mapped(self, value: Any) -> Any:
        return fx.node.map_arg(value, self.values.__getitem__)

    def _default_label(self, layer: str) -> str:
        return self._label(f"{get_spec(layer).label}1")

    def _settle_recurrent(self) -> None:
        for node_id, uses in self.recurrent_uses.items():
            layer = self.graph.nodes[node_id].type
            if uses == {"last"}:
                self.graph.update_node(node_id, params={"output": "last"})
            elif len(uses) > 1:
                self._report(
                    f"the output of the {layer} is used both whole and by its last step "
                    f"out[:, -1]; a Torchwright {layer} gives one or the other",
                    self.built.lines.get(node_id),
                )


def _rank(node: fx.Node, values: dict[fx.Node, Any]) -> int:
    first = node.args[0] if node.args else node.kwargs.get("input")
    value = values.get(first) if isinstance(first, fx.Node) else None
    return value.dim() if isinstance(value, torch.Tensor) else 0


def _label_of(target: str) -> str:
    return clean_label(target.replace(".", "_"))


def _attribute_path(target: str) -> str:
    return "self" + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in target.split("."))


def _from_torch(cls: type) -> bool:
    return cls.__module__.split(".")[0] == "torch"


def _class_text(cls: type) -> str:
    return f"nn.{cls.__name__}" if cls.__module__.startswith("torch.nn") else cls.__name__
