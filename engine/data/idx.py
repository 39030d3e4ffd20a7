"""IDX files, the format of MNIST and Fashion-MNIST, read with numpy.

An IDX file is a 4-byte magic number (0x00000803 for unsigned-byte images [N, rows, cols],
0x00000801 for unsigned-byte labels [N]), one big-endian uint32 per dimension, then the
bytes. Each file may be gzipped (name + ".gz").

A folder holds train-images-idx3-ubyte and train-labels-idx1-ubyte, and optionally
t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte. When the t10k pair is there it is the
validation split (the data set's own test set) and `val_fraction` does not apply.
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from engine.data.dataset import DataError, TensorData
from engine.data.paths import require_dir

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
CHUNK = 1 << 24  # bytes read at a time


def read_idx(path: Path, magic: int) -> np.ndarray:
    """The uint8 array in an IDX file (gzipped when its name ends in .gz).

    Read as a stream, and never more than the header declares: a small gzip file can
    inflate to gigabytes, and a header can declare far more than the file holds, so the
    memory taken grows with the data actually there, up to what the header declares."""
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb") as file:
            return _read_idx(path, file, magic)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise DataError(f"{path.name}: not a readable gzip file ({exc})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None


def _read_idx(path: Path, file: BinaryIO, magic: int) -> np.ndarray:
    ndim = magic & 0xFF
    head = file.read(4 + 4 * ndim)
    found = int.from_bytes(head[:4], "big")
    if len(head) >= 4 and found != magic:
        raise DataError(
            f"{path.name}: magic number 0x{found:08X}, expected 0x{magic:08X}; "
            "not an IDX file of unsigned bytes with this many dimensions"
        )
    if len(head) < 4 + 4 * ndim:
        raise DataError(f"{path.name}: truncated, {len(head)} bytes is shorter than its header")
    shape = tuple(int(n) for n in np.frombuffer(head, dtype=">u4", count=ndim, offset=4))
    expected = math.prod(shape)
    data = bytearray()
    while len(data) < expected and (chunk := file.read(min(CHUNK, expected - len(data)))):
        data += chunk
    if len(data) < expected:
        raise DataError(
            f"{path.name}: truncated, its header declares {expected} bytes of data for shape "
            f"{shape}, the file holds {len(data)}"
        )
    if file.read(1):
        raise DataError(
            f"{path.name}: too long, its header declares {expected} bytes of data for shape "
            f"{shape}, and more follows"
        )
    return np.frombuffer(data, dtype=np.uint8).reshape(shape)


def find_idx_file(folder: Path, name: str) -> Path | None:
    """The file, or its .gz, in `folder`; None when neither is there."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def load_idx_folder(folder: Path) -> tuple[TensorData, TensorData | None]:
    """(train, validation): the t10k files when present, else None.

    x float32 [N, 1, rows, cols] in [0, 1]; y int64 class ids; class names are the ids.
    """
    require_dir(folder)
    paths = {key: find_idx_file(folder, name) for key, name in IDX_FILES.items()}
    for key in ("train_images", "train_labels"):
        if paths[key] is None:
            raise DataError(f"{folder}: no {IDX_FILES[key]} (or .gz) in the folder")
    if (paths["test_images"] is None) != (paths["test_labels"] is None):
        missing = "test_images" if paths["test_images"] is None else "test_labels"
        raise DataError(f"{folder}: {IDX_FILES[missing]} (or .gz) is missing from the t10k pair")
    train = _pair(paths["train_images"], paths["train_labels"])
    test = _pair(paths["test_images"], paths["test_labels"]) if paths["test_images"] else None
    if test is not None and test[0].shape[1:] != train[0].shape[1:]:
        raise DataError(
            f"{folder}: training images are {train[0].shape[1:]} but t10k images are "
            f"{test[0].shape[1:]}; they must be the same size"
        )
    labels = [train[1]] + ([test[1]] if test else [])
    classes = [str(i) for i in range(max(int(y.max()) for y in labels) + 1)]
    source = f"idx {folder.name}"
    train_data = TensorData.classification(*_scaled(train), classes, source=source)
    if test is None:
        return train_data, None
    return train_data, TensorData.classification(*_scaled(test), classes, source=source)


def _pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC)
    if len(images) != len(labels):
        raise DataError(
            f"{images_path.name} holds {len(images)} images but {labels_path.name} holds "
            f"{len(labels)} labels"
        )
    if len(images) == 0:
        raise DataError(f"{images_path.name}: holds no images")
    return images, labels


def _scaled(pair: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    images, labels = pair
    x = images[:, None].astype(np.float32)
    x /= 255
    return x, labels
