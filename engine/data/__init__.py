"""Data sets for training: built-in, synthetic and imported, held as tensors.

`load_data(settings, base_dir, input_shape)` is the way in: it loads per `kind`, holds
out a validation split, normalises x with statistics of the training split and reshapes
samples for the model's input. The loaders below it can be used on their own.

Names load lazily (PEP 562): a process that needs only `engine.data.image_files` (the
image decoding workers) does not import torch with the rest.
"""

from importlib import import_module

_HOMES = {
    "BUILTIN_NAMES": "builtin",
    "load_builtin": "builtin",
    "CLASSIFICATION": "dataset",
    "REGRESSION": "dataset",
    "DataError": "dataset",
    "Splits": "dataset",
    "TensorData": "dataset",
    "load_idx_folder": "idx",
    "read_idx": "idx",
    "load_image_folder": "image_folder",
    "MNIST_MD5": "mnist",
    "MNIST_MIRRORS": "mnist",
    "download_mnist": "mnist",
    "load_mnist": "mnist",
    "apply_normalization": "normalize",
    "fit_normalization": "normalize",
    "load_npz": "npz_file",
    "load_table": "table_columns",
    "kind_of_path": "paths",
    "checked_settings": "prepare",
    "load_data": "prepare",
    "load_raw": "prepare",
    "reshape_samples": "prepare",
    "split": "holdout",
    "SYNTHETIC_NAMES": "synthetic",
    "Recipe": "synthetic",
    "make_synthetic": "synthetic",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'engine.data' has no attribute {name!r}")
    return getattr(import_module(f"engine.data.{_HOMES[name]}"), name)
