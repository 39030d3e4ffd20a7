"""Image tables: a CSV file that lists images and their targets, one image a row.

    image,label                 image,age          file,cat,dog,outdoor
    photos/a.jpg,cat            faces/1.png,31     x/1.jpg,1,0,1
    photos/b.jpg,dog            faces/2.png,58     x/2.jpg,0,1,1

A path is relative to the CSV file's folder (or absolute). The image column is the
`image_column` setting, or else the first column whose first value ends in an image
suffix; the target column(s) are the `target` setting (comma-separated), or else the
last other column, read as a table's target is (engine.data.table_columns): one column of labels
is classification, numbers (and always several columns, such as 0/1 tags) regression.
Other columns are ignored. Images decode into the image cache like an image folder's.

A listed image that is missing counts as an image that cannot be read: skipped and
reported (`bad_images` "skip"), or refused by name (`bad_images` "refuse"); a table none
of whose images exist is refused, saying where paths start.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from engine.data.csv_file import LISTED_COLUMNS, target_columns
from engine.data.dataset import CLASSIFICATION, REGRESSION, DataError, TensorData
from engine.data.image_cache import Progress
from engine.data.image_files import IMAGE_SUFFIXES
from engine.data.image_folder import image_rows
from engine.data.streamed import Loading
from engine.data.table_columns import table_target, trimmed_texts
from engine.data.table_file import Table, read_table


@dataclass
class ImageTable:
    """The images a table lists (all of them, in its order), the table with its target
    columns, and the images missing on disk ({row: why})."""

    files: list[Path]
    table: Table
    targets: list[str]
    missing: dict[int, str]

    def targets_of(self, rows: list[int]) -> tuple[np.ndarray, list[str] | None]:
        """The targets of `rows` as the rows they are (class names from these rows only,
        as the exported train.py reads them from the images it could read)."""
        return table_target(self.table.take(rows), self.targets)


def read_image_table(path: Path, image_column: str = "", target: str = "") -> ImageTable:
    """The table at `path`; DataError naming file, line and column for what is wrong."""
    table = read_table(path)
    image = _image_column(table, image_column)
    others = [name for name in table.names if name != image]
    if not others:
        raise DataError(f"{path.name}: has only the image column; add a target column")
    targets = [table.names[i] for i in target_columns(path, table.names, target or others[-1])]
    if image in targets:
        raise DataError(f"{path.name}: column {image!r} holds the images, not a target")
    table_target(table, targets)  # a bad cell is said now, before any image decodes
    texts = trimmed_texts(table.column(image)).to_pylist()
    files, missing = [], {}
    for number, text in enumerate(texts):
        if text is None:
            raise DataError(f"{table.where(number, image)}: empty value")
        file = path.parent / text
        files.append(file)
        if not file.is_file():
            missing[number] = f"{path.name} line {table.line(number)}: {file}: no such image file"
    return ImageTable(files, table, targets, missing)


def load_image_table(
    path: Path,
    image_column: str,
    target: str,
    image_size: tuple[int, int] | list[int],
    grayscale: bool,
    bad_images: str = "skip",
    progress: Progress | None = None,
    streaming: Loading | None = None,
) -> TensorData:
    """The table's images (resized, from the cache; streamed with `streaming`) and
    targets."""
    table = read_image_table(path, image_column, target)
    present = present_rows(table, path)
    if table.missing and bad_images == "refuse":
        raise DataError(table.missing[min(table.missing)])
    size = (int(image_size[0]), int(image_size[1]))
    files = [table.files[i] for i in present]
    pixels, kept, warnings = image_rows(
        files, size, grayscale, bad_images, progress, streaming, table.missing
    )
    targets, classes = table.targets_of([present[i] for i in kept.tolist()])
    info = {"source": f"image table {path.name}", "warnings": warnings}
    x = pixels.subset(kept)
    if classes is not None:
        y = torch.from_numpy(targets.astype(np.int64))
        return TensorData(x, y, CLASSIFICATION, classes, info=info)
    y = torch.from_numpy(targets.astype(np.float32).reshape(len(targets), -1))
    return TensorData(x, y, REGRESSION, info=info)


def present_rows(table: ImageTable, path: Path) -> list[int]:
    """The rows whose image files exist; DataError when none does."""
    present = [i for i in range(len(table.files)) if i not in table.missing]
    if not present:
        raise DataError(
            f"{path.name}: none of its {len(table.files):,} images exist (the first: "
            f"{table.missing[0]}); relative paths start at the CSV file's folder, {path.parent}"
        )
    return present


def _image_column(table: Table, named: str) -> str:
    if named:
        if named not in table.names:
            columns = ", ".join(table.names[:LISTED_COLUMNS])
            raise DataError(
                f"{table.path.name}: no column named {named!r} for the images (columns: {columns})"
            )
        return named
    for name in table.names:
        first = table.column(name)[0].as_py()
        if isinstance(first, str) and first.strip().lower().endswith(IMAGE_SUFFIXES):
            return name
    suffixes = ", ".join(IMAGE_SUFFIXES)
    raise DataError(
        f"{table.path.name}: no column holds image file names (the first row has none ending "
        f"in {suffixes}); name the column with the image_column setting"
    )
