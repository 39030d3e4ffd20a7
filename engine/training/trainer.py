"""The trainer: fits any `nn.Module` to in-memory tensors, reporting through callbacks.

Design decisions (the why behind the code):

* Data is moved to the device once. Each epoch draws a permutation from a seeded CPU
  `torch.Generator` and batches are gathered with `index_select` from the resident
  tensors: no DataLoader, no per-sample Python. The same seed gives the same order on
  every device; model-side randomness (dropout) comes from `torch.manual_seed(seed)`.
  Augmentation (engine.data.augment) changes each gathered training batch on the device,
  from a generator of its own. Image data reads an epoch's batches its own way
  (`batches_of`: streamed images decode in DataLoader workers), in the same order.
* Metrics are accumulated on the device (`engine.training.metrics.SplitMeter`) and read back once
  per epoch. The only per-batch host read is one scalar: the loss is checked to be finite
  before the optimizer step, so a bad step is never applied (on the CPU this read is free;
  on a GPU it is the one sync per batch we accept to keep the weights safe).
* Non-finite loss: the run stops with status "failed" and a message naming the epoch and
  batch. The step that produced it is not taken, so the weights are the last good ones;
  if they had already become non-finite (a finite loss with overflowing gradients), the
  weights from the start of that epoch are restored.
* Early stopping watches the validation loss. When it is on, the model ends with the
  weights of its best epoch (lowest validation loss), whether the run stopped early or
  used all its epochs; a user stop or a failure keeps the current weights.
* Mixed precision is used only on CUDA; elsewhere it is silently off (see
  `engine.training.devices.Precision`) and the result's `mixed_precision` says what was used.
* `on_batch_end` receives the batch's loss as a detached device tensor (reading it with
  `float()` is the receiver's choice), every `batch_report_every` batches; with no
  callback overriding it the trainer skips the call altogether.
* Stop, pause and resume are `threading.Event`s checked between training batches.
  `fit` raises `TrainingError` for problems found before training starts; once training
  has started it never raises: failures come back as status "failed" (and `on_failed`).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from engine.data.dataset import TensorData
from engine.errors import USER_CODE_ERRORS, TrainingError
from engine.model.failures import failing_layer, failure
from engine.training.callbacks import Callback, copy_state
from engine.training.checkpoint import (
    CheckpointError,
    load_checkpoint,
    restore_run,
    run_state,
    save_checkpoint,
    snapshot,
)
from engine.training.metrics import SplitMeter
from engine.training.setup import Run, all_finite, checked_settings, prepare_run
from engine.training.status import RunStatus
from engine.training.threads import threads_for, torch_threads

__all__ = [
    "CHECKPOINT_SECONDS",
    "Callback",
    "Checkpointer",
    "TrainResult",
    "Trainer",
    "TrainingError",
    "metric_key",
]


CHECKPOINT_SECONDS = 2.0  # the `min_seconds` of the app's and the CLI's checkpoints


class Checkpointer(Callback):
    """Saves a checkpoint every `every` epochs and after the last one.

    With `min_seconds`, an epoch that ends sooner than that after the last write is held
    in memory instead (a copy of its state) and written when a write is next due or the
    run ends, however it ends. Each checkpoint holds the whole history: written after
    every one of thousands of tiny epochs, they would take most of the run, and longer
    the longer it gets. A stop still resumes from the last completed epoch.
    """

    def __init__(self, path: str | os.PathLike, every: int = 1, min_seconds: float = 0.0):
        self.path = path
        self.every = max(1, int(every))
        self.min_seconds = min_seconds
        self._written = -math.inf  # time.monotonic() of the last write
        self._held: dict[str, Any] | None = None

    def on_epoch_end(self, trainer: Trainer, epoch: int, row: dict[str, Any]) -> None:
        last = epoch == trainer.settings["epochs"]
        if epoch % self.every and not last:
            return
        if last or time.monotonic() - self._written >= self.min_seconds:
            trainer.save_checkpoint(self.path)
            self._written, self._held = time.monotonic(), None
        else:
            self._held = trainer.checkpoint_state()

    def on_train_end(self, trainer: Trainer, status: RunStatus) -> None:
        if self._held is not None:
            save_checkpoint(self.path, self._held)
            self._held = None


@dataclass
class TrainResult:
    """What a run produced; `history` has one dict per completed epoch.

    train_samples and seconds count the epochs completed in this call of `fit`
    (a partial, stopped epoch is not counted); seconds exclude time spent paused.
    """

    status: RunStatus
    message: str
    history: list[dict[str, Any]]
    best_epoch: int | None
    train_samples: int
    seconds: float
    device: str
    mixed_precision: bool
    threads: int = 0  # intra-op threads it trained with
    error: BaseException | None = None
    # of the layer whose line raised `error`, or whose output was the first not to be
    # finite when the loss was not, when that is known
    node_id: str | None = None

    @property
    def samples_per_second(self) -> float:
        return self.train_samples / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        """status, message, epochs, best_epoch, train_samples, seconds, samples_per_second,
        device, mixed_precision, threads, and the last epoch's row as `final`; for a failure a
        layer's line raised, its `node_id` too."""
        where = {"node_id": self.node_id} if self.node_id is not None else {}
        return {
            "status": self.status,
            "message": self.message,
            **where,
            "epochs": len(self.history),
            "best_epoch": self.best_epoch,
            "train_samples": self.train_samples,
            "seconds": self.seconds,
            "samples_per_second": self.samples_per_second,
            "device": self.device,
            "mixed_precision": self.mixed_precision,
            "threads": self.threads,
            "final": self.history[-1] if self.history else None,
        }


def metric_key(split: str, metric: str, label: str | None = None) -> str:
    """History key of an output metric: 'val_accuracy' (one output) or 'val_age_mae'."""
    return f"{split}_{metric}" if label is None else f"{split}_{label}_{metric}"


class _Diverged(Exception):
    """The loss became non-finite; the message is for the user, `layer` the (node id,
    sentence) of the first layer whose output was not finite, when one is known."""

    def __init__(self, message: str, layer: tuple[str, str] | None = None):
        super().__init__(message if layer is None else f"{message}; {layer[1]}")
        self.node_id = layer[0] if layer is not None else None


class _Failed(Exception):
    """Something raised during a training batch; the message names where."""


class Trainer:
    """Trains `model` whose forward returns one tensor per label in `output_labels`.

    settings: training settings as `engine.document.settings.validate_training` makes them (missing
    keys take their defaults). The model is moved to the training device by `fit`.
    """

    def __init__(
        self,
        model: nn.Module,
        output_labels: Sequence[str],
        settings: dict[str, Any],
        callbacks: Sequence[Callback] = (),
        batch_report_every: int = 1,
    ):
        self.model = model
        self.output_labels = list(output_labels)
        self.settings = checked_settings(settings, self.output_labels)
        self.callbacks = list(callbacks)
        self.batch_report_every = max(1, int(batch_report_every))
        self._stop = threading.Event()
        self._resume = threading.Event()
        self._resume.set()
        self._paused = threading.Event()
        self._stop_early = False
        self._run: Run | None = None
        self._diverged_at: str | None = None  # the node whose output was first not finite

    # --- control from other threads ---------------------------------------------------

    def request_stop(self) -> None:
        """End after the current batch, keeping weights and history (status "stopped")."""
        self._stop.set()
        self._resume.set()

    def request_early_stop(self) -> None:
        """End after this epoch because the validation loss stopped improving (status
        "early_stopped"); asked by the EarlyStopping callback."""
        self._stop_early = True

    def request_pause(self) -> None:
        """Block the training thread after the current batch until resumed or stopped."""
        self._resume.clear()

    def request_resume(self) -> None:
        self._resume.set()

    @property
    def grad_scale(self) -> float:
        """What the gradients are multiplied by (mixed precision's loss scale; else 1)."""
        scaler = self._run.precision.scaler if self._run else None
        return float(scaler.get_scale()) if scaler is not None else 1.0

    @property
    def best_epoch(self) -> int | None:
        """The epoch of the lowest validation loss so far (None: no early stopping)."""
        return self._run.early.best_epoch if self._run else None

    @property
    def paused(self) -> bool:
        """True while the training thread is blocked in a pause."""
        return self._paused.is_set()

    # --- running ----------------------------------------------------------------------

    def fit(
        self,
        train: TensorData,
        val: TensorData | None = None,
        resume_from: str | os.PathLike | None = None,
    ) -> TrainResult:
        """Train; with `resume_from`, continue the run saved in that checkpoint."""
        run = prepare_run(self.model, self.output_labels, self.settings, train, val)
        if resume_from is not None:
            state = load_checkpoint(resume_from)
            restore_run(run, self.model, state, self.settings, self.output_labels, str(resume_from))
        self._run = run
        status, message, error = RunStatus.COMPLETED, "", None
        try:
            run.threads = self._threads(run)
            with torch_threads(run.threads):
                self._notify("on_train_start", self._plan(run))
                status = self._run_epochs(run)
        except _Diverged as exc:
            status, message, self._diverged_at = RunStatus.FAILED, str(exc), exc.node_id
        except _Failed as exc:
            status, message, error = RunStatus.FAILED, str(exc), exc.__cause__
        except CheckpointError as exc:  # a full disk, say: the run cannot be kept
            status, message, error = RunStatus.FAILED, self._stopped_by(run, exc), exc
        except USER_CODE_ERRORS as exc:
            status, message, error = RunStatus.FAILED, _failure(exc), exc
        except BaseException:  # Ctrl+C, say: the callbacks let go of the model and files
            self._finish(run, RunStatus.STOPPED, "interrupted", None)
            raise
        result = self._finish(run, status, message, error)
        if result.status == RunStatus.FAILED:
            self._notify("on_failed", result.message)
        else:
            self._notify("on_finished", result)
        return result

    def _plan(self, run: Run) -> dict[str, Any]:
        return {
            "initial_loss": [] if run.epochs_done else run.initial_loss,
            "epochs": self.settings["epochs"],
            "start_epoch": run.epochs_done + 1,
            "batches_per_epoch": run.batches_per_epoch,
            "train_samples": run.train.rows,
            "val_samples": run.val.rows if run.val else 0,
            "device": str(run.device),
            "threads": run.threads,
        }

    def _threads(self, run: Run) -> int:
        """The intra-op thread count to train with (`engine.training.threads`)."""
        if run.device.type != "cpu":
            return torch.get_num_threads()
        if self.settings["threads"] is not None:
            return self.settings["threads"]
        if run.threads:  # resumed: the count the run started with
            return run.threads
        batch = min(run.batch_size, run.train.rows)
        return threads_for(run.sample_flops, batch, torch.get_num_threads())

    def _run_epochs(self, run: Run) -> RunStatus:
        for epoch in range(run.epochs_done + 1, self.settings["epochs"] + 1):
            if self._stop.is_set():
                return RunStatus.STOPPED
            started, run.paused_seconds = time.perf_counter(), 0.0
            lr = run.schedule.lr
            self._notify("on_epoch_start", epoch)
            if not self._train_epoch(run, epoch):
                return RunStatus.STOPPED
            row = self._end_epoch(run, epoch, lr, started)
            self._notify("on_epoch_end", epoch, row)
            if self._stop_early:
                return RunStatus.EARLY_STOPPED
        return RunStatus.COMPLETED

    def _end_epoch(self, run: Run, epoch: int, lr: float, started: float) -> dict[str, Any]:
        train_metrics = run.train_meter.result()
        val_metrics = self._evaluate(run) if run.val else None
        seconds = time.perf_counter() - started - run.paused_seconds
        val_loss = val_metrics["loss"] if val_metrics else None
        run.schedule.after_epoch(val_loss)
        row = _history_row(epoch, lr, seconds, train_metrics, val_metrics)
        run.history.append(row)
        run.epochs_done = epoch
        run.train_samples += run.train.rows
        run.seconds += seconds
        return row

    def _train_epoch(self, run: Run, epoch: int) -> bool:
        """One pass over the training data; False when a stop was requested."""
        self.model.train()
        run.train_meter = meter = SplitMeter(run.specs, run.device)
        run.epoch_start_weights = copy_state(self.model, run.device)
        order = torch.randperm(run.train.rows, generator=run.shuffle).to(run.device)
        x, targets = run.train.x, run.train.targets
        listeners = self._listeners("on_batch_end")
        starting, backward = self._listeners("on_batch_start"), self._listeners("on_after_backward")
        every = self.batch_report_every
        batch = 0
        batches = _batches(order, self.settings["batch_size"])
        read = getattr(x, "batches_of", None)  # image files: read their own way
        inputs = iter(read(batches) if read else (x.index_select(0, i) for i in batches))
        try:
            for batch, index in enumerate(batches, start=1):
                batch_x = next(inputs)
                batch_targets = [t.index_select(0, index) for t in targets]
                if run.augment is not None:
                    batch_x = run.augment(batch_x)
                for callback in starting:
                    callback.on_batch_start(self, epoch, batch)
                outputs, loss, parts = self._forward_backward(run, batch_x, batch_targets)
                for callback in backward:
                    callback.on_after_backward(self, epoch, batch)
                if not math.isfinite(loss.item()):
                    layer = self._nonfinite_layer(run, batch_x)  # before any weights reload
                    raise _Diverged(self._divergence(run, epoch, batch, loss, parts), layer)
                self._step(run)
                meter.add(outputs, batch_targets, parts, index.shape[0])
                if listeners and batch % every == 0:
                    for callback in listeners:
                        callback.on_batch_end(self, epoch, batch, loss.detach())
                if not self._resume.is_set():
                    self._pause(run, epoch, batch)
                if self._stop.is_set():
                    return False
        except (_Diverged, _Failed):
            raise
        except USER_CODE_ERRORS as exc:
            raise _Failed(
                f"training failed at epoch {epoch}, batch {batch}: {failure(exc).text}"
            ) from exc
        return True

    def _forward_backward(
        self, run: Run, x: torch.Tensor, targets: list[torch.Tensor]
    ) -> tuple[Sequence[torch.Tensor], torch.Tensor, list[torch.Tensor]]:
        outputs = self._forward(run, x)
        loss, parts = run.plan(outputs, targets)
        for param in run.params:
            param.grad = None
        scaler = run.precision.scaler
        (loss if scaler is None else scaler.scale(loss)).backward()
        return outputs, loss, parts

    def _forward(self, run: Run, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        with run.precision.autocast():
            out = self.model(x)
        return run.precision.float_outputs(out if run.tuple_output else (out,))

    def _step(self, run: Run) -> None:
        scaler, clip = run.precision.scaler, self.settings["grad_clip"]
        if clip is not None:
            if scaler is not None:
                scaler.unscale_(run.optimizer)
            nn.utils.clip_grad_norm_(run.params, clip)
        if scaler is None:
            run.optimizer.step()
        else:
            scaler.step(run.optimizer)
            scaler.update()
        if run.schedule.per_batch:
            run.schedule.after_batch()

    def _evaluate(self, run: Run) -> dict[str, Any]:
        self.model.eval()
        meter = SplitMeter(run.specs, run.device)
        size = self.settings["eval_batch_size"]
        with torch.no_grad():
            for start in range(0, run.val.rows, size):
                x = run.val.x[start : start + size]
                targets = [t[start : start + size] for t in run.val.targets]
                outputs = self._forward(run, x)
                _, parts = run.plan(outputs, targets)
                meter.add(outputs, targets, parts, x.shape[0])
        return meter.result()

    def _pause(self, run: Run, epoch: int, batch: int) -> None:
        started = time.perf_counter()
        self._notify("on_pause", epoch, batch)
        self._paused.set()
        self._resume.wait()
        self._paused.clear()
        run.paused_seconds += time.perf_counter() - started
        self._notify("on_resume")

    def _divergence(
        self, run: Run, epoch: int, batch: int, loss: torch.Tensor, parts: list[torch.Tensor]
    ) -> str:
        bad = [i for i, part in enumerate(parts) if not math.isfinite(part.item())]
        if len(parts) > 1 and bad:
            what, value = f"loss of output {run.specs[bad[0]].label!r}", parts[bad[0]].item()
        else:
            what, value = "loss", loss.item()
        message = (
            f"{what} became {value} at epoch {epoch}, batch {batch}; "
            f"try a lower learning rate (now {run.schedule.lr:g})"
        )
        if not all_finite(run.params) and run.epoch_start_weights is not None:
            self.model.load_state_dict(run.epoch_start_weights)
            message += f"; the weights are those from the start of epoch {epoch}"
        return message

    def _stopped_by(self, run: Run, exc: CheckpointError) -> str:
        return f"training stopped after epoch {run.epochs_done} of {self.settings['epochs']}: {exc}"

    def _finish(
        self, run: Run, status: RunStatus, message: str, error: BaseException | None
    ) -> TrainResult:
        run.epoch_start_weights = None
        run.train_meter = None
        try:
            self._notify("on_train_end", status)
        except CheckpointError as exc:  # the last write failed (a checkpoint held back)
            status, message, error = RunStatus.FAILED, self._stopped_by(run, exc), exc
        except Exception as exc:
            status, message, error = RunStatus.FAILED, _failure(exc), exc
        self._stop.clear()
        self._stop_early = False
        self._resume.set()
        layer = failing_layer(error)
        node_id = layer.node_id if layer is not None else self._diverged_at
        self._diverged_at = None
        return TrainResult(
            status=status,
            message=message,
            history=run.history,
            best_epoch=run.early.best_epoch,
            train_samples=run.train_samples,
            seconds=run.seconds,
            device=str(run.device),
            mixed_precision=run.precision.enabled,
            threads=run.threads,
            error=error,
            node_id=node_id,
        )

    # --- checkpoints ------------------------------------------------------------------

    def save_checkpoint(self, path: str | os.PathLike) -> None:
        """Save the run so `fit(..., resume_from=path)` continues it exactly.

        Call it from `on_epoch_end` (or after `fit`); the state is that of the last
        completed epoch, with the weights as they are now.
        """
        save_checkpoint(path, self._state())

    def checkpoint_state(self) -> dict[str, Any]:
        """What `save_checkpoint` would write now, copied: later epochs leave it alone."""
        state = self._state()
        history = state.pop("history")
        return {**snapshot(state), "history": list(history)}

    def _state(self) -> dict[str, Any]:
        if self._run is None:
            raise TrainingError("there is no run to save; call fit first")
        return run_state(self._run, self.model, self.settings, self.output_labels)

    # --- callbacks --------------------------------------------------------------------

    def _notify(self, event: str, *args: Any) -> None:
        for callback in self._callbacks():
            getattr(callback, event)(self, *args)

    def _callbacks(self) -> list[Callback]:
        """The run's own callbacks first (early stopping decides before a checkpoint
        saves its state), then the caller's."""
        return [self._run.early, *self.callbacks] if self._run else list(self.callbacks)

    def _listeners(self, event: str) -> list[Callback]:
        """The callbacks that override `event` (the trainer calls no others per batch)."""
        default = getattr(Callback, event)
        return [c for c in self._callbacks() if getattr(type(c), event) is not default]

    def _nonfinite_layer(self, run: Run, x: torch.Tensor) -> tuple[str, str] | None:
        """(node id, sentence) of the first layer whose output was not finite on `x`, as
        the first callback that can tell finds it. The search runs the model once more
        as training ran it (same precision, same weights); it leaves the random state and
        the buffers (BatchNorm's running statistics) as they were, and a search that
        fails itself finds nothing."""
        listeners = self._listeners("first_nonfinite")
        if not listeners:
            return None
        buffers = [(b, b.detach().clone()) for b in self.model.buffers()]
        cuda = [run.device] if run.device.type == "cuda" else []
        try:
            with torch.random.fork_rng(devices=cuda), run.precision.autocast():
                for callback in listeners:
                    found = callback.first_nonfinite(self, x)
                    if found is not None:
                        return found
        except USER_CODE_ERRORS:
            return None
        finally:
            with torch.no_grad():
                for buffer, kept in buffers:
                    buffer.copy_(kept)
        return None


def _failure(exc: BaseException) -> str:
    return f"training failed: {failure(exc).text}"


def _batches(order: torch.Tensor, size: int) -> list[torch.Tensor]:
    """Index batches of `order`; a lone last sample joins the batch before it, since
    BatchNorm cannot train on a batch of one."""
    batches = list(order.split(size))
    if len(batches) > 1 and batches[-1].numel() == 1:
        batches[-2:] = [torch.cat(batches[-2:])]
    return batches


def _history_row(
    epoch: int,
    lr: float,
    seconds: float,
    train: dict[str, Any],
    val: dict[str, Any] | None,
) -> dict[str, Any]:
    """epoch, lr, seconds, train_loss, val_loss and each output's metrics (`metric_key`)."""
    row: dict[str, Any] = {
        "epoch": epoch,
        "lr": lr,
        "seconds": seconds,
        "train_loss": train["loss"],
        "val_loss": val["loss"] if val else None,
    }
    for split, metrics in (("train", train), ("val", val)):
        if metrics is None:
            continue
        single = len(metrics["outputs"]) == 1
        for label, values in metrics["outputs"].items():
            for name, value in values.items():
                if not (single and name == "loss"):
                    row[metric_key(split, name, None if single else label)] = value
    return row
