"""Training runs in a child process: the child's side (the parent is
`engine.process.parent`; the messages are those of `engine.process.protocol`).

`serve` runs in the child. A reader thread takes the parent's controls: each `Train` goes
to the main thread, which prepares and trains it exactly as `main.py train` does; `Stop`,
`Pause` and `Resume` go straight to the run's trainer, or wait in `PendingControls` while
it is still being prepared. The trainer's events go back to the parent, batch losses
(with the layer records made meanwhile, engine.training.layer_records) in bursts at most
`FLUSH_HZ` times a second, and at once when a stop or pause comes.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from dataclasses import replace
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import torch

from engine.document.project import from_dict, to_dict
from engine.errors import node_of, one_line, speaks_for_itself
from engine.process.protocol import (
    Batches,
    BatchLoss,
    Decoding,
    Done,
    Epoch,
    Failed,
    Pause,
    Paused,
    PendingControls,
    Quit,
    Resume,
    Resumed,
    Started,
    Steer,
    Stop,
    Train,
    decode,
    encode,
)
from engine.runs.store import CHECKPOINT_FILE, TENSORBOARD_FOLDER, save_run
from engine.training.job import TrainingJob, prepare_job
from engine.training.layer_records import LayerRecorder
from engine.training.progress import ProgressMeter
from engine.training.threads import torch_threads
from engine.training.trainer import CHECKPOINT_SECONDS, Callback, Checkpointer, Trainer

log = logging.getLogger(__name__)

FLUSH_HZ = 50
TRAINER_CONTROLS = {
    Stop: Trainer.request_stop,
    Pause: Trainer.request_pause,
    Resume: Trainer.request_resume,
}


def training_threads() -> int:
    """Threads for torch's CPU kernels while training: one core fewer than this process
    may use, and never more than torch would take anyway.

    torch's OpenMP threads spin at every barrier, waiting for each other. Given every
    core, any other busy thread (the window painting plots, another program) takes one
    of them off its core while the rest spin: on a loaded two-core machine a run of the
    digits CNN took 100-170 s with two threads instead of 2 s with one. A free core
    keeps the window and training out of each other's way.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(torch.get_num_threads(), (cores or 1) - 1))


def serve(control: Connection, events: Connection) -> None:
    """The child's main function: train each requested run until told to quit or the
    parent has gone."""
    child = Child(events)
    requests: queue.Queue[Train | None] = queue.Queue()
    reader = threading.Thread(target=child.read, args=(control, requests), daemon=True)
    reader.start()
    while (request := requests.get()) is not None:
        child.train(request)


class Child(Callback):
    """The child's state: the run's trainer, the controls wished before it existed, and
    the batch losses not yet sent."""

    def __init__(self, events: Connection):
        self._events = events
        self._lock = threading.Lock()  # for all below, and for every send
        self._trainer: Trainer | None = None
        self._pending = PendingControls()
        self._losses: list[BatchLoss] = []
        self._progress: dict[str, Any] = {}
        self._recorder: LayerRecorder | None = None
        self._layers: list[dict[str, Any]] = []  # layer records not yet sent
        self._warnings: dict[str, list[str]] | None = None
        self._flushed = 0.0
        self._meter: ProgressMeter | None = None

    # --- the reader thread -------------------------------------------------------------

    def read(self, control: Connection, requests: queue.Queue[Train | None]) -> None:
        """Take the parent's controls (only controls come: `TrainingProcess.send` sees to it)."""
        while True:
            try:
                message = decode(control.recv_bytes())
            except (EOFError, OSError):  # the parent has gone: so does the run
                message = Quit()
                with self._lock:
                    self._steer(Stop())
            match message:
                case Quit():
                    requests.put(None)
                    return
                case Train():
                    with self._lock:
                        self._pending.clear()  # a late control for the last run is void
                    requests.put(message)
                case Stop() | Pause() | Resume():
                    with self._lock:
                        self._steer(message)

    def _steer(self, control: Steer) -> None:
        """Apply `control` to the run's trainer, or keep it until there is one (the lock
        is held)."""
        if self._trainer is None:
            self._pending.add(control)
            return
        TRAINER_CONTROLS[type(control)](self._trainer)
        if isinstance(control, Stop):
            self._flush()  # what was trained before the stop, now

    # --- the main thread ---------------------------------------------------------------

    def train(self, request: Train) -> None:
        try:
            last: Done | Failed = self._train(request)
        except Exception as exc:
            if not speaks_for_itself(exc):
                log.exception("training could not run")
            last = Failed(one_line(exc), node_of(exc))
        with self._lock:
            self._trainer = None  # controls from now on wait for the next run's trainer
            self._take_records()  # a stopped run's last record, closed at its end
            self._recorder = None
            self._flush()
            self._events.send_bytes(encode(last))

    def _train(self, request: Train) -> Done:
        project = from_dict(request.document)
        project.path = request.path
        callbacks: list[Callback] = [self]
        if request.run_folder is not None:
            path = request.run_folder / CHECKPOINT_FILE
            callbacks.append(Checkpointer(path, min_seconds=CHECKPOINT_SECONDS))
        resume = request.resume
        started = resume.started if resume else datetime.now().isoformat(timespec="seconds")
        settings = resume.settings if resume else {}
        with torch_threads(training_threads()):
            job = prepare_job(
                project,
                callbacks,
                settings.get("data"),
                settings.get("training"),
                trust=request.trust,
                data_progress=self._decoding,
                tensorboard=_log_folder(request, settings),
            )
            self._attach(job.trainer)
            self._recorder = job.recorder
            result = job.run(resume.checkpoint_path if resume else None)
            done = Done(result.summary(), document=to_dict(job.project))
            if result.history:
                done = _with_evaluation(job, done)
        if request.run_folder is not None and result.history:
            try:
                done = replace(done, record=save_run(request.run_folder, job, result, started))
            except OSError as exc:
                done = replace(done, summary={**done.summary, "run_error": one_line(exc)})
        return done

    def _attach(self, trainer: Trainer) -> None:
        """Hand the trainer what was asked for while it was being made."""
        with self._lock:
            self._trainer = trainer
            wish = self._pending.take()
            if wish is not None:
                TRAINER_CONTROLS[type(wish)](trainer)

    def _decoding(self, done: int, total: int) -> None:
        """How the image folder's decoding goes, at most `FLUSH_HZ` times a second."""
        now = time.perf_counter()
        if done == total or now - self._flushed >= 1 / FLUSH_HZ:
            self._flushed = now
            self._send(Decoding(done, total))

    def _send(
        self, event: Decoding | Started | Epoch | Paused | Resumed, flush: bool = False
    ) -> None:
        with self._lock:
            if flush:
                self._flush()
            self._events.send_bytes(encode(event))

    def _flush(self) -> None:
        """Send the batch losses gathered so far (the lock is held)."""
        if self._losses or self._layers:
            warnings = self._warnings if self._layers else None
            batches = Batches(tuple(self._losses), self._progress, tuple(self._layers), warnings)
            self._events.send_bytes(encode(batches))
            self._losses, self._layers = [], []
        self._flushed = time.perf_counter()

    # --- the trainer's events (Callback), in the main thread ---------------------------

    def on_train_start(self, trainer: Trainer, plan: dict[str, Any]) -> None:
        plan = {**plan, "batch_size": trainer.settings["batch_size"]}
        self._meter = ProgressMeter(plan)
        self._send(Started(plan))

    def on_batch_end(self, trainer: Trainer, epoch: int, batch: int, loss: torch.Tensor) -> None:
        progress = self._meter.batch(epoch, batch)
        with self._lock:
            self._losses.append((epoch, batch, float(loss)))
            self._progress = progress
            self._take_records()
            if time.perf_counter() - self._flushed >= 1 / FLUSH_HZ:
                self._flush()

    def on_epoch_end(self, trainer: Trainer, epoch: int, row: dict[str, Any]) -> None:
        with self._lock:
            self._take_records()  # the epoch's last, closed by the recorder just now
        self._send(Epoch(dict(row)), flush=True)

    def _take_records(self) -> None:
        """Gather the recorder's new records and findings (the lock is held; in the main
        thread, which alone changes them)."""
        if self._recorder is not None and (new := self._recorder.take()):
            self._layers += new
            self._warnings = self._recorder.diagnosis.warnings()

    def on_pause(self, trainer: Trainer, epoch: int, batch: int) -> None:
        self._meter.pause()
        self._send(Paused(), flush=True)

    def on_resume(self, trainer: Trainer) -> None:
        self._meter.resume()
        self._send(Resumed())


def _log_folder(request: Train, settings: dict[str, Any]) -> Path | None:
    """Where the run writes its TensorBoard log: `tensorboard/` in its folder, when its
    settings ask for one."""
    training = settings.get("training") or request.document.get("training") or {}
    if request.run_folder is None or not training.get("tensorboard"):
        return None
    return request.run_folder / TENSORBOARD_FOLDER


def _with_evaluation(job: TrainingJob, done: Done) -> Done:
    """`done` with the trained model's scores on the validation data; the model travels
    as weights."""
    from engine.runs.evaluation import TrainedModel, evaluate

    try:
        trained = TrainedModel.from_job(job)
        evaluation = evaluate(trained)
    except Exception:  # the run itself went well: report it, show no evaluation
        log.exception("the trained model could not be evaluated")
        return done
    weights = {k: v.detach().cpu() for k, v in trained.module.state_dict().items()}
    return replace(
        done, trained=replace(trained, module=None), weights=weights, evaluation=evaluation
    )
