"""What the data preview shows of tables, series and texts: each column's type, missing
cells and use; a series over time with its split; texts as their tokens, and how long
they are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from engine.data.csv_file import target_columns
from engine.data.dataset import TensorData
from engine.data.series import time_values, variable_values
from engine.data.table_columns import trimmed_texts
from engine.data.table_file import Table, is_text_type
from engine.data.text import token_counts
from engine.data.tokens import tokens

TEXT_EXAMPLES = 3


@dataclass
class ColumnSummary:
    """A column of a table as the preview read it: its type (as pyarrow inferred it),
    its missing cells, and what the data settings make of it."""

    name: str
    kind: str
    missing: int
    use: str


@dataclass
class SeriesView:
    """A series to plot: the first target's values over time (dates as years), and the
    time the validation period starts (None: no validation period)."""

    name: str
    times: np.ndarray
    values: np.ndarray
    split_time: float | None
    dates: bool


@dataclass
class TextView:
    """Texts as the model reads them: a few (text, its tokens as read), and the number
    of tokens of every text read, beside the max_length they are cut to."""

    examples: list[tuple[str, str]]
    lengths: list[int]
    max_length: int


def column_summaries(
    settings: dict[str, Any], table: Table, described: list[dict] | None = None
) -> list[ColumnSummary]:
    """One summary per column of `table`, in its order."""
    uses = _uses(settings, table, {c["name"]: c for c in described or []})
    return [
        ColumnSummary(name, _kind(table.column(name).type), _missing(table, name), uses[name])
        for name in table.names
    ]


def _uses(settings: dict[str, Any], table: Table, described: dict[str, dict]) -> dict[str, str]:
    names = table.names
    kind = settings["kind"]
    ignored = {name.strip() for name in settings["ignore"].split(",") if name.strip()}
    default = names[-1]
    if kind == "text":
        others = [name for name in names if name != settings["text_column"]]
        default = others[-1] if others else default
    targets = {names[i] for i in target_columns(table.path, names, settings["target"] or default)}
    uses = {}
    for position, name in enumerate(names):
        if name in targets:
            uses[name] = "target" if kind != "time_series" else "target (and an input)"
        elif kind == "text":
            uses[name] = "text" if name == settings["text_column"] else "not used"
        elif kind == "time_series" and position == 0 and settings["series_task"] == "forecast":
            uses[name] = "time"
        elif name in ignored:
            uses[name] = "ignored"
        elif name in described and described[name]["kind"] != "number":
            how = "one-hot" if described[name]["kind"] == "onehot" else "ids"
            uses[name] = f"{how}, {len(described[name]['categories']):,} categories"
        else:
            uses[name] = "feature" if kind != "time_series" else "input"
    return uses


def _kind(kind: pa.DataType) -> str:
    if is_text_type(kind):
        return "text"
    if pa.types.is_null(kind):
        return "empty"
    return str(kind)


def _missing(table: Table, name: str) -> int:
    column = table.column(name)
    if is_text_type(column.type):
        return trimmed_texts(column).null_count
    return column.null_count


def series_view(settings: dict[str, Any], table: Table) -> SeriesView | None:
    """The series' first target over time, for a forecast (None for series classified
    one a row)."""
    if settings["series_task"] != "forecast":
        return None
    names = table.names
    target = names[target_columns(table.path, names, settings["target"])[0]]
    times = time_values(table, names[0])
    values = variable_values(table, target)
    held = round(len(times) * settings["val_fraction"])
    split_time = float(times[len(times) - held]) if held else None
    dates = (
        pa.types.is_temporal(table.column(names[0]).type)
        or _kind(table.column(names[0]).type) == "text"
    )
    return SeriesView(target, times, values, split_time, dates)


def text_view(settings: dict[str, Any], data: TensorData) -> TextView:
    """A few texts with their tokens, and the tokens of every text read."""
    texts = data.info["texts"]
    examples = [(text, " ".join(tokens(text))) for text in texts[:TEXT_EXAMPLES]]
    return TextView(examples, token_counts(texts), settings["max_length"])
