"""A run's TensorBoard log: a trainer callback writing event files that TensorBoard reads.

What it writes (scalars by step, the number of training batches so far):
  loss/batch                      the training loss of the batches the trainer reports
  loss/train, loss/val, lr, and every other number of an epoch's history row (metrics
                                  by their history names: val_accuracy...), at the epoch's
                                  last step
  grad_norm/<layer>, weight_norm/<layer>, update_ratio/<layer>
                                  from the layer records (engine.training.layer_records),
                                  named after the nodes
  weights/<layer>, gradients/<layer>
                                  histograms of each layer's weights and of the last
                                  batch's gradients, once per epoch
  the model graph (traced on one training sample), and at the end the hyperparameters
  with the metrics of the epoch whose weights the run keeps (TensorBoard's
  HPARAMS tab).

torch's writer needs the `tensorboard` package: without it `TensorBoardLog` raises a
TrainingError that says how to install it.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from engine.errors import TrainingError
from engine.model.build import BuiltModel
from engine.training.callbacks import Callback

if TYPE_CHECKING:
    from engine.training.layer_records import LayerRecorder
    from engine.training.status import RunStatus
    from engine.training.trainer import Trainer

INSTALL = 'pip install "torchwright[tensorboard]" (or: pip install tensorboard)'
RECORDED = ("grad_norm", "weight_norm", "update_ratio")


def summary_writer(folder: Path):
    """torch's SummaryWriter into `folder`; TrainingError naming the install command
    when tensorboard is not installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # torch raises it when the tensorboard package is missing
        raise TrainingError(f"TensorBoard logs need the tensorboard package: {INSTALL}") from None
    return SummaryWriter(log_dir=str(folder))


class TensorBoardLog(Callback):
    """Writes the run of `built` into `folder`; `example` is one input for the graph,
    `recorder` the run's layer records (None: recording is off, no per-layer scalars)."""

    def __init__(
        self,
        folder: Path,
        built: BuiltModel,
        labels: dict[str, str],
        example: torch.Tensor,
        recorder: LayerRecorder | None = None,
    ):
        self.writer = summary_writer(folder)
        self.folder = folder
        self.example = example
        self.recorder = recorder
        self.labels = labels
        self._written = 0  # layer records written so far
        self._layers = {
            labels[node_id]: built.module.get_submodule(attribute)
            for node_id, attribute in built.code.attributes.items()
        }
        self._step = 0
        self._per_epoch = 1
        self._rows: dict[int, dict[str, Any]] = {}  # epoch -> its history row

    def on_train_start(self, trainer: Trainer, plan: dict[str, Any]) -> None:
        self._per_epoch = plan["batches_per_epoch"]
        if plan["start_epoch"] == 1:
            self._graph(trainer.model)

    def on_batch_end(self, trainer: Trainer, epoch: int, batch: int, loss: torch.Tensor) -> None:
        self._step = (epoch - 1) * self._per_epoch + batch
        self.writer.add_scalar("loss/batch", float(loss), self._step)

    def on_epoch_end(self, trainer: Trainer, epoch: int, row: dict[str, Any]) -> None:
        step = epoch * self._per_epoch
        for key, value in row.items():
            if key not in ("epoch", "seconds") and _is_number(value):
                self.writer.add_scalar(_scalar_name(key), value, step)
        self._layer_scalars()
        for label, module in self._layers.items():
            params = [p.detach() for p in module.parameters()]
            if params:
                self.writer.add_histogram(f"weights/{label}", _flat(params), step)
            grads = [p.grad.detach() for p in module.parameters() if p.grad is not None]
            if grads:  # unscaled: mixed precision multiplies them by its loss scale
                values = _flat(grads) / trainer.grad_scale
                self.writer.add_histogram(f"gradients/{label}", values, step)
        self._rows[epoch] = row
        self.writer.flush()

    def on_train_end(self, trainer: Trainer, status: RunStatus) -> None:
        self._layer_scalars()
        settings = {k: v for k, v in trainer.settings.items() if _hparam(v)}
        row = self._kept_row(trainer.best_epoch if status.kept_best else None)
        final = {
            f"final/{k}": v
            for k, v in row.items()
            if _is_number(v) and k not in ("epoch", "seconds")
        }
        if final:
            self.writer.add_hparams(settings, final, run_name=".")
        self.writer.close()

    def _layer_scalars(self) -> None:
        records = self.recorder.records[self._written :] if self.recorder else []
        self._written += len(records)
        for record in records:
            for node_id, stats in record["layers"].items():
                for name in RECORDED:
                    value = stats.get(name)
                    if value is not None and math.isfinite(value):
                        self.writer.add_scalar(
                            f"{name}/{self.labels[node_id]}", value, record["step"]
                        )

    def _kept_row(self, best: int | None) -> dict[str, Any]:
        """The history row of the weights the run keeps: the `best` epoch's when early
        stopping went back to it, else the last epoch's."""
        if best in self._rows:
            return self._rows[best]
        return self._rows[max(self._rows)] if self._rows else {}

    def _graph(self, model: nn.Module) -> None:
        was_training = model.training
        model.eval()
        device = next((p.device for p in model.parameters()), self.example.device)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the tracer's notes on the model's code
                self.writer.add_graph(model, self.example.to(device))
        except Exception as exc:  # a model the tracer cannot follow: the rest is written
            self.writer.add_text("graph", f"the model's graph could not be traced: {exc}")
        finally:
            model.train(was_training)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _hparam(value: Any) -> bool:
    return isinstance(value, (int, float, str, bool)) and not (
        isinstance(value, float) and not math.isfinite(value)
    )


def _scalar_name(key: str) -> str:
    """History keys as TensorBoard groups: train_loss -> loss/train, val_accuracy ->
    val/accuracy."""
    if key.endswith("_loss") and key.count("_") == 1:
        return f"loss/{key.split('_')[0]}"
    split, _, rest = key.partition("_")
    return f"{split}/{rest}" if split in ("train", "val") and rest else key


def _flat(tensors: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([t.reshape(-1).float().cpu() for t in tensors])
