"""Data sets for training: built-in, synthetic and imported, held as tensors.

`load_data(settings, base_dir, input_shape)` is the way in: it loads per `kind`, holds
out a validation split, normalises x with statistics of the training split and reshapes
samples for the model's input. The loaders below it can be used on their own.
"""

from engine.data.builtin import BUILTIN_NAMES, load_builtin
from engine.data.csv_file import load_csv
from engine.data.dataset import CLASSIFICATION, REGRESSION, DataError, Splits, TensorData
from engine.data.idx import load_idx_folder, read_idx
from engine.data.image_folder import load_image_folder
from engine.data.mnist import MNIST_MD5, MNIST_MIRRORS, download_mnist, load_mnist
from engine.data.normalize import apply_normalization, fit_normalization
from engine.data.npz_file import load_npz
from engine.data.paths import kind_of_path
from engine.data.prepare import checked_settings, load_data, load_raw, reshape_samples
from engine.data.split import split
from engine.data.synthetic import SYNTHETIC_NAMES, Recipe, make_synthetic

__all__ = [
    "BUILTIN_NAMES",
    "CLASSIFICATION",
    "MNIST_MD5",
    "MNIST_MIRRORS",
    "REGRESSION",
    "SYNTHETIC_NAMES",
    "DataError",
    "Recipe",
    "Splits",
    "TensorData",
    "apply_normalization",
    "checked_settings",
    "download_mnist",
    "fit_normalization",
    "kind_of_path",
    "load_builtin",
    "load_csv",
    "load_data",
    "load_idx_folder",
    "load_image_folder",
    "load_mnist",
    "load_npz",
    "load_raw",
    "make_synthetic",
    "read_idx",
    "reshape_samples",
    "split",
]
