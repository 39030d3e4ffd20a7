"""Live shape inference: the shape on every wire, inferred parameters, parameter counts
and problems pinned to the node (and wire) that causes them.

Each layer's output shape comes from its spec's shape rule (plain arithmetic, checked
against meta-tensor execution in the tests) or, for Custom layers, from running the layer
on meta-device tensors: shapes without memory or compute. Every module is also built on
the meta device, which counts its parameters and catches bad constructor arguments.

`ShapeInference` observes a graph and, after an edit, re-infers only the edited node and
the nodes downstream of it.

Some values may come from the data (`Param.from_data`): an Input's shape, the units of
a Linear that feeds an Output. They follow `DataShapes` once the data is known (the
app's data preview, a run's loaded data) and wait until then; `resolved` gives the graph
with them written in, for a run to build and keep.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from engine.document.events import EdgeEvent, GraphEvent, NodeMoved, NodeRemoved
from engine.document.graph import Edge, Graph, Node
from engine.document.trust import NOT_ALLOWED, Trust
from engine.errors import USER_CODE_ERRORS, exit_text
from engine.layers import ShapeError, TensorInfo
from engine.layers.params import ParamError
from engine.model.runtime import CUSTOM_FILENAME, base_namespace, run_custom_source

BATCH = 2  # batch size of the meta tensors; shown to users as "N"
DTYPES = {"float32": "float", "int64": "long"}
INPUT_DTYPES = {kind: name for name, kind in DTYPES.items()}
TORCH_DTYPES = {"float": torch.float32, "long": torch.int64}


@dataclass(frozen=True)
class DataShapes:
    """What the data says of the model's two ends: the shape of one sample, and the units
    each Output needs (by its label) for its loss and targets."""

    sample: tuple[int, ...]
    units: Mapping[str, int]


NO_DATA_YET = "waits for the data: its shape appears once the data is loaded"


@dataclass
class NodeResult:
    """What inference found at one node.

    status: "ok"; "error" (this node is at fault: see message, and edge for the wire);
    "waiting" (an input is missing or has a problem upstream, or custom code has not run).
    """

    status: str
    output: TensorInfo | None = None
    params: dict[str, Any] = field(default_factory=dict)
    inferred: dict[str, Any] = field(default_factory=dict)
    num_params: int = 0
    message: str = ""
    edge: Edge | None = None
    awaits_data: bool = False  # "waiting" only for the data to be known
    inner: ShapeInference | None = None  # a block's: its body, as this instance sees it
    macs: int = 0  # multiply-accumulates per sample (engine.layers.spec.LayerSpec.macs)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class ShapeInference:
    """Keeps a NodeResult for every node of `graph`, up to date after `update()`.

    trust: which Custom layers' source may run (on meta tensors) to find shapes; the
    others wait. Loading a project never runs it; the app asks the user first.
    """

    def __init__(self, graph: Graph, trust: Trust = NOT_ALLOWED, data: DataShapes | None = None):
        self.graph = graph
        self.trust = trust
        self.data = data
        self.results: dict[str, NodeResult] = {}
        self._dirty: set[str] = set(graph.nodes)
        self.recomputed: int = 0
        self._unsubscribe = graph.subscribe(self._on_event)

    def close(self) -> None:
        self._unsubscribe()

    def set_trust(self, trust: Trust) -> None:
        """Follow a new decision: the Custom layers it lets run, or stops, are inferred again."""
        for node in self.graph.nodes.values():
            if node.runs_user_code and trust.may_run(node) != self.trust.may_run(node):
                self._mark(node.id)
        self.trust = trust

    def set_data(self, data: DataShapes | None) -> None:
        """Follow what the data says (None: not known): the values taken from it are
        inferred again."""
        if data == self.data:
            return
        self.data = data
        for node in self.graph.nodes.values():
            if _data_params(node):
                self._mark(node.id)

    def refresh_blocks(self) -> None:
        """A block's body changed: every instance (and what follows it) is inferred again."""
        for node in self.graph.nodes.values():
            if node.block is not None:
                self._mark(node.id)

    def awaits_data(self, node_id: str) -> bool:
        """Whether the node waits only for the data to be known."""
        result = self.results.get(node_id)
        return result is not None and result.awaits_data

    def may_run(self, node_id: str) -> bool:
        return self.trust.may_run(self.graph.nodes[node_id])

    def _mark(self, node_id: str) -> None:
        self._dirty.add(node_id)
        self._dirty |= self.graph.descendants(node_id)

    def _on_event(self, event: GraphEvent) -> None:
        if isinstance(event, NodeMoved):
            return
        if isinstance(event, NodeRemoved):
            self.results.pop(event.node_id, None)
            self._dirty.discard(event.node_id)
        elif event.node_id in self.graph.nodes:
            self._mark(event.node_id)
        if isinstance(event, EdgeEvent) and _data_params(self.graph.nodes.get(event.edge.src)):
            self._mark(event.edge.src)  # its units follow the Output it now feeds, or not

    def update(self) -> set[str]:
        """Re-infer the nodes touched since the last update; return their ids."""
        dirty = {n for n in self._dirty if n in self.graph.nodes}
        self._dirty.clear()
        for node_id in self.graph.topological_order(dirty):
            self.results[node_id] = infer_node(self.graph, self.graph.nodes[node_id], self)
        self.recomputed = len(dirty)
        return dirty

    def total_params(self, node_ids: set[str] | None = None) -> int:
        return sum(
            r.num_params for n, r in self.results.items() if node_ids is None or n in node_ids
        )

    def total_macs(self, node_ids: set[str] | None = None) -> int:
        """Multiply-accumulates per sample of the nodes (all when None)."""
        return sum(r.macs for n, r in self.results.items() if node_ids is None or n in node_ids)

    def problems(self) -> list[tuple[str, str]]:
        """(node id, message) for every node at fault, in graph order."""
        return [(n, r.message) for n, r in self.results.items() if r.status == "error"]


def infer_all(
    graph: Graph, trust: Trust = NOT_ALLOWED, data: DataShapes | None = None
) -> ShapeInference:
    inference = ShapeInference(graph, trust, data)
    inference.update()
    inference.close()
    return inference


# --- one node -------------------------------------------------------------------------


def infer_node(graph: Graph, node: Node, inference: ShapeInference) -> NodeResult:
    spec = node.spec
    if node.is_input:
        return _infer_input(node, inference.data)
    edges = graph.inputs_of(node.id)
    if not spec.accepts(len(edges)):
        need = (
            spec.min_inputs if spec.max_inputs == spec.min_inputs else f"at least {spec.min_inputs}"
        )
        return NodeResult(
            "error",
            message=f"{node.type} needs {need} input wire{'s' if need != 1 else ''}; "
            f"it has {len(edges)}.",
        )
    upstream = [inference.results.get(e.src) for e in edges]
    if not all(r is not None and r.ok for r in upstream):
        return NodeResult("waiting", message="Waiting for a valid input.")
    inputs = [r.output for r in upstream]
    if node.is_output:
        return NodeResult("ok", inputs[0])
    try:
        data_values = _from_data(graph, node, inference.data)
        if data_values is None:
            return NodeResult("waiting", message=f"out_features {NO_DATA_YET}.", awaits_data=True)
        return _infer_layer(node, inputs, edges, inference.trust, data_values)
    except ShapeError as exc:
        edge = edges[exc.port] if exc.port is not None and exc.port < len(edges) else None
        return NodeResult("error", message=exc.message, edge=edge)


def _infer_input(node: Node, data: DataShapes | None) -> NodeResult:
    params, inferred = dict(node.params), {}
    if params["shape"] is None:
        if data is None:
            message = f"The Input {NO_DATA_YET}."
            return NodeResult("waiting", params=params, message=message, awaits_data=True)
        params["shape"] = inferred["shape"] = list(data.sample)
    shape = (BATCH, *params["shape"])
    return NodeResult("ok", TensorInfo(shape, DTYPES[params["dtype"]]), params, inferred)


def _data_params(node: Node | None) -> list[str]:
    """The node's parameters set to follow the data."""
    if node is None:
        return []
    return [p.name for p in node.spec.params if p.from_data and node.params.get(p.name) is None]


def _from_data(graph: Graph, node: Node, data: DataShapes | None) -> dict[str, Any] | None:
    """The values of `node`'s parameters that follow the data (a layer's `out_features`:
    the units of the Output it feeds); None while the data is not known."""
    names = _data_params(node)
    if not names:
        return {}
    feeds = [graph.nodes[e.dst] for e in graph.outputs_of(node.id)]
    outputs = [n for n in feeds if n.is_output]
    if len(feeds) != 1 or not outputs:
        raise ShapeError(
            "out_features can follow the data only on a layer that feeds one Output: set a number."
        )
    if data is None:
        return None
    units = data.units.get(outputs[0].label)
    if units is None:
        raise ShapeError(f"The data gives no targets for Output {outputs[0].label!r}.")
    return {name: units for name in names}


def _infer_layer(
    node: Node,
    inputs: list[TensorInfo],
    edges: list[Edge],
    trust: Trust,
    data_values: dict[str, Any],
) -> NodeResult:
    spec = node.spec
    if spec.check is not None and (problem := spec.check(node.params)):
        raise ShapeError(problem[0].upper() + problem[1:])
    params, inferred = resolve_params(node, inputs)
    params.update(data_values)
    inferred.update(data_values)
    if node.block is not None:
        return _infer_block(node, params, inferred, inputs, trust)
    if node.runs_user_code and not trust.may_run(node):
        return NodeResult(
            "waiting",
            params=params,
            message="Custom code has not run yet; shapes after it appear once you allow it.",
        )
    source = params.get("source") if node.runs_user_code else None
    constructor = spec.constructor(params)
    module, count, problem = (None, 0, None)
    if constructor is not None:
        module, count, problem = build_meta(constructor, source)
        if problem:
            raise ShapeError(f"{node.type} cannot be built: {problem}")
    if spec.shape is not None:
        output = spec.shape(params, inputs)
        macs = spec.macs(params, inputs, output) // BATCH if spec.macs else 0
    else:
        output, macs = run_meta(node, module, params, inputs)
    return NodeResult("ok", output, params, inferred, count, macs=macs)


def _infer_block(
    node: Node, params: dict, inferred: dict, inputs: list[TensorInfo], trust: Trust
) -> NodeResult:
    """An instance of a block: its body, with the instance's values and input shapes
    written in, inferred as a graph of its own."""
    block = node.block
    body = block.bound(params)
    shapes = {
        input_id: {"shape": list(info.shape[1:]), "dtype": INPUT_DTYPES[info.dtype]}
        for input_id, info in zip(block.inputs, inputs, strict=True)
    }
    inner = infer_all(body.with_params(shapes), trust)
    for inner_id in inner.graph.topological_order():
        result = inner.results[inner_id]
        where = f"Inside {block.name}, '{body.nodes[inner_id].label}'"
        if result.status == "error":
            raise ShapeError(f"{where}: {result.message}", port=_port_of(block, result))
        if result.status == "waiting":
            return NodeResult("waiting", params=params, message=f"{where}: {result.message}")
    output = inner.results[block.output].output
    used = body.ancestors(block.output)
    count = inner.total_params(used)
    macs = sum(inner.results[n].macs for n in used)
    return NodeResult("ok", output, params, inferred, count, inner=inner, macs=macs)


def _port_of(block, result: NodeResult) -> int | None:
    """The instance's input port at fault: the one whose Input feeds the wire at fault."""
    if result.edge is not None and result.edge.src in block.inputs:
        return block.inputs.index(result.edge.src)
    return None


def resolve_params(node: Node, inputs: list[TensorInfo]) -> tuple[dict, dict]:
    """Fill the node's "auto" params from its inputs; explain a mismatch with a set value."""
    spec = node.spec
    params = dict(node.params)
    implied = spec.infer(inputs) if spec.infer else {}
    inferred = {}
    for name, value in implied.items():
        given = params[name]
        if given is None:
            try:
                params[name] = inferred[name] = spec.param(name).validate(value)
            except ParamError as exc:
                raise ShapeError(f"{name} would be {value}, but it {exc}.", port=0) from None
        elif given != value and spec.param(name).matches_input:
            raise ShapeError(
                f"{name} is set to {given}, but the input {inputs[0].describe()} needs "
                f"{value}. Set {name} to auto to follow the input.",
                port=0,
            )
    return params, inferred


def follows_data(graph: Graph) -> bool:
    """Whether some value of the graph is set to follow the data."""
    return any(_data_params(node) for node in graph.nodes.values())


def resolved(graph: Graph, inference: ShapeInference) -> Graph:
    """`graph` with the values that follow the data written in where `inference` found
    them; a node it could not infer keeps its "auto", and building it says why."""
    changes = {}
    for node_id, node in graph.nodes.items():
        result = inference.results.get(node_id)
        if (names := _data_params(node)) and result is not None and result.ok:
            changes[node_id] = {name: result.params[name] for name in names}
    return graph.with_params(changes) if changes else graph


# --- meta-device execution ---------------------------------------------------------------


@functools.lru_cache(maxsize=2048)
def build_meta(constructor: str, source: str | None) -> tuple[Any, int, str | None]:
    """Build a module on the meta device: (module, parameter count, problem or None)."""
    try:
        namespace = base_namespace() if source is None else run_custom_source(source)
        with torch.device("meta"):
            module = eval(constructor, namespace)
    except USER_CODE_ERRORS as exc:
        return None, 0, explain(exc)
    return module, sum(p.numel() for p in module.parameters()), None


def run_meta(node: Node, module, params: dict, inputs: list[TensorInfo]) -> tuple[TensorInfo, int]:
    """The layer's output on meta tensors, and its multiply-accumulates per sample as
    torch's FlopCounterMode counts them (half its floating-point operations)."""
    names = [f"_in{i}" for i in range(len(inputs))]
    expression = node.spec.forward("_layer", names, params)
    scope = {**base_namespace(), "_layer": module}
    for name, info in zip(names, inputs, strict=True):
        scope[name] = torch.empty(info.shape, dtype=TORCH_DTYPES[info.dtype], device="meta")
    shapes = ", ".join(i.describe() for i in inputs)
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            out = eval(expression, scope)
    except USER_CODE_ERRORS as exc:
        raise ShapeError(f"{node.type} fails on its input {shapes}: {explain(exc)}") from None
    if not isinstance(out, torch.Tensor):
        raise ShapeError(f"{node.type}'s forward must return one tensor, got {type(out).__name__}.")
    if out.dim() == 0 or out.shape[0] != BATCH:
        raise ShapeError(f"{node.type}'s forward must keep the batch dimension first.")
    kind = "long" if out.dtype in (torch.int64, torch.int32, torch.bool) else "float"
    return TensorInfo(tuple(out.shape), kind), counter.get_total_flops() // 2 // BATCH


def explain(exc: BaseException) -> str:
    """One sentence from an exception: its first line, and the line of custom code."""
    if isinstance(exc, SystemExit):
        text = exit_text(exc)
    else:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if len(text) > 240:
        text = text[:237] + "..."
    where = [
        f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == CUSTOM_FILENAME
    ]
    suffix = f" (custom code, line {where[-1]})" if where else ""
    return f"{text}{suffix}"


__all__ = [
    "BATCH",
    "DataShapes",
    "NodeResult",
    "ShapeInference",
    "build_meta",
    "follows_data",
    "infer_all",
    "resolved",
    "run_meta",
]
