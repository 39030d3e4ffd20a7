"""Data and training settings of a project: schemas, defaults and validation.

Each setting is a `Param` (the same schema type layers use), so the GUI's forms, the
project-file validator and the command line all read one definition.
"""

from __future__ import annotations

import re
from typing import Any

from engine.errors import UserError
from engine.layers.params import Param, ParamError, show

LOSSES = (
    "CrossEntropyLoss",
    "NLLLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "MSELoss",
    "L1Loss",
    "SmoothL1Loss",
    "HuberLoss",
)
CLASSIFICATION_LOSSES = ("CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss")
OPTIMIZERS = ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad")
SCHEDULERS = ("none", "step", "cosine", "one_cycle", "plateau")
BUILTIN_DATASETS = ("digits", "iris", "wine", "breast_cancer", "diabetes")
SYNTHETIC_DATASETS = ("blobs", "moons", "circles", "classification", "linear", "multi_target")
DATA_KINDS = (
    "builtin",
    "synthetic",
    "csv",
    "parquet",
    "npz",
    "idx",
    "image_folder",
    "image_csv",
    "time_series",
    "text",
    "mnist",
)
TABLE_KINDS = ("csv", "parquet")  # tables of feature and target columns
# kinds read from a table file (CSV or Parquet) of their own form
TABLE_FORMS = ("image_csv", "time_series", "text")
FILE_KINDS = tuple(k for k in DATA_KINDS if k not in ("builtin", "synthetic"))  # a path
IMAGE_KINDS = ("image_folder", "image_csv")  # decoded into the image cache
NORMALIZATIONS = ("none", "standardize", "minmax", "fixed")
DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d{1,2})?)$")

DATA_SCHEMA = (
    Param("kind", "choice", "builtin", "Where the data comes from.", choices=DATA_KINDS),
    Param(
        "name",
        "choice",
        "digits",
        "Built-in data set or synthetic generator.",
        choices=BUILTIN_DATASETS + SYNTHETIC_DATASETS,
    ),
    Param(
        "path",
        "text",
        "",
        "File or folder (csv, parquet, npz, idx, image_folder, image_csv, time_series: a CSV "
        "or Parquet file; mnist); "
        "relative paths start at the project file's folder.",
        max_length=4096,
    ),
    Param(
        "target",
        "text",
        "",
        "Table, image CSV, time series: target column name(s), comma-separated; empty: the "
        "last column.",
        max_length=4096,
    ),
    Param(
        "categorical",
        "text",
        "",
        "Table: text columns read as categories, comma-separated, each one-hot encoded, or "
        "as integer ids for an Embedding when ':ids' follows its name (color, city:ids). A "
        "column of text only is one-hot without being named.",
        max_length=4096,
    ),
    Param(
        "ignore",
        "text",
        "",
        "Table, time series: columns left out of the features, comma-separated (an id, a name).",
        max_length=4096,
    ),
    Param(
        "missing",
        "choice",
        "refuse",
        "Table: an empty (or NA) cell is refused, naming it, or filled with its column's "
        "mean (categories: most frequent) or most frequent value, as the training part has it.",
        choices=("refuse", "mean", "most_frequent"),
    ),
    Param(
        "series_task",
        "choice",
        "forecast",
        "Time series: forecast (the first column is the time; predict the next steps of "
        "the target from a window of every column), or classify (one series a row, "
        "UCR-style: the target column is its class, every other column a step).",
        choices=("forecast", "classify"),
    ),
    Param(
        "text_column",
        "text",
        "text",
        "Text: the column of texts (the target column holds their labels).",
        max_length=4096,
    ),
    Param(
        "vocab_size",
        "int",
        20000,
        "Text: most entries of the vocabulary, <pad> and <unk> included; an Embedding "
        "needs at least this many.",
        min=3,
        max=10_000_000,
    ),
    Param(
        "min_freq",
        "int",
        2,
        "Text: times a word must occur in the training texts to have an id of its own.",
        min=1,
        max=1_000_000,
    ),
    Param(
        "max_length",
        "int",
        64,
        "Text: tokens kept per text (longer texts are cut, shorter ones padded).",
        min=1,
        max=100_000,
    ),
    Param("window", "int", 24, "Time series: steps in a sample's window.", min=1, max=100_000),
    Param("horizon", "int", 1, "Time series: steps ahead a sample predicts.", min=1, max=10_000),
    Param("stride", "int", 1, "Time series: steps between windows' starts.", min=1, max=100_000),
    Param("samples", "int", 1000, "Synthetic: number of samples.", min=10, max=10_000_000),
    Param("features", "int", 2, "Synthetic: features per sample.", min=1, max=100_000),
    Param(
        "classes",
        "int",
        2,
        "Synthetic: number of classes (blobs, classification).",
        min=2,
        max=1000,
    ),
    Param("targets", "int", 2, "Synthetic multi_target: number of targets.", min=1, max=1000),
    Param("noise", "float", 0.1, "Synthetic: noise level.", min=0.0, max=100.0),
    Param(
        "weight", "float", 2.0, "Synthetic linear: the true w in y = w x + b.", min=-1e6, max=1e6
    ),
    Param("bias", "float", 1.0, "Synthetic linear: the true b in y = w x + b.", min=-1e6, max=1e6),
    Param("seed", "int", 0, "Seed for generating and splitting the data.", min=0, max=2**32 - 1),
    Param(
        "val_fraction", "float", 0.2, "Share of samples held out for validation.", min=0.0, max=0.9
    ),
    Param("stratify", "bool", True, "Keep class proportions equal in both splits."),
    Param(
        "normalize",
        "choice",
        "standardize",
        "How features are scaled (fitted on the training split).",
        choices=NORMALIZATIONS,
    ),
    Param("mean", "floats", None, "Fixed normalisation: mean per channel.", optional=True),
    Param("std", "floats", None, "Fixed normalisation: std per channel.", optional=True, min=1e-12),
    Param(
        "image_column",
        "text",
        "",
        "Image CSV: the column of image paths, relative to the CSV's folder (empty: the "
        "first column whose values are image file names).",
        max_length=4096,
    ),
    Param("image_size", "shape", [28, 28], "Image folder: height and width to resize to."),
    Param("grayscale", "bool", True, "Image folder: convert images to one channel."),
    Param(
        "bad_images",
        "choice",
        "skip",
        "Image folder: an image that cannot be read is skipped (and reported), or refused.",
        choices=("skip", "refuse"),
    ),
    Param(
        "image_loading",
        "choice",
        "cache",
        "Image folder / CSV: cache decodes each image once into a uint8 file in the cache "
        "folder (images x channels x height x width bytes of disk) and trains from it at "
        "memory speed; stream decodes every image again every epoch in worker processes "
        "(no disk, epochs as slow as decoding).",
        choices=("cache", "stream"),
    ),
    Param(
        "num_workers",
        "int",
        None,
        "Streaming: DataLoader worker processes decoding batches (0: in the training "
        "process; empty: one per core).",
        min=0,
        max=256,
        optional=True,
    ),
    Param(
        "prefetch_factor",
        "int",
        2,
        "Streaming: batches each worker decodes ahead.",
        min=1,
        max=64,
    ),
    Param(
        "pin_memory",
        "bool",
        True,
        "Streaming to a CUDA GPU: batches in page-locked memory, copied without waiting.",
    ),
    Param(
        "generate",
        "choice",
        "none",
        "Image folder with no path: a folder drawn in the cache folder the first time "
        "(shapes: 3,000 pictures of circles, squares, triangles and crosses).",
        choices=("none", "shapes"),
    ),
    Param("download", "bool", False, "MNIST: download into path if it is missing."),
)

# Augmentation of training images (engine.data.augment): part of the data settings,
# shown in a group of its own.
AUGMENT_SCHEMA = (
    Param(
        "augment_crop",
        "bool",
        False,
        "Random resized crop: a random part of the image, stretched back to its size.",
    ),
    Param(
        "augment_crop_scale",
        "range",
        [0.5, 1.0],
        "Random resized crop: the share of the image's area a crop takes (low, high).",
        min=0.01,
        max=1.0,
    ),
    Param(
        "augment_crop_ratio",
        "range",
        [0.75, 1.3333],
        "Random resized crop: width over height of a crop (low, high), drawn log-uniformly.",
        min=0.1,
        max=10.0,
    ),
    Param("augment_hflip", "bool", False, "Mirror half of the images left to right."),
    Param("augment_vflip", "bool", False, "Mirror half of the images top to bottom."),
    Param(
        "augment_rotation",
        "float",
        0.0,
        "Rotate by a random angle of up to this many degrees either way (0: off).",
        min=0.0,
        max=180.0,
    ),
    Param(
        "augment_brightness",
        "float",
        0.0,
        "Multiply brightness by a random factor in 1 +- this (0: off).",
        min=0.0,
        max=1.0,
    ),
    Param(
        "augment_contrast",
        "float",
        0.0,
        "Scale contrast by a random factor in 1 +- this (0: off).",
        min=0.0,
        max=1.0,
    ),
    Param(
        "augment_saturation",
        "float",
        0.0,
        "Colour images: scale saturation by a random factor in 1 +- this (0: off).",
        min=0.0,
        max=1.0,
    ),
    Param(
        "augment_erasing",
        "float",
        0.0,
        "Random erasing: the chance that a rectangle (2-33% of the image) is blanked.",
        min=0.0,
        max=1.0,
    ),
)
AUGMENT_KEYS = tuple(p.name for p in AUGMENT_SCHEMA)

TRAINING_SCHEMA = (
    Param("epochs", "int", 10, "Passes over the training data.", min=1, max=1_000_000),
    Param("batch_size", "int", 64, "Samples per optimisation step.", min=1, max=1_000_000),
    Param(
        "eval_batch_size", "int", 1000, "Samples per batch when evaluating.", min=1, max=1_000_000
    ),
    Param(
        "device",
        "text",
        "auto",
        "auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps.",
        max_length=16,
    ),
    Param(
        "seed",
        "int",
        0,
        "Seed for weights and shuffling (same seed, same run).",
        min=0,
        max=2**32 - 1,
    ),
    Param("optimizer", "choice", "Adam", "How weights are updated.", choices=OPTIMIZERS),
    Param("lr", "float", 1e-3, "Learning rate.", min=1e-12, max=100.0),
    Param("momentum", "float", 0.0, "SGD / RMSprop momentum.", min=0.0, max=0.9999),
    Param("nesterov", "bool", False, "SGD: Nesterov momentum (needs momentum > 0)."),
    Param("weight_decay", "float", 0.0, "L2 penalty on the weights.", min=0.0, max=10.0),
    Param(
        "scheduler",
        "choice",
        "none",
        "How the learning rate changes over epochs.",
        choices=SCHEDULERS,
    ),
    Param("step_size", "int", 10, "Step scheduler: epochs between decays.", min=1),
    Param("gamma", "float", 0.1, "Step / plateau scheduler: decay factor.", min=1e-6, max=1.0),
    Param(
        "patience", "int", 5, "Plateau scheduler: epochs without improvement before a decay.", min=0
    ),
    Param(
        "grad_clip",
        "float",
        None,
        "Clip the gradient norm to this value (empty: off).",
        min=1e-9,
        optional=True,
    ),
    Param(
        "early_stopping",
        "int",
        None,
        "Stop after this many epochs without a better validation loss (empty: off).",
        min=1,
        optional=True,
    ),
    Param("mixed_precision", "bool", False, "CUDA only: train in float16/bfloat16 autocast."),
    Param(
        "threads",
        "int",
        None,
        "CPU only: threads per operation (none: chosen from the work of a training step).",
        min=1,
        max=1024,
        optional=True,
    ),
    Param(
        "init_weights",
        "text",
        "",
        "Start from these weights (.safetensors or a .pt state_dict), e.g. pretrained ones; "
        "empty: random. Tensors that fit load; a relative path starts at the project file.",
        max_length=4096,
    ),
    Param(
        "skip_mismatched",
        "bool",
        False,
        "When starting from weights: skip the tensors whose shapes differ (a head trained "
        "for other classes) instead of stopping.",
    ),
    Param(
        "record_every",
        "int",
        20,
        "Record each layer's weights, gradients and outputs every this many batches, "
        "for the Training tab's Layers view, Colour Layers by Gradient, layers.csv and "
        "the warnings pinned to layers (0: off).",
        min=0,
        max=1_000_000,
    ),
    Param(
        "tensorboard",
        "bool",
        False,
        "Write a TensorBoard log into the run's folder (needs the tensorboard package); "
        "Training > Open in TensorBoard shows the project's runs.",
    ),
)

LOSS_SCHEMA = (
    Param("loss", "choice", "CrossEntropyLoss", "Loss for this output.", choices=LOSSES),
    Param("weight", "float", 1.0, "Weight of this loss in the total.", min=0.0, max=1e6),
    Param(
        "target",
        "int",
        None,
        "Column of the targets this output learns (empty: all).",
        min=0,
        optional=True,
    ),
)


class SettingsError(UserError):
    """Problems found in settings: a list of (location, message)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{where}: {what}" for where, what in problems))


def validate_section(
    schema: tuple[Param, ...], values: Any, where: str
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Defaults overlaid with `values`, checked; returns (settings, problems)."""
    problems: list[tuple[str, str]] = []
    out = {p.name: p.default for p in schema}
    if not isinstance(values, dict):
        return out, [(where, f"must be an object, got {show(values)}")]
    names = {p.name: p for p in schema}
    for key, value in values.items():
        if key not in names:
            problems.append((f"{where}.{key}", "is not a known setting"))
            continue
        try:
            out[key] = names[key].validate(value)
        except ParamError as exc:
            problems.append((f"{where}.{key}", str(exc)))
    return out, problems


def validate_data(values: Any, where: str = "data") -> tuple[dict, list[tuple[str, str]]]:
    data, problems = validate_section(DATA_SCHEMA + AUGMENT_SCHEMA, values, where)
    if problems:
        return data, problems
    kind, name = data["kind"], data["name"]
    if kind == "builtin" and name not in BUILTIN_DATASETS:
        problems.append((f"{where}.name", f"{name!r} is not a built-in data set"))
    if kind == "synthetic" and name not in SYNTHETIC_DATASETS:
        problems.append((f"{where}.name", f"{name!r} is not a synthetic generator"))
    generated = kind == "image_folder" and data["generate"] != "none"
    if kind in FILE_KINDS and not data["path"] and not generated:
        problems.append((f"{where}.path", f"a {kind} data source needs a path"))
    if data["normalize"] == "fixed" and (data["mean"] is None or data["std"] is None):
        problems.append((f"{where}.normalize", "fixed normalisation needs mean and std"))
    return data, problems


def validate_training(
    values: Any, output_labels: list[str], where: str = "training"
) -> tuple[dict, list[tuple[str, str]]]:
    """Training settings; `losses` maps each Output node's label to its loss settings."""
    values = dict(values) if isinstance(values, dict) else values
    losses = values.pop("losses", {}) if isinstance(values, dict) else {}
    training, problems = validate_section(TRAINING_SCHEMA, values, where)
    if not DEVICE_PATTERN.match(str(training["device"])):
        problems.append(
            (
                f"{where}.device",
                f"must be auto, cpu, cuda, cuda:N or mps, got {show(training['device'])}",
            )
        )
    if training["nesterov"] and training["momentum"] == 0 and training["optimizer"] == "SGD":
        problems.append((f"{where}.nesterov", "Nesterov momentum needs momentum > 0"))
    training["losses"], more = _validate_losses(losses, output_labels, f"{where}.losses")
    return training, problems + more


def _validate_losses(losses: Any, output_labels: list[str], where: str):
    if not isinstance(losses, dict):
        return {}, [(where, f"must be an object keyed by Output label, got {show(losses)}")]
    problems = []
    out = {}
    for label, spec in losses.items():
        if label not in output_labels:
            known = ", ".join(output_labels) or "none"
            problems.append(
                (f"{where}.{label}", f"no Output node is labelled {label!r} (Outputs: {known})")
            )
            continue
        out[label], more = validate_section(LOSS_SCHEMA, spec, f"{where}.{label}")
        problems += more
    for label in output_labels:
        out.setdefault(label, {p.name: p.default for p in LOSS_SCHEMA})
    return out, problems


def defaults(schema: tuple[Param, ...]) -> dict[str, Any]:
    return {p.name: p.default for p in schema}
