"""What the data says of a model's two ends (`DataShapes`), from a loaded data set or
from the app's data preview: the shape of one sample, and for each Output the units its
loss needs. The values a graph takes from the data follow it (`engine.model.shapes`)."""

from __future__ import annotations

import torch

from engine.data import Splits
from engine.data.preview import DataPreview
from engine.document.project import Project
from engine.model.shapes import DataShapes
from engine.training.losses import units_wanted


def data_shapes(
    project: Project, sample: tuple[int, ...], y: torch.Tensor, classes: int
) -> DataShapes:
    units = {label: units_wanted(spec, y, classes) for label, spec in project.losses().items()}
    return DataShapes(tuple(sample), units)


def preview_shapes(project: Project, preview: DataPreview) -> DataShapes:
    return data_shapes(project, preview.sample_shape, preview.y, len(preview.classes))


def splits_shapes(project: Project, splits: Splits) -> DataShapes:
    train = splits.train
    return data_shapes(project, tuple(train.x.shape[1:]), train.y, len(train.classes or ()))
