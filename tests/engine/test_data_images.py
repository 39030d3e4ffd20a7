"""Image folder import: one sub-folder per class."""

import numpy as np
import pytest
import torch

from engine.data import DataError, load_image_folder
from tests.data_files import save_image


@pytest.fixture
def animals(tmp_path):
    save_image(tmp_path / "dog" / "b.png", (255, 0, 0))
    save_image(tmp_path / "dog" / "a.JPG", (255, 0, 0))
    save_image(tmp_path / "cat" / "1.bmp", (0, 0, 255), size=(10, 10))
    save_image(tmp_path / "cat" / "2.gif", 128, mode="L")
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    (tmp_path / ".thumbnails").mkdir()
    return tmp_path


def test_rgb_images_are_resized_and_labelled_by_sorted_folders(animals):
    data = load_image_folder(animals, [5, 3], grayscale=False)
    assert data.task == "classification"
    assert data.classes == ["cat", "dog"]
    assert data.y.tolist() == [0, 0, 1, 1] and data.y.dtype == torch.int64
    assert data.x.shape == (4, 3, 5, 3) and data.x.dtype == torch.float32
    assert torch.allclose(data.x[3], torch.tensor([1.0, 0.0, 0.0]).reshape(3, 1, 1).expand(3, 5, 3))
    assert torch.allclose(data.x[0, 2], torch.ones(5, 3))


def test_grayscale_gives_one_channel_in_unit_range(animals):
    data = load_image_folder(animals, (8, 8), grayscale=True)
    assert data.x.shape == (4, 1, 8, 8)
    assert float(data.x.min()) >= 0.0 and float(data.x.max()) <= 1.0
    assert np.isclose(float(data.x[1].mean()), 128 / 255)


def test_no_class_folders(tmp_path):
    save_image(tmp_path / "loose.png", (0, 0, 0))
    with pytest.raises(DataError, match=r"no class sub-folders"):
        load_image_folder(tmp_path, (4, 4), grayscale=True)


def test_class_without_images(animals):
    (animals / "empty").mkdir()
    (animals / "empty" / "readme.md").write_text("nothing")
    with pytest.raises(DataError, match=r"empty: class folder holds no images \(png, jpg"):
        load_image_folder(animals, (4, 4), grayscale=True)


def test_unreadable_image_names_the_file(animals):
    (animals / "dog" / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DataError, match=r"dog/broken.png: cannot be read as an image"):
        load_image_folder(animals, (4, 4), grayscale=True)


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match=r"no such folder"):
        load_image_folder(tmp_path / "absent", (4, 4), grayscale=True)
