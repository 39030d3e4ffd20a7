"""Where a training run is and how fast it goes, for a progress bar. Plain Python."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


class ProgressMeter:
    """Where a run is and how fast it goes, for a progress bar.

    Speed counts the time since training started, validation included and pauses
    excluded, so `seconds_left` (the remaining batches at the average pace so far) already
    allows for the validation passes still to come. Used in the training thread only.
    """

    def __init__(self, plan: dict[str, Any], clock: Callable[[], float] = time.perf_counter):
        self.epochs = plan["epochs"]
        self.start_epoch = plan["start_epoch"]
        self.batches_per_epoch = plan["batches_per_epoch"]
        self.train_samples = plan["train_samples"]
        self.batch_size = plan["batch_size"]
        self._clock = clock
        self._started = clock()
        self._paused_at: float | None = None
        self._paused_seconds = 0.0

    def pause(self) -> None:
        self._paused_at = self._clock()

    def resume(self) -> None:
        if self._paused_at is not None:
            self._paused_seconds += self._clock() - self._paused_at
            self._paused_at = None

    def batch(self, epoch: int, batch: int) -> dict[str, Any]:
        """The progress after `batch` of `epoch` has been trained."""
        seconds = self._clock() - self._started - self._paused_seconds
        epochs_before = epoch - self.start_epoch
        done = epochs_before * self.batches_per_epoch + batch
        left = (self.epochs - epoch + 1) * self.batches_per_epoch - batch
        samples = epochs_before * self.train_samples + min(
            batch * self.batch_size, self.train_samples
        )
        return {
            "epoch": epoch,
            "epochs": self.epochs,
            "batch": batch,
            "batches_per_epoch": self.batches_per_epoch,
            "samples_per_second": samples / seconds if seconds > 0 else 0.0,
            "seconds_left": max(0, left) * seconds / done if done > 0 else None,
        }
