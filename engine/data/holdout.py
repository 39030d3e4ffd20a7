"""Holding out a validation split: random, or stratified so each class keeps its share."""

from __future__ import annotations

import numpy as np
import torch

from engine.data.dataset import CLASSIFICATION, DataError, TensorData


def split(
    data: TensorData, val_fraction: float, seed: int, stratify: bool = True
) -> tuple[TensorData, TensorData]:
    """(train, validation); both keep the samples' original order.

    The validation split holds round(N * val_fraction) samples, at least one when
    val_fraction > 0, and is empty when it is 0. Stratified splits (classification only)
    give each class its share of the validation samples, rounded by largest remainder.
    """
    n = len(data)
    if val_fraction <= 0:
        return data, data.empty()
    n_val = max(1, round(n * val_fraction))
    if n_val >= n:
        raise DataError(
            f"data.val_fraction: {n} samples are too few to hold out {val_fraction:g} of them "
            "for validation and keep some for training"
        )
    rng = np.random.default_rng(seed)
    if stratify and data.task == CLASSIFICATION:
        val = _stratified(data.y.numpy(), n_val, rng)
    else:
        val = rng.permutation(n)[:n_val]
    in_val = np.zeros(n, dtype=bool)
    in_val[val] = True
    return _part(data, ~in_val), _part(data, in_val)


def _part(data: TensorData, mask: np.ndarray) -> TensorData:
    return data.subset(torch.from_numpy(np.flatnonzero(mask)))


def _stratified(y: np.ndarray, n_val: int, rng: np.random.Generator) -> np.ndarray:
    classes, counts = np.unique(y, return_counts=True)
    quotas = counts * n_val / len(y)
    take = np.floor(quotas).astype(np.int64)
    by_remainder = np.argsort(-(quotas - take), kind="stable")
    take[by_remainder[: n_val - take.sum()]] += 1
    picks = [
        rng.permutation(np.flatnonzero(y == label))[:k]
        for label, k in zip(classes, take, strict=True)
    ]
    return np.concatenate(picks)
