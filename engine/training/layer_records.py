"""What each layer does while a model trains, recorded every N batches.

`LayerRecorder` is a trainer callback. On a recorded batch (every `every`-th step) it
runs the model's tapped forward (engine.model.taps) instead of its own, and after the
backward pass it reads, for each layer with weights, the norm of its weights and of
their gradient; after the optimizer's step, the norm of the change it made, divided by
the weights' norm (the update ratio, about 1e-3 for a healthy learning rate). For every
layer's output it keeps the mean and the standard deviation, and for ReLU-like layers
the fraction of exact zeros. Between recorded batches the model runs untouched.

The numbers stay on the training device until the record is complete, then are read
back in one transfer. A record is plain data (engine.training.diagnosis.Record), so it
pickles to the app's process without torch; the recorder keeps every record of the run
(`records`), hands out the ones not yet taken (`take`), and keeps a `Diagnosis` of them.

A layer none of whose weights received a gradient, or only an exact zero, is recorded
as frozen (none of them trains) or as off the loss's path, never as a vanishing gradient.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from engine.document.graph import Graph
from engine.model.build import BuiltModel
from engine.model.taps import Taps
from engine.training.callbacks import Callback
from engine.training.diagnosis import RECTIFIERS, Diagnosis, Record

if TYPE_CHECKING:
    from engine.training.status import RunStatus
    from engine.training.trainer import Trainer


class LayerRecorder(Callback):
    """Records the model of `built` (drawn from `graph`) every `every` training steps."""

    def __init__(self, built: BuiltModel, graph: Graph, every: int):
        self.every = max(1, int(every))
        self.taps = Taps(built)
        self.module = built.module
        self.labels = {node_id: graph.nodes[node_id].label for node_id in graph.nodes}
        self._rectified = {n for n in self.taps.node_ids if graph.nodes[n].type in RECTIFIERS}
        self._weights = _weights_by_node(built)
        self.records: list[Record] = []
        self.diagnosis = Diagnosis(self.labels)
        self._taken = 0
        self._steps = 0
        self._open: _OpenRecord | None = None

    # --- the trainer's events ----------------------------------------------------------

    def on_train_start(self, trainer: Trainer, plan: dict[str, Any]) -> None:
        self._per_epoch = plan["batches_per_epoch"]

    def on_batch_start(self, trainer: Trainer, epoch: int, batch: int) -> None:
        self._close()
        step = (epoch - 1) * self._per_epoch + batch
        if step % self.every and step != 1:
            return
        self._open = _OpenRecord(epoch, batch, step)
        self.taps.attach(self.module, self._open.activation_tap(self._rectified))

    def on_after_backward(self, trainer: Trainer, epoch: int, batch: int) -> None:
        if self._open is not None and self._open.weights is None:
            self.taps.detach(self.module)
            self._open.read_weights(self._weights, trainer.grad_scale)

    def on_epoch_end(self, trainer: Trainer, epoch: int, row: dict[str, Any]) -> None:
        self._close()

    def on_train_end(self, trainer: Trainer, status: RunStatus) -> None:
        self.taps.detach(self.module)
        self._close()

    def first_nonfinite(self, trainer: Trainer, x: torch.Tensor) -> tuple[str, str] | None:
        self._open = None  # its step was not taken: there is no update to measure
        bad = self.nonfinite_layer(x)
        if bad is None:
            return None
        node_id, inputs_finite = bad
        label = self.labels[node_id]
        if not inputs_finite:
            return node_id, "the input batch itself holds values that are not finite"
        return node_id, f"the first layer whose output was not finite is {label!r}"

    # --- reading -----------------------------------------------------------------------

    def take(self) -> list[Record]:
        """The records made since the last `take`."""
        new = self.records[self._taken :]
        self._taken = len(self.records)
        return new

    def nonfinite_layer(self, x: torch.Tensor) -> tuple[str, bool] | None:
        """(the first tapped node whose output on `x` is not finite, whether `x` itself
        is finite), in forward order; None when every output is finite."""
        outputs = self.taps.outputs(self.module, x)
        for node_id, value in outputs.items():
            if value.is_floating_point() and not bool(torch.isfinite(value).all()):
                inputs_finite = not x.is_floating_point() or bool(torch.isfinite(x).all())
                return node_id, inputs_finite
        return None

    def _close(self) -> None:
        """Finish the open record now that its step was taken."""
        record, self._open = self._open, None
        if record is None or record.weights is None:
            return
        done = record.finish()
        self.records.append(done)
        self.diagnosis.add(done)


class _OpenRecord:
    """One record while its batch trains: tensors on the device, read back at the end."""

    def __init__(self, epoch: int, batch: int, step: int):
        self.epoch, self.batch, self.step = epoch, batch, step
        self.activations: dict[str, torch.Tensor] = {}  # node -> [mean, std, zeros]
        self.weights: dict[str, tuple[torch.Tensor, torch.Tensor | None, str | None]] | None
        self.weights = None  # node -> (weight norm, gradient norm, why there is none)
        # node -> (each trained weight, a copy of it before the step)
        self.before: dict[str, list[tuple[nn.Parameter, torch.Tensor]]] = {}

    def activation_tap(self, rectified: set[str]):
        def tap(node_id: str, value: torch.Tensor) -> None:
            if not value.is_floating_point() or value.numel() == 0:
                return
            with torch.no_grad():
                value = value.detach().float()
                mean, std = value.mean(), value.std(correction=0)
                zeros = (value == 0).float().mean() if node_id in rectified else mean * torch.nan
                self.activations[node_id] = torch.stack([mean, std, zeros])

        return tap

    def read_weights(self, weights: dict[str, list[nn.Parameter]], scale: float) -> None:
        self.weights = {}
        with torch.no_grad():
            for node_id, params in weights.items():
                trained = [p for p in params if p.requires_grad]
                graded = [p.grad for p in trained if p.grad is not None]
                why = None if graded else "frozen" if not trained else "no_path"
                norm = _norm(params)
                grad = _norm(graded) / scale if graded else None
                self.weights[node_id] = (norm, grad, why)
                if graded:
                    self.before[node_id] = [(p, p.detach().clone()) for p in trained]

    def finish(self) -> Record:
        with torch.no_grad():
            updates = {
                node_id: _norm([p.detach() - old for p, old in pairs])
                for node_id, pairs in self.before.items()
            }
            values = _read_back(self.activations, self.weights, updates)
        layers: dict[str, dict[str, Any]] = {}
        for node_id, (mean, std, zeros) in values["activations"].items():
            layers[node_id] = {"mean": mean, "std": std, "zeros": _number(zeros)}
        for node_id, (norm, grad, why) in values["weights"].items():
            if grad == 0:  # an exact zero: nothing of the loss reaches these weights
                grad, why = None, "no_path"
            update = values["updates"].get(node_id) if grad is not None else None
            entry = layers.setdefault(node_id, {})
            entry.update(weight_norm=norm, grad_norm=grad, no_gradient=why)
            entry["update_ratio"] = update / norm if update is not None and norm > 0 else None
        return {"epoch": self.epoch, "batch": self.batch, "step": self.step, "layers": layers}


def _norm(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    norms = torch._foreach_norm([t.float() for t in tensors])
    return torch.linalg.vector_norm(torch.stack(norms)) if norms else torch.zeros(())


def _read_back(activations: dict, weights: dict, updates: dict) -> dict[str, dict]:
    """The record's tensors as numbers, in one transfer from the device."""
    flat: list[torch.Tensor] = []
    for stats in activations.values():
        flat.append(stats)
    for norm, grad, _ in weights.values():
        flat.append(torch.stack([norm, grad if grad is not None else norm * torch.nan]))
    flat += [u.reshape(1) for u in updates.values()]
    numbers = torch.cat([t.reshape(-1).float() for t in flat]).cpu().tolist() if flat else []
    at = iter(numbers)
    out: dict[str, dict] = {"activations": {}, "weights": {}, "updates": {}}
    for node_id in activations:
        out["activations"][node_id] = (next(at), next(at), next(at))
    for node_id, (_, grad, why) in weights.items():
        norm, grad_value = next(at), next(at)
        out["weights"][node_id] = (norm, grad_value if grad is not None else None, why)
    for node_id in updates:
        out["updates"][node_id] = next(at)
    return out


def _number(value: float) -> float | None:
    return None if value != value else value  # NaN: not recorded for this layer


def _weights_by_node(built: BuiltModel) -> dict[str, list[nn.Parameter]]:
    """Each node's parameters (a block instance's are all of its body's)."""
    found = {}
    for node_id, attribute in built.code.attributes.items():
        params = list(built.module.get_submodule(attribute).parameters())
        if params:
            found[node_id] = params
    return found
