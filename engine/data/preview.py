"""What a data set holds, before anything trains on it: for the app's data preview and for
the checks made before a run (does a sample fit the model's input, do the labels fit its
outputs).

`preview_data(settings, base_dir)` loads the data as `load_data` would (but
never downloads) and describes it: where it came from, how many samples go to training
and validation, a sample's shape, the classes with their counts (or the target columns),
and a few samples to look at, one per class first. Loading is the slow part: the
preview is kept, and checked against the model as the graph changes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.data.dataset import CLASSIFICATION, DataError, TensorData
from engine.data.holdout import split
from engine.data.image_files import decode_image, list_images
from engine.data.mnist import missing_mnist_files
from engine.data.paths import resolve_path
from engine.data.pictures import image_layout
from engine.data.prepare import checked_settings, fit_problem, load_raw

SAMPLES = 8


class NotDownloadedYet(DataError):
    """The MNIST files are missing, and training will download them."""


@dataclass
class PreviewSample:
    """One sample to show: its label, and a picture [H, W] scaled to 0..1 when samples
    are images, else its first values."""

    label: str
    picture: np.ndarray | None = None
    values: list[float] | None = None


@dataclass
class DataPreview:
    """A data set as loaded (before normalisation).

    own_validation: the validation samples come from the source's own files (IDX and
    MNIST test files) rather than a split. classes: (name, training samples) per class;
    empty for regression, whose targets are `target_columns` columns. y: every training
    target, for checking the losses against the data before a run.
    """

    source: str
    task: str
    train_rows: int
    val_rows: int
    own_validation: bool
    sample_shape: tuple[int, ...]
    dtype: str
    classes: list[tuple[str, int]]
    target_columns: int
    feature_names: list[str] | None
    samples: list[PreviewSample]
    y: torch.Tensor

    @property
    def pictures(self) -> bool:
        return any(sample.picture is not None for sample in self.samples)

    def input_problem(self, input_shape: tuple[int, ...]) -> str:
        """Why a sample does not fit the model's input ("" when it does)."""
        return fit_problem(self.sample_shape, input_shape)


def preview_data(
    settings: dict[str, Any], base_dir: Path | None = None, count: int = SAMPLES
) -> DataPreview:
    """Describe the data `settings` name. Raises DataError (what is wrong, and where)."""
    settings = checked_settings(settings)
    if settings["kind"] == "mnist" and settings["download"]:
        folder = resolve_path(settings["path"], base_dir)
        if missing_mnist_files(folder):
            raise NotDownloadedYet(
                f"{folder}: the MNIST files are not here yet; training fetches them"
            )
    if settings["kind"] == "image_folder":
        return _image_folder_preview(settings, resolve_path(settings["path"], base_dir), count)
    data, own_val = load_raw(settings, base_dir)
    if own_val is None:
        train, val = split(data, settings["val_fraction"], settings["seed"], settings["stratify"])
    else:
        train, val = data, own_val
    return DataPreview(
        source=str(data.info.get("source", settings["kind"])),
        task=data.task,
        train_rows=len(train),
        val_rows=len(val),
        own_validation=own_val is not None,
        sample_shape=tuple(data.x.shape[1:]),
        dtype=str(data.x.dtype).removeprefix("torch."),
        classes=_class_counts(train),
        target_columns=int(data.y.shape[1]) if data.y.dim() == 2 else 1,
        feature_names=data.feature_names,
        samples=[_sample(data, i) for i in sample_indices(data, count)],
        y=train.y,
    )


def _image_folder_preview(settings: dict[str, Any], folder: Path, count: int) -> DataPreview:
    """From the file listing and a few decoded images: an image folder of thousands
    previews in a moment, and decodes all only when it trains (into the cache)."""
    listing = list_images(folder)
    size, grayscale = tuple(settings["image_size"]), settings["grayscale"]
    data = _listed(listing.labels, listing.classes, folder)
    if listing.val_files is None:
        train, val = split(data, settings["val_fraction"], settings["seed"], settings["stratify"])
    else:
        train, val = data, _listed(listing.val_labels or [], listing.classes, folder)
    samples = []
    for index in sample_indices(data, count):
        pixels = decode_image(listing.files[index], size, grayscale).astype(np.float32) / 255
        picture = replace(data.subset(torch.tensor([index])), x=torch.from_numpy(pixels[None]))
        samples.append(_sample(picture, 0))
    return DataPreview(
        source=data.info["source"],
        task=CLASSIFICATION,
        train_rows=len(train),
        val_rows=len(val),
        own_validation=listing.val_files is not None,
        sample_shape=(1 if grayscale else 3, *size),
        dtype="float32",
        classes=_class_counts(train),
        target_columns=1,
        feature_names=None,
        samples=samples,
        y=train.y,
    )


def _listed(labels: list[int], classes: list[str], folder: Path) -> TensorData:
    """Labels without pixels (x holds nothing): for splitting and counting."""
    x = np.empty((len(labels), 0), dtype=np.float32)
    return TensorData.classification(
        x, np.array(labels, dtype=np.int64), classes, source=f"image folder {folder.name}"
    )


def sample_indices(data: TensorData, count: int) -> list[int]:
    """`count` samples spread over the data, the first of each class first."""
    rows = len(data)
    chosen: list[int] = []
    if data.task == CLASSIFICATION and rows:
        firsts = np.unique(data.y.numpy(), return_index=True)[1]
        chosen = sorted(int(i) for i in firsts)[:count]
    for index in np.linspace(0, rows - 1, num=min(count, rows), dtype=int):
        if len(chosen) >= min(count, rows):
            break
        if int(index) not in chosen:
            chosen.append(int(index))
    return chosen


def _class_counts(data: TensorData) -> list[tuple[str, int]]:
    if data.task != CLASSIFICATION:
        return []
    names = list(data.classes or [])
    counts = np.bincount(data.y.numpy(), minlength=len(names)) if len(data) else []
    names += [str(i) for i in range(len(names), len(counts))]
    return [(name, int(n)) for name, n in zip(names, counts, strict=False)]


def _sample(data: TensorData, index: int) -> PreviewSample:
    x, y = data.x[index], data.y[index]
    if data.task == CLASSIFICATION:
        names = data.classes or []
        label = names[int(y)] if int(y) < len(names) else str(int(y))
    else:
        label = ", ".join(f"{v:.4g}" for v in y.reshape(-1).tolist())
    layout = image_layout(x.shape) if x.is_floating_point() else None
    if layout is None:
        return PreviewSample(label, values=x.reshape(-1).tolist())
    picture = x.reshape(layout.channels, layout.height, layout.width).mean(0).numpy()
    low, high = float(picture.min()), float(picture.max())
    scaled = (picture - low) / (high - low) if high > low else np.zeros_like(picture)
    return PreviewSample(label, picture=scaled.astype(np.float32))
