"""Which catalog layer a function or tensor method becomes (torch.relu, F.max_pool2d,
x.flatten(1)...), and how its positional arguments are named.

torch.fx records a call of a Python function of torch.nn.functional with every argument by
keyword, but a call of a builtin (torch.relu, torch.max_pool2d) only as written, so the
argument names are spelled out here for each.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx


@dataclass(frozen=True)
class Signature:
    """The argument names of a call in order ("input" first) and the defaults."""

    layer: str
    names: tuple[str, ...]
    defaults: dict[str, Any] = field(default_factory=dict)

    def bind(self, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {**self.defaults, **dict(zip(self.names, args, strict=False)), **kwargs}


def _sig(layer: str, *required: str, **defaults: Any) -> Signature:
    return Signature(layer, ("input", *required, *defaults), defaults)


def _pools(kind: str, dims: int) -> Signature:
    if kind == "Max":
        return _sig(
            f"MaxPool{dims}d",
            "kernel_size",
            stride=None,
            padding=0,
            dilation=1,
            ceil_mode=False,
            return_indices=False,
        )
    return _sig(
        f"AvgPool{dims}d",
        "kernel_size",
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    )


_RELU = _sig("ReLU", inplace=False)
_RELU_ = _sig("ReLU", inplace=True)
_SIGMOID = _sig("Sigmoid")
_TANH = _sig("Tanh")
_SOFTMAX = _sig("Softmax", dim=None, dtype=None)
_LOG_SOFTMAX = _sig("LogSoftmax", dim=None, dtype=None)
_FLATTEN = _sig("Flatten", start_dim=0, end_dim=-1)
_TRANSPOSE = _sig("Transpose", "dim0", "dim1")
_MEAN = _sig("Mean", dim=None, keepdim=False, dtype=None)
_SUM = _sig("Sum", dim=None, keepdim=False, dtype=None)
_AMAX = _sig("Max", dim=(), keepdim=False)
_SQUEEZE = _sig("Squeeze", dim=None)
_UNSQUEEZE = _sig("Unsqueeze", "dim")

# Keys are call_function targets (functions) or call_method targets (method names).
SIGNATURES: dict[Any, Signature] = {
    torch.relu: _RELU,
    F.relu: _RELU,
    "relu": _RELU,
    torch.relu_: _RELU_,
    F.relu_: _RELU_,
    "relu_": _RELU_,
    F.leaky_relu: _sig("LeakyReLU", negative_slope=0.01, inplace=False),
    F.gelu: _sig("GELU", approximate="none"),
    F.silu: _sig("SiLU", inplace=False),
    F.elu: _sig("ELU", alpha=1.0, inplace=False),
    torch.sigmoid: _SIGMOID,
    "sigmoid": _SIGMOID,
    torch.tanh: _TANH,
    "tanh": _TANH,
    torch.softmax: _SOFTMAX,
    F.softmax: _SOFTMAX,
    "softmax": _SOFTMAX,
    torch.log_softmax: _LOG_SOFTMAX,
    F.log_softmax: _LOG_SOFTMAX,
    "log_softmax": _LOG_SOFTMAX,
    F.max_pool1d: _pools("Max", 1),
    torch.max_pool1d: _pools("Max", 1),
    F.max_pool2d: _pools("Max", 2),
    torch.max_pool2d: _pools("Max", 2),
    F.avg_pool1d: _pools("Avg", 1),
    F.avg_pool2d: _pools("Avg", 2),
    F.adaptive_avg_pool2d: _sig("AdaptiveAvgPool2d", "output_size"),
    F.dropout: _sig("Dropout", p=0.5, training=True, inplace=False),
    torch.flatten: _FLATTEN,
    "flatten": _FLATTEN,
    torch.transpose: _TRANSPOSE,
    "transpose": _TRANSPOSE,
    torch.mean: _MEAN,
    "mean": _MEAN,
    torch.amax: _AMAX,
    "amax": _AMAX,
    torch.sum: _SUM,
    "sum": _SUM,
    torch.squeeze: _SQUEEZE,
    "squeeze": _SQUEEZE,
    torch.unsqueeze: _UNSQUEEZE,
    "unsqueeze": _UNSQUEEZE,
    F.relu6: _sig("ReLU6", inplace=False),
    F.hardswish: _sig("Hardswish", inplace=False),
    F.hardsigmoid: _sig("Hardsigmoid", inplace=False),
    F.mish: _sig("Mish", inplace=False),
    F.softplus: _sig("Softplus", beta=1.0, threshold=20.0),
    F.dropout2d: _sig("Dropout2d", p=0.5, training=True, inplace=False),
    F.interpolate: _sig(
        "Upsample",
        size=None,
        scale_factor=None,
        mode="nearest",
        align_corners=None,
        recompute_scale_factor=None,
        antialias=False,
    ),
    F.pad: _sig("ZeroPad2d", "pad", mode="constant", value=None),
    F.adaptive_max_pool2d: _sig("AdaptiveMaxPool2d", "output_size", return_indices=False),
}

ADD = {operator.add, torch.add, "add"}
SUBTRACT = {operator.sub, torch.sub, "sub"}
MATMUL = {operator.matmul, torch.matmul, torch.bmm, "matmul", "bmm"}
PERMUTE = {torch.permute, "permute"}
CHUNK = {torch.chunk, "chunk"}
MULTIPLY = {operator.mul, torch.mul, "mul"}
CONCAT = {torch.cat, torch.concat}
RESHAPE = {"view", "reshape", torch.reshape}
PASS_THROUGH = {"contiguous"}

_OPERATORS = {
    operator.add: "+",
    operator.sub: "-",
    operator.mul: "*",
    operator.truediv: "/",
    operator.floordiv: "//",
    operator.mod: "%",
    operator.pow: "**",
    operator.matmul: "@",
    operator.neg: "unary -",
    operator.getitem: "indexing [...]",
}


def describe(node: fx.Node) -> str:
    """How the user wrote the call: `torch.einsum`, `F.gelu`, `-`, `.permute()`."""
    if node.op == "call_method":
        return f"`.{node.target}()`"
    target = node.target
    if target in _OPERATORS:
        return f"`{_OPERATORS[target]}`"
    name = getattr(target, "__name__", str(target))
    for prefix, namespace in (("torch", torch), ("F", F), ("torch.linalg", torch.linalg)):
        if getattr(namespace, name, None) is target:
            return f"`{prefix}.{name}`"
    module = getattr(target, "__module__", None)
    return f"`{module}.{name}`" if module and module != "builtins" else f"`{name}()`"
