"""NPZ import: arrays x and y, never unpickled."""

import numpy as np
import pytest
import torch

from engine.data import DataError, load_npz


def save(tmp_path, **arrays):
    path = tmp_path / "data.npz"
    np.savez(path, **arrays)
    return path


def test_integer_y_is_classification_with_named_classes(tmp_path):
    x = np.arange(12, dtype=np.float64).reshape(4, 3)
    path = save(tmp_path, x=x, y=np.array([0, 2, 1, 2], dtype=np.int32), classes=["a", "b", "c"])
    data = load_npz(path)
    assert data.task == "classification"
    assert data.x.dtype == torch.float32 and data.x.shape == (4, 3)
    assert data.y.dtype == torch.int64 and data.y.tolist() == [0, 2, 1, 2]
    assert data.classes == ["a", "b", "c"]


def test_class_names_default_to_the_ids(tmp_path):
    data = load_npz(save(tmp_path, x=np.zeros((3, 2)), y=np.array([0, 3, 1])))
    assert data.classes == ["0", "1", "2", "3"]


def test_float_y_is_regression_as_columns(tmp_path):
    data = load_npz(save(tmp_path, x=np.linspace(0, 1, 5), y=np.linspace(1, 2, 5)))
    assert data.task == "regression"
    assert data.x.shape == (5, 1) and data.y.shape == (5, 1)
    wide = load_npz(save(tmp_path, x=np.zeros((5, 2)), y=np.zeros((5, 3), np.float32)))
    assert wide.y.shape == (5, 3) and wide.y.dtype == torch.float32


def test_uint8_images_are_scaled_and_other_integers_are_token_ids(tmp_path):
    images = np.full((2, 1, 4, 4), 255, dtype=np.uint8)
    data = load_npz(save(tmp_path, x=images, y=np.array([0, 1])))
    assert data.x.dtype == torch.float32 and float(data.x.max()) == 1.0
    tokens = load_npz(save(tmp_path, x=np.array([[3, 1], [2, 5]], np.int32), y=np.array([0, 1])))
    assert tokens.x.dtype == torch.int64 and tokens.x.tolist() == [[3, 1], [2, 5]]


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"x": np.zeros((2, 2))}, r"no array named 'y' \(arrays: x\)"),
        ({"inputs": np.zeros(2), "y": np.zeros(2)}, "no array named 'x'"),
        ({"x": np.zeros((3, 2)), "y": np.zeros(2)}, "x has 3 samples but y has shape"),
        ({"x": np.zeros((0, 2)), "y": np.zeros(0)}, "hold no samples"),
        ({"x": np.array(["a", "b"]), "y": np.zeros(2)}, "x must hold numbers, got <U1"),
        ({"x": np.zeros(2), "y": np.array(["a", "b"])}, "y must hold integer class ids"),
        ({"x": np.zeros(2), "y": np.zeros((2, 1), int)}, "class ids\\) must be 1-D"),
        ({"x": np.zeros(2), "y": np.array([0, -1])}, "negative class id -1"),
        ({"x": np.array([0.0, np.nan]), "y": np.zeros(2)}, "x holds NaN, infinite"),
        ({"x": np.zeros(2), "y": np.array([0, 2]), "classes": ["a"]}, "a name for each of the 3"),
    ],
)
def test_broken_archives_are_refused(tmp_path, arrays, message):
    with pytest.raises(DataError, match=message):
        load_npz(save(tmp_path, **arrays))


def test_object_arrays_are_not_unpickled(tmp_path):
    path = save(tmp_path, x=np.array([{"a": 1}, None], dtype=object), y=np.zeros(2))
    with pytest.raises(DataError, match=r"data.npz: x is an object array"):
        load_npz(path)


def test_not_an_archive(tmp_path):
    path = tmp_path / "data.npz"
    path.write_bytes(b"PK\x03\x04 this is not a zip")
    with pytest.raises(DataError, match=r"data.npz: not a"):
        load_npz(path)
    path.write_text("hello")
    with pytest.raises(DataError, match=r"data.npz: not a"):
        load_npz(path)
    with path.open("wb") as file:
        np.save(file, np.zeros(3))
    with pytest.raises(DataError, match=r"data.npz: holds a single array"):
        load_npz(path)


def test_an_absurd_class_id_is_refused_at_once(tmp_path):
    path = tmp_path / "big.npz"
    np.savez(path, x=np.zeros((2, 3), dtype=np.float32), y=np.array([0, 10**10]))
    with pytest.raises(DataError, match="class id 10000000000"):
        load_npz(path)
