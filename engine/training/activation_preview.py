"""What an untrained model does with real data, while it is being designed.

`ActivationProbe.preview(project, trust)` builds the project's model as a run would
(seeded, following its data) and runs it in eval mode, without gradients, on the first
training samples, through the tapped forward (engine.model.taps). It returns:
  - for the Input and every layer, a thumbnail of its output for the first sample (`Thumbnail`): a
    grid of the first feature maps for [C, H, W], bars for a vector, a heat map for
    [T, D], with the output's mean and standard deviation;
  - the initial-loss lines (engine.training.sanity): the loss of the untrained model on
    the first batch beside what chance gives, e.g. "initial loss 2.31, expected about
    ln 10 = 2.30 (10 classes at chance)".

The data is loaded once per data settings and Input shape and only its first batch
kept (image files streamed: only that batch is decoded; nothing is downloaded), so an
edit to the layers costs one build and one forward pass. Building the model runs Custom
layer code only when `trust` lets it (CustomCodeNotAllowed otherwise).
Thumbnails are numpy arrays (no Qt): the app draws them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from engine.data import load_data
from engine.data.dataset import TensorData
from engine.document.project import Project
from engine.document.trust import NOT_ALLOWED, Trust
from engine.errors import TrainingError
from engine.model.build import build_model
from engine.model.shapes import DataShapes
from engine.model.taps import Taps
from engine.training.data_shapes import splits_shapes
from engine.training.job import following, input_shape
from engine.training.losses import plan_losses
from engine.training.sanity import initial_loss_lines, initial_losses
from engine.training.setup import checked_settings, loss_targets, probe_outputs

MAPS = 16  # feature maps shown of a [C, H, W] output
MAP_SIDE = 24  # each map at most this many pixels a side
BARS = 48  # values shown of a vector
HEAT_SIDE = 48  # a [T, D] heat map at most this many cells a side
PROBE_BATCH = 64  # samples the initial loss is measured on (at most the batch size)


@dataclass(frozen=True)
class Thumbnail:
    """One layer's output for one sample, ready to draw.

    kind: "maps" (values: [rows, cols, side_h, side_w] in 0..1, NaN where a tile is
    empty), "bars" (values: [n] as they are, `shown` of `total` values, each bar the
    mean of a run of values when there are more than BARS), "heat" ([h, w] in 0..1), or
    "none" (only the numbers: a scalar, or more than three dimensions).
    """

    kind: str
    values: np.ndarray
    shape: tuple[int, ...]
    mean: float
    std: float

    def caption(self) -> str:
        """E.g. "mean 0.12, std 0.98"."""
        return f"mean {self.mean:.3g}, std {self.std:.3g}"


@dataclass(frozen=True)
class ActivationPreview:
    thumbnails: dict[str, Thumbnail]  # node id -> its output's thumbnail, Input first
    initial_loss: list[str]  # one line per output
    sample: str  # which sample the thumbnails show, e.g. "training sample 1 (class 3)"


class ActivationProbe:
    """Previews projects' untrained models, keeping the data of the last one asked."""

    def __init__(self) -> None:
        self._key: str | None = None
        self._batch: tuple[torch.Tensor, torch.Tensor, DataShapes, str] | None = None

    def preview(self, project: Project, trust: Trust = NOT_ALLOWED) -> ActivationPreview:
        """Raises the engine's errors (DataError, TrainingError, CustomCodeNotAllowed,
        BuildError...), whose messages say what is wrong."""
        settings = checked_settings(project.training, project.output_labels())
        x, y, shapes, sample = self._first_batch(project, settings["batch_size"])
        project = following(project, shapes, trust)
        built = build_model(project.graph, project.name, seed=settings["seed"], trust=trust)
        module = built.module.eval()
        labels = [project.graph.nodes[node_id].label for node_id in built.code.outputs]
        outputs, _, _ = probe_outputs(module, x, labels)
        specs = plan_losses(settings["losses"], labels, outputs)
        entries = initial_losses(specs, list(outputs), loss_targets(specs, y, "training"))
        (input_id,) = built.code.inputs  # input_shape checked there is one
        seen = {input_id: x[:1], **Taps(built).outputs(module, x[:1])}
        thumbnails = {node_id: thumbnail(value[0]) for node_id, value in seen.items()}
        return ActivationPreview(thumbnails, initial_loss_lines(entries), sample)

    def _first_batch(self, project: Project, batch_size: int):
        base_dir = project.path.parent if project.path is not None else None
        shape = input_shape(project)
        key = json.dumps([project.data, str(base_dir), shape], sort_keys=True, default=str)
        if key != self._key:
            self._key = self._batch = None  # kept only once loaded
            splits = load_data(light(project.data), base_dir, shape)
            train = splits.train
            if not len(train):
                raise TrainingError("the training data is empty: there is no sample to show")
            rows = min(batch_size, PROBE_BATCH, len(train))  # the x of image files: read
            x, y = torch.as_tensor(train.x[:rows]), train.y[:rows]
            self._batch = (x, y, splits_shapes(project, splits), _which(train))
            self._key = key
        return self._batch


def light(data: dict) -> dict:
    """The data settings as the preview loads them: image files streamed in this process
    (only the first batch is decoded; a run's cache is neither built nor waited for)
    and nothing downloaded (a run fetches it)."""
    return {**data, "image_loading": "stream", "num_workers": 0, "download": False}


def thumbnail(value: torch.Tensor) -> Thumbnail:
    """The thumbnail of one sample's output (no batch dimension)."""
    value = value.detach().float().cpu()
    finite = value[torch.isfinite(value)]
    mean = float(finite.mean()) if finite.numel() else math.nan
    std = float(finite.std(correction=0)) if finite.numel() else math.nan
    shape = tuple(value.shape)
    if value.dim() == 3 and value.shape[1:].numel() == 1:  # [C, 1, 1]: pooled, a vector
        value = value.reshape(-1)
    if value.dim() == 3 and value.shape[1] > 1 and value.shape[2] > 1:
        kind, values = "maps", _maps(value)
    elif value.dim() == 1 and value.numel() > 1:
        kind, values = "bars", _bars(value)
    elif value.dim() == 2 and value.numel() > 1:
        kind, values = "heat", _unit(_shrunk(value, HEAT_SIDE))
    else:
        kind, values = "none", np.zeros(0, np.float32)
    return Thumbnail(kind, values, shape, mean, std)


def _maps(value: torch.Tensor) -> np.ndarray:
    """The first MAPS channels, each scaled to 0..1 on its own, as a grid of tiles."""
    maps = value[:MAPS]
    count = maps.shape[0]
    cols = math.ceil(math.sqrt(count))
    rows = math.ceil(count / cols)
    tiles = [_unit(_shrunk(channel, MAP_SIDE)) for channel in maps]
    height, width = tiles[0].shape
    grid = np.full((rows, cols, height, width), np.nan, np.float32)
    for i, tile in enumerate(tiles):
        grid[i // cols, i % cols] = tile
    return grid


def _bars(value: torch.Tensor) -> np.ndarray:
    if value.numel() > BARS:  # each bar the mean of a run of neighbours
        value = F.adaptive_avg_pool1d(value.reshape(1, 1, -1), BARS).reshape(-1)
    return value.numpy().astype(np.float32)


def _shrunk(value: torch.Tensor, side: int) -> torch.Tensor:
    """A 2-D map averaged down to at most `side` cells a side."""
    height, width = value.shape
    if height <= side and width <= side:
        return value
    size = (min(height, side), min(width, side))
    return F.adaptive_avg_pool2d(value.reshape(1, 1, height, width), size).reshape(size)


def _unit(value: torch.Tensor) -> np.ndarray:
    """Scaled to 0..1 (a constant map is 0.5; values that are not finite stay NaN)."""
    array = value.numpy().astype(np.float32)
    kept = np.isfinite(array)
    if not kept.any():
        return np.full(array.shape, np.nan, np.float32)
    low, high = float(array[kept].min()), float(array[kept].max())
    scaled = (array - low) / (high - low) if high > low else np.full(array.shape, 0.5)
    return np.where(kept, scaled, np.nan).astype(np.float32)


def _which(train: TensorData) -> str:
    """The first training sample, named with its class when it has one."""
    if train.task == "classification" and len(train.y):
        number = int(train.y[0])
        names = train.classes or []
        name = names[number] if number < len(names) else str(number)
        return f"training sample 1 (class {name})"
    return "training sample 1"
