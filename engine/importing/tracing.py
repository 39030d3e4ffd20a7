"""Running and tracing the user's model: its outputs on the example inputs, its forward()
as a torch.fx graph, and the value every node of that graph takes on those inputs."""

from __future__ import annotations

from typing import Any

import torch
from torch import fx, nn

from engine.importing.source import USER_CODE_ERRORS, SourceFile, shapes_text
from engine.model.shapes import explain

# torch.fx's words for what a graph cannot hold -> the user's words.
_TRACE_ERRORS = {
    "cannot be used as inputs to control flow": (
        "forward() branches or loops on the values of a tensor (an `if` or `while` on a "
        "tensor), which a graph of layers cannot express"
    ),
    "'len' is not supported": "len() of a tensor cannot be traced; write x.size(0) instead",
}


class _Tracer(fx.Tracer):
    """Keeps every submodule as one call (a layer, a block or a Custom layer), except plain
    nn.Sequential containers when `sequentials` is off: they are traced through then.
    Records each node's source line."""

    def __init__(self, sequentials: bool):
        super().__init__()
        self.record_stack_traces = True
        self.sequentials = sequentials

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return self.sequentials or type(m) is not nn.Sequential


class _Recorder(fx.Interpreter):
    def __init__(self, module: fx.GraphModule):
        super().__init__(module, garbage_collect_values=False)
        self.values: dict[fx.Node, Any] = {}
        self.current: fx.Node | None = None

    def run_node(self, n: fx.Node) -> Any:
        self.current = n
        self.values[n] = super().run_node(n)
        return self.values[n]


def run_model(model: nn.Module, inputs: list[torch.Tensor], source: SourceFile) -> Any:
    """The model's outputs, or an error at the line of the user's code that failed."""
    try:
        with torch.no_grad():
            return model(*inputs)
    except USER_CODE_ERRORS as exc:
        shapes = shapes_text([tuple(x.shape) for x in inputs])
        doing = f"{type(model).__name__} fails on inputs of shape {shapes}"
        raise source.failure(doing, exc) from None


def trace(
    model: nn.Module, source: SourceFile, fixed: dict[str, Any], sequentials: bool
) -> fx.GraphModule:
    """forward() as a graph without dead code (unused results of tuple unpacking);
    `fixed`: optional arguments of forward() kept at these values; `sequentials`: whether
    nn.Sequential containers stay one call each (else they are traced through)."""
    try:
        graph = _Tracer(sequentials).trace(model, concrete_args=fixed or None)
    except USER_CODE_ERRORS as exc:
        line = source.traceback_line(exc.__traceback__)
        for known, text in _TRACE_ERRORS.items():
            if known in str(exc):
                raise source.error(line, text) from None
        raise source.failure(f"{type(model).__name__}.forward() cannot be traced", exc) from None
    module = fx.GraphModule(model, graph, type(model).__name__)
    for node in reversed(list(graph.nodes)):
        if not node.users and not _keeps(node, module):
            graph.erase_node(node)
    return module


def _keeps(node: fx.Node, module: fx.GraphModule) -> bool:
    """Whether a node stays without users: an input, the output, or an in-place change."""
    if node.op in ("placeholder", "output") or node.kwargs.get("inplace") is True:
        return True
    if node.op == "call_method":
        return node.target.endswith("_") and not node.target.startswith("__")
    if node.op == "call_module":
        return getattr(module.get_submodule(node.target), "inplace", False) is True
    return False


def node_values(
    module: fx.GraphModule, inputs: list[torch.Tensor], source: SourceFile
) -> dict[fx.Node, Any]:
    """What every node computes on `inputs` (sizes, shapes, tensors)."""
    recorder = _Recorder(module)
    try:
        with torch.no_grad():
            recorder.run(*inputs)
    except USER_CODE_ERRORS as exc:
        line = source.node_line(recorder.current) if recorder.current else None
        raise source.error(line, f"the traced forward() fails: {explain(exc)}") from None
    return recorder.values
