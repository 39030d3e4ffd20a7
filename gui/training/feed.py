"""The hand-off of batch results from the training thread to the GUI thread.

The training thread `put`s batch losses (floats) with a progress estimate as they come
from the training process; the GUI thread `take`s everything gathered so far on a timer.
However fast batches come, the GUI then hears from training only as often as its timer
fires. Plain Python, no Qt, no torch.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from engine.process.protocol import BatchLoss


class BatchFeed:
    """A locked list of batch losses plus the newest progress estimate."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._losses: list[BatchLoss] = []
        self._progress: dict[str, Any] | None = None

    def put(self, losses: Iterable[BatchLoss], progress: dict[str, Any]) -> None:
        with self._lock:
            self._losses.extend(losses)
            self._progress = progress

    def take(self) -> tuple[list[BatchLoss], dict[str, Any] | None]:
        """The losses put since the last call (oldest first) and the newest progress."""
        with self._lock:
            losses, self._losses = self._losses, []
            return losses, self._progress
