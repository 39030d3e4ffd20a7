"""A layer's settings, from a module's attributes or a function call's arguments, turned
into catalog parameters.

nn.MaxPool2d keeps the same names as F.max_pool2d's arguments (kernel_size, stride,
ceil_mode...), as do the activations, Softmax, Flatten and Dropout, so one converter per
layer type serves both. A setting the catalog layer cannot express is collected in
`Args.problems` (as `name=value`) instead of being dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


class Args:
    """Settings by name; `rank` is the number of dimensions of the (first) input."""

    def __init__(self, values: Mapping[str, Any], rank: int = 0):
        self.values = values
        self.rank = rank
        self.problems: list[str] = []

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def expect(self, name: str, default: Any) -> None:
        """Note `name` as a problem unless it has the only value the catalog supports."""
        value = self.values.get(name, default)
        if size(value) != default:
            self.problems.append(f"{name}={value!r}")

    def reject(self, text: str) -> None:
        self.problems.append(text)

    @property
    def inplace(self) -> bool:
        return bool(self.values.get("inplace", False))


def size(value: Any) -> Any:
    """(3, 3) -> 3, (3, 5) -> [3, 5]; anything else unchanged."""
    if isinstance(value, tuple | list) and value and all(isinstance(v, int) for v in value):
        return value[0] if len(set(value)) == 1 else list(value)
    return value


def pool(a: Args) -> dict[str, Any]:
    a.expect("dilation", 1)
    a.expect("return_indices", False)
    a.expect("count_include_pad", True)
    a.expect("divisor_override", None)
    kernel = size(a["kernel_size"])
    stride = size(a.get("stride"))
    return {
        "kernel_size": kernel,
        "stride": None if stride in (None, (), kernel) else stride,
        "padding": size(a.get("padding", 0)),
        "ceil_mode": bool(a.get("ceil_mode", False)),
    }


def adaptive_pool(a: Args) -> dict[str, Any]:
    a.expect("return_indices", False)
    output = a["output_size"]
    if isinstance(output, tuple | list) and None in output:
        a.reject(f"output_size={output!r} (None keeps a size as it is)")
        return {}
    return {"output_size": size(output)}


def softmax(a: Args) -> dict[str, Any]:
    a.expect("dtype", None)
    if a.get("dim") is None:
        a.reject("dim=None (an implicit dimension)")
        return {}
    return {"dim": a["dim"]}


def flatten(a: Args) -> dict[str, Any]:
    start = a["start_dim"]
    if start + (a.rank if start < 0 else 0) == 0:
        a.reject(f"start_dim={start} (it would merge the batch dimension)")
        return {}
    return {"start_dim": start % a.rank if start < 0 else start, "end_dim": a["end_dim"]}


def dropout(a: Args) -> dict[str, Any]:
    # Traced in eval mode, training=True is a call that drops values in eval mode too.
    if a.get("training"):
        a.reject("training=True (it drops values in eval mode too; pass training=self.training)")
    return {"p": a["p"]}


def transpose(a: Args) -> dict[str, Any]:
    dims = [a["dim0"], a["dim1"]]
    if any(dim % a.rank == 0 for dim in dims):
        a.reject(f"dims {dims} (it would move the batch dimension)")
        return {}
    return {"dim0": dims[0], "dim1": dims[1]}


def sequence_pool(a: Args) -> dict[str, Any]:
    """x.mean(1) or x.amax(1) of a sequence [N, time, features]: pooling over time."""
    dim = a.get("dim")
    dim = dim[0] if isinstance(dim, tuple | list) and len(dim) == 1 else dim
    a.expect("keepdim", False)
    a.expect("dtype", None)
    if a.rank != 3 or not isinstance(dim, int) or dim % 3 != 1:
        a.reject(
            f"dim={dim!r} of a {a.rank}-d tensor (only over time, dim 1 of [N, time, features])"
        )
        return {}
    return {"mode": "mean" if "dtype" in a.values else "max"}  # only torch.mean takes a dtype


def reduce(a: Args) -> dict[str, Any]:
    """x.mean(dim), x.sum(dim), x.amax(dim): over given sample dimensions."""
    a.expect("dtype", None)
    dim = a.get("dim")
    dims = [dim] if isinstance(dim, int) else list(dim or ())
    if not dims or not all(isinstance(d, int) for d in dims):
        a.reject(f"dim={dim!r} (over every dimension, the batch too)")
        return {}
    dims = [d % a.rank for d in dims]
    if 0 in dims:
        a.reject(f"dim={dim!r} (over the batch)")
        return {}
    return {"dims": dims, "keepdim": bool(a.get("keepdim", False))}


def one_dim(a: Args) -> dict[str, Any]:
    """squeeze(dim) and unsqueeze(dim): one dimension, given."""
    if not isinstance(a.get("dim"), int):
        a.reject("no dim (squeezing every dimension of size 1)")
        return {}
    return {"dim": a["dim"]}


def upsample(a: Args) -> dict[str, Any]:
    a.expect("size", None)
    a.expect("recompute_scale_factor", None)
    a.expect("antialias", False)
    mode, factor = a.get("mode", "nearest"), a.get("scale_factor")
    if mode not in ("nearest", "bilinear") or a.get("align_corners"):
        a.reject(f"mode={mode!r}, align_corners={a.get('align_corners')!r}")
    factor = factor[0] if isinstance(factor, tuple | list) and len(set(factor)) == 1 else factor
    if not isinstance(factor, int | float):
        a.reject(f"scale_factor={factor!r} (one factor for every side)")
        return {}
    return {"scale_factor": float(factor), "mode": mode}


def zero_pad(a: Args) -> dict[str, Any]:
    padding = a.get("padding", a.get("pad"))
    a.expect("mode", "constant")
    if a.get("value") not in (None, 0):
        a.reject(f"value={a.get('value')!r} (ZeroPad2d pads with zeros)")
    padding = list(padding) if isinstance(padding, tuple | list) else [padding] * 4
    if len(padding) != 4 or not all(isinstance(p, int) and p >= 0 for p in padding):
        a.reject(f"padding={padding!r} (four sizes of zeros: left, right, top, bottom)")
        return {}
    return {"padding": size(tuple(padding))}


def _keep(*names: str) -> Callable[[Args], dict[str, Any]]:
    return lambda a: {name: a[name] for name in names}


CONVERTERS: dict[str, Callable[[Args], dict[str, Any]]] = {
    "ReLU": _keep(),
    "LeakyReLU": _keep("negative_slope"),
    "GELU": _keep("approximate"),
    "SiLU": _keep(),
    "ELU": _keep("alpha"),
    "Sigmoid": _keep(),
    "Tanh": _keep(),
    "Softmax": softmax,
    "LogSoftmax": softmax,
    "MaxPool1d": pool,
    "MaxPool2d": pool,
    "AvgPool1d": pool,
    "AvgPool2d": pool,
    "AdaptiveAvgPool2d": adaptive_pool,
    "Flatten": flatten,
    "Transpose": transpose,
    "SequencePool": sequence_pool,
    "Dropout": dropout,
    "Identity": _keep(),
    "ReLU6": _keep(),
    "Hardswish": _keep(),
    "Hardsigmoid": _keep(),
    "Mish": _keep(),
    "Softplus": _keep("beta", "threshold"),
    "Dropout2d": dropout,
    "Upsample": upsample,
    "ZeroPad2d": zero_pad,
    "AdaptiveMaxPool2d": adaptive_pool,
    "Mean": reduce,
    "Sum": reduce,
    "Max": reduce,
    "Squeeze": one_dim,
    "Unsqueeze": one_dim,
}
