"""The hand-off of a run's results from the training thread to the GUI thread.

The training thread `put`s batch losses (floats) with a progress estimate and the layer
records made meanwhile, and epoch history rows, as they come from the training process;
the GUI thread `take`s everything gathered so far on a timer. However fast batches and
epochs come, the GUI then hears from training only as often as its timer fires. Plain
Python, no Qt, no torch.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.process.protocol import BatchLoss


@dataclass
class Taken:
    """What came since the last `take`, oldest first, and the newest progress."""

    losses: list[BatchLoss] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    progress: dict[str, Any] | None = None
    layers: list[dict[str, Any]] = field(default_factory=list)  # layer records
    warnings: dict[str, list[str]] | None = None  # the newest findings, when new ones came


class TrainingFeed:
    """Locked lists of batch losses and epoch rows plus the newest progress estimate.

    A row is put after the losses of its epoch, so a `take` that holds a row holds every
    batch before it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._losses: list[BatchLoss] = []
        self._rows: list[dict[str, Any]] = []
        self._progress: dict[str, Any] | None = None
        self._layers: list[dict[str, Any]] = []
        self._warnings: dict[str, list[str]] | None = None

    def put(
        self,
        losses: Iterable[BatchLoss],
        progress: dict[str, Any],
        layers: Iterable[dict[str, Any]] = (),
        warnings: dict[str, list[str]] | None = None,
    ) -> None:
        with self._lock:
            self._losses.extend(losses)
            self._progress = progress
            self._layers.extend(layers)
            if warnings is not None:
                self._warnings = warnings

    def put_row(self, row: dict[str, Any]) -> None:
        with self._lock:
            self._rows.append(row)

    def take(self) -> Taken:
        with self._lock:
            taken = Taken(self._losses, self._rows, self._progress, self._layers, self._warnings)
            self._losses, self._rows, self._layers, self._warnings = [], [], [], None
            return taken
