"""A table's columns as features and targets (CSV and Parquet files, engine.data.table_file).

Feature columns:
  - numbers (integers, decimals, true/false as 1/0) are features as they are;
  - text, in a column named in the `categorical` setting ("color, city:ids": one-hot
    unless `:ids` follows), or in a column of text only, is a categorical column (one-hot
    when not named, if it has at most MAX_ONEHOT categories); the encoding is fitted on the
    training part (engine.data.encoding);
  - a column that mixes numbers and text is refused, naming its first text cell;
  - columns named in `ignore` are left out.
Missing cells are refused, naming the first (missing "refuse"), or filled with the
training part's mean or most frequent value ("mean", "most_frequent").

The target column(s) are named by `target` (comma-separated; empty: the last column):
one column of text, true/false, or at most MAX_INTEGER_CLASSES distinct integers is
classification (class names sorted, integers by value); anything else, and always
several columns, is regression, y float32 [N, k]. A missing target is refused.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import torch

from engine.data.csv_file import LISTED_COLUMNS, MAX_INTEGER_CLASSES, target_columns
from engine.data.dataset import FLOAT32_MAX, DataError, TensorData
from engine.data.encoding import IDS, NUMBER, ONEHOT, encode, encoded_names, fit_encoding
from engine.data.encoding import ids_unscaled as unscaled
from engine.data.table_file import Table, column_names, is_text_type, read_table
from engine.layers.params import show

MAX_ONEHOT = 100  # categories of a text column one-hot encoded without being asked
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_INTEGER = r"^[+-]?\d+$"
FILL_HINT = "; fill missing cells with the missing setting (mean or most_frequent)"


def load_table(
    path,
    target: str = "",
    categorical: str = "",
    ignore: str = "",
    missing: str = "refuse",
    max_rows: int | None = None,
) -> TensorData:
    """The table file at `path` as a data set; see the module docstring. With categorical
    columns or filled missing cells, x is the raw features and info["columns"] their
    descriptions, for `engine.data.encoding` to encode once the training part is known.
    `max_rows`: only the first rows (a preview)."""
    names = column_names(path)  # a misnamed column is said before the rows are read
    targets = [names[i] for i in target_columns(path, names, target)]
    left_out = set(_named(path, names, ignore, "ignore")) | set(targets)
    chosen = categorical_choices(path, names, categorical)
    table = read_table(path, max_rows=max_rows)
    features = [name for name in names if name not in left_out]
    if not features:
        raise DataError(f"{table.path.name}: every column is a target or ignored; no features")
    values, columns = zip(
        *(feature_column(table, name, chosen.get(name)) for name in features), strict=True
    )
    x = _rows(table, features, values)
    holes = any(column.null_count for column in values)
    if missing == "refuse" and holes:
        _refuse_missing(table, x, features)
    y, classes = table_target(table, targets)
    source = f"{'parquet' if table.is_parquet else 'csv'} {table.path.name}"
    data = (
        TensorData.classification(x, y, classes, features, source)
        if classes is not None
        else TensorData.regression(x, y, features, source)
    )
    if holes or any(c["kind"] != NUMBER for c in columns):
        data.info["columns"] = list(columns)
        data.info["missing"] = missing
    return data


def encoded_parts(train: TensorData, *others: TensorData) -> tuple[list[TensorData], list]:
    """The training part and `others` with their features encoded as the training part
    has them (raw features from `load_table`), and that encoding, for the run to keep."""
    columns, missing = train.info["columns"], train.info["missing"]
    try:
        fitted = fit_encoding(train.x.numpy(), columns, missing)
    except ValueError as exc:
        raise DataError(f"{train.info['source']}: {exc}") from None
    names = encoded_names(fitted)
    info = {k: v for k, v in train.info.items() if k not in ("columns", "missing")}

    def encoded(part: TensorData) -> TensorData:
        x = torch.from_numpy(encode(part.x.numpy(), columns, fitted))
        return replace(part, x=x, feature_names=names, info=info)

    return [encoded(part) for part in (train, *others)], fitted


def ids_unscaled(normalization: dict, fitted: list[dict]) -> dict:
    """`normalization` leaving the features that are category ids as they are."""
    if "mean" not in normalization or all(fit["kind"] != IDS for fit in fitted):
        return normalization
    mean, std = unscaled(normalization["mean"], normalization["std"], fitted)
    return {**normalization, "mean": mean, "std": std}


def categorical_choices(path: Path, names: list[str], text: str) -> dict[str, str]:
    """{column: "onehot" or "ids"} from the `categorical` setting, e.g. "color, city:ids"."""
    chosen = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        name, _, kind = (piece.strip() for piece in entry.partition(":"))
        kind = kind or ONEHOT
        if kind not in (ONEHOT, IDS):
            raise DataError(
                f"data.categorical: {entry!r}: after ':' write onehot or ids, got {kind!r}"
            )
        chosen[_named(path, names, name, "categorical")[0]] = kind
    return chosen


def _named(path: Path, columns: list[str], text: str, setting: str) -> list[str]:
    """The column names `text` lists (comma-separated); each must be a column."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    known = set(columns)
    for name in names:
        if name not in known:
            listed = ", ".join(columns[:LISTED_COLUMNS])
            more = ", ..." if len(columns) > LISTED_COLUMNS else ""
            raise DataError(
                f"data.{setting}: {path.name} has no column named {name!r} "
                f"(columns: {listed}{more})"
            )
    return names


def _rows(table: Table, names: list[str], values: tuple[pa.ChunkedArray, ...]) -> np.ndarray:
    """float32 [rows, columns] from each column's float64 values (missing cells NaN),
    a batch of rows at a time (a third of the time of one column after another and a
    transpose); a value infinite or too large for float32 is refused, naming it."""
    x = np.empty((table.rows, len(names)), dtype=np.float32)
    start = 0
    batches = pa.table(dict(zip(names, values, strict=True))).to_batches()
    with np.errstate(over="ignore"):  # too large for float32 becomes inf, refused below
        for batch in batches:
            block = np.empty((len(names), batch.num_rows), dtype=np.float32)
            for index, column in enumerate(batch.columns):  # codes: exact to 2**24
                block[index] = column.to_numpy(zero_copy_only=False)
            bad = np.flatnonzero(np.isinf(block).any(axis=1))
            if len(bad):
                _refuse_infinite(table, names[bad[0]], values[bad[0]])
            x[start : start + batch.num_rows] = block.T
            start += batch.num_rows
    return x


def feature_column(table: Table, name: str, chosen: str | None) -> tuple[pa.ChunkedArray, dict]:
    """(float64 values, null where missing, or category codes; the column's description)."""
    column = table.column(name)
    kind = column.type
    if is_text_type(kind):
        texts = trimmed_texts(column)
        if chosen is None:
            numbers = _as_numbers(texts)
            if numbers is not None:
                return numbers, {"name": name, "kind": NUMBER}
            _refuse_mixed(table, name, texts)
        return _categories(table, name, texts, chosen)
    if chosen is not None:  # numbers (or true/false) taken as categories
        return _categories(table, name, trimmed_texts(pc.cast(column, pa.string())), chosen)
    if _is_numeric(kind):
        return _to_float(column), {"name": name, "kind": NUMBER}
    raise DataError(
        f"{table.path.name}, column {name!r}: holds {_type_name(kind)}, not numbers or text; "
        "leave it out with the ignore setting"
    )


def _is_numeric(kind: pa.DataType) -> bool:
    """Numbers, true/false, or only missing cells."""
    types = pa.types
    return any(
        test(kind)
        for test in (types.is_integer, types.is_floating, types.is_boolean, types.is_decimal)
    ) or types.is_null(kind)


def _type_name(kind: pa.DataType) -> str:
    if pa.types.is_temporal(kind):
        return f"dates or times ({kind})"
    return str(kind)


def trimmed_texts(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Text without surrounding blanks; a blank cell is missing."""
    if not is_text_type(column.type):
        column = pc.cast(column, pa.string())  # a column of nothing but missing cells
    trimmed = pc.utf8_trim_whitespace(column)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _as_numbers(texts: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """The column's values when every cell is a number (or missing), else None."""
    if pc.all(pc.match_substring_regex(texts, _NUMBER)).as_py() is False:
        return None
    return _to_float(texts)


def _first_text(texts: pa.ChunkedArray) -> int | None:
    """The first row whose cell is not a number, or None when all are (missing aside)."""
    looks = pc.fill_null(pc.match_substring_regex(texts, _NUMBER), True)
    rows = np.flatnonzero(~looks.to_numpy(zero_copy_only=False))
    return int(rows[0]) if len(rows) else None


def _to_float(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.cast(column, pa.float64())


def _numpy(column: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(_to_float(column).to_numpy(zero_copy_only=False), dtype=np.float64)


def _refuse_infinite(table: Table, name: str, column: pa.ChunkedArray) -> None:
    """Name the first value that is infinite or too large for float32."""
    values = _numpy(column)
    with np.errstate(invalid="ignore"):
        row = int(np.flatnonzero(~(np.abs(values) <= FLOAT32_MAX) & ~np.isnan(values))[0])
    problem = (
        "is not a finite number"
        if not np.isfinite(values[row])
        else f"is too large for float32 (at most {FLOAT32_MAX:.3g})"
    )
    raise DataError(f"{table.where(row, name)}: {show(table.text(row, name).strip())} {problem}")


def _refuse_mixed(table: Table, name: str, texts: pa.ChunkedArray) -> None:
    """A column of text only is categorical; one that mixes numbers in is refused."""
    if not pc.any(pc.match_substring_regex(texts, _NUMBER)).as_py():
        return
    row = _first_text(texts)
    raise DataError(
        f"{table.where(row, name)}: {show(table.text(row, name).strip())} is text in a "
        "column of numbers; correct the cell, or make the column categorical (the "
        "categorical setting) to read every value as a category"
    )


def _categories(
    table: Table, name: str, texts: pa.ChunkedArray, chosen: str | None
) -> tuple[np.ndarray, dict]:
    categories = sorted(v for v in pc.unique(texts).to_pylist() if v is not None)
    if chosen is None and len(categories) > MAX_ONEHOT:
        raise DataError(
            f"{table.path.name}, column {name!r}: {len(categories):,} different texts, too "
            f"many to one-hot without being asked (at most {MAX_ONEHOT}); name it in the "
            f"categorical setting ({name}:ids for an Embedding, {name} for one-hot), or "
            "leave it out with the ignore setting"
        )
    codes = pc.index_in(texts, value_set=pa.array(categories, pa.string()))
    return _to_float(codes), {"name": name, "kind": chosen or ONEHOT, "categories": categories}


def _refuse_missing(table: Table, x: np.ndarray, names: list[str]) -> None:
    holes = np.isnan(x)
    if not holes.any():
        return
    row, column = (int(i) for i in np.argwhere(holes)[0])
    text = table.text(row, names[column]).strip()
    said = f" ({show(text)})" if text else ""
    raise DataError(f"{table.where(row, names[column])}: empty value{said}{FILL_HINT}")


def table_target(table: Table, names: list[str]) -> tuple[np.ndarray, list[str] | None]:
    """(class ids, class names) or (float64 [N, k] targets, None); see the docstring."""
    for name in names:
        holes = np.flatnonzero(_trimmed_any(table.column(name)).is_null().to_numpy(False))
        if len(holes):
            raise DataError(f"{table.where(int(holes[0]), name)}: empty value (a target)")
    if len(names) == 1:
        labels = _labels(table, names[0])
        if labels is not None:
            return labels
    hint = " (with several target columns every target must be a number)" if len(names) > 1 else ""
    columns = []
    for name in names:
        column = table.column(name)
        if is_text_type(column.type):
            texts = trimmed_texts(column)
            numbers = _as_numbers(texts)
            if numbers is None:
                row = _first_text(texts)
                text = show(table.text(row, name).strip())
                raise DataError(f"{table.where(row, name)}: {text} is not a number{hint}")
        else:
            numbers = feature_column(table, name, None)[0]
        values = _numpy(numbers)
        with np.errstate(over="ignore"):
            if np.isinf(values.astype(np.float32)).any():
                _refuse_infinite(table, name, numbers)
        columns.append(values)
    return np.stack(columns, axis=1), None


def _trimmed_any(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if is_text_type(column.type):
        return trimmed_texts(column)
    return column


def _labels(table: Table, name: str) -> tuple[np.ndarray, list[str]] | None:
    """Class ids and names when the column is a label column, else None."""
    column = table.column(name)
    kind = column.type
    if pa.types.is_integer(kind):
        return _integer_classes(column)
    if pa.types.is_boolean(kind):
        texts = pc.if_else(column, "true", "false")
    elif is_text_type(kind):
        texts = trimmed_texts(column)
    else:
        return None
    if is_text_type(kind):
        numbers = pc.all(pc.match_substring_regex(texts, _NUMBER)).as_py()
        if numbers and not pc.all(pc.match_substring_regex(texts, _INTEGER)).as_py():
            return None  # decimals written as text: regression
    if pc.all(pc.match_substring_regex(texts, _INTEGER)).as_py():
        return _integer_classes(pc.cast(texts, pa.int64()))
    classes = sorted(pc.unique(texts).to_pylist())
    ids = pc.index_in(texts, value_set=pa.array(classes, pa.string()))
    return ids.to_numpy(zero_copy_only=False).astype(np.int64), classes


def _integer_classes(column: pa.ChunkedArray) -> tuple[np.ndarray, list[str]] | None:
    """Class ids of integers in order of value, or None for too many to be classes."""
    keys = pc.unique(pc.cast(column, pa.int64()))
    if len(keys) > MAX_INTEGER_CLASSES:
        return None
    keys = pc.take(keys, pc.sort_indices(keys))
    ids = pc.index_in(pc.cast(column, pa.int64()), value_set=keys)
    return ids.to_numpy(zero_copy_only=False).astype(np.int64), [str(v) for v in keys.to_pylist()]
