"""What a run tells the code that follows it, and the callbacks the trainer itself uses.

A `Callback` receives the trainer's events in the training thread. `EarlyStopping` is
one: it watches the validation loss after each epoch, asks the trainer to stop when it
has not improved for `patience` epochs, and at the end gives the model the weights of
its best epoch. Its state travels in checkpoints, so a resumed run stops where an
uninterrupted one would.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

if TYPE_CHECKING:
    from engine.training.status import RunStatus
    from engine.training.trainer import Trainer, TrainResult


class Callback:
    """Receives the trainer's events, in the training thread. Override what you need.

    epoch and batch numbers start at 1. `row` is the epoch's history entry.
    """

    def on_train_start(self, trainer: Trainer, plan: dict[str, Any]) -> None:
        """plan: epochs, start_epoch, batches_per_epoch, train_samples, val_samples, device."""

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        pass

    def on_batch_start(self, trainer: Trainer, epoch: int, batch: int) -> None:
        """Before the batch's forward pass (every batch)."""

    def on_after_backward(self, trainer: Trainer, epoch: int, batch: int) -> None:
        """The gradients are computed and the optimizer has not stepped yet (every
        batch; also for a batch whose loss is not finite, which takes no step)."""

    def first_nonfinite(self, trainer: Trainer, x: torch.Tensor) -> tuple[str, str] | None:
        """Asked when a batch's loss was not finite: (node id, a sentence) of the first
        layer whose output on `x` was not finite, or None when this callback cannot tell."""
        return None

    def on_batch_end(self, trainer: Trainer, epoch: int, batch: int, loss: torch.Tensor) -> None:
        """loss: the batch's total loss, a detached 0-d tensor on the training device."""

    def on_epoch_end(self, trainer: Trainer, epoch: int, row: dict[str, Any]) -> None:
        pass

    def on_pause(self, trainer: Trainer, epoch: int, batch: int) -> None:
        """Called in the training thread just before it blocks until resumed or stopped."""

    def on_resume(self, trainer: Trainer) -> None:
        pass

    def on_finished(self, trainer: Trainer, result: TrainResult) -> None:
        """The run ended normally: completed, early_stopped or stopped."""

    def on_failed(self, trainer: Trainer, message: str) -> None:
        pass

    def on_train_end(self, trainer: Trainer, status: RunStatus) -> None:
        """Training is over (any status, failed included), before the result is made:
        the last moment to change the model."""


class EarlyStopping(Callback):
    """Patience on the validation loss (None: off), and a CPU copy of the best epoch's
    weights."""

    def __init__(self, patience: int | None):
        self.patience = patience
        self.best_loss: float | None = None
        self.best_epoch: int | None = None
        self.bad_epochs = 0
        self.best_weights: dict[str, torch.Tensor] | None = None

    def on_epoch_end(self, trainer: Trainer, epoch: int, row: dict[str, Any]) -> None:
        val_loss = row.get("val_loss")
        if val_loss is not None and self.update(epoch, val_loss, trainer.model):
            trainer.request_early_stop()

    def on_train_end(self, trainer: Trainer, status: RunStatus) -> None:
        if status.kept_best and self.best_weights is not None:
            trainer.model.load_state_dict(self.best_weights)

    def update(self, epoch: int, val_loss: float, model: nn.Module) -> bool:
        """Record the epoch's validation loss; True when training should stop."""
        if self.patience is None:
            return False
        if math.isfinite(val_loss) and (self.best_loss is None or val_loss < self.best_loss):
            self.best_loss, self.best_epoch, self.bad_epochs = val_loss, epoch, 0
            self.best_weights = copy_state(model, torch.device("cpu"))
            return False
        self.bad_epochs += 1
        return self.bad_epochs >= self.patience

    def state_dict(self) -> dict[str, Any]:
        return {
            "best_loss": self.best_loss,
            "best_epoch": self.best_epoch,
            "bad_epochs": self.bad_epochs,
            "best_weights": self.best_weights,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_loss = state["best_loss"]
        self.best_epoch = state["best_epoch"]
        self.bad_epochs = state["bad_epochs"]
        self.best_weights = state["best_weights"]


def copy_state(model: nn.Module, device: torch.device) -> dict[str, torch.Tensor]:
    """A detached copy of the model's state on `device`."""
    return {k: v.detach().to(device, copy=True) for k, v in model.state_dict().items()}
