"""Shape rules shared by several layers, with learner-facing error sentences.

Every rule here is checked against real meta-device execution in
tests/engine/test_shape_rules.py, so a rule cannot silently drift from torch.
"""

from __future__ import annotations

import math
from typing import Any

from engine.layers.spec import ShapeError, TensorInfo

LAYOUTS = {
    2: "[N, features]",
    3: "[N, channels, length]",
    4: "[N, channels, height, width]",
}
AXES = {1: ("length",), 2: ("height", "width")}


def expand(value: Any, dims: int) -> list[int]:
    return list(value) if isinstance(value, list) else [value] * dims


def require_rank(
    layer: str, x: TensorInfo, ranks: tuple[int, ...], hint: str = "", layout: str = ""
) -> None:
    if len(x.shape) in ranks:
        return
    wanted = layout or " or ".join(LAYOUTS.get(r, f"{r} dimensions") for r in ranks)
    raise ShapeError(
        f"{layer} expects input shaped {wanted}, but receives {x.describe()}.{hint}", port=0
    )


def require_float(layer: str, x: TensorInfo, port: int = 0) -> None:
    if x.dtype != "float":
        raise ShapeError(
            f"{layer} needs floating-point input, but receives integer ids {x.describe()}. "
            "An Embedding turns ids into vectors.",
            port=port,
        )


def same_shape(params: dict[str, Any], inputs: list[TensorInfo]) -> TensorInfo:
    return inputs[0]


def float_same_shape(layer: str):
    def rule(params: dict[str, Any], inputs: list[TensorInfo]) -> TensorInfo:
        require_float(layer, inputs[0])
        return inputs[0]

    return rule


def check_dim(layer: str, dim: int, x: TensorInfo, allow_batch: bool = False) -> int:
    """Normalise a dim argument against x's rank, or explain why it is out of range."""
    rank = len(x.shape)
    pos = dim + rank if dim < 0 else dim
    if not 0 <= pos < rank:
        raise ShapeError(
            f"{layer} works along dim {dim}, but its input {x.describe()} has only "
            f"{rank} dimensions (0 to {rank - 1}).",
            port=0,
        )
    if pos == 0 and not allow_batch:
        raise ShapeError(f"{layer} cannot work along dim 0: that is the batch dimension.")
    return pos


def sliding_window(
    layer: str,
    x: TensorInfo,
    dims: int,
    kernel: Any,
    stride: Any,
    padding: Any,
    dilation: Any = 1,
    ceil_mode: bool = False,
) -> list[int]:
    """Output sizes of a convolution or pooling window over the last `dims` axes."""
    sizes = x.shape[-dims:]
    out = []
    for axis, size, k, s, p, d in zip(
        AXES[dims],
        sizes,
        expand(kernel, dims),
        expand(stride, dims),
        expand(padding, dims),
        expand(dilation, dims),
        strict=True,
    ):
        span = d * (k - 1) + 1
        # torch's rule: floor division, rounding up in ceil mode, but no window may
        # start in the right padding.
        n = (size + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (n - 1) * s >= size + p:
            n -= 1
        if n < 1:
            raise ShapeError(
                f"{layer}'s window of {span} does not fit the input's {axis} of {size}"
                + (f" (padded to {size + 2 * p})" if p else "")
                + f". The input {x.describe()} is too small here: use a smaller "
                "kernel_size, add padding, or pool less before this layer.",
                port=0,
            )
        out.append(n)
    return out


def check_pool_padding(layer: str, kernel: Any, padding: Any, dims: int) -> None:
    for k, p in zip(expand(kernel, dims), expand(padding, dims), strict=True):
        if p > k // 2:
            raise ShapeError(f"{layer}'s padding ({p}) must be at most half its kernel_size ({k}).")


def numel(shape: tuple[int, ...] | list[int]) -> int:
    return math.prod(shape)
