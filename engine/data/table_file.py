"""Reading a table file: CSV through pyarrow's multi-threaded reader, Parquet through
pyarrow's.

`read_table(path)` gives a `Table`, pyarrow columns with their types inferred from the
whole file (int64, double, bool, date, timestamp, string). Missing cells are nulls:
empty ones and those spelled as in MISSING_TEXTS. What stops the reading is said in
one sentence naming the file and the line; a cell is named by `Table.where`, "data.csv
line 12, column 'age'" as a text editor counts lines (or "data.parquet row 12"). The
line is found by rereading the file with Python's csv module, only when a message needs
it, so good files cost one pyarrow read.

Why pyarrow rather than pandas: on a 1,000,000-row CSV of 21 columns it reads about
twice as fast as `pandas.read_csv` (bench/data_tables.py), it reads Parquet itself, and
it keeps missing values as nulls in typed columns, so no pandas is needed at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from engine.data.csv_file import header_names, read_csv, row_blocks
from engine.data.paths import require_file
from engine.errors import DataError

MISSING_TEXTS = ("", "NA", "N/A", "n/a", "NaN", "nan", "-nan", "null", "NULL", "None", "#N/A")
PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass
class Table:
    """A table as read: `columns` by name, in the file's order, with its row count."""

    path: Path
    data: pa.Table
    file_rows: list[int] | None = None  # a part's rows in the file (None: all, in order)
    _found: dict[int, tuple[int, list[str]]] = field(default_factory=dict, repr=False)

    @property
    def names(self) -> list[str]:
        return list(self.data.column_names)

    @property
    def rows(self) -> int:
        return self.data.num_rows

    def column(self, name: str) -> pa.ChunkedArray:
        return self.data.column(name)

    def take(self, rows: list[int]) -> Table:
        """The part of the table at `rows`; its cells are still named by their lines."""
        mapped = [self._file_row(row) for row in rows]
        return Table(self.path, self.data.take(pa.array(rows, pa.int64())), mapped, self._found)

    @property
    def is_parquet(self) -> bool:
        return is_parquet(self.path)

    def where(self, row: int, name: str) -> str:
        """The cell of data row `row` (0-based) in column `name`, for messages."""
        if self.is_parquet:
            return f"{self.path.name} row {self._file_row(row) + 1}, column {name!r}"
        return f"{self.path.name} line {self.line(row)}, column {name!r}"

    def line(self, row: int) -> int:
        """The line data row `row` starts on in the CSV file."""
        return self._line_and_cells(row)[0]

    def text(self, row: int, name: str) -> str:
        """The cell as written in the file (a Parquet cell as pyarrow shows it)."""
        if self.is_parquet:
            return str(self.column(name)[row].as_py())
        return self._line_and_cells(row)[1][self.names.index(name)]

    def _file_row(self, row: int) -> int:
        return row if self.file_rows is None else self.file_rows[row]

    def _line_and_cells(self, row: int) -> tuple[int, list[str]]:
        row = self._file_row(row)
        found = self._found.get(row)
        if found is None:
            found = self._found[row] = read_csv(self.path, lambda reader: _nth_row(reader, row))
        return found


def is_text_type(kind: pa.DataType) -> bool:
    """Whether a column of this type holds text."""
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def is_parquet(path: Path) -> bool:
    return Path(path).suffix.lower() in PARQUET_SUFFIXES


def column_names(path: Path) -> list[str]:
    """The table's column names, checked (a CSV's header row), without reading the rows."""
    require_file(path)
    if is_parquet(path):
        try:
            return [str(name) for name in pq.read_schema(path).names]
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
            raise DataError(
                f"{path.name}: not a Parquet file that can be read ({_first_line(exc)})"
            ) from None
    return read_csv(path, lambda reader: header_names(path, next((r for r in reader if r), None)))


def read_table(path: Path, columns: list[str] | None = None, max_rows: int | None = None) -> Table:
    """The table in the CSV or Parquet file at `path` (Parquet by its suffix). With
    `columns`, only those columns are converted (all are still checked for shape); with
    `max_rows`, only the first rows are read (types inferred from them)."""
    names = column_names(path)
    if max_rows is not None:
        sample = _first_rows(path, names, max_rows)
        if sample is not None:
            return Table(path, sample)
    if is_parquet(path):
        return Table(path, _read_parquet(path, columns))
    return Table(path, _read_csv(path, names, columns))


def row_count(path: Path) -> int:
    """The data rows of the file: exact for Parquet; for a CSV its lines after the
    header (a quoted cell over several lines counts more than once)."""
    if is_parquet(path):
        return pq.ParquetFile(path).metadata.num_rows
    lines, last = 0, b"\n"
    with path.open("rb") as file:
        while chunk := file.read(1 << 22):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n") - _header_lines(path)


def _first_rows(path: Path, names: list[str], count: int) -> pa.Table | None:
    """The first `count` rows, or None when the whole file must be read to be read
    right (pyarrow stopped: its types, from the first block, fail further on)."""
    try:
        if is_parquet(path):
            batches = pq.ParquetFile(path).iter_batches(batch_size=count)
            return pa.Table.from_batches([next(batches)])
        reader = pa_csv.open_csv(
            path, read_options=_read_options(path, names), convert_options=_convert(None)
        )
        batches, rows = [], 0
        for batch in reader:
            batches.append(batch)
            rows += batch.num_rows
            if rows >= count:
                break
        table = pa.Table.from_batches(batches, schema=reader.schema).slice(0, count)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError, StopIteration):
        return None
    return table if table.num_rows else None


def _convert(columns: list[str] | None) -> pa_csv.ConvertOptions:
    return pa_csv.ConvertOptions(
        null_values=list(MISSING_TEXTS), strings_can_be_null=True, include_columns=columns
    )


def _read_options(path: Path, names: list[str]) -> pa_csv.ReadOptions:
    header = sum(len(name) + 1 for name in names)  # a block holds at least a row or two
    return pa_csv.ReadOptions(
        column_names=names, skip_rows=_header_lines(path), block_size=max(1 << 20, 8 * header)
    )


def _read_csv(path: Path, names: list[str], columns: list[str] | None) -> pa.Table:
    convert = _convert(columns)
    read = _read_options(path, names)
    try:
        table = _parsed(path, read, convert)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        _diagnose(path, len(names))
        raise DataError(f"{path.name}: cannot be read as CSV ({_first_line(exc)})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not table.num_rows:
        raise DataError(f"{path.name}: has a header but no data rows")
    return table


def _parsed(path: Path, read: pa_csv.ReadOptions, convert: pa_csv.ConvertOptions) -> pa.Table:
    """The file read as if no quoted cell spans lines (20% faster), and read again
    allowing them when that fails."""
    try:
        return pa_csv.read_csv(path, read_options=read, convert_options=convert)
    except pa.ArrowInvalid:
        parse = pa_csv.ParseOptions(newlines_in_values=True)
        return pa_csv.read_csv(
            path, read_options=read, parse_options=parse, convert_options=convert
        )


def _header_lines(path: Path) -> int:
    """Lines up to and including the header: blank lines before it count too."""
    return read_csv(path, _lines_to_header)


def _lines_to_header(reader) -> int:
    for row in reader:
        if row:
            return reader.line_num
    return 0


def _diagnose(path: Path, width: int) -> None:
    """What pyarrow stopped at, found again with Python's csv module, which says where
    (a row of the wrong length, a byte that is not UTF-8, bad quoting)."""

    def scan(reader) -> None:
        next((r for r in reader if r), None)
        for _ in row_blocks(path, reader, width):
            pass

    read_csv(path, scan)


def _nth_row(reader, row: int) -> tuple[int, list[str]]:
    seen = -1  # the header
    for cells in reader:
        if not cells:
            continue
        if seen == row:
            return reader.line_num, cells
        seen += 1
    raise DataError(f"row {row + 1} is past the end of the file")  # the file changed under us


def _read_parquet(path: Path, columns: list[str] | None) -> pa.Table:
    try:
        table = pq.read_table(path, columns=columns)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise DataError(
            f"{path.name}: not a Parquet file that can be read ({_first_line(exc)})"
        ) from None
    if not table.num_rows:
        raise DataError(f"{path.name}: has columns but no data rows")
    return table


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
