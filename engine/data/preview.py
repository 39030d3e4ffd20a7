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

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.data.augment import Augmenter
from engine.data.dataset import CLASSIFICATION, DataError, TensorData
from engine.data.holdout import split
from engine.data.image_files import decode_image, list_images
from engine.data.image_folder import image_folder_path
from engine.data.image_table import present_rows, read_image_table
from engine.data.mnist import missing_mnist_files
from engine.data.paths import resolve_path
from engine.data.pictures import image_layout
from engine.data.prepare import augmented_image, checked_settings, fit_problem, load_raw, value_span
from engine.data.table_columns import encoded_parts, load_table
from engine.data.table_file import read_table, row_count
from engine.data.table_preview import (
    ColumnSummary,
    SeriesView,
    TextView,
    column_summaries,
    series_view,
    text_view,
)
from engine.data.text import load_text, tokenized_parts

SAMPLES = 8
AUGMENTED_VIEWS = 8  # augmentations of one picture in the preview's strip
PREVIEW_ROWS = 20_000  # rows of a large table the preview reads
SAMPLED_KINDS = ("csv", "parquet", "text")  # previewed from their first PREVIEW_ROWS rows


class NotDownloadedYet(DataError):
    """The MNIST files are missing, and training will download them."""


@dataclass
class PreviewSample:
    """One sample to show: its label, and a picture scaled to 0..1 when samples are
    images ([H, W] grey, [3, H, W] colour), else its first values."""

    label: str
    picture: np.ndarray | None = None
    values: list[float] | None = None


@dataclass
class DataPreview:
    """A data set as loaded (before normalisation).

    own_validation: the validation samples come from the source's own files (IDX and
    MNIST test files) rather than a split. classes: (name, training samples) per class;
    empty for regression, whose targets are `target_columns` columns. y: every training
    target, for checking the losses against the data before a run. picture: the first
    sample's values as loaded when samples are pictures ([C, H, W], colour kept), with
    `span`, the lowest and highest value the training samples hold: what augmentation
    works on (`augmented_views`).
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
    picture: np.ndarray | None = None
    span: tuple[float, float] = (0.0, 1.0)
    columns: list[ColumnSummary] = field(default_factory=list)
    rows_read: int | None = None
    series: SeriesView | None = None
    text: TextView | None = None
    token_ids: int | None = None

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
        return _image_folder_preview(settings, image_folder_path(settings, base_dir), count)
    if settings["kind"] == "image_csv":
        path = resolve_path(settings["path"], base_dir)
        return _image_table_preview(settings, path, count)
    if settings["kind"] in SAMPLED_KINDS:
        return _sampled_table_preview(settings, resolve_path(settings["path"], base_dir), count)
    preview = _loaded_preview(settings, count, *load_raw(settings, base_dir))
    if settings["kind"] == "time_series":
        table = read_table(resolve_path(settings["path"], base_dir))
        preview.columns = column_summaries(settings, table)
        preview.series = series_view(settings, table)
    return preview


def _sampled_table_preview(settings: dict[str, Any], path: Path, count: int) -> DataPreview:
    """A table from its first PREVIEW_ROWS rows: its columns, and the data as they make
    it (the counts of training and validation samples are the whole file's)."""
    table = read_table(path, max_rows=PREVIEW_ROWS)
    if settings["kind"] == "text":
        data = load_text(path, settings["text_column"], settings["target"], PREVIEW_ROWS)
    else:
        data = load_table(
            path,
            settings["target"],
            settings["categorical"],
            settings["ignore"],
            settings["missing"],
            PREVIEW_ROWS,
        )
    preview = _loaded_preview(settings, count, data, None)
    preview.columns = column_summaries(settings, table, data.info.get("columns"))
    if settings["kind"] == "text":
        preview.text = text_view(settings, data)
    total = row_count(path) if table.rows >= PREVIEW_ROWS else table.rows
    if total > table.rows:  # the counts of the whole file, split as the sample is
        preview.rows_read = table.rows
        if preview.token_ids is not None:  # the whole file's texts may hold more words
            preview.token_ids = settings["vocab_size"]
        preview.val_rows = round(total * preview.val_rows / table.rows)
        preview.train_rows = total - preview.val_rows
    return preview


def _loaded_preview(
    settings: dict[str, Any], count: int, data: TensorData, own_val: TensorData | None
) -> DataPreview:
    if own_val is None:
        train, val = split(data, settings["val_fraction"], settings["seed"], settings["stratify"])
    else:
        train, val = data, own_val
    if "columns" in data.info:  # a table's categories: encoded as the training part has them
        (train, val, data), _ = encoded_parts(train, val, data)
    token_ids = None
    if "texts" in data.info:  # words: as the vocabulary of the training part has them
        (train, val, data), tokenizer = tokenized_parts(settings, train, val, data)
        token_ids = len(tokenizer["vocabulary"])
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
        picture=_picture(data),
        span=value_span(train.x),
        token_ids=token_ids,
    )


def _image_folder_preview(settings: dict[str, Any], folder: Path, count: int) -> DataPreview:
    listing = list_images(folder)
    source = f"image folder {folder.name}"
    data = _listed(np.array(listing.labels), listing.classes, source)
    own = None
    if listing.val_files is not None:
        own = _listed(np.array(listing.val_labels or []), listing.classes, source)
    return _pictures_preview(settings, data, listing.files, own, count)


def _image_table_preview(settings: dict[str, Any], path: Path, count: int) -> DataPreview:
    table = read_image_table(path, settings["image_column"], settings["target"])
    rows = present_rows(table, path)
    data = _listed(*table.targets_of(rows), f"image table {path.name}")
    return _pictures_preview(settings, data, [table.files[i] for i in rows], None, count)


def _pictures_preview(
    settings: dict[str, Any],
    listed: TensorData,
    files: list[Path],
    own_val: TensorData | None,
    count: int,
) -> DataPreview:
    """From a listing of image files (`listed`: their targets, no pixels) and a few
    decoded images: thousands of images preview in a moment, and decode all only when
    they train (into the cache)."""
    size, grayscale = tuple(settings["image_size"]), settings["grayscale"]
    if own_val is None:
        train, val = split(listed, settings["val_fraction"], settings["seed"], settings["stratify"])
    else:
        train, val = listed, own_val
    samples, pictures = [], []
    for index in sample_indices(listed, count):
        pixels = decode_image(files[index], size, grayscale).astype(np.float32) / 255
        picture = replace(listed.subset(torch.tensor([index])), x=torch.from_numpy(pixels[None]))
        samples.append(_sample(picture, 0))
        pictures.append(pixels)
    return DataPreview(
        source=listed.info["source"],
        task=listed.task,
        train_rows=len(train),
        val_rows=len(val),
        own_validation=own_val is not None,
        sample_shape=(1 if grayscale else 3, *size),
        dtype="float32",
        classes=_class_counts(train),
        target_columns=int(listed.y.shape[1]) if listed.y.dim() == 2 else 1,
        feature_names=None,
        samples=samples,
        y=train.y,
        picture=pictures[0] if pictures else None,
    )


def augmented_views(
    preview: DataPreview, settings: dict[str, Any], count: int = AUGMENTED_VIEWS, seed: int = 0
) -> list[np.ndarray]:
    """`count` augmentations of the preview's first picture as `settings` (data settings)
    make them, each [C, H, W] scaled to [0, 1] for showing; none when samples are not
    pictures."""
    if preview.picture is None:
        return []
    settings = checked_settings(settings)
    image = preview.picture.shape
    augmenter = Augmenter(settings, image, image, None, None, preview.span).seeded(seed, "cpu")
    batch = torch.from_numpy(np.ascontiguousarray(preview.picture, dtype=np.float32))
    views = augmenter(batch.expand(count, *image).clone()).numpy()
    low, high = preview.span
    return list((views - low) / (high - low) if high > low else np.zeros_like(views))


def _picture(data: TensorData) -> np.ndarray | None:
    """The first sample as a picture [C, H, W], values as loaded; None when it is none."""
    if not len(data) or not data.x.is_floating_point():
        return None
    try:
        image = augmented_image(tuple(data.x.shape[1:]))
    except DataError:
        return None
    return data.x[0].reshape(image).numpy().astype(np.float32)


def _listed(y: np.ndarray, classes: list[str] | None, source: str) -> TensorData:
    """Targets without pixels (x holds nothing): for splitting and counting."""
    x = np.empty((len(y), 0), dtype=np.float32)
    if classes is None:
        return TensorData.regression(x, y, source=source)
    return TensorData.classification(x, y.astype(np.int64), classes, source=source)


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
    picture = x.reshape(layout.channels, layout.height, layout.width).numpy()
    if layout.channels == 1:
        picture = picture[0]
    low, high = float(picture.min()), float(picture.max())
    scaled = (picture - low) / (high - low) if high > low else np.zeros_like(picture)
    return PreviewSample(label, picture=scaled.astype(np.float32))
