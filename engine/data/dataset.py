"""In-memory data sets: features and targets held as tensors, batched by index slicing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch


class DataError(ValueError):
    """Data that cannot be used; the message names the file (or setting) and the place."""


@dataclass
class TensorData:
    """A data set as two tensors.

    x: features, float32 [N, ...] (int64 for token ids).
    y: targets: int64 [N] class ids for classification; float32 [N] or [N, k] for
       regression (k targets; a multi-output model picks columns by loss `target`).
    task: "classification" or "regression".
    classes: class names, index = class id (classification only).
    """

    x: torch.Tensor
    y: torch.Tensor
    task: str
    classes: list[str] | None = None
    feature_names: list[str] | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def subset(self, index: torch.Tensor) -> TensorData:
        return TensorData(
            self.x[index], self.y[index], self.task, self.classes, self.feature_names, self.info
        )


@dataclass
class Splits:
    """Training and validation parts, after normalisation and reshaping.

    normalization: what was applied to x, e.g. {"kind": "standardize", "mean": [...],
    "std": [...]}, so exported scripts can apply the same to new data.
    """

    train: TensorData
    val: TensorData
    normalization: dict[str, Any] = field(default_factory=dict)
