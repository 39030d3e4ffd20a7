"""The standalone training script of a project: `train.py`.

The script is assembled from the text parts in `parts/`: a header, the model source
exactly as `engine.model.codegen` writes it, the project's settings as Python literals,
a data loader for the project's kind of data, the augmentation of training images (the
module engine.data.augment itself, when the project switches augmentation on), and the
training loop. It needs torch and the libraries its data needs (numpy; scikit-learn for
built-in and most synthetic data; Pillow for image folders), never Torchwright. With one
process on the CPU and the same seed it repeats what `engine.training.trainer.Trainer`
does, step for step, so its per-epoch losses are those of `python main.py train`; under
torchrun it trains with DistributedDataParallel.
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path
from typing import Any

from engine.data import MNIST_MD5, MNIST_MIRRORS, checked_settings
from engine.data import augment as augment_module
from engine.data import encoding as encoding_module
from engine.data import tokens as tokens_module
from engine.data.augment import augmentation_on
from engine.data.image_folder import image_folder_path
from engine.data.paths import resolve_path
from engine.data.table_file import MISSING_TEXTS
from engine.document.project import Project
from engine.document.settings import AUGMENT_KEYS, IMAGE_KINDS, TABLE_FORMS, TABLE_KINDS
from engine.errors import TrainingError
from engine.model import tuning as tuning_module
from engine.model.codegen import GeneratedCode, docstring_text, generate
from engine.training.job import input_shape
from engine.training.setup import checked_settings as checked_training

PARTS = Path(__file__).with_name("parts")
BASE_IMPORTS = ("argparse", "csv", "gc", "math", "os", "time")
TABLE_IMPORTS = (
    "pyarrow as pa",
    "pyarrow.compute as pc",
    "pyarrow.csv as pa_csv",
    "pyarrow.parquet as pq",
)
THIRD_PARTY = {kind: TABLE_IMPORTS for kind in (*TABLE_KINDS, *TABLE_FORMS)}
KIND_IMPORTS = {
    "text": ("re", "collections"),
    "idx": ("gzip",),
    "mnist": ("gzip", "hashlib", "urllib.request"),
}
RECIPES = {  # the data settings each synthetic generator reads
    "blobs": ("samples", "features", "classes", "noise"),
    "moons": ("samples", "noise"),
    "circles": ("samples", "noise"),
    "classification": ("samples", "features", "classes", "noise"),
    "linear": ("samples", "features", "noise", "weight", "bias"),
    "multi_target": ("samples", "features", "targets", "noise"),
}
TABLE_SETTINGS = ("path", "target", "categorical", "ignore", "missing")
FILE_SETTINGS = {
    "csv": TABLE_SETTINGS,
    "parquet": TABLE_SETTINGS,
    "time_series": ("path", "target", "ignore", "series_task", "window", "horizon", "stride"),
    "text": ("path", "target", "text_column", "vocab_size", "min_freq", "max_length"),
    "npz": ("path",),
    "idx": ("path",),
    "mnist": ("path", "download"),
    "image_folder": ("path", "image_size", "grayscale", "bad_images"),
    "image_csv": ("path", "target", "image_column", "image_size", "grayscale", "bad_images"),
}
KIND_PARTS = {  # the parts that load each kind of file
    "csv": ("read_table", "data_table"),
    "parquet": ("read_table", "data_table"),
    "image_folder": ("decode_image", "data_image_folder"),
    "image_csv": ("read_table", "decode_image", "data_image_csv"),
    "time_series": ("read_table", "data_time_series"),
    "text": ("read_table", "data_text"),
}
NO_SKLEARN = ("linear", "multi_target")


def training_script(project: Project, code: GeneratedCode | None = None) -> str:
    """train.py for `project`. Raises the engine's errors when the project cannot train
    (TrainingError for a model without exactly one Input, DataError, CodegenError)."""
    code = code or generate(project.graph, project.name)
    labels = [project.graph.nodes[node_id].label for node_id in code.outputs]
    training = checked_training(project.training, labels)
    data = checked_settings(project.data)
    shape = input_shape(project)
    base_dir = project.path.parent if project.path is not None else None
    parts = [
        _part(
            "head",
            TITLE=docstring_text(project.name),
            NEEDS=_needs(data),
            IMPORTS=_imports(data["kind"]),
            THIRD_PARTY="".join(f"import {m}\n" for m in THIRD_PARTY.get(data["kind"], ())),
        ),
        _model_source(code),
        _part(
            "settings",
            CLASS_NAME=code.class_name,
            INPUT_SHAPE=repr(tuple(shape)),
            DATA=_literal(_data_settings(data, base_dir)),
            TRAINING=_literal(_training_settings(training, base_dir)),
            OUTPUTS=_outputs(labels, training["losses"]),
        ),
        _loader(data),
        _columns(data),
        _augmentation(data),
        _module(tuning_module, "from torch import nn\n", "fine-tuning"),
        _part("init_weights"),
        _part("prepare"),
        _part("train"),
        _part("tensorboard"),
        _part("loop"),
    ]
    script = "".join(parts)
    _check_names(script)
    return script


def _check_names(script: str) -> None:
    """A Custom layer's top-level name that the script also defines would silently
    replace one of the two; refuse it, naming it."""
    seen: set[str] = set()
    for node in ast.parse(script).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names = [node.name]
        elif isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        else:
            continue
        for name in names:
            if name in seen:
                raise TrainingError(
                    f"the model's code defines {name!r}, a name the training script uses "
                    "for its own; rename it (in the Custom layer's source, or the project)"
                )
            seen.add(name)


def _part(name: str, **values: str) -> str:
    text = (PARTS / f"{name}.py.txt").read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def _needs(data: dict[str, Any]) -> str:
    kind, name = data["kind"], data["name"]
    needs = ["numpy"]
    if kind == "builtin" or (kind == "synthetic" and name not in NO_SKLEARN):
        needs.append("scikit-learn")
    if kind in (*TABLE_KINDS, *TABLE_FORMS):
        needs.append("pyarrow")
    if kind in IMAGE_KINDS:
        needs.append("Pillow")
    return "".join(f", {n}" for n in needs[:-1]) + f" and {needs[-1]}"


def _imports(kind: str) -> str:
    modules = sorted({*BASE_IMPORTS, *KIND_IMPORTS.get(kind, ())})
    return "\n".join(f"import {m}" for m in modules) + "\nfrom pathlib import Path"


def _model_source(code: GeneratedCode) -> str:
    """The generated classes, without the module's docstring and imports."""
    body = code.source.split(f'__all__ = ["{code.class_name}"]\n', 1)[1]
    return "\n\n" + body.strip("\n") + "\n"


def _data_settings(data: dict[str, Any], base_dir: Path | None) -> dict[str, Any]:
    kind = data["kind"]
    keys = ["kind"]
    if kind in ("builtin", "synthetic"):
        keys += ["name", *RECIPES.get(data["name"], ())] if kind == "synthetic" else ["name"]
    keys += FILE_SETTINGS.get(kind, ())
    keys += ["seed", "val_fraction", "stratify", "normalize"]
    if data["normalize"] == "fixed":
        keys += ["mean", "std"]
    if augmentation_on(data):
        keys += AUGMENT_KEYS
    chosen = {key: data[key] for key in keys}
    if kind == "image_folder":  # a generated folder: where it is drawn
        chosen["path"] = os.path.abspath(image_folder_path(data, base_dir))
    elif "path" in chosen:
        chosen["path"] = os.path.abspath(resolve_path(data["path"], base_dir))
    return chosen


def _training_settings(training: dict[str, Any], base_dir: Path | None) -> dict[str, Any]:
    chosen = {k: v for k, v in training.items() if k != "losses"}
    start = chosen["init_weights"]
    if start and not start.startswith(("https://", "http://")):
        chosen["init_weights"] = os.path.abspath(resolve_path(start, base_dir))
    return chosen


def _loader(data: dict[str, Any]) -> str:
    kind, name = data["kind"], data["name"]
    if kind == "builtin":
        return _part("data_builtin", NAME=name, CLASSIFICATION=str(name != "diabetes"))
    if kind == "synthetic":
        return _part(f"data_{name}")
    if kind == "idx":
        return _part("data_idx", FETCH="")
    if kind == "mnist":
        fetch = _part("fetch_mnist")
        mirrors = _literal([m.rstrip("/") + "/" for m in MNIST_MIRRORS])
        return _part("data_idx", FETCH=fetch) + _part(
            "data_mnist", MIRRORS=mirrors, MD5=_literal(MNIST_MD5)
        )
    missing = _py(list(MISSING_TEXTS))
    return "".join(
        _part(name, MISSING_TEXTS=missing) for name in KIND_PARTS.get(kind, (f"data_{kind}",))
    )


def _columns(data: dict[str, Any]) -> str:
    """The engine's table encoding module as it is, for tables; else the stand-in that
    encodes nothing (with the engine's tokens module as it is, for texts)."""
    kind = data["kind"]
    if kind in TABLE_KINDS:
        return _module(encoding_module, "import numpy as np\n", "encoding of table columns")
    words = _module(tokens_module, "import re\n", "tokens of texts")
    return (words if kind == "text" else "") + _part("no_columns")


def _augmentation(data: dict[str, Any]) -> str:
    """The engine's augmentation module as it is with the function that makes its
    Augmenter, or the stand-in that makes none."""
    if not augmentation_on(data):
        return _part("no_augment")
    body = _module(
        augment_module, "import torch.nn.functional as F\n", "augmentation of training batches"
    )
    return body + _part("augment")


def _module(module: Any, last_import: str, title: str) -> str:
    """A module's source without its docstring and imports (all up to `last_import`),
    under a heading."""
    source = Path(module.__file__).read_text(encoding="utf-8")
    body = source.split(last_import, 1)[1]
    header = f"\n\n# --- {title} " + "-" * (77 - len(title)) + "\n"
    return header + body.rstrip("\n") + "\n"


def _outputs(labels: list[str], losses: dict[str, dict[str, Any]]) -> str:
    rows = [
        {"label": label, **{k: losses[label][k] for k in ("loss", "weight", "target")}}
        for label in labels
    ]
    return "[\n" + "".join(f"    {_py(row)},\n" for row in rows) + "]"


def _literal(value: Any) -> str:
    """Python source for settings: a dict of several entries one key per line."""
    if isinstance(value, dict) and (len(value) > 4 or len(_py(value)) > 70):
        return "{\n" + "".join(f"    {_py(k)}: {_py(v)},\n" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple) and len(value) > 1:
        return "(\n" + "".join(f"    {_py(v)},\n" for v in value) + ")"
    return _py(value)


def _py(value: Any) -> str:
    """A literal with double-quoted strings, as the rest of the script writes them."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(map(_py, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_py(k)}: {_py(v)}" for k, v in value.items()) + "}"
    return repr(value)
