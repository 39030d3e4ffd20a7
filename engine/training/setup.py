"""The trainer's side of a run, made and checked on the device before the first batch.

`prepare_run` resolves the device, moves model and data there once, runs one probe
forward pass (in eval mode, on the first batch's samples) to learn the outputs' shapes
and the initial loss (engine.training.sanity), checks every loss against its output and
targets, and builds the optimizer, schedule, shuffling generator and (with augmentation
on) the augmenter, seeded with the run's seed + 1. Every problem it
finds is a `TrainingError` with a one-sentence message.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from engine.data.augment import Augmenter
from engine.data.dataset import TensorData
from engine.document.settings import validate_training
from engine.errors import USER_CODE_ERRORS, TrainingError
from engine.model.failures import failure
from engine.model.tuning import parameter_groups
from engine.training.callbacks import EarlyStopping
from engine.training.devices import Precision, resolve_device
from engine.training.losses import LossPlan, OutputLoss, plan_losses
from engine.training.metrics import SplitMeter
from engine.training.optim import LrSchedule, make_optimizer
from engine.training.sanity import initial_losses

PROBE_ROWS = 2


@dataclass
class Split:
    """Features and one prepared target tensor per output, resident on the device."""

    x: torch.Tensor
    targets: list[torch.Tensor]

    @property
    def rows(self) -> int:
        return int(self.x.shape[0])


@dataclass
class Run:
    """The state of one call of `Trainer.fit`."""

    device: torch.device
    precision: Precision
    specs: list[OutputLoss]
    plan: LossPlan
    tuple_output: bool
    train: Split
    val: Split | None
    params: list[nn.Parameter]
    optimizer: torch.optim.Optimizer
    schedule: LrSchedule
    shuffle: torch.Generator
    augment: Augmenter | None  # of each training batch, with its own generator
    early: EarlyStopping
    batch_size: int
    sample_flops: float  # of the forward pass, per sample
    initial_loss: list[dict[str, Any]]  # engine.training.sanity, of the first batch
    threads: int = 0  # intra-op threads it trains with; 0 until the trainer chooses
    history: list[dict[str, Any]] = field(default_factory=list)
    epochs_done: int = 0
    train_samples: int = 0
    seconds: float = 0.0
    paused_seconds: float = 0.0
    epoch_start_weights: dict[str, torch.Tensor] | None = None
    train_meter: SplitMeter | None = None

    @property
    def batches_per_epoch(self) -> int:
        count = math.ceil(self.train.rows / self.batch_size)
        lone_last = count > 1 and self.train.rows % self.batch_size == 1
        return count - 1 if lone_last else count  # see training._batches


def checked_settings(settings: dict[str, Any], labels: list[str]) -> dict[str, Any]:
    """Settings with defaults filled in; TrainingError listing every problem."""
    if len(set(labels)) != len(labels) or not labels:
        raise TrainingError(f"output labels must be distinct and at least one, got {labels}")
    values, problems = validate_training(settings, labels)
    if problems:
        raise TrainingError("; ".join(f"{where}: {what}" for where, what in problems))
    return values


def prepare_run(
    model: nn.Module,
    labels: list[str],
    settings: dict[str, Any],
    train: TensorData,
    val: TensorData | None,
) -> Run:
    """Device, data, losses, optimizer and schedule for a run; checks everything first."""
    device = resolve_device(settings["device"])
    _check_data(train, "training")
    if val is not None:
        _check_data(val, "validation")
    has_val = val is not None and len(val) > 0
    _check_needs_validation(settings, has_val)
    _move(model, device, "the model")
    train_x = _move(train.x, device, "the training data")
    first = min(settings["batch_size"], int(train_x.shape[0]))  # the data is not empty
    outputs, tuple_output, flops = probe_outputs(model, train_x[: max(first, PROBE_ROWS)], labels)
    specs = plan_losses(settings["losses"], labels, outputs)
    train_split = Split(train_x, loss_targets(specs, train.y, "training", device))
    first_targets = [t[:first] for t in train_split.targets]
    initial = initial_losses(specs, [o[:first] for o in outputs], first_targets)
    val_split = None
    if has_val:
        val_x = _move(val.x, device, "the validation data")
        val_split = Split(val_x, loss_targets(specs, val.y, "validation", device))
    torch.manual_seed(settings["seed"])
    groups = parameter_groups(model, settings["lr"])
    params = [p for group in groups for p in group["params"]]
    optimizer = make_optimizer(groups, settings, device)
    batches = math.ceil(train_split.rows / settings["batch_size"])
    return Run(
        device=device,
        precision=Precision(device, settings["mixed_precision"]),
        specs=specs,
        plan=LossPlan(specs),
        tuple_output=tuple_output,
        train=train_split,
        val=val_split,
        params=params,
        optimizer=optimizer,
        schedule=LrSchedule(optimizer, settings, batches),
        shuffle=torch.Generator().manual_seed(settings["seed"]),
        augment=train.augment.seeded(settings["seed"] + 1, device) if train.augment else None,
        early=EarlyStopping(settings["early_stopping"]),
        batch_size=settings["batch_size"],
        sample_flops=flops,
        initial_loss=initial,
    )


def probe_outputs(
    model: nn.Module, x: torch.Tensor, labels: list[str]
) -> tuple[tuple[torch.Tensor, ...], bool, float]:
    """Run the model in eval mode on a few samples: (outputs, whether it returns a
    tuple, its floating-point operations per sample as `FlopCounterMode` counts them)."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            out = model(x)
    except USER_CODE_ERRORS as exc:
        shape = list(x.shape[1:])
        context = f"the model cannot run on the data (one sample has shape {shape})"
        raise failure(exc).error(TrainingError, context) from exc
    finally:
        model.train(was_training)
    several = isinstance(out, tuple | list)
    outputs = tuple(out) if several else (out,)
    _check_outputs(outputs, labels, len(x))
    return outputs, several, counter.get_total_flops() / len(x)


def _check_outputs(outputs: tuple[Any, ...], labels: list[str], rows: int) -> None:
    if len(outputs) != len(labels):
        raise TrainingError(
            f"the model returns {len(outputs)} output(s), but {len(labels)} output label(s) "
            f"were given ({', '.join(labels)})"
        )
    for label, output in zip(labels, outputs, strict=True):
        if not isinstance(output, torch.Tensor) or not output.is_floating_point():
            raise TrainingError(f"output {label!r} must be a floating-point tensor")
        if output.dim() == 0 or output.shape[0] != rows:
            raise TrainingError(
                f"output {label!r} must keep the batch dimension first, "
                f"but it has shape {list(output.shape)} for a batch of {rows}"
            )


def _check_data(data: TensorData, split: str) -> None:
    rows, targets = int(data.x.shape[0]), int(data.y.shape[0])
    if rows != targets:
        raise TrainingError(f"the {split} data has {rows} samples but {targets} targets")
    if split == "training" and rows == 0:
        raise TrainingError("the training data is empty")


def _check_needs_validation(settings: dict[str, Any], has_val: bool) -> None:
    if has_val:
        return
    if settings["early_stopping"] is not None:
        raise TrainingError(
            "early stopping watches the validation loss; hold out some validation data"
        )
    if settings["scheduler"] == "plateau":
        raise TrainingError(
            "the plateau scheduler watches the validation loss; hold out some validation data"
        )


def _move(thing: Any, device: torch.device, what: str) -> Any:
    try:
        return thing.to(device)
    except RuntimeError as exc:  # out of memory, most often
        raise TrainingError(f"{what} cannot be moved to {device}: {exc}") from exc


def loss_targets(
    specs: list[OutputLoss], y: torch.Tensor, split: str, device: torch.device | None = None
) -> list[torch.Tensor]:
    """Each output's targets, as its loss takes them, from the data's `y`."""
    device = device or torch.device("cpu")
    return [_move(spec.targets(y, split), device, f"the {split} targets") for spec in specs]


def all_finite(params: Sequence[torch.Tensor]) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in params)
