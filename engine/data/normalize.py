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

import math
from collections.abc import Iterator
from typing import Any

import torch

from engine.data.dataset import DataError
from engine.data.pixels import ImageRows, stats_rows

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
    if kind == "standardize":
        centre, scale = _mean_and_std(x)
        constant = scale <= _RELATIVE_NOISE * centre.abs()
    elif kind == "minmax":
        low, high = zip(*((c.amin(1), c.amax(1)) for c in _by_dim1(x)), strict=True)
        centre = torch.stack(low).amin(0).double()
        scale = torch.stack(high).amax(0).double() - centre
        constant = scale == 0
    else:
        raise DataError(f"data.normalize: {kind!r} is not none, standardize, minmax or fixed")
    scale[constant] = 1.0
    return {"kind": kind, "mean": centre.tolist(), "std": scale.tolist()}


def _by_dim1(x: torch.Tensor | ImageRows) -> Iterator[torch.Tensor]:
    """x's values a few million at a time (`stats_rows` samples), as [entries of dim 1,
    values]: the whole is never one more array (a folder of images is read from its
    cache)."""
    per_sample = math.prod(x.shape[1:])
    chunks = x.raw_chunks() if isinstance(x, ImageRows) else x.split(stats_rows(per_sample))
    for chunk in chunks:
        yield chunk.transpose(0, 1).reshape(chunk.shape[1], -1)


def _mean_and_std(x: torch.Tensor | ImageRows) -> tuple[torch.Tensor, torch.Tensor]:
    """Per entry of dim 1, in float64, in two passes over the chunks (the population
    standard deviation)."""
    count = len(x) * math.prod(x.shape[2:])
    mean = sum(chunk.double().sum(1) for chunk in _by_dim1(x)) / count
    squares = sum(((chunk.double() - mean[:, None]) ** 2).sum(1) for chunk in _by_dim1(x))
    return mean, (squares / count).sqrt()


def apply_normalization(x: torch.Tensor, normalization: dict[str, Any]) -> torch.Tensor:
    if "mean" not in normalization:
        return x
    if isinstance(x, ImageRows):
        return x.normalized(normalization["mean"], normalization["std"])
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
