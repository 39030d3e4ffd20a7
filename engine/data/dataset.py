"""Data sets: features and targets held as tensors (image pixels read from their cache a
batch at a time), batched by index slicing."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from engine.data.pixels import ImageRows
from engine.errors import DataError

if TYPE_CHECKING:
    from engine.data.augment import Augmenter

CLASSIFICATION = "classification"
REGRESSION = "regression"
FLOAT32_MAX = float(np.finfo(np.float32).max)  # a larger value would train as inf
__all__ = ["CLASSIFICATION", "FLOAT32_MAX", "REGRESSION", "DataError", "Splits", "TensorData"]


@dataclass
class TensorData:
    """A data set as two tensors.

    x: features, float32 [N, ...] with at least two dimensions (int64 for token ids);
       for image files an `ImageRows`, which reads float32 samples a batch at a time
       and answers as such a tensor does: from the cache's uint8 pixels (`PixelRows`),
       or decoded from the files each time (`StreamedRows`, engine.data.streamed).
    y: targets: int64 [N] class ids for classification; float32 [N, k] for regression,
       always two-dimensional, so one target is [N, 1] like the output of Linear(..., 1)
       (a multi-output model picks columns by loss `target`).
    task: "classification" or "regression".
    classes: class names, index = class id (classification only).
    info: where the data came from, e.g. {"source": "builtin digits"}, and "warnings",
       what its reader had to say (images skipped, say).
    augment: the augmentation a run applies to each training batch (training data with
       augmentation switched on; engine.data.augment), else None.
    """

    x: torch.Tensor | ImageRows
    y: torch.Tensor
    task: str
    classes: list[str] | None = None
    feature_names: list[str] | None = None
    info: dict[str, Any] = field(default_factory=dict)
    augment: Augmenter | None = None

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def subset(self, index: torch.Tensor) -> TensorData:
        """The samples at `index`; images (`ImageRows`) are not copied, only their
        rows taken."""
        x = self.x.subset(index) if isinstance(self.x, ImageRows) else self.x[index]
        return replace(self, x=x, y=self.y[index])

    def empty(self) -> TensorData:
        """No samples, the same sample shape: a validation split of nothing."""
        return self.subset(torch.zeros(0, dtype=torch.int64))

    @classmethod
    def classification(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        classes: list[str],
        feature_names: list[str] | None = None,
        source: str = "",
    ) -> TensorData:
        """From numpy: x as float32 (int64 kept for token ids), y as int64 class ids."""
        return cls(
            _features(x),
            torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64)),
            CLASSIFICATION,
            list(classes),
            feature_names,
            {"source": source},
        )

    @classmethod
    def regression(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        feature_names: list[str] | None = None,
        source: str = "",
    ) -> TensorData:
        """From numpy: x as float32, y as float32 [N, k] (a 1-D y becomes [N, 1])."""
        y = np.asarray(y, dtype=np.float32)
        y = y.reshape(len(y), -1)
        return cls(
            _features(x),
            torch.from_numpy(np.ascontiguousarray(y)),
            REGRESSION,
            None,
            feature_names,
            {"source": source},
        )


def _features(x: np.ndarray) -> torch.Tensor:
    """A 1-D x (one feature per sample) becomes [N, 1]."""
    dtype = np.int64 if x.dtype == np.int64 else np.float32
    x = np.ascontiguousarray(x, dtype=dtype)
    return torch.from_numpy(x.reshape(len(x), 1) if x.ndim == 1 else x)


@dataclass
class Splits:
    """Training and validation parts, after normalisation and reshaping.

    normalization: what was applied to x, e.g. {"kind": "standardize", "mean": [...],
    "std": [...]}: x' = (x - mean) / std along dim 1 of x as loaded (features, or image
    channels), before any reshape; one value, or one per entry of dim 1. So exported
    scripts can apply the same to new data.
    encoding: how a table's columns became features (categories, filled cells), fitted
    on the training part (engine.data.encoding), applied before the normalisation; None
    when the features are the table's numbers as they are.
    tokenizer: how texts became token ids (engine.data.tokens: its rule, max_length and
    the vocabulary of the training part's texts); None for data that is not text.
    """

    train: TensorData
    val: TensorData
    normalization: dict[str, Any] = field(default_factory=dict)
    encoding: list[dict[str, Any]] | None = None
    tokenizer: dict[str, Any] | None = None

    def warnings(self) -> list[str]:
        """What the data's reader had to say (images skipped, say), and what trains but
        cannot teach much: classification data of one class only."""
        data = self.train
        said = list(data.info.get("warnings", []))
        if data.task != CLASSIFICATION or not len(data):
            return said
        present = torch.unique(torch.cat([data.y, self.val.y]))
        if len(present) > 1:
            return said
        name = data.classes[int(present[0])] if data.classes else str(int(present[0]))
        source = data.info.get("source", "the data")
        return [
            *said,
            f"{source}: every sample is of class {name!r}; a classifier needs at least two "
            f"classes to learn anything (is the target column the right one?)",
        ]
