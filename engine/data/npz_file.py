"""NPZ import: a numpy archive (np.savez) with arrays `x` and `y`, and optionally `classes`.

x: one row per sample, any number of dimensions (a 1-D x is one feature per sample).
   Floating or bool x becomes float32; uint8 x is taken as image bytes and scaled to
   [0, 1]; other integer x is kept as int64 token ids (for an Embedding) and is never
   normalised.
y: integer or bool y are class ids (classification, y must be 1-D and not negative);
   floating y is regression, [N] or [N, k].
classes: optional text array of class names, one per class id.
Nothing is unpickled: object arrays are refused.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
from numpy.lib.npyio import NpzFile

from engine.data.dataset import FLOAT32_MAX, DataError, TensorData
from engine.data.paths import require_file

MAX_CLASSES = 100_000  # more ids than this is not a class label but a mistake
CHECKED_AT_ONCE = 1 << 20  # values checked for finiteness at a time


def load_npz(path: Path) -> TensorData:
    arrays = _read_arrays(require_file(path))
    name = path.name
    x, y = _features(name, arrays["x"]), arrays["y"]
    if len(x) == 0:
        raise DataError(f"{name}: x and y hold no samples")
    source = f"npz {name}"
    if y.dtype.kind in "iub":
        ids = _class_ids(name, y)
        if int(ids.max()) >= MAX_CLASSES:
            raise DataError(
                f"{name}: y holds class id {int(ids.max())}; class ids must be 0 to "
                f"{MAX_CLASSES - 1} (for regression targets, store y as floats)"
            )
        classes = _class_names(name, arrays.get("classes"), int(ids.max()) + 1)
        return TensorData.classification(x, ids, classes, source=source)
    if y.dtype.kind != "f" or y.ndim > 2:
        raise DataError(
            f"{name}: y must hold integer class ids or [N] / [N, k] floating regression "
            f"targets, got {y.dtype} with shape {y.shape}"
        )
    _require_finite(name, "y", y)
    return TensorData.regression(x, y, source=source)


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile):
        raise DataError(f"{path.name}: not a numpy .npz archive (np.savez writes one)") from None
    if not isinstance(archive, NpzFile):
        raise DataError(f"{path.name}: holds a single array; save x and y with np.savez")
    with archive:
        # Every header first: an x and y that cannot go together are refused before a
        # byte of their data is inflated (a 1 MB archive can hold a gigabyte of zeros).
        _require_pair(path.name, {key: _header(path, archive, key) for key in archive.files})
        return {key: _member(path, archive, key) for key in archive.files}


def _require_pair(name: str, shapes: dict[str, tuple[int, ...]]) -> None:
    """An x and a y, with one sample each per row, by their headers' shapes."""
    for key in ("x", "y"):
        if key not in shapes:
            found = ", ".join(sorted(shapes)) or "none"
            raise DataError(f"{name}: no array named {key!r} (arrays: {found})")
    x, y = shapes["x"], shapes["y"]
    if x and (not y or y[0] != x[0]):
        raise DataError(
            f"{name}: x has {x[0]} samples but y has shape {y}; they need the same first dimension"
        )


def _member(path: Path, archive: NpzFile, key: str) -> np.ndarray:
    try:
        return archive[key]
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path.name}: the array {key} cannot be read ({exc})") from None


def _header(path: Path, archive: NpzFile, key: str) -> tuple[int, ...]:
    """The shape member `key`'s header declares, read before the array; refused when
    the header declares far more than the archive holds (a shape of 10**12 would ask for
    terabytes) or an object array (loading it could run code)."""
    shape, problem = _read_header(archive, key)
    if problem:
        raise DataError(f"{path.name}: {key} {problem}")
    return shape


def _read_header(archive: NpzFile, key: str) -> tuple[tuple[int, ...], str]:
    name = f"{key}.npy" if f"{key}.npy" in archive.zip.namelist() else key
    info = archive.zip.getinfo(name)
    try:
        with archive.zip.open(info) as member:
            version = np.lib.format.read_magic(member)
            read = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read(member)
            header = member.tell()
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        return (), f"has no readable array header ({exc})"
    if dtype.hasobject:
        return shape, "is an object array, which is not loaded (it could run code)"
    declared, stored = int(np.prod(shape, dtype=object)) * dtype.itemsize, info.file_size - header
    if declared > stored:
        return shape, (
            f"declares shape {shape} of {dtype} ({_size(declared)}), but the archive holds "
            f"{_size(stored)} of it"
        )
    return shape, ""


def _size(count: int) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} bytes"


def _features(name: str, x: np.ndarray) -> np.ndarray:
    if x.ndim == 0:
        raise DataError(f"{name}: x must have one row per sample, got a single value")
    if x.dtype == np.uint8:
        return x.astype(np.float32) / 255
    if x.dtype.kind in "iu":
        return x.astype(np.int64)
    if x.dtype.kind not in "fb":
        raise DataError(f"{name}: x must hold numbers, got {x.dtype}")
    _require_finite(name, "x", x)
    return x.astype(np.float32)


def _require_finite(name: str, key: str, values: np.ndarray) -> None:
    """Every value finite, and still so as float32 (1e39 is not); checked a part at a
    time, so the check takes no memory the size of the array."""
    flat = values.reshape(-1)
    parts = range(0, flat.size, CHECKED_AT_ONCE)
    if not all((np.abs(flat[i : i + CHECKED_AT_ONCE]) <= FLOAT32_MAX).all() for i in parts):
        raise DataError(
            f"{name}: {key} holds NaN, infinite or too large values (float32 ends at "
            f"{FLOAT32_MAX:.3g})"
        )


def _class_ids(name: str, y: np.ndarray) -> np.ndarray:
    if y.ndim != 1:
        raise DataError(f"{name}: integer y (class ids) must be 1-D, got shape {y.shape}")
    ids = y.astype(np.int64)
    if ids.min() < 0:
        raise DataError(f"{name}: y holds the negative class id {int(ids.min())}")
    return ids


def _class_names(name: str, classes: np.ndarray | None, count: int) -> list[str]:
    if classes is None:
        return [str(i) for i in range(count)]
    if classes.dtype.kind != "U" or classes.ndim != 1 or len(classes) < count:
        raise DataError(
            f"{name}: classes must be a 1-D text array with a name for each of the "
            f"{count} class ids, got {classes.dtype} with shape {classes.shape}"
        )
    return [str(c) for c in classes]
