"""What a layer is, as data: `LayerSpec` (one per layer type) and `TensorInfo`.

A spec tells the palette its name and category, the inspector its parameters, shape
inference how the output shape follows from the inputs, and the code generator how the
layer is written in `__init__` and `forward`. Nothing else in the engine knows about
individual layer types.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from engine.errors import UserError
from engine.layers.params import Param


@dataclass(frozen=True)
class TensorInfo:
    """Shape (batch dimension first) and dtype ("float" or "long") of a tensor on a wire."""

    shape: tuple[int, ...]
    dtype: str = "float"

    def describe(self) -> str:
        dims = ", ".join(["N", *map(str, self.shape[1:])])
        return f"[{dims}]" if self.dtype == "float" else f"[{dims}] ({self.dtype})"


class ShapeError(UserError):
    """The inputs do not fit the layer. `message` is a sentence for a learner; `port`
    names the input wire at fault, when one is."""

    def __init__(self, message: str, port: int | None = None):
        super().__init__(message)
        self.message = message
        self.port = port


# A rule computing the output from resolved params and the input tensors.
ShapeRule = Callable[[dict[str, Any], list[TensorInfo]], TensorInfo]
# Values of inferred params implied by the inputs, e.g. {"in_features": 400}.
InferRule = Callable[[list[TensorInfo]], dict[str, Any]]
# Static check of the params as a whole (no code is run): a problem sentence or None.
CheckRule = Callable[[dict[str, Any]], str | None]
# Multiply-accumulates of one pass: (resolved params, input tensors, output tensor) -> count.
MacRule = Callable[[dict[str, Any], list[TensorInfo], TensorInfo], int]
# Forward expression: (module attribute or None, input variable names, params) -> code.
ForwardRule = Callable[[str | None, list[str], dict[str, Any]], str]


def _call_module(target: str | None, args: list[str], params: dict[str, Any]) -> str:
    return f"{target}({', '.join(args)})"


class Role(Enum):
    """What a layer is to the model: where a tensor enters, where one leaves, or a step
    in between."""

    INPUT = "input"
    OUTPUT = "output"
    LAYER = "layer"


@dataclass(frozen=True)
class LayerSpec:
    """One layer type.

    role: an argument of forward() (INPUT), a returned value (OUTPUT), or a LAYER.
    runs_user_code: the layer's code is the user's (Custom), and runs only when allowed.

    module: the constructor written in `__init__` ("nn.Linear"), a function of the params
    giving it (Custom), or None for a parameter-free operation written inline in forward.
    shape: output shape rule; None means "run the layer on meta tensors to find out".
    uses: the generated file's imports that the layer's code needs besides its module's
    package (("F",) for `F.gelu(x)`), or a function of the params and the number of
    inputs giving them; the code generator writes the imports from these.
    as_module: for an operation written inline, its module form (`nn.ReLU()` for
    `torch.relu(x)`) as a function of the params: how it is written as a step of an
    `nn.Sequential`.
    macs: the multiply-accumulates of the matrix products and convolutions the layer runs
    for the tensors given (batch included); None: none (element-wise work is not counted,
    as torch's FlopCounterMode does not count it).
    """

    type: str
    category: str
    summary: str
    params: tuple[Param, ...] = ()
    min_inputs: int = 1
    max_inputs: int | None = 1
    has_output: bool = True
    module: str | Callable[[dict[str, Any]], str] | None = None
    forward: ForwardRule = _call_module
    shape: ShapeRule | None = None
    infer: InferRule | None = None
    check: CheckRule | None = None
    label: str = ""
    fixed_args: tuple[str, ...] = ()
    role: Role = Role.LAYER
    runs_user_code: bool = False
    uses: tuple[str, ...] | Callable[[dict[str, Any], int], tuple[str, ...]] = ()
    as_module: Callable[[dict[str, Any]], str] | None = None
    macs: MacRule | None = None

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def accepts(self, count: int) -> bool:
        return count >= self.min_inputs and (self.max_inputs is None or count <= self.max_inputs)

    def module_name(self, params: dict[str, Any]) -> str | None:
        return self.module(params) if callable(self.module) else self.module

    def imports(self, params: dict[str, Any], inputs: int = 1) -> set[str]:
        """The names of the generated file's imports the layer's code uses: `uses`, and
        the package its module comes from ("nn" for nn.Linear; none for a class of the
        file's own, such as a Custom layer's)."""
        package, dot, _ = (self.module_name(params) or "").partition(".")
        uses = self.uses(params, inputs) if callable(self.uses) else self.uses
        return {*uses, *([package] if dot else [])}

    def constructor(self, params: dict[str, Any]) -> str | None:
        """The constructor call written in `__init__`, e.g. `nn.Linear(400, 120)`."""
        name = self.module_name(params)
        if name is None:
            return None
        args = []
        for p in self.params:
            if not p.arg:
                continue
            value = params[p.name]
            if p.positional:
                args.append(literal(value))
            elif value != p.default:
                args.append(f"{p.name}={literal(value)}")
        return f"{name}({', '.join([*args, *self.fixed_args])})"


def literal(value: Any) -> str:
    """Python source for a JSON-native parameter value (lists become tuples)."""
    if isinstance(value, list):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)
