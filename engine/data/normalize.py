"""Scaling x with statistics fitted on the training split only.

Every kind is recorded as x' = (x - mean) / std along dim 1 of x (features, or image
channels [N, C, H, W]), with one value per entry of dim 1 or a single value, so an
exported script can apply it with one formula:
  standardize  mean and (population) standard deviation; a constant feature gets std 1;
  minmax       mean = minimum, std = maximum - minimum (1 when they are equal): [0, 1];
  fixed        the mean and std given in the settings (e.g. MNIST's 0.1307 and 0.3081).
Integer x (token ids) is never scaled.
"""

from __future__ import annotations

from typing import Any

import torch

from engine.data.dataset import DataError

_RELATIVE_NOISE = 1e-6


def fit_normalization(
    x: torch.Tensor,
    kind: str,
    mean: list[float] | None = None,
    std: list[float] | None = None,
) -> dict[str, Any]:
    """What to apply to x, as JSON-ready lists: {"kind", "mean", "std"}."""
    if kind == "none":
        return {"kind": "none"}
    if not x.is_floating_point():
        return {"kind": "none", "note": "integer x (token ids) is not normalised"}
    if kind == "fixed":
        return {"kind": kind, "mean": _per_dim1(x, mean, "mean"), "std": _per_dim1(x, std, "std")}
    dims = [0, *range(2, x.dim())]
    if kind == "standardize":
        var, centre = torch.var_mean(x, dim=dims, correction=0)
        scale = var.double().sqrt()
        centre = centre.double()
        constant = scale <= _RELATIVE_NOISE * centre.abs()
    elif kind == "minmax":
        centre = torch.amin(x, dim=dims).double()
        scale = torch.amax(x, dim=dims).double() - centre
        constant = scale == 0
    else:
        raise DataError(f"data.normalize: {kind!r} is not none, standardize, minmax or fixed")
    scale[constant] = 1.0
    return {"kind": kind, "mean": centre.tolist(), "std": scale.tolist()}


def apply_normalization(x: torch.Tensor, normalization: dict[str, Any]) -> torch.Tensor:
    if "mean" not in normalization:
        return x
    shape = [1, -1] + [1] * (x.dim() - 2)
    mean = torch.tensor(normalization["mean"], dtype=x.dtype).reshape(shape)
    std = torch.tensor(normalization["std"], dtype=x.dtype).reshape(shape)
    return ((x - mean) / std).contiguous()


def _per_dim1(x: torch.Tensor, values: list[float] | None, name: str) -> list[float]:
    size = x.shape[1]
    if values is None or len(values) not in (1, size):
        what = "channels" if x.dim() > 2 else "features"
        count = "no" if values is None else len(values)
        raise DataError(
            f"data.{name}: {count} values, but the data has {size} {what}; "
            f"give one value, or one per {what[:-1]}"
        )
    return [float(v) for v in values]
