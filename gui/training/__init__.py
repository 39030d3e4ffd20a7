"""Training from the app: the Qt bridge between the window and the engine's `Trainer`.

`TrainingController` (GUI thread) runs one `TrainingWorker` at a time in a QThread of its
own and re-emits what the views need, batch losses throttled to `DRAIN_HZ` deliveries a
second. The worker trains in a child process (engine.process.parent). Importing this
package does not import torch (the window appears before torch has loaded).
"""

from gui.training.controller import (
    DRAIN_HZ,
    TrainingBusyError,
    TrainingController,
    TrainingState,
)
from gui.training.worker import TrainingWorker

__all__ = [
    "DRAIN_HZ",
    "TrainingBusyError",
    "TrainingController",
    "TrainingState",
    "TrainingWorker",
]
