"""CSV import: a header row of column names, then one sample per line.

Feature columns must be numbers. The target column(s) are named by the `target` setting
(comma-separated; empty: the last column). How the target is read:
  - one target column where some value is not a number (e.g. "cat", "dog"):
    classification; the sorted distinct labels are the class names;
  - one target column of integers written without a decimal point or exponent, with at
    most MAX_INTEGER_CLASSES distinct values: classification, class names sorted by value
    (write "3.0" instead of "3" to make such a column a regression target);
  - otherwise, and always for several target columns: regression, y float32 [N, k].
Features are converted a block of rows at a time, so a large file never sits in memory
as text.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from engine.data.dataset import FLOAT32_MAX, DataError, TensorData
from engine.data.paths import require_file
from engine.layers.params import show

MAX_INTEGER_CLASSES = 100
BLOCK_ROWS = 4096
LISTED_COLUMNS = 20  # of the columns named when the target is not among them
_INTEGER = re.compile(r"^[+-]?\d+$")
T = TypeVar("T")


@dataclass
class TablePart:
    """Some columns of some rows of the file, as text, with line numbers for messages."""

    path: Path
    names: list[str]
    rows: list[Sequence[str]]
    lines: list[int]

    def where(self, index: int, column: int) -> str:
        return f"{self.path.name} line {self.lines[index]}, column {self.names[column]!r}"

    def numbers(self, hint: str = "") -> np.ndarray:
        """float64 [rows, columns]; the first bad cell is reported by line and column."""
        try:
            values = np.array(self.rows, dtype=np.float64).reshape(len(self.rows), -1)
        except ValueError:
            values = None
        if values is None or not (np.abs(values) <= FLOAT32_MAX).all():  # NaN fails too
            self._raise_first_bad(hint)
        return values

    def _raise_first_bad(self, hint: str) -> None:
        for index, row in enumerate(self.rows):
            for column, text in enumerate(row):
                problem = _number_problem(text)
                if problem:
                    raise DataError(f"{self.where(index, column)}: {problem}{hint}")


def _number_problem(text: str) -> str | None:
    if not text.strip():
        return "empty value"
    try:
        value = float(text)
    except ValueError:
        return f"{show(text.strip())} is not a number"
    if not np.isfinite(value):
        return f"{show(text.strip())} is not a finite number"
    if abs(value) > FLOAT32_MAX:
        return f"{show(text.strip())} is too large for float32 (at most {FLOAT32_MAX:.3g})"
    return None


def load_csv(path: Path, target: str = "") -> TensorData:
    """A CSV file as a data set; see the module docstring for how the target is read."""
    return read_csv(path, lambda reader: _read(path, reader, target))


def read_csv(path: Path, read: Callable[[Any], T]) -> T:
    """`read(reader)` of a csv.reader over the file at `path`; what stops the reading
    (not UTF-8, bad quoting, unreadable) raises DataError naming the file and line."""
    require_file(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file)
            return read(reader)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path.name}: not UTF-8 text (byte {exc.start})") from None
    except csv.Error as exc:
        raise DataError(f"{path.name} line {reader.line_num}: {exc}") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None


def _read(path: Path, reader, target: str) -> TensorData:
    header = header_names(path, next((row for row in reader if row), None))
    targets = target_columns(path, header, target)
    features = [i for i in range(len(header)) if i not in targets]
    if not features:
        raise DataError(f"{path.name}: every column is a target; no feature columns are left")
    names = [header[i] for i in features]
    pick_x, pick_y = _picker(features), _picker(targets)
    blocks, target_rows, lines = [], [], []
    for rows, block_lines in row_blocks(path, reader, len(header)):
        part = TablePart(path, names, [pick_x(row) for row in rows], block_lines)
        blocks.append(part.numbers().astype(np.float32))
        target_rows += [pick_y(row) for row in rows]
        lines += block_lines
    if not lines:
        raise DataError(f"{path.name}: has a header but no data rows")
    x = np.concatenate(blocks)
    y, classes = table_targets(TablePart(path, [header[i] for i in targets], target_rows, lines))
    source = f"csv {path.name}"
    if classes is not None:
        return TensorData.classification(x, y, classes, names, source)
    return TensorData.regression(x, y, names, source)


def table_targets(part: TablePart) -> tuple[np.ndarray, list[str] | None]:
    """The target columns `part` holds, read as the module docstring says: (class ids,
    class names), or (float64 [N, k] values, None) for regression."""
    if len(part.names) == 1 and _is_label_column([row[0].strip() for row in part.rows]):
        return _labels(part)
    hint = " (with several target columns every target must be a number)"
    return part.numbers(hint if len(part.names) > 1 else ""), None


def header_names(path: Path, row: list[str] | None) -> list[str]:
    if row is None:
        raise DataError(f"{path.name}: the file is empty; expected a header row of column names")
    names = [name.strip() for name in row]
    if all(_is_number(name) for name in names):
        raise DataError(f"{path.name} line 1: expected a header row of column names, found numbers")
    seen: set[str] = set()  # not `names.index`: a header of a million names took hours
    for position, name in enumerate(names, start=1):
        if not name:
            raise DataError(f"{path.name} line 1: column {position} has no name")
        if name in seen:
            raise DataError(f"{path.name} line 1: the column name {name!r} appears twice")
        seen.add(name)
    return names


def target_columns(path: Path, header: list[str], target: str) -> list[int]:
    names = [name.strip() for name in target.split(",") if name.strip()]
    if not names:
        return [len(header) - 1]
    for name in names:
        if name not in header:
            columns = ", ".join(header[:LISTED_COLUMNS])
            if len(header) > LISTED_COLUMNS:
                columns += f", ... ({len(header) - LISTED_COLUMNS:,} more)"
            raise DataError(
                f"{path.name}: no column named {name!r} for the target (columns: {columns})"
            )
    return [header.index(name) for name in dict.fromkeys(names)]


def row_blocks(path: Path, reader, width: int) -> Iterator[tuple[list[list[str]], list[int]]]:
    """Non-blank rows, BLOCK_ROWS at a time, with their line numbers."""
    rows, lines = [], []
    for row in reader:
        if not row:
            continue
        if len(row) != width:
            raise DataError(
                f"{path.name} line {reader.line_num}: {len(row)} values, expected "
                f"{width} (one per header column)"
            )
        rows.append(row)
        lines.append(reader.line_num)
        if len(rows) == BLOCK_ROWS:
            yield rows, lines
            rows, lines = [], []
    if rows:
        yield rows, lines


def _picker(columns: list[int]) -> Callable[[list[str]], Sequence[str]]:
    if len(columns) == 1:
        column = columns[0]
        return lambda row: (row[column],)
    return itemgetter(*columns)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_label_column(texts: list[str]) -> bool:
    if any(text and not _is_number(text) for text in texts):
        return True
    return all(_INTEGER.match(text) for text in texts) and (
        len({int(text) for text in texts}) <= MAX_INTEGER_CLASSES
    )


def _labels(part: TablePart) -> tuple[np.ndarray, list[str]]:
    """Class ids and names: integers sorted by value, other labels sorted as text."""
    texts = [row[0].strip() for row in part.rows]
    if "" in texts:
        raise DataError(f"{part.where(texts.index(''), 0)}: empty value")
    integers = all(_INTEGER.match(text) for text in texts)
    keys = [int(text) for text in texts] if integers else texts
    labels = sorted(set(keys))
    ids = {label: i for i, label in enumerate(labels)}
    return np.array([ids[key] for key in keys], dtype=np.int64), [str(v) for v in labels]
