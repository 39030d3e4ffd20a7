"""The generated image folder (engine.data.shapes): drawn once where the settings say, the
same for the same seed, never left half drawn, and trained on like any photo folder."""

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.data import load_data
from engine.data.image_cache import cache_root
from engine.data.image_files import list_images
from engine.data.image_folder import image_folder_path
from engine.data.prepare import checked_settings
from engine.data.shapes import SHAPE_CLASSES, SHAPES_VERSION, draw_shapes
from engine.errors import DataError


def digest(folder: Path) -> str:
    files = sorted(folder.rglob("*.png"))
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()


def test_the_folder_has_one_class_folder_per_shape_and_the_same_seed_draws_it_again(tmp_path):
    first = draw_shapes(tmp_path / "a", count=40, side=24)
    listing = list_images(first)
    assert listing.classes == sorted(SHAPE_CLASSES)
    assert np.bincount(listing.labels).tolist() == [10, 10, 10, 10]
    with Image.open(listing.files[0]) as image:
        assert (image.mode, image.size) == ("RGB", (24, 24))
    assert digest(draw_shapes(tmp_path / "b", count=40, side=24)) == digest(first)
    assert digest(draw_shapes(tmp_path / "c", count=40, side=24, seed=1)) != digest(first)


def test_an_interrupted_drawing_leaves_nothing(tmp_path, monkeypatch):
    import engine.data.shapes as shapes

    calls = []

    def picture(*args):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return np.zeros((8, 8, 3), dtype=np.uint8)

    monkeypatch.setattr(shapes, "_picture", picture)
    with pytest.raises(KeyboardInterrupt):
        draw_shapes(tmp_path / "shapes", count=20, side=8)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_cannot_be_made_is_a_sentence(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DataError, match=r"file/shapes: the shapes cannot be drawn there \("):
        draw_shapes(blocker / "shapes", count=4, side=8)


def test_with_no_path_the_folder_is_drawn_once_in_the_cache_folder(tmp_path):
    settings = checked_settings({"kind": "image_folder", "generate": "shapes"})
    folder = image_folder_path(settings, tmp_path)
    assert folder == cache_root() / "generated" / f"shapes-{SHAPES_VERSION}"
    assert len(list_images(folder).files) == 3000
    stamp = folder.stat().st_mtime_ns
    assert image_folder_path(settings, tmp_path).stat().st_mtime_ns == stamp  # not redrawn
    assert list(tmp_path.iterdir()) == []  # nothing beside the project


def test_a_path_is_read_and_never_drawn_into(tmp_path):
    (tmp_path / "mine" / "only").mkdir(parents=True)
    Image.new("RGB", (4, 4)).save(tmp_path / "mine" / "only" / "a.png")
    kept = checked_settings({"kind": "image_folder", "path": "mine", "generate": "shapes"})
    assert list_images(image_folder_path(kept, tmp_path)).classes == ["only"]
    with pytest.raises(DataError, match="mistyped: no such folder"):
        load_data({**kept, "path": "mistyped"}, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_the_generated_folder_trains_as_pictures(tmp_path):
    drawn = load_data(
        {"kind": "image_folder", "generate": "shapes", "image_size": [16, 16], "grayscale": False}
    )
    assert drawn.train.x.shape[1:] == (3, 16, 16) and drawn.train.classes == sorted(SHAPE_CLASSES)
