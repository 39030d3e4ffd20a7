"""The torch side of a training run started from the app: plain Python, no Qt.

The run itself is prepared by `engine.training_job.prepare_job`, as for the command
line. `Relay` hands the trainer's events to a listener with the loss already a float.
The worker imports this module in its own thread, so the GUI never waits for torch.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import torch

from engine.training import Callback, Trainer
from engine.training_job import TrainingJob, prepare_job

__all__ = ["Relay", "TrainingJob", "prepare_job", "torch_threads", "training_threads"]


def training_threads() -> int:
    """Threads for torch's CPU kernels while training: one core fewer than this process
    may use, and never more than torch would take anyway.

    torch's OpenMP threads spin at every barrier, waiting for each other. Given every
    core, any other busy thread (the GUI thread painting plots, another program) takes
    one of them off its core while the rest spin: on a loaded two-core machine a run of
    the digits CNN took 100-170 s with two threads instead of 2 s with one. A free core
    keeps the GUI and training out of each other's way.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(torch.get_num_threads(), (cores or 1) - 1))


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with `count` intra-op threads, then restore the previous number.

    With OpenMP the setting belongs to the calling thread, so enter this in the thread
    that trains.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class RunListener(Protocol):
    """What `Relay` calls, in the training thread."""

    def on_started(self, plan: dict[str, Any]) -> None: ...

    def on_batch(self, epoch: int, batch: int, loss: float) -> None: ...

    def on_epoch(self, row: dict[str, Any]) -> None: ...

    def on_pause(self) -> None: ...

    def on_resume(self) -> None: ...


class Relay(Callback):
    """Forwards the trainer's events to a listener.

    The plan gains the batch size; the loss is read as a float here, which costs nothing
    on the CPU and, on a GPU, nothing more than the finiteness check the trainer has just
    made on the same scalar.
    """

    def __init__(self, listener: RunListener):
        self.listener = listener

    def on_train_start(self, trainer: Trainer, plan: dict[str, Any]) -> None:
        self.listener.on_started({**plan, "batch_size": trainer.settings["batch_size"]})

    def on_batch_end(self, trainer: Trainer, epoch: int, batch: int, loss: torch.Tensor) -> None:
        self.listener.on_batch(epoch, batch, float(loss))

    def on_epoch_end(self, trainer: Trainer, epoch: int, row: dict[str, Any]) -> None:
        self.listener.on_epoch(dict(row))

    def on_pause(self, trainer: Trainer, epoch: int, batch: int) -> None:
        self.listener.on_pause()

    def on_resume(self, trainer: Trainer) -> None:
        self.listener.on_resume()
