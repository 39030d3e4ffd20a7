"""Optimizers and learning-rate schedules made from the training settings.

SGD, Adam, AdamW and Adagrad use PyTorch's fused implementations on the CPU and CUDA
(one kernel for all parameters: the same update, less per-step overhead).
one_cycle keeps the user's momentum fixed (it cycles only the learning rate).
"""

from __future__ import annotations

from typing import Any

import torch
from torch.optim import lr_scheduler

from engine.errors import TrainingError

FUSED = ("SGD", "Adam", "AdamW", "Adagrad")


def make_optimizer(
    params: list[dict[str, Any]], settings: dict[str, Any], device: torch.device
) -> torch.optim.Optimizer:
    """The optimizer over parameter groups (engine.model.tuning.parameter_groups: each
    with its own learning rate)."""
    name, lr, decay = settings["optimizer"], settings["lr"], settings["weight_decay"]
    if not any(group["params"] for group in params):
        raise TrainingError(
            "the model has no trainable parameters: every layer with weights is frozen"
        )
    fused = {"fused": True} if name in FUSED and device.type in ("cpu", "cuda") else {}
    if name == "SGD":
        return torch.optim.SGD(
            params,
            lr=lr,
            momentum=settings["momentum"],
            nesterov=settings["nesterov"],
            weight_decay=decay,
            **fused,
        )
    if name == "Adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=decay, **fused)
    if name == "AdamW":
        return torch.optim.AdamW(params, lr=lr, weight_decay=decay, **fused)
    if name == "RMSprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=settings["momentum"], weight_decay=decay)
    if name == "Adagrad":
        return torch.optim.Adagrad(params, lr=lr, weight_decay=decay, **fused)
    raise TrainingError(f"unknown optimizer {name!r}")


class LrSchedule:
    """The learning-rate scheduler of a run and when it steps.

    step and cosine step after each epoch (cosine anneals to 0 over all epochs),
    one_cycle after each batch (peak = the learning rate), plateau after each epoch
    on the validation loss.
    """

    def __init__(
        self, optimizer: torch.optim.Optimizer, settings: dict[str, Any], batches_per_epoch: int
    ):
        self.name = settings["scheduler"]
        self.optimizer = optimizer
        self.per_batch = self.name == "one_cycle"
        self.scheduler = _make_scheduler(optimizer, settings, batches_per_epoch)

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def after_batch(self) -> None:
        self.scheduler.step()

    def after_epoch(self, val_loss: float | None) -> None:
        if self.scheduler is None or self.per_batch:
            return
        if self.name == "plateau":
            self.scheduler.step(val_loss)
        else:
            self.scheduler.step()

    def state_dict(self) -> dict[str, Any] | None:
        return None if self.scheduler is None else self.scheduler.state_dict()

    def load_state_dict(self, state: dict[str, Any] | None) -> None:
        if self.scheduler is not None and state is not None:
            self.scheduler.load_state_dict(state)


def _make_scheduler(
    optimizer: torch.optim.Optimizer, settings: dict[str, Any], batches_per_epoch: int
) -> Any:
    name, epochs = settings["scheduler"], settings["epochs"]
    if name == "none":
        return None
    if name == "step":
        return lr_scheduler.StepLR(
            optimizer, step_size=settings["step_size"], gamma=settings["gamma"]
        )
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    if name == "one_cycle":
        return lr_scheduler.OneCycleLR(
            optimizer,
            max_lr=[group["lr"] for group in optimizer.param_groups],  # each group's peak
            total_steps=epochs * batches_per_epoch,
            cycle_momentum=False,
        )
    if name == "plateau":
        if settings["gamma"] >= 1:
            raise TrainingError("the plateau scheduler needs gamma below 1 to lower the rate")
        return lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="min", factor=settings["gamma"], patience=settings["patience"]
        )
    raise TrainingError(f"unknown scheduler {name!r}")
