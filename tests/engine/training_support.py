"""Small real data sets, models and callbacks shared by the trainer's tests (no tests here)."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

import torch
from sklearn.datasets import load_breast_cancer, load_digits
from torch import nn

from engine.data.dataset import TensorData
from engine.training.trainer import Callback, Trainer


def standardised_split(
    x: torch.Tensor, y: torch.Tensor, task: str, val_fraction: float = 0.2
) -> tuple[TensorData, TensorData]:
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    cut = int(len(x) * (1 - val_fraction))
    train_rows, val_rows = order[:cut], order[cut:]
    mean, std = x[train_rows].mean(0), x[train_rows].std(0) + 1e-6
    x = (x - mean) / std
    return (
        TensorData(x[train_rows], y[train_rows], task),
        TensorData(x[val_rows], y[val_rows], task),
    )


def _sklearn_classes(loader) -> tuple[TensorData, TensorData]:
    data = loader()
    x = torch.tensor(data.data, dtype=torch.float32)
    y = torch.tensor(data.target, dtype=torch.long)
    return standardised_split(x, y, "classification")


@lru_cache(maxsize=1)
def digits() -> tuple[TensorData, TensorData]:
    """8x8 digit images as 64 standardised features; 10 classes; 1437 / 360 samples."""
    return _sklearn_classes(load_digits)


@lru_cache(maxsize=1)
def breast_cancer() -> tuple[TensorData, TensorData]:
    """30 standardised features; labels 0/1 as int64 class ids."""
    return _sklearn_classes(load_breast_cancer)


@lru_cache(maxsize=1)
def linear_regression() -> tuple[TensorData, TensorData]:
    """y = x w + b + noise with 8 features; y float32 [N, 1]."""
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(600, 8, generator=gen)
    w = torch.randn(8, 1, generator=gen)
    y = x @ w + 0.5 + 0.1 * torch.randn(600, 1, generator=gen)
    return standardised_split(x, y, "regression")


def mlp(inputs: int = 64, hidden: int = 128, outputs: int = 10, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, outputs))


def settings(loss: str = "CrossEntropyLoss", label: str = "out", **values: Any) -> dict:
    """Training settings on the CPU with one loss for `label`."""
    base = {"device": "cpu", "optimizer": "SGD", "lr": 0.01, "momentum": 0.9, "epochs": 3}
    return {**base, **values, "losses": {label: {"loss": loss}}}


def without_timing(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


class Recorder(Callback):
    """Records every event, and the weights after each batch when asked to."""

    def __init__(self, keep_weights: bool = False):
        self.events: list[tuple] = []
        self.batch_losses: list[torch.Tensor] = []
        self.batch_weights: list[dict[str, torch.Tensor]] = []
        self.keep_weights = keep_weights
        self.threads: set[int] = set()

    def _log(self, *event: Any) -> None:
        self.threads.add(threading.get_ident())
        self.events.append(event)

    def on_train_start(self, trainer: Trainer, plan: dict[str, Any]) -> None:
        self._log("train_start", plan)

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        self._log("epoch_start", epoch)

    def on_batch_end(self, trainer: Trainer, epoch: int, batch: int, loss: torch.Tensor) -> None:
        self._log("batch_end", epoch, batch)
        self.batch_losses.append(loss)
        if self.keep_weights:
            self.batch_weights.append(weights(trainer.model))

    def on_epoch_end(self, trainer: Trainer, epoch: int, row: dict[str, Any]) -> None:
        self._log("epoch_end", epoch, row)

    def on_pause(self, trainer: Trainer, epoch: int, batch: int) -> None:
        self._log("pause", epoch, batch)

    def on_resume(self, trainer: Trainer) -> None:
        self._log("resume")

    def on_finished(self, trainer: Trainer, result: Any) -> None:
        self._log("finished", result.status)

    def on_failed(self, trainer: Trainer, message: str) -> None:
        self._log("failed", message)

    def names(self) -> list[str]:
        return [event[0] for event in self.events]
