"""What a trained model does with data it did not learn from, output by output, and single
samples (a validation sample, or a user's drawing) made ready for it.

`TrainedModel.from_job(job)` (or `from_parts`) gathers the module, the data to look at
(the validation split; the training split when there is none, with `split` saying which)
and how each output is read: the `OutputLoss` that `engine.training.losses.plan_losses` makes for
it, as in training. `evaluate` scores each output on that data; the confusion matrix and
the regression scores come from the meters of `engine.training.metrics`, the same as the epoch
metrics of a run.

Images: a sample is image-like when its shape is [C, H, W] with one or three channels,
[H, W], or a flat vector of a square number of values (64 -> 8x8, 784 -> 28x28). x held
for the model is normalised (`engine.data.normalize`) along dim 1 of x *as loaded*, which
may be a flat vector the model sees as [1, 8, 8]; `raw_samples` and `normalized_samples`
go between the two scales for any shape.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.data.dataset import Splits, TensorData
from engine.data.normalize import apply_normalization
from engine.data.pictures import ImageLayout, image_layout
from engine.data.text import text_ids, text_of
from engine.document.trust import custom_sources, model_custom_layers
from engine.errors import USER_CODE_ERRORS
from engine.model.failures import ModelRuntimeError, failure
from engine.runs.evaluation_results import (
    MISCLASSIFIED_LIMIT,
    ClassificationEvaluation,
    ClassScore,
    Forecast,
    Misclassified,
    OutputEvaluation,
    RegressionEvaluation,
)
from engine.training.losses import BINARY_LOSSES, CLASS_ID_LOSSES, OutputLoss, plan_losses
from engine.training.metrics import ClassMeter, RegressionMeter, class_rates, classification_scores

if TYPE_CHECKING:
    from engine.training.job import TrainingJob

STYLE_SAMPLES = 500  # pictures looked at to learn how a data set draws
CPU = torch.device("cpu")


# --- running the model ------------------------------------------------------------------


def predict(module: nn.Module, x: torch.Tensor, batch_size: int = 1000) -> tuple[torch.Tensor, ...]:
    """The module's outputs for `x`, one tensor per output, on the CPU.

    Runs in eval mode without gradients, `batch_size` samples at a time, on the device the
    module's parameters are on; the module's train/eval mode is restored afterwards.
    Raises ModelRuntimeError, naming the layer, when the module fails on them.
    """
    device = _device_of(module)
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            # one pass even for no samples, so the outputs keep their shapes
            parts = [
                _as_tuple(module(x[start : start + batch_size].to(device)))
                for start in range(0, max(len(x), 1), batch_size)
            ]
    except USER_CODE_ERRORS as exc:
        samples = "this sample" if len(x) == 1 else f"these {len(x)} samples"
        raise failure(exc).error(ModelRuntimeError, f"the model fails on {samples}") from exc
    finally:
        module.train(was_training)
    return tuple(torch.cat([part[i].cpu() for part in parts]) for i in range(len(parts[0])))


def _device_of(module: nn.Module) -> torch.device:
    tensor = next(module.parameters(), None)
    if tensor is None:
        tensor = next(module.buffers(), None)
    return CPU if tensor is None else tensor.device


def _as_tuple(out: torch.Tensor | Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
    return tuple(out) if isinstance(out, tuple | list) else (out,)


def predicted_classes(outputs: torch.Tensor, spec: OutputLoss) -> torch.Tensor:
    """Class ids [N] for a class-id output; 0/1 per value [N, values] for a binary one."""
    if spec.kind == "binary":
        return (outputs > spec.threshold).long().reshape(len(outputs), -1)
    return outputs.argmax(dim=1)


def class_probabilities(output_row: torch.Tensor, loss: str) -> list[float]:
    """How sure one sample's output is, from the output of a single sample.

    Class-id losses: one probability per class, the softmax of the scores (for NLLLoss's
    log-probabilities this is their exp). Binary losses: [P(0), P(1)] for a one-value
    output (sigmoid of the logit for BCEWithLogitsLoss; BCELoss outputs are already
    probabilities), one P(1) per value for a wider output.
    """
    values = output_row.detach().float().reshape(-1)
    if loss in CLASS_ID_LOSSES:
        return torch.softmax(values, dim=0).tolist()
    if loss in BINARY_LOSSES:
        p = torch.sigmoid(values) if loss == "BCEWithLogitsLoss" else values.clamp(0, 1)
        return [1.0 - p.item(), p.item()] if p.numel() == 1 else p.tolist()
    raise ValueError(f"{loss} trains values, not classes: its output has no class probabilities")


# --- images -----------------------------------------------------------------------------


def sample_image(sample: torch.Tensor, normalization: dict[str, Any]) -> np.ndarray | None:
    """One sample (as the model takes it) as a grayscale picture [H, W] on the data's raw
    scale (colour channels averaged), or None when the sample is not image-like."""
    layout = image_layout(sample.shape)
    if layout is None or not sample.is_floating_point():
        return None
    raw = raw_samples(sample[None].cpu(), normalization)[0]
    return raw.reshape(layout.channels, layout.height, layout.width).mean(0).numpy()


def raw_samples(x: torch.Tensor, normalization: dict[str, Any]) -> torch.Tensor:
    """Samples [N, ...] as the model takes them, back on the scale they were loaded on."""
    if "mean" not in normalization:
        return x
    mean, std = (_per_value(x, normalization[key]) for key in ("mean", "std"))
    return (_by_normalized_values(x, normalization) * std + mean).reshape(x.shape)


def normalized_samples(raw: torch.Tensor, normalization: dict[str, Any]) -> torch.Tensor:
    """Raw samples [N, ...] scaled as the model was trained on, in the same shape."""
    values = _by_normalized_values(raw, normalization)
    return apply_normalization(values, normalization).reshape(raw.shape)


def _by_normalized_values(x: torch.Tensor, normalization: dict[str, Any]) -> torch.Tensor:
    """x as [N, M, rest], M being the number of normalisation values: they were fitted
    along dim 1 of x as loaded (features, or image channels), whatever x's shape now."""
    count = len(normalization.get("mean", [0.0]))
    return x.reshape(len(x), count, -1)


def _per_value(x: torch.Tensor, values: list[float]) -> torch.Tensor:
    return torch.tensor(values, dtype=x.dtype).reshape(1, -1, 1)


@dataclass(frozen=True)
class InkStyle:
    """How a data set's pictures are drawn, on its raw scale: the background and ink
    values, and the share of the picture's side the ink spans (its taller or wider side),
    e.g. 0 / 16 / 1.0 for scikit-learn's 8x8 digits, 0 / 1 / about 0.7 for MNIST."""

    background: float
    ink: float
    extent: float


def ink_style(images: torch.Tensor) -> InkStyle:
    """The style of grayscale pictures [N, H, W] on their raw scale: of the lowest and
    the highest value, the one nearer the median is the background, the other the ink."""
    if not images.numel():
        return InkStyle(0.0, 1.0, 1.0)
    low, high, median = float(images.min()), float(images.max()), float(images.median())
    background, ink = (low, high) if median - low <= high - median else (high, low)
    inked = (images - background).abs() > abs(ink - background) / 2
    spans = [_ink_span(mask) / max(mask.shape) for mask in inked if mask.any()]
    return InkStyle(background, ink, float(np.median(spans)) if spans else 1.0)


def _ink_span(mask: torch.Tensor) -> int:
    rows, cols = mask.any(dim=1).nonzero(), mask.any(dim=0).nonzero()
    return int(max(rows.max() - rows.min(), cols.max() - cols.min())) + 1


def drawn_sample(
    pixels: np.ndarray,
    style: InkStyle,
    normalization: dict[str, Any],
    input_shape: Sequence[int],
) -> torch.Tensor:
    """A drawing (ink 1 on background 0, any size [H, W]) as a model input [1, *input_shape].

    The ink is cropped and centred in a square so that it spans `style.extent` of the
    side, as the data set's own pictures do, shrunk by averaging to the data's picture
    size, painted in the data's background and ink values and normalised.
    """
    layout = image_layout(input_shape)
    if layout is None or layout.channels != 1:
        raise ValueError(f"an input of shape {tuple(input_shape)} is not a one-channel image")
    square = _centred(np.asarray(pixels, dtype=np.float32), style.extent)
    small = F.interpolate(
        torch.from_numpy(square)[None, None], size=(layout.height, layout.width), mode="area"
    )
    raw = style.background + small.clamp(0, 1) * (style.ink - style.background)
    return normalized_samples(raw.reshape(1, *input_shape), normalization)


def _centred(pixels: np.ndarray, extent: float) -> np.ndarray:
    """The ink's bounding box centred in a square it spans `extent` of; blank stays blank."""
    rows, cols = np.nonzero(pixels > 0)
    if not len(rows):
        return pixels
    ink = pixels[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    side = math.ceil(max(ink.shape) / min(max(extent, 0.1), 1.0))
    square = np.zeros((side, side), dtype=np.float32)
    top, left = (side - ink.shape[0]) // 2, (side - ink.shape[1]) // 2
    square[top : top + ink.shape[0], left : left + ink.shape[1]] = ink
    return square


# --- the model with its data ------------------------------------------------------------


@dataclass
class TrainedModel:
    """A trained module, the data it is judged on and how each of its outputs is read.

    outputs: one `OutputLoss` per model output, in the order the model returns them.
    class_names: per output, the names of its classes ([] for a regression output).
    data: the samples to look at, model-ready; split: "validation" or "training" (used
    when the validation split is empty). custom_layers: label -> source of the Custom
    layers in the module, whose code runs with every prediction (see
    `engine.document.trust`). layer_labels: the module's attribute of a layer -> the
    label of its node, for naming layers to the user.
    """

    module: nn.Module
    outputs: list[OutputLoss]
    class_names: list[list[str]]
    data: TensorData
    split: str
    normalization: dict[str, Any]
    custom_layers: dict[str, str] = field(default_factory=dict)
    tokenizer: dict[str, Any] | None = None
    layer_labels: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_job(cls, job: TrainingJob) -> TrainedModel:
        """From a prepared (usually finished) `engine.training.job.TrainingJob`."""
        losses = job.trainer.settings["losses"]
        trained = cls.from_parts(job.built.module, job.splits, job.output_labels, losses)
        trained.custom_layers = custom_sources(model_custom_layers(job.project.graph))
        nodes = job.project.graph.nodes
        trained.layer_labels = {
            attribute: nodes[node_id].label
            for node_id, attribute in job.built.code.attributes.items()
        }
        return trained

    @classmethod
    def from_parts(
        cls,
        module: nn.Module,
        splits: Splits,
        output_labels: Sequence[str],
        loss_settings: dict[str, dict[str, Any]],
    ) -> TrainedModel:
        """loss_settings: the training settings' "losses" ({label: {"loss", "weight",
        "target"}}), checked as the trainer checks them."""
        has_val = len(splits.val) > 0
        data, split = (splits.val, "validation") if has_val else (splits.train, "training")
        probe = predict(module, data.x[:2])
        outputs = plan_losses(loss_settings, output_labels, probe)
        names = [_class_names(spec, data.classes) for spec in outputs]
        trained = cls(module, outputs, names, data, split, splits.normalization)
        trained.tokenizer = splits.tokenizer
        return trained

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.data.x.shape[1:])

    @property
    def image(self) -> ImageLayout | None:
        """The layout of a sample when samples are pictures, else None."""
        return image_layout(self.input_shape) if self.data.x.is_floating_point() else None

    @cached_property
    def ink(self) -> InkStyle:
        """How the data's pictures are drawn (`ink_style` of the first few hundred)."""
        layout = self.image
        if layout is None:
            raise ValueError(f"samples of shape {self.input_shape} are not pictures")
        raw = raw_samples(self.data.x[:STYLE_SAMPLES], self.normalization)
        return ink_style(raw.reshape(-1, layout.channels, layout.height, layout.width).mean(1))

    def sample_image(self, index: int) -> np.ndarray | None:
        """Sample `index` of `data` as a grayscale picture on the raw scale, or None."""
        return sample_image(self.data.x[index], self.normalization)

    def drawn_sample(self, pixels: np.ndarray) -> torch.Tensor:
        """A drawing as an input for the model (see `drawn_sample`)."""
        return drawn_sample(pixels, self.ink, self.normalization, self.input_shape)

    def typed_text(self, text: str) -> torch.Tensor:
        """A text as an input for the model [1, max_length], read by the run's tokenizer."""
        if self.tokenizer is None:
            raise ValueError("the model was not trained on texts")
        return text_ids(text, self.tokenizer)

    def sample_text(self, index: int) -> str | None:
        """Sample `index` of `data` as the words the model reads (None unless texts)."""
        if self.tokenizer is None:
            return None
        return text_of(self.data.x[index], self.tokenizer)

    def predict_one(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The outputs for one sample x [1, *input_shape], each without the batch dim."""
        return tuple(out[0] for out in predict(self.module, x))

    def targets(self, index: int) -> list[torch.Tensor]:
        """Sample `index`'s target for each output, as its loss takes it."""
        y = self.data.y[index : index + 1]
        return [spec.targets(y, self.split)[0] for spec in self.outputs]

    def probability_names(self, output: int) -> list[str]:
        """What each entry of `class_probabilities` for output number `output` is about."""
        spec = self.outputs[output]
        if spec.kind == "binary" and spec.width > 1:
            return [f"value {i}" for i in range(spec.width)]
        return self.class_names[output]


def _class_names(spec: OutputLoss, names: list[str] | None) -> list[str]:
    if spec.kind == "regression":
        return []
    one_label = spec.kind == "classes" or spec.width == 1  # else 0/1 per value
    if one_label and names is not None and len(names) == spec.classes:
        return list(names)
    return [str(i) for i in range(spec.classes)]


# --- evaluation -------------------------------------------------------------------------


def evaluate(model: TrainedModel, batch_size: int = 1000) -> list[OutputEvaluation]:
    """Every output of `model` scored on `model.data`, in the model's output order."""
    outputs = predict(model.module, model.data.x, batch_size)
    targets = [spec.targets(model.data.y, model.split) for spec in model.outputs]
    return [
        _evaluate_output(model, number, output, target)
        for number, (output, target) in enumerate(zip(outputs, targets, strict=True))
    ]


def _evaluate_output(
    model: TrainedModel, number: int, output: torch.Tensor, target: torch.Tensor
) -> OutputEvaluation:
    spec = model.outputs[number]
    if spec.kind == "regression":
        result = _regression(spec, model.split, output, target)
        series = model.data.info.get("series")
        if series is None or "target_times" not in series or spec.column not in (None, 0):
            return result
        return replace(result, forecast=_forecast(series, result))
    return _classification(spec, model.split, model.class_names[number], output, target)


def _classification(
    spec: OutputLoss, split: str, names: list[str], output: torch.Tensor, target: torch.Tensor
) -> ClassificationEvaluation:
    meter = ClassMeter(spec, CPU)
    meter.add(output, target)
    confusion = meter.confusion.view(spec.classes, spec.classes)
    scores = classification_scores(confusion)
    wrong, count = _misclassified(spec, output, target)
    return ClassificationEvaluation(
        label=spec.label,
        loss=spec.loss,
        split=split,
        samples=len(output),
        class_names=names,
        confusion=confusion.numpy().copy(),
        per_class=per_class_scores(confusion, names),
        accuracy=scores["accuracy"],
        macro={key: scores[key] for key in ("precision", "recall", "f1")},
        misclassified=wrong,
        misclassified_count=count,
    )


def per_class_scores(confusion: torch.Tensor, names: Sequence[str]) -> list[ClassScore]:
    """Precision, recall and F1 of each class from a confusion matrix [true, predicted];
    a score whose denominator is 0 is 0."""
    rates = class_rates(confusion)
    return [
        ClassScore(name, float(p), float(r), float(f), int(s))
        for name, p, r, f, s in zip(
            names, rates["precision"], rates["recall"], rates["f1"], rates["true"], strict=True
        )
    ]


def _misclassified(
    spec: OutputLoss, output: torch.Tensor, target: torch.Tensor
) -> tuple[list[Misclassified], int]:
    predicted = predicted_classes(output, spec).reshape(-1)
    truth = (target > 0.5).long().reshape(-1) if spec.kind == "binary" else target
    wrong = torch.nonzero(predicted != truth).flatten()
    per_sample = spec.width if spec.kind == "binary" else 1
    first = [
        Misclassified(i // per_sample, int(truth[i]), int(predicted[i]))
        for i in wrong[:MISCLASSIFIED_LIMIT].tolist()
    ]
    return first, len(wrong)


def _regression(
    spec: OutputLoss, split: str, output: torch.Tensor, target: torch.Tensor
) -> RegressionEvaluation:
    meter = RegressionMeter(CPU)
    meter.add(output, target)
    scores = meter.result()
    rows = len(output)
    predicted = output.reshape(rows, -1).double().numpy()
    return RegressionEvaluation(
        label=spec.label,
        loss=spec.loss,
        split=split,
        samples=rows,
        column_names=_column_names(spec),
        true=target.reshape(rows, -1).double().numpy(),
        predicted=predicted,
        r2=scores["r2"],
        mae=scores["mae"],
        mse=scores["mse"],
    )


def _forecast(series: dict[str, Any], result: RegressionEvaluation) -> Forecast:
    """The first target's next step, predicted and actual, in the series' units."""
    name = series["targets"][0]
    scale = series["scale"]
    if "mean" in scale:
        column = series["variables"].index(name)
        mean, std = (
            values[column if len(values) > 1 else 0] for values in (scale["mean"], scale["std"])
        )
    else:
        mean, std = 0.0, 1.0
    return Forecast(
        name,
        np.asarray(series["target_times"], dtype=np.float64),
        result.true[:, 0] * std + mean,
        result.predicted[:, 0] * std + mean,
        bool(series["dates"]),
    )


def _column_names(spec: OutputLoss) -> list[str]:
    if spec.column is not None:
        return [f"target column {spec.column}"]
    if spec.width == 1:
        return ["target"]
    return [f"target column {i}" for i in range(spec.width)]
