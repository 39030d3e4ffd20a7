"""Data files written for tests: IDX files (the MNIST format) and small images."""

import gzip

import numpy as np
from PIL import Image


def idx_bytes(array: np.ndarray) -> bytes:
    magic = 0x0800 | array.ndim
    dims = np.array(array.shape, dtype=">u4").tobytes()
    return magic.to_bytes(4, "big") + dims + array.astype(np.uint8).tobytes()


def images_and_labels(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (count, 28, 28)), rng.integers(0, 10, count)


def write_idx(folder, name, array, gz=False):
    data = idx_bytes(array)
    path = folder / (f"{name}.gz" if gz else name)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def write_mnist(folder, train=12, test=5, gz=False):
    for prefix, count in (("train", train), ("t10k", test)):
        images, labels = images_and_labels(count, seed=count)
        write_idx(folder, f"{prefix}-images-idx3-ubyte", images, gz)
        write_idx(folder, f"{prefix}-labels-idx1-ubyte", labels, gz)


def save_image(path, color, size=(6, 4), mode="RGB"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path)
