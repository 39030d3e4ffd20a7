"""`TrainingController`: starts, steers and ends training runs, in the GUI thread.

Each run gets a fresh `TrainingWorker` moved to a fresh QThread (never a QThread
subclass, never `terminate()`), which drives the run in a training process; the thread
is joined before the run is reported over, so no thread outlives its run. A QTimer
collects batch losses and epoch rows from the worker's feed `DRAIN_HZ` times a second:
the views hear about them in bursts, at most that often, however fast training goes
(the screen is throttled, never the training). A burst is one signal of each kind, so a
view draws it with one update; the rows go out after the batch losses, so a view always
has every batch that came before a row. A pause, a stop and the end of a run empty the
feed at once, in one burst.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QCoreApplication,
    QDeadlineTimer,
    QEvent,
    QObject,
    QThread,
    QTimer,
    Signal,
    Slot,
)

from engine.document.project import Project
from engine.document.trust import NOT_ALLOWED, Trust
from gui.training.worker import TrainingWorker

if TYPE_CHECKING:
    from engine.runs.store import RunRecord

DRAIN_HZ = 25
KILL_WAIT_MS = 10_000  # for a killed training process to be noticed


class TrainingState(StrEnum):
    IDLE = "idle"
    PREPARING = "preparing"  # building the model and loading the data
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"

    @property
    def can_pause(self) -> bool:
        """A pause may still be taken: the run is being prepared or runs."""
        return self in (TrainingState.PREPARING, TrainingState.RUNNING)

    @property
    def can_resume(self) -> bool:
        """The run is paused, or a pause not yet taken may be withdrawn."""
        return self.can_pause or self == TrainingState.PAUSED


class TrainingBusyError(RuntimeError):
    """A run was started while another one is active."""


class TrainingController(QObject):
    """One run at a time; every `start` ends with exactly one `finished` or `failed`,
    after which the state is back to "idle" (so a slot may start the next run)."""

    decoding = Signal(int, int)  # before the run: images decoded into the cache, of how many
    started = Signal(object)  # the plan: epochs, batches_per_epoch, batch_size, device...
    batch_losses = Signal(object)  # list of (epoch, batch, loss), oldest first
    layer_records = Signal(object)  # list of layer records (engine.training.diagnosis)
    layer_warnings = Signal(object)  # node id -> warnings: the newest findings
    progress = Signal(object)  # epoch, epochs, batch, batches_per_epoch, samples_per_second...
    epochs_finished = Signal(object)  # history rows of the epochs since the last burst
    finished = Signal(object)  # TrainResult.summary(): status, epochs, final row...
    failed = Signal(str)  # one line for the user; `failed_node` is set first
    state_changed = Signal(object)  # a TrainingState

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._state = TrainingState.IDLE
        self._worker: TrainingWorker | None = None
        self._thread: QThread | None = None
        self._plan_sent = False  # `started` has gone out: the views may hear of batches
        self.last_record: RunRecord | None = None  # the saved run, when it was kept
        # (engine.runs.evaluation.TrainedModel, its evaluation) of the last run, or Nones
        self.last_evaluation: tuple[Any, Any] = (None, None)
        self.failed_node: str | None = None  # the node the last failed run's error is on
        self._timer = QTimer(self)
        self._timer.setInterval(1000 // DRAIN_HZ)
        self._timer.timeout.connect(self._drain)

    @property
    def state(self) -> TrainingState:
        return self._state

    @property
    def is_running(self) -> bool:
        return self._state != TrainingState.IDLE

    # --- commands ---------------------------------------------------------------------

    def start(
        self,
        project: Project,
        run_folder: Path | None = None,
        resume: RunRecord | None = None,
        trust: Trust = NOT_ALLOWED,
    ) -> None:
        """Train a copy of `project` as it is now, keeping the run in `run_folder` when
        given, continuing the stopped run `resume` when given, running the Custom layers
        `trust` allows (a model with others fails). Raises TrainingBusyError during a run."""
        if self.is_running:
            raise TrainingBusyError("a training run is already active; stop it first")
        worker = TrainingWorker(project, run_folder, resume, trust)
        thread = QThread()
        thread.setObjectName("training")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.decoding.connect(self.decoding)
        worker.started.connect(self._on_started)
        worker.paused.connect(self._on_paused)
        worker.resumed.connect(self._on_resumed)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        self._worker, self._thread = worker, thread
        self._plan_sent = False
        self._set_state(TrainingState.PREPARING)
        self._timer.start()
        thread.start()

    def pause(self) -> None:
        """Pause after the current batch; the state turns "paused" once it has."""
        if self._worker is not None and self._state.can_pause:
            self._worker.request_pause()

    def resume(self) -> None:
        """Continue a paused run (or withdraw a pause not yet taken)."""
        if self._worker is not None and self._state.can_resume:
            self._worker.request_resume()

    def stop(self) -> None:
        """End the run after the current batch (or at once, if paused), keeping its
        weights and history; `finished` follows with status "stopped".

        The losses gathered so far are delivered now: at most one more batch follows.
        """
        if self._worker is None or self._state == TrainingState.STOPPING:
            return
        self._worker.request_stop()  # wakes a paused trainer too
        self._drain()
        self._set_state(TrainingState.STOPPING)

    def shutdown(self, timeout_ms: int = -1) -> bool:
        """Stop any run and join its thread, for closing the window or opening another
        project. A run that has not ended within `timeout_ms` (negative: wait as long as
        it takes) has its training process killed, which ends it within a few seconds.

        True when no thread is left; `finished` or `failed` has then been emitted. False
        only if even the killed run did not end (the run is then still owned here and
        ends as usual, and `shutdown` may be called again). Qt aborts the process if a
        running QThread is destroyed, so the owner must not let go before this returns
        True.
        """
        if self._thread is None:
            return True
        self.stop()
        self._thread.quit()
        if not self._thread.wait(QDeadlineTimer(timeout_ms)):
            self._worker.kill()
            if not self._thread.wait(QDeadlineTimer(KILL_WAIT_MS)):
                return False
        # The worker's last signals are still queued for this object: deliver them now,
        # so the run ends here and nothing about it arrives later.
        QCoreApplication.sendPostedEvents(self, QEvent.Type.MetaCall)
        return True

    # --- the worker's signals, queued to this thread ----------------------------------

    @Slot(object)
    def _on_started(self, plan: dict[str, Any]) -> None:
        if self._state == TrainingState.PREPARING:
            self._set_state(TrainingState.RUNNING)
        self._plan_sent = True
        self.started.emit(plan)

    @Slot()
    def _on_paused(self) -> None:
        self._drain()
        if self._state.can_pause:
            self._set_state(TrainingState.PAUSED)

    @Slot()
    def _on_resumed(self) -> None:
        if self._state == TrainingState.PAUSED:
            self._set_state(TrainingState.RUNNING)

    @Slot(object)
    def _on_finished(self, summary: dict[str, Any]) -> None:
        self._end_run()
        self.finished.emit(summary)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._end_run()
        self.failed.emit(message)

    # --- helpers ----------------------------------------------------------------------

    def _end_run(self) -> None:
        """Join the thread (its `run` has emitted its last signal and is returning),
        deliver the last losses and return to idle."""
        worker, thread = self._worker, self._thread
        if worker is None or thread is None:
            return
        thread.quit()
        thread.wait()
        self._drain()
        self._timer.stop()
        self._worker = self._thread = None
        self.last_record = worker.record
        self.last_evaluation = (worker.trained, worker.evaluation)
        self.failed_node = worker.failed_node
        self._set_state(TrainingState.IDLE)

    @Slot()
    def _drain(self) -> None:
        """Hand the views the batch losses and epoch rows gathered since the last time.
        Not before the run's plan has gone out: the worker feeds losses from its own
        thread, and the queued `started` may still be on its way, and a view that
        starts a run afresh on `started` would lose what came before it."""
        if self._worker is None or not self._plan_sent:
            return
        taken = self._worker.feed.take()
        if taken.losses:
            self.batch_losses.emit(taken.losses)
        if taken.rows:
            self.epochs_finished.emit(taken.rows)
        if taken.layers:
            self.layer_records.emit(taken.layers)
        if taken.warnings is not None:
            self.layer_warnings.emit(taken.warnings)
        if taken.losses:
            self.progress.emit(taken.progress)

    def _set_state(self, state: TrainingState) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)
