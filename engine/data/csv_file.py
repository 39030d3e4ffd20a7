"""Python's csv module over a table file, where the exact line matters: the header row's
checks, and finding what stopped pyarrow's reader (engine.data.table_file), or the line
of a cell a message names; and the columns the `target` setting names.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from engine.data.paths import require_file
from engine.errors import DataError

MAX_INTEGER_CLASSES = 100  # distinct integers a target column of classes may hold
BLOCK_ROWS = 4096
LISTED_COLUMNS = 20  # of the columns named when the target is not among them
T = TypeVar("T")


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


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
