"""Epoch metrics accumulated on the training device, read back once per epoch.

During an epoch a `SplitMeter` only keeps references to each batch's (detached) outputs,
targets and losses: no kernel and no host sync per batch. When the pending rows reach a
budget, or when the epoch's numbers are asked for, they are reduced in a few large
kernels into running sums (a confusion matrix built with `bincount`, or squared and
absolute errors). `result()` is the one place that copies numbers to the host.

Classification: accuracy, and precision / recall / F1 as macro averages over the classes
that occur in the targets or the predictions (as scikit-learn does), plus the confusion
matrix (rows: true class, columns: predicted class; left out of the results above
`CONFUSION_LIMIT` classes, where it would swamp the history). Binary outputs are counted element
by element as two classes. Regression: MSE and MAE over all values, R² per target
column averaged over columns (a column with constant targets scores 1 if predicted
exactly, else 0, as scikit-learn does).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from engine.training.losses import OutputLoss

FLUSH_ELEMENTS = 1 << 15  # pending output values before a reduction; small keeps memory hot
CONFUSION_LIMIT = 50


def accumulator_dtype(device: torch.device) -> torch.dtype:
    """float64 where the device has it (MPS does not)."""
    return torch.float32 if device.type == "mps" else torch.float64


class ClassMeter:
    """Confusion matrix of class predictions, kept on the device."""

    def __init__(self, spec: OutputLoss, device: torch.device):
        self.classes = spec.classes
        self.binary = spec.kind == "binary"
        self.threshold = spec.threshold
        self.confusion = torch.zeros(self.classes * self.classes, dtype=torch.long, device=device)

    def add(self, outputs: torch.Tensor, targets: torch.Tensor) -> None:
        if self.binary:
            predicted = (outputs > self.threshold).long().reshape(-1)
            truth = (targets > 0.5).long().reshape(-1)
        else:
            predicted, truth = outputs.argmax(dim=1), targets
        self.confusion += torch.bincount(
            truth * self.classes + predicted, minlength=self.confusion.numel()
        )

    def result(self) -> dict[str, Any]:
        matrix = self.confusion.view(self.classes, self.classes).cpu()
        scores: dict[str, Any] = classification_scores(matrix)
        if self.classes <= CONFUSION_LIMIT:
            scores["confusion"] = matrix.tolist()
        return scores


class RegressionMeter:
    """Sums of errors and of (shifted) targets per column, kept on the device.

    Targets are shifted by the first batch's column means before squaring, so the total
    sum of squares stays accurate for targets far from zero.
    """

    def __init__(self, device: torch.device):
        self.dtype = accumulator_dtype(device)
        self.count = 0
        self.sums: torch.Tensor | None = None
        self.shift: torch.Tensor | None = None

    def add(self, outputs: torch.Tensor, targets: torch.Tensor) -> None:
        rows = len(targets)
        predicted = outputs.reshape(rows, -1).to(self.dtype)
        truth = targets.reshape(rows, -1).to(self.dtype)
        if self.shift is None:
            self.shift = truth.mean(dim=0)
        error = predicted - truth
        centred = truth - self.shift
        batch = torch.stack(
            (error.square().sum(0), error.abs().sum(0), centred.sum(0), centred.square().sum(0))
        )
        self.sums = batch if self.sums is None else self.sums + batch
        self.count += rows

    def result(self) -> dict[str, Any]:
        if self.sums is None:
            return {"mse": float("nan"), "mae": float("nan"), "r2": float("nan")}
        squared, absolute, total, total_sq = self.sums.tolist()
        return regression_scores(squared, absolute, total, total_sq, self.count)


def class_rates(confusion: torch.Tensor | list[list[int]]) -> dict[str, torch.Tensor]:
    """Per class, from a confusion matrix [true, predicted]: precision, recall, F1 (0
    where a denominator is 0), and the counts of true and of predicted samples."""
    matrix = torch.as_tensor(confusion, dtype=torch.float64)
    hits, true_counts, predicted_counts = matrix.diagonal(), matrix.sum(1), matrix.sum(0)
    precision = hits / predicted_counts.clamp(min=1)
    recall = hits / true_counts.clamp(min=1)
    both = precision + recall
    f1 = torch.where(both > 0, 2 * precision * recall / both.clamp(min=1e-300), 0.0)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true": true_counts,
        "predicted": predicted_counts,
        "hits": hits,
    }


def classification_scores(confusion: torch.Tensor | list[list[int]]) -> dict[str, float]:
    """Accuracy and macro precision / recall / F1 from a confusion matrix."""
    rates = class_rates(confusion)
    present = (rates["true"] + rates["predicted"]) > 0
    total = float(rates["true"].sum())
    return {
        "accuracy": float(rates["hits"].sum()) / total if total else 0.0,
        "precision": _present_mean(rates["precision"], present),
        "recall": _present_mean(rates["recall"], present),
        "f1": _present_mean(rates["f1"], present),
    }


def _present_mean(values: torch.Tensor, present: torch.Tensor) -> float:
    return float(values[present].mean()) if bool(present.any()) else 0.0


def regression_scores(
    squared: Sequence[float],
    absolute: Sequence[float],
    total: Sequence[float],
    total_sq: Sequence[float],
    count: int,
) -> dict[str, float]:
    """MSE, MAE and column-averaged R² from per-column sums over `count` rows."""
    values = count * len(squared)
    r2 = []
    for sse, s, s2 in zip(squared, total, total_sq, strict=True):
        spread = max(s2 - s * s / count, 0.0)
        r2.append(1.0 - sse / spread if spread > 0 else float(sse == 0))
    return {"mse": sum(squared) / values, "mae": sum(absolute) / values, "r2": _mean(r2)}


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


class SplitMeter:
    """Loss and metrics of every output over one pass (training epoch or validation)."""

    def __init__(self, outputs: list[OutputLoss], device: torch.device):
        self.outputs = outputs
        self.device = device
        self.meters = [
            RegressionMeter(device) if o.kind == "regression" else ClassMeter(o, device)
            for o in outputs
        ]
        self.samples = 0
        self._loss_sums = torch.zeros(len(outputs), dtype=accumulator_dtype(device), device=device)
        self._row_width = sum(o.width for o in outputs)
        self._clear_pending()

    def _clear_pending(self) -> None:
        self._outputs: list[list[torch.Tensor]] = [[] for _ in self.outputs]
        self._targets: list[list[torch.Tensor]] = [[] for _ in self.outputs]
        self._losses: list[torch.Tensor] = []
        self._sizes: list[int] = []
        self._pending_rows = 0

    def add(
        self,
        outputs: Sequence[torch.Tensor],
        targets: Sequence[torch.Tensor],
        losses: list[torch.Tensor],
        rows: int,
    ) -> None:
        """Keep one batch for the next reduction; `losses` are the outputs' batch means."""
        for kept, output in zip(self._outputs, outputs, strict=True):
            kept.append(output.detach())
        for kept, target in zip(self._targets, targets, strict=True):
            kept.append(target)
        self._losses.extend(loss.detach() for loss in losses)
        self._sizes.append(rows)
        self._pending_rows += rows
        if self._pending_rows * self._row_width >= FLUSH_ELEMENTS:
            self.flush()

    def flush(self) -> None:
        """Reduce the pending batches into the running sums (device kernels only)."""
        if not self._sizes:
            return
        for meter, outputs, targets in zip(self.meters, self._outputs, self._targets, strict=True):
            meter.add(torch.cat(outputs), torch.cat(targets))
        losses = torch.stack(self._losses).view(len(self._sizes), len(self.outputs))
        sizes = torch.tensor(self._sizes, dtype=losses.dtype).to(self.device, non_blocking=True)
        self._loss_sums += (losses * sizes[:, None]).sum(0).to(self._loss_sums.dtype)
        self.samples += self._pending_rows
        self._clear_pending()

    def result(self) -> dict[str, Any]:
        """{"loss": weighted total, "outputs": {label: {"loss": ..., metrics...}}}; syncs."""
        self.flush()
        count = max(self.samples, 1)
        losses = [value / count for value in self._loss_sums.tolist()]
        per_output = {
            spec.label: {"loss": loss, **meter.result()}
            for spec, meter, loss in zip(self.outputs, self.meters, losses, strict=True)
        }
        total = sum(spec.weight * loss for spec, loss in zip(self.outputs, losses, strict=True))
        return {"loss": total, "outputs": per_output}
