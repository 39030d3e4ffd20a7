"""Image tables: a CSV of image paths (relative to it) and targets; labels, numbers or
several 0/1 columns; missing and broken images skipped and named, or refused; and every
mistake in the table named by file, line and column."""

import csv

import pytest
import torch

from engine.data import DataError, load_data
from engine.data.image_table import load_image_table
from engine.data.preview import preview_data
from tests.data_files import save_image

COLOURS = {"red": (250, 0, 0), "green": (0, 250, 0), "blue": (0, 0, 250)}


def write_table(folder, header, rows, name="table.csv"):
    with (folder / name).open("w", newline="") as file:
        csv.writer(file).writerows([header, *rows])
    return folder / name


@pytest.fixture
def photos(tmp_path):
    """Nine pictures under photos/, three of each colour, with a label, a number and
    two 0/1 tags each."""
    rows = []
    for i in range(9):
        colour = list(COLOURS)[i % 3]
        save_image(tmp_path / "photos" / f"{i}.png", COLOURS[colour], size=(6, 4))
        rows.append([f"{i * 1.5}", f"photos/{i}.png", colour, int(colour == "red"), i % 2])
    return write_table(tmp_path, ["weight", "file", "colour", "is_red", "odd"], rows)


def test_a_label_column_is_classification_with_sorted_class_names(photos):
    data = load_image_table(photos, "", "colour", (4, 6), grayscale=False)
    assert data.task == "classification" and data.classes == ["blue", "green", "red"]
    assert data.y.tolist() == [2, 1, 0] * 3
    assert data.x.shape == (9, 3, 4, 6)
    assert torch.allclose(data.x[0][0], torch.full((4, 6), 250 / 255))  # red
    assert data.info["source"] == "image table table.csv" and not data.info["warnings"]


def test_numbers_are_regression_and_several_columns_are_several_targets(photos):
    weights = load_image_table(photos, "file", "weight", (4, 6), grayscale=True)
    assert weights.task == "regression" and weights.y.shape == (9, 1)
    assert weights.y[:, 0].tolist() == [i * 1.5 for i in range(9)]
    tags = load_image_table(photos, "file", "is_red, odd", (4, 6), grayscale=True)
    assert tags.y.tolist()[:3] == [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]
    assert tags.y.dtype == torch.float32


def test_with_no_target_the_last_other_column_is_it(photos):
    assert load_image_table(photos, "", "", (4, 6), False).classes == ["0", "1"]  # "odd"
    data = load_data({"kind": "image_csv", "path": "table.csv", "target": "colour"}, photos.parent)
    assert len(data.train) + len(data.val) == 9
    assert data.train.x.shape[1:] == (1, 28, 28)


def test_a_missing_and_a_broken_image_are_skipped_and_named_or_refused(photos):
    (photos.parent / "photos" / "4.png").unlink()
    (photos.parent / "photos" / "7.png").write_bytes(b"not a png")
    data = load_image_table(photos, "", "colour", (4, 6), False)
    assert len(data) == 7
    warning = data.info["warnings"][0]
    assert warning.startswith("skipped 2 of 9 images that cannot be read: table.csv line 6: ")
    assert "4.png: no such image file" in warning and "7.png" in warning
    with pytest.raises(DataError, match=r"table.csv line 6: .*4.png: no such image file"):
        load_image_table(photos, "", "colour", (4, 6), False, bad_images="refuse")


def test_a_table_of_only_missing_images_says_where_paths_start(tmp_path):
    table = write_table(tmp_path, ["path", "y"], [["elsewhere/a.jpg", "a"], ["b.jpg", "b"]])
    with pytest.raises(DataError, match=r"none of its 2 images exist .* CSV file's folder"):
        load_image_table(table, "", "", (4, 4), False)


@pytest.mark.parametrize(
    ("header", "rows", "column", "target", "message"),
    [
        (["a", "b"], [["1", "x"]], "", "", r"no column holds image file names .*\.png"),
        (["img", "b"], [["p.png", "x"]], "image", "", r"no column named 'image' for the images"),
        (["img"], [["p.png"]], "", "", "has only the image column"),
        (["img", "y"], [["p.png", "x"]], "", "img", "'img' holds the images, not a target"),
        (["img", "y"], [["p.png", "x"]], "", "z", r"no column named 'z' for the target"),
        (["img", "y"], [["", "x"]], "img", "", r"line 2, column 'img': empty value"),
        (["img", "y"], [["p.png", "x", "extra"]], "", "", r"line 2: 3 values, expected 2"),
        (["img", "a", "b"], [["p.png", "x", "1"]], "", "a, b", "every target must be a number"),
        (["img", "y"], [], "", "", "has a header but no data rows"),
    ],
)
def test_mistakes_in_the_table_are_named(tmp_path, header, rows, column, target, message):
    table = write_table(tmp_path, header, rows)
    with pytest.raises(DataError, match=message):
        load_image_table(table, column, target, (4, 4), False)


def test_the_preview_reads_the_table_and_decodes_only_its_samples(photos, monkeypatch):
    import engine.data.image_cache as image_cache

    monkeypatch.setattr(image_cache, "decoded", lambda *a, **k: pytest.fail("decoded all"))
    settings = {"kind": "image_csv", "path": str(photos), "target": "colour", "grayscale": False}
    preview = preview_data(settings)
    assert preview.source == "image table table.csv"
    assert preview.train_rows + preview.val_rows == 9
    assert [name for name, _ in preview.classes] == ["blue", "green", "red"]
    assert preview.sample_shape == (3, 28, 28) and preview.picture.shape == (3, 28, 28)
    regression = preview_data({**settings, "target": "weight"})
    assert regression.task == "regression" and not regression.classes
