"""`TrainingWorker`: one training run, in a QThread of its own.

The worker is a QObject moved to a plain QThread whose `started` signal calls `run`. It
turns the trainer's events into signals, which reach receivers in the GUI thread queued.
Batch losses are the exception: they come far too often for a signal each, so they go
into `feed` and the GUI thread collects them on a timer (see `TrainingController`).

Stop, pause and resume may be asked for from any thread, even before the trainer exists:
the wish is kept under a lock and handed to the trainer as soon as it is made.
"""

from __future__ import annotations

import copy
import logging
import shutil
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal, Slot

from engine.project import Project, from_dict, to_dict
from engine.runs import CHECKPOINT_FILE, RunRecord, save_run
from gui.training.feed import BatchFeed, ProgressMeter

if TYPE_CHECKING:
    from engine.evaluation import TrainedModel
    from engine.training import Trainer
    from gui.training.job import TrainingJob

log = logging.getLogger(__name__)


class TrainingWorker(QObject):
    """Prepares and trains `project` when `run` is called (in the training thread).

    Every run ends with exactly one of `finished` (status "completed", "early_stopped"
    or "stopped") or `failed`, emitted as the last thing `run` does.
    """

    started = Signal(object)  # plan: epochs, start_epoch, batches_per_epoch, batch_size...
    epoch_finished = Signal(object)  # the epoch's history row
    paused = Signal()  # the training thread is now blocked until resumed or stopped
    resumed = Signal()
    finished = Signal(object)  # TrainResult.summary()
    failed = Signal(str)  # one line for the user

    def __init__(
        self,
        project: Project,
        run_folder: Path | None = None,
        resume: RunRecord | None = None,
        parent: QObject | None = None,
    ):
        """`run_folder`: where the run keeps its checkpoint and, at the end, its files
        (engine.runs); `resume`: a stopped run to continue, with its own settings."""
        super().__init__(parent)
        # A copy taken now, in the GUI thread: the user may edit the graph while it trains.
        self._document = copy.deepcopy(to_dict(project))
        self._path: Path | None = project.path
        self._run_folder = run_folder
        self._resume = resume
        self.feed = BatchFeed()
        self.job: TrainingJob | None = None
        self.record: RunRecord | None = None
        self.trained: TrainedModel | None = None  # the run's model with its validation data
        self.evaluation: list | None = None  # engine.evaluation.evaluate of `trained`
        self._lock = threading.Lock()
        self._trainer: Trainer | None = None
        self._stop_wanted = False
        self._pause_wanted = False
        self._meter: ProgressMeter | None = None

    @property
    def trainer(self) -> Trainer | None:
        """The run's trainer once it has been made."""
        return self._trainer

    # --- control, from any thread -----------------------------------------------------

    def request_stop(self) -> None:
        """End after the current batch; a paused run wakes up to end."""
        with self._lock:
            self._stop_wanted = True
            if self._trainer is not None:
                self._trainer.request_stop()

    def request_pause(self) -> None:
        with self._lock:
            self._pause_wanted = True
            if self._trainer is not None:
                self._trainer.request_pause()

    def request_resume(self) -> None:
        with self._lock:
            self._pause_wanted = False
            if self._trainer is not None:
                self._trainer.request_resume()

    # --- the run, in the training thread ----------------------------------------------

    @Slot()
    def run(self) -> None:
        try:
            summary = self._train()
        except Exception as exc:
            if not _speaks_for_itself(exc):
                log.exception("training could not run")
            self._drop_unsaved_folder()
            self.failed.emit(one_line(exc))
            return
        self._drop_unsaved_folder()
        if summary["status"] == "failed":
            self.failed.emit(one_line_text(summary["message"]))
        else:
            self.finished.emit(summary)

    def _train(self) -> dict[str, Any]:
        # torch is imported here, in this thread, so the window never waits for it.
        from engine.training import Checkpointer
        from gui.training.job import Relay, prepare_job, torch_threads, training_threads

        project = from_dict(self._document)
        project.path = self._path
        callbacks: list = [Relay(self)]
        if self._run_folder is not None:
            callbacks.append(Checkpointer(self._run_folder / CHECKPOINT_FILE))
        resume = self._resume
        started = resume.started if resume else datetime.now().isoformat(timespec="seconds")
        settings = resume.settings if resume else {}
        with torch_threads(training_threads()):
            self.job = prepare_job(
                project, callbacks, settings.get("data"), settings.get("training")
            )
            self._attach(self.job.trainer)
            result = self.job.run(resume.checkpoint_path if resume else None)
        summary = result.summary()
        if result.history:
            self._evaluate()
        if self._run_folder is not None and result.history:
            try:
                self.record = save_run(self._run_folder, self.job, result, started)
            except OSError as exc:
                summary["run_error"] = one_line(exc)
        return summary

    def _evaluate(self) -> None:
        """Score the trained model on the validation data here, off the GUI thread."""
        from engine.evaluation import TrainedModel, evaluate

        try:
            self.trained = TrainedModel.from_job(self.job)
            self.evaluation = evaluate(self.trained)
        except Exception:  # the run itself went well: report it, show no evaluation
            log.exception("the trained model could not be evaluated")
            self.trained = self.evaluation = None

    def _drop_unsaved_folder(self) -> None:
        """A new run that kept nothing (it failed or stopped before its first epoch)
        leaves no empty folder behind."""
        folder = self._run_folder
        if folder is not None and self._resume is None and self.record is None:
            shutil.rmtree(folder, ignore_errors=True)

    def _attach(self, trainer: Trainer) -> None:
        """Hand the trainer any stop or pause asked for while it was being made."""
        with self._lock:
            self._trainer = trainer
            if self._stop_wanted:
                trainer.request_stop()
            elif self._pause_wanted:
                trainer.request_pause()

    # --- the trainer's events (RunListener), in the training thread --------------------

    def on_started(self, plan: dict[str, Any]) -> None:
        self._meter = ProgressMeter(plan)
        self.started.emit(plan)

    def on_batch(self, epoch: int, batch: int, loss: float) -> None:
        if self._meter is not None:
            self.feed.put((epoch, batch, loss), self._meter.batch(epoch, batch))

    def on_epoch(self, row: dict[str, Any]) -> None:
        self.epoch_finished.emit(row)

    def on_pause(self) -> None:
        if self._meter is not None:
            self._meter.pause()
        self.paused.emit()

    def on_resume(self) -> None:
        if self._meter is not None:
            self._meter.resume()
        self.resumed.emit()


def one_line(exc: BaseException) -> str:
    """The message for the user: errors raised by the engine (or the file system) say what
    went wrong where; anything else is a bug somewhere, and is named by its type."""
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.filename or ''}: {exc.strerror}".lstrip(": ")
    elif _speaks_for_itself(exc):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}"
    return one_line_text(text) or type(exc).__name__


def one_line_text(text: str) -> str:
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def _speaks_for_itself(exc: BaseException) -> bool:
    """Exceptions defined in `engine` carry messages written for the user (DESIGN.md,
    "Bad input"), as do the file system's."""
    return isinstance(exc, OSError) or type(exc).__module__.split(".")[0] == "engine"
