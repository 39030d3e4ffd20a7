"""One loss per model output: what each output learns, checked before training starts.

Every check raises a `TrainingError` whose message names the output, the loss and what
does not fit, so a user sees the problem before the first batch instead of a torch
traceback in the middle of an epoch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from engine.errors import TrainingError

LOSS_FUNCTIONS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "CrossEntropyLoss": F.cross_entropy,
    "NLLLoss": F.nll_loss,
    "BCELoss": F.binary_cross_entropy,
    "BCEWithLogitsLoss": F.binary_cross_entropy_with_logits,
    "MSELoss": F.mse_loss,
    "L1Loss": F.l1_loss,
    "SmoothL1Loss": F.smooth_l1_loss,
    "HuberLoss": F.huber_loss,
}
CLASS_ID_LOSSES = ("CrossEntropyLoss", "NLLLoss")
BINARY_LOSSES = ("BCELoss", "BCEWithLogitsLoss")


@dataclass(frozen=True)
class OutputLoss:
    """How one output is trained and measured.

    kind: "classes" (one score per class, class-id targets), "binary" (0/1 targets shaped
    like the output) or "regression" (float targets shaped like the output).
    classes: confusion-matrix size (output width for "classes", 2 for "binary").
    threshold: "binary" only: an output above it predicts 1.
    sample_shape: the output's shape for one sample.
    """

    label: str
    loss: str
    weight: float
    column: int | None
    kind: str
    classes: int
    threshold: float
    sample_shape: tuple[int, ...]

    @property
    def width(self) -> int:
        """Values per sample."""
        return _width(self.sample_shape)

    @property
    def fn(self) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        return LOSS_FUNCTIONS[self.loss]

    def targets(self, y: torch.Tensor, split: str) -> torch.Tensor:
        """The targets this output learns from `y`, checked and shaped for its loss."""
        chosen = _select_column(y, self.column, self.label)
        if self.kind == "classes":
            return self._class_ids(chosen, split)
        values = self._shaped_like_output(chosen.float())
        if self.kind == "binary":
            _check_unit_range(values, f"{self.loss} needs {split} targets between 0 and 1")
        return values

    def _class_ids(self, y: torch.Tensor, split: str) -> torch.Tensor:
        if y.dim() == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.dim() != 1:
            raise TrainingError(
                f"{self.loss} needs one class id per sample for output {self.label!r}, "
                f"but the {split} targets have {_columns(y)} columns; "
                "pick one with the loss's target setting"
            )
        if y.is_floating_point():
            fractional = y[y != y.round()]
            if fractional.numel():
                raise TrainingError(
                    f"{self.loss} needs whole-number class ids for output {self.label!r}, "
                    f"but the {split} targets include {fractional[0].item():g}"
                )
        y = y.long()
        if y.numel():
            lowest, highest = int(y.min()), int(y.max())
            if lowest < 0:
                raise TrainingError(
                    f"class ids must be 0 or more, but the {split} labels include {lowest}"
                )
            if highest >= self.classes:
                raise TrainingError(
                    f"{split} labels go up to {highest}, "
                    f"but output {self.label!r} has {self.classes} classes"
                )
        return y

    def _shaped_like_output(self, y: torch.Tensor) -> torch.Tensor:
        sample = tuple(y.shape[1:])
        if sample == self.sample_shape:
            return y
        if _width(sample) == 1 and _width(self.sample_shape) == 1:
            return y.reshape((len(y), *self.sample_shape))
        raise TrainingError(self._shape_mismatch(sample))

    def _shape_mismatch(self, sample: tuple[int, ...]) -> str:
        values = _width(self.sample_shape)
        if self.kind == "binary" and _width(sample) == 1:
            return (
                f"{self.loss} compares each of the {values} values output {self.label!r} gives "
                "per sample with a 0/1 target, but there is 1 target per sample; "
                f"for {values} classes use CrossEntropyLoss"
            )
        return (
            f"{self.loss} needs targets shaped like output {self.label!r} "
            f"({_per_sample(self.sample_shape)}), but the targets have {_per_sample(sample)}; "
            "pick a column with the loss's target setting or change the output size"
        )


def plan_losses(
    loss_settings: dict[str, dict[str, Any]],
    labels: Sequence[str],
    probe_outputs: Sequence[torch.Tensor],
) -> list[OutputLoss]:
    """One `OutputLoss` per output, checked against the outputs of a probe forward pass."""
    return [
        _plan_output(label, loss_settings[label], output)
        for label, output in zip(labels, probe_outputs, strict=True)
    ]


def shape_problems(
    loss_settings: dict[str, dict[str, Any]],
    labels: Sequence[str],
    sample_shapes: Sequence[tuple[int, ...]],
) -> dict[str, str]:
    """Losses that cannot work with their outputs' shapes (as shape inference gives them),
    by output label: found before any data is loaded or any weight is made."""
    return target_problems(loss_settings, labels, sample_shapes, None)


def target_problems(
    loss_settings: dict[str, dict[str, Any]],
    labels: Sequence[str],
    sample_shapes: Sequence[tuple[int, ...]],
    y: torch.Tensor | None,
) -> dict[str, str]:
    """As `shape_problems`, and with the training targets `y` (TensorData.y) also what
    the trainer would refuse in them: class ids beyond an output's classes, fractional
    ids, values outside 0..1 for a binary loss, a target column that is not there."""
    problems = {}
    for label, shape in zip(labels, sample_shapes, strict=True):
        try:
            spec = _plan_output(
                label, loss_settings[label], torch.empty((1, *shape), device="meta")
            )
            if y is not None:
                spec.targets(y, "training")
        except TrainingError as exc:
            problems[label] = str(exc)
    return problems


def units_wanted(spec: dict[str, Any], y: torch.Tensor, classes: int) -> int:
    """The units an output needs for its loss `spec` and the training targets `y`: a
    score per class for a class-id loss (`classes`, or as many as the ids reach), else a
    value per target column it learns."""
    if spec["loss"] in CLASS_ID_LOSSES:
        return classes or (int(y.max().item()) + 1 if y.numel() else 2)
    return 1 if spec["target"] is not None else _columns(y)


def _plan_output(label: str, spec: dict[str, Any], output: torch.Tensor) -> OutputLoss:
    name = spec["loss"]
    sample_shape = tuple(output.shape[1:])
    if name in CLASS_ID_LOSSES:
        kind, classes, threshold = "classes", _check_class_scores(name, label, sample_shape), 0.0
    elif name in BINARY_LOSSES:
        kind, classes, threshold = "binary", 2, 0.5 if name == "BCELoss" else 0.0
        if name == "BCELoss" and not output.is_meta:
            _check_probabilities(label, output)
    else:
        kind, classes, threshold = "regression", 0, 0.0
    return OutputLoss(
        label=label,
        loss=name,
        weight=float(spec["weight"]),
        column=spec["target"],
        kind=kind,
        classes=classes,
        threshold=threshold,
        sample_shape=sample_shape,
    )


def _check_class_scores(name: str, label: str, sample_shape: tuple[int, ...]) -> int:
    if len(sample_shape) > 1:
        raise TrainingError(
            f"{name} needs output {label!r} shaped [batch, classes], "
            f"but it gives [batch, {', '.join(map(str, sample_shape))}]"
        )
    classes = _width(sample_shape)
    if classes < 2:
        raise TrainingError(
            f"{name} needs one score per class from output {label!r}, but it gives 1 value "
            "per sample; use BCEWithLogitsLoss for a yes/no output or give it a unit per class"
        )
    return classes


def _check_probabilities(label: str, output: torch.Tensor) -> None:
    _check_unit_range(
        output.detach().float(),
        f"BCELoss needs probabilities from output {label!r} (add a Sigmoid, "
        "or use BCEWithLogitsLoss on raw scores)",
    )


def _check_unit_range(values: torch.Tensor, need: str) -> None:
    if not values.numel():
        return
    lowest, highest = values.min().item(), values.max().item()
    if lowest < 0:
        raise TrainingError(f"{need}, but they go down to {lowest:g}")
    if highest > 1:
        raise TrainingError(f"{need}, but they go up to {highest:g}")


def _select_column(y: torch.Tensor, column: int | None, label: str) -> torch.Tensor:
    if column is None:
        return y
    width = _columns(y)
    if column >= width:
        raise TrainingError(
            f"output {label!r} learns target column {column}, but the targets have "
            f"{width} column(s), numbered from 0"
        )
    return y if y.dim() == 1 else y[:, column]


def _columns(y: torch.Tensor) -> int:
    return 1 if y.dim() == 1 else _width(tuple(y.shape[1:]))


def _width(sample_shape: tuple[int, ...]) -> int:
    width = 1
    for size in sample_shape:
        width *= size
    return width


def _per_sample(sample_shape: tuple[int, ...]) -> str:
    if len(sample_shape) <= 1:
        count = _width(sample_shape)
        return f"{count} value{'s' if count != 1 else ''} per sample"
    return f"shape [{', '.join(map(str, sample_shape))}] per sample"


class LossPlan:
    """The total loss of a batch: the weighted sum of the outputs' losses."""

    def __init__(self, outputs: list[OutputLoss]):
        self.outputs = outputs
        self._functions = [o.fn for o in outputs]
        self._weights = [o.weight for o in outputs]
        self._plain = self._weights == [1.0]

    def __call__(
        self, outputs: Sequence[torch.Tensor], targets: Sequence[torch.Tensor]
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(total loss, each output's unweighted loss)."""
        parts = [fn(out, t) for fn, out, t in zip(self._functions, outputs, targets, strict=True)]
        if self._plain:
            return parts[0], parts
        total = parts[0] * self._weights[0]
        for weight, part in zip(self._weights[1:], parts[1:], strict=True):
            total = total + weight * part
        return total, parts
