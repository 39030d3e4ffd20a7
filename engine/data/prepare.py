"""From data settings to training and validation tensors ready for a model."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import torch

from engine.data.augment import Augmenter, augmentation_on
from engine.data.builtin import load_builtin
from engine.data.dataset import DataError, Splits, TensorData
from engine.data.holdout import split
from engine.data.idx import load_idx_folder
from engine.data.image_cache import Progress
from engine.data.image_folder import image_folder_path, load_image_folder
from engine.data.image_table import load_image_table
from engine.data.mnist import load_mnist
from engine.data.normalize import apply_normalization, fit_normalization
from engine.data.npz_file import load_npz
from engine.data.paths import resolve_path
from engine.data.pictures import image_layout
from engine.data.pixels import ImageRows
from engine.data.series import load_series
from engine.data.streamed import Loading
from engine.data.synthetic import Recipe, make_synthetic
from engine.data.table_columns import encoded_parts, ids_unscaled, load_table
from engine.data.text import load_text, tokenized_parts
from engine.document.settings import TABLE_KINDS, validate_data


def load_data(
    settings: dict,
    base_dir: Path | None = None,
    input_shape: tuple[int, ...] | None = None,
    progress: Progress | None = None,
) -> Splits:
    """Load, split, normalise (fitted on the training split) and reshape x to `input_shape`.

    `settings` are data settings (missing ones take their defaults); relative paths start
    at `base_dir`. A table's categorical columns and missing cells are encoded as the
    training part has them (engine.data.encoding), a text's words by the vocabulary of
    the training part's texts (engine.data.tokens). IDX and MNIST folders with t10k
    files, and image folders with train/ and val/, bring their own validation split.
    `progress(done, total)` hears how the decoding of an image folder goes, the first
    time it is decoded. With augmentation switched on, the training part's `augment` is
    its `Augmenter`.
    """
    settings = checked_settings(settings)
    train, val = _load(settings, base_dir, progress)
    if val is None:
        train, val = split(train, settings["val_fraction"], settings["seed"], settings["stratify"])
    encoding = tokenizer = None
    if "columns" in train.info:
        (train, val), encoding = encoded_parts(train, val)
    if "texts" in train.info:
        (train, val), tokenizer = tokenized_parts(settings, train, val)
    if "series" in train.info:  # scaled by variable before it was cut into windows
        normalization = {"kind": "none", "note": "the series was scaled as its info says"}
    else:
        normalization = fit_normalization(
            train.x, settings["normalize"], settings["mean"], settings["std"]
        )
    if encoding is not None:
        normalization = ids_unscaled(normalization, encoding)
    augment = augmenter(settings, train, normalization) if augmentation_on(settings) else None
    train, val = (replace(d, x=apply_normalization(d.x, normalization)) for d in (train, val))
    train = replace(train, augment=augment)
    if input_shape is not None:
        train, val = (reshape_samples(d, input_shape) for d in (train, val))
    return Splits(train, val, normalization, encoding, tokenizer)


def augmenter(settings: dict, train: TensorData, normalization: dict) -> Augmenter:
    """The augmentation the settings ask for, of samples like `train`'s (as loaded, to
    be normalised with `normalization`); DataError when they are not pictures."""
    image = augmented_image(tuple(train.x.shape[1:]), train.x.is_floating_point())
    mean, std = normalization.get("mean"), normalization.get("std")
    return Augmenter(settings, image, train.x.shape[1:], mean, std, value_span(train.x))


def augmented_image(sample: tuple[int, ...], floating: bool = True) -> tuple[int, int, int]:
    """The picture (C, H, W) that samples of shape `sample` hold, for augmenting them;
    DataError when they hold none."""
    layout = image_layout(sample) if floating else None
    if layout is None:
        raise DataError(
            f"data: augmentation changes pictures, but a sample of this data has shape "
            f"{list(sample)}; switch the augment settings off, or use image data"
        )
    return layout.channels, layout.height, layout.width


def value_span(x: torch.Tensor | ImageRows) -> tuple[float, float]:
    """(lowest, highest) value of x as loaded: [0, 1] for image pixels, else measured
    (nothing loaded: [0, 1])."""
    if isinstance(x, ImageRows) or not len(x):
        return 0.0, 1.0
    return float(x.min()), float(x.max())


def streaming(settings: dict) -> Loading | None:
    """How images stream, when the settings stream them (else None: through the cache)."""
    if settings["image_loading"] != "stream":
        return None
    return Loading(settings["num_workers"], settings["prefetch_factor"], settings["pin_memory"])


def load_raw(settings: dict, base_dir: Path | None = None) -> tuple[TensorData, TensorData | None]:
    """The data as loaded, neither split nor scaled: (all samples, None), or (train,
    validation) for sources with their own validation split (IDX / MNIST t10k files)."""
    return _load(checked_settings(settings), base_dir)


def checked_settings(settings: dict) -> dict:
    """Defaults overlaid with `settings`; any problem raises one DataError naming them all."""
    checked, problems = validate_data(settings)
    if problems:
        raise DataError("; ".join(f"{where}: {what}" for where, what in problems))
    return checked


def reshape_samples(data: TensorData, shape: tuple[int, ...]) -> TensorData:
    """x as [N, *shape] when a sample holds as many values as `shape` needs."""
    shape = tuple(shape)
    sample = tuple(data.x.shape[1:])
    if sample == shape:
        return data
    problem = fit_problem(sample, shape)
    if problem:
        raise DataError(problem)
    if isinstance(data.x, ImageRows):
        return replace(data, x=data.x.reshaped(shape))
    return replace(data, x=data.x.reshape(len(data), *shape).contiguous())


def fit_problem(sample: tuple[int, ...], shape: tuple[int, ...]) -> str:
    """Why samples of shape `sample` cannot be reshaped to the model's input `shape`
    ("" when they can)."""
    if math.prod(sample) == math.prod(shape):
        return ""
    return (
        f"data: a sample has shape {tuple(sample)} ({math.prod(sample)} values) but the "
        f"model's input expects shape {tuple(shape)} ({math.prod(shape)} values)"
    )


def _load(
    settings: dict, base_dir: Path | None, progress: Progress | None = None
) -> tuple[TensorData, TensorData | None]:
    kind = settings["kind"]
    if kind == "builtin":
        return load_builtin(settings["name"]), None
    if kind == "synthetic":
        return make_synthetic(settings["name"], Recipe.from_settings(settings)), None
    path = resolve_path(settings["path"], base_dir)
    if kind in TABLE_KINDS:
        return load_table(
            path,
            settings["target"],
            settings["categorical"],
            settings["ignore"],
            settings["missing"],
        ), None
    if kind == "npz":
        return load_npz(path), None
    if kind == "image_folder":
        return load_image_folder(
            image_folder_path(settings, base_dir),
            settings["image_size"],
            settings["grayscale"],
            settings["bad_images"],
            progress,
            streaming(settings),
        )
    if kind == "image_csv":
        return load_image_table(
            path,
            settings["image_column"],
            settings["target"],
            settings["image_size"],
            settings["grayscale"],
            settings["bad_images"],
            progress,
            streaming(settings),
        ), None
    if kind == "time_series":
        return load_series(settings, path)
    if kind == "text":
        return load_text(path, settings["text_column"], settings["target"]), None
    if kind == "idx":
        return load_idx_folder(path)
    return load_mnist(path, settings["download"])
