"""`TrainingWorker`: one training run, driven from a QThread of its own.

The worker is a QObject moved to a plain QThread whose `started` signal calls `run`. The
run itself trains in a child process (engine.process.parent), so its Python never holds the
window's interpreter lock; the thread waits on the child and turns what it reports into
signals, which reach receivers in the GUI thread queued. Batch losses and epoch rows are
the exception: they can come far too often for a signal each (a tiny model trains
hundreds of epochs a second), so they go into `feed` and the GUI thread collects them on
a timer (see `TrainingController`).

Stop, pause and resume may be asked for from any thread, even before the child is
there: the wish is kept (engine.process.protocol.PendingControls) under a lock and sent
as soon as it can be.
"""

from __future__ import annotations

import copy
import logging
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal, Slot

from engine.document.project import Project, from_dict, to_dict
from engine.document.trust import NOT_ALLOWED, Trust
from engine.errors import node_of, one_line, one_line_text, speaks_for_itself
from engine.process.protocol import (
    Batches,
    Decoding,
    Epoch,
    Handlers,
    Pause,
    Paused,
    PendingControls,
    Resume,
    Resumed,
    Started,
    Steer,
    Stop,
    Train,
)
from engine.runs.store import RunRecord
from engine.training.status import RunStatus
from gui.training.feed import TrainingFeed

if TYPE_CHECKING:
    from engine.process.parent import TrainingProcess
    from engine.runs.evaluation import TrainedModel

log = logging.getLogger(__name__)


class TrainingWorker(QObject):
    """Trains `project` in a child process when `run` is called (in the training thread).

    Every run ends with exactly one of `finished` (status "completed", "early_stopped"
    or "stopped") or `failed`, emitted as the last thing `run` does.
    """

    decoding = Signal(int, int)  # images of an image folder decoded so far, of how many
    started = Signal(object)  # plan: epochs, start_epoch, batches_per_epoch, batch_size...
    paused = Signal()  # the run is now held until resumed or stopped
    resumed = Signal()
    finished = Signal(object)  # TrainResult.summary()
    failed = Signal(str)  # one line for the user; `failed_node` is set first

    def __init__(
        self,
        project: Project,
        run_folder: Path | None = None,
        resume: RunRecord | None = None,
        trust: Trust = NOT_ALLOWED,
        parent: QObject | None = None,
    ):
        """`run_folder`: where the run keeps its checkpoint and, at the end, its files
        (engine.runs.store); `resume`: a stopped run to continue, with its own settings;
        `trust`: which Custom layers' code may run (the document's decision)."""
        super().__init__(parent)
        self._trust = trust
        # A copy taken now, in the GUI thread: the user may edit the graph while it trains.
        self._document = copy.deepcopy(to_dict(project))
        self._path: Path | None = project.path
        self._run_folder = run_folder
        self._resume = resume
        self.feed = TrainingFeed()
        self.record: RunRecord | None = None
        self.trained: TrainedModel | None = None  # the run's model with its validation data
        self.evaluation: list | None = None  # engine.runs.evaluation.evaluate of `trained`
        self.failed_node: str | None = None  # the node a failure is on, when it is on one
        self._lock = threading.Lock()
        self._process: TrainingProcess | None = None
        self._pending = PendingControls()
        self._killed = False

    # --- control, from any thread -----------------------------------------------------

    def request_stop(self) -> None:
        """End after the current batch; a paused run wakes up to end."""
        self._steer(Stop())

    def request_pause(self) -> None:
        self._steer(Pause())

    def request_resume(self) -> None:
        self._steer(Resume())

    def kill(self) -> None:
        """End the training process at once: for a run that does not stop when asked
        (stuck loading data, say). The run then fails."""
        with self._lock:
            self._killed = True
            if self._process is not None:
                self._process.kill()

    def _steer(self, control: Steer) -> None:
        with self._lock:
            if self._process is None:
                self._pending.add(control)
            else:
                self._process.send(control)

    # --- the run, in the training thread ----------------------------------------------

    @Slot()
    def run(self) -> None:
        try:
            summary = self._train()
        except Exception as exc:
            if not speaks_for_itself(exc):
                log.exception("training could not run")
            self._drop_unsaved_folder()
            self.failed_node = node_of(exc)
            self.failed.emit(one_line(exc))
            return
        self._drop_unsaved_folder()
        if summary["status"] == RunStatus.FAILED:
            self.failed_node = summary.get("node_id")
            self.failed.emit(one_line_text(summary["message"]))
        else:
            self.finished.emit(summary)

    def _train(self) -> dict[str, Any]:
        from engine.process import parent

        process = parent.take()
        process.send(Train(self._document, self._path, self._run_folder, self._resume, self._trust))
        self._attach(process)
        try:
            done = process.follow(self._handlers())  # raises if the run failed or the process ended
        finally:
            parent.give_back(process)  # a process that has ended is let go
        self.record = done.record
        self.evaluation = done.evaluation
        if done.trained is not None:
            project = from_dict(done.document or self._document)  # as it trained
            try:
                self.trained = parent.trained_model(done, project, self._trust)
            except Exception:  # the run went well: report it, show no evaluation
                log.exception("the trained model could not be rebuilt")
                self.evaluation = None
        return done.summary

    def _attach(self, process: TrainingProcess) -> None:
        """Send the child what was asked for before it was there."""
        with self._lock:
            self._process = process
            if self._killed:
                process.kill()
            wish = self._pending.take()
            if wish is not None:
                process.send(wish)

    def _drop_unsaved_folder(self) -> None:
        """A new run that kept nothing (it failed or stopped before its first epoch)
        leaves no empty folder behind."""
        folder = self._run_folder
        if folder is not None and self._resume is None and self.record is None:
            shutil.rmtree(folder, ignore_errors=True)

    # --- what the child reports, in this thread ------------------------------------------

    def _handlers(self) -> Handlers:
        return {
            Decoding: lambda event: self.decoding.emit(event.done, event.total),
            Started: lambda event: self.started.emit(event.plan),
            Batches: lambda event: self.feed.put(
                event.losses, event.progress, event.layers, event.warnings
            ),
            Epoch: lambda event: self.feed.put_row(event.row),
            Paused: lambda event: self.paused.emit(),
            Resumed: lambda event: self.resumed.emit(),
        }
