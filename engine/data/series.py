"""Time series: a table (CSV or Parquet) cut into samples for recurrent and 1-D conv models.

Forecasting (`series_task` "forecast"): the first column is the time (dates, date-times or
numbers), in order and without repeats; the other columns are the series' values, one
variable each (columns named in `ignore` left out). A sample is a window of `window`
steps of every variable, x [window, variables]; its target the next `horizon` steps of
the `target` column(s) (comma-separated; empty: the last column), y [horizon x targets],
step by step. Windows start every `stride` steps.

Nothing leaks from the validation period into training: the last `val_fraction` of the
steps are the validation period, the training windows end before it (inputs and
targets), a validation window's targets lie in it (its inputs may reach back), and the
scaling (`normalize`) is fitted on the training period's values of each variable, before
the series is cut into windows. Targets are scaled like their variable; `series_info`
keeps what undoes it, with the validation targets' times, to plot forecasts against the
actual series.

Sequence classification (`series_task` "classify"): a table of many series, one a row,
as the UCR archive writes them: the `target` column is the label, every other column a
step, in order. x [steps, 1]; split like any table (stratified by class), and scaled with
one mean and standard deviation of the training series' values.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import torch

from engine.data.csv_file import target_columns
from engine.data.dataset import DataError, TensorData
from engine.data.holdout import split
from engine.data.normalize import apply_normalization, fit_normalization
from engine.data.table_columns import feature_column, table_target, trimmed_texts
from engine.data.table_file import Table, is_text_type, read_table
from engine.layers.params import show

TIME_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m")
SECONDS_A_YEAR = 365.2425 * 86400


@dataclass
class Windows:
    """How a series is cut: steps per window, steps predicted, steps between starts."""

    window: int
    horizon: int
    stride: int

    @classmethod
    def from_settings(cls, settings: dict) -> Windows:
        return cls(settings["window"], settings["horizon"], settings["stride"])

    def starts(self, first: int, last_target_end: int) -> np.ndarray:
        """Window starts from `first` whose targets end by `last_target_end`."""
        return np.arange(first, last_target_end - self.window - self.horizon + 1, self.stride)


def load_series(settings: dict, path: Path) -> tuple[TensorData, TensorData]:
    """(training, validation) samples of the series in the table at `path`; see the
    module docstring."""
    table = read_table(path)
    if settings["series_task"] == "classify":
        return _classified(table, settings)
    return _forecast(table, settings)


def _forecast(table: Table, settings: dict) -> tuple[TensorData, TensorData]:
    names = table.names
    if len(names) < 2:
        raise DataError(f"{table.path.name}: a series needs a time column and a value column")
    time, times = names[0], time_values(table, names[0])
    ignored = {name.strip() for name in settings["ignore"].split(",") if name.strip()}
    variables = [name for name in names[1:] if name not in ignored]
    targets = [names[i] for i in target_columns(table.path, names, settings["target"])]
    if time in targets:
        raise DataError(f"{table.path.name}: column {time!r} is the time, not a target")
    for name in targets:
        if name not in variables:
            variables.append(name)
    values = np.stack([variable_values(table, name) for name in variables], axis=1)
    windows = Windows.from_settings(settings)
    steps = len(values)
    held = round(steps * settings["val_fraction"])
    train_end = steps - held
    _check_length(table, windows, steps, train_end, held)
    scale = fit_normalization(
        torch.from_numpy(values[:train_end]),
        settings["normalize"],
        settings["mean"],
        settings["std"],
    )
    scaled = apply_normalization(torch.from_numpy(values), scale).numpy()
    picks = [variables.index(name) for name in targets]
    info = {
        "time": time,
        "variables": variables,
        "targets": targets,
        "scale": scale,
        "window": windows.window,
        "horizon": windows.horizon,
        "train_steps": train_end,
        "dates": times_are_dates(table, time),
    }
    periods = (windows.starts(0, train_end), windows.starts(train_end - windows.window, steps))
    parts = []
    for starts in periods:
        x, y = _cut(scaled, starts, windows, picks)
        part = TensorData.regression(x, y, variables, f"series {table.path.name}")
        part.info["series"] = {**info, "target_times": times[starts + windows.window].tolist()}
        parts.append(part)
    return parts[0], parts[1]


def _cut(
    scaled: np.ndarray, starts: np.ndarray, windows: Windows, picks: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """x [windows, window, variables] and y [windows, horizon x targets] at `starts`."""
    steps = np.arange(windows.window)
    ahead = np.arange(windows.window, windows.window + windows.horizon)
    x = scaled[starts[:, None] + steps]
    y = scaled[starts[:, None] + ahead][:, :, picks].reshape(len(starts), -1)
    return x.astype(np.float32), y.astype(np.float32)


def _check_length(table: Table, windows: Windows, steps: int, train_end: int, held: int) -> None:
    need = windows.window + windows.horizon
    where = f"{table.path.name}"
    if need > steps:
        raise DataError(
            f"data.window: a window of {windows.window} steps and a horizon of "
            f"{windows.horizon} need {need} steps, but {where} has {steps}; make the window "
            "shorter"
        )
    if need > train_end:
        raise DataError(
            f"data.window: a window of {windows.window} steps and a horizon of "
            f"{windows.horizon} need {need} steps, but the training period of {where} has "
            f"{train_end} (of {steps}; val_fraction holds out {held}); make the window shorter"
        )
    if held and held < windows.horizon:
        raise DataError(
            f"data.val_fraction: the validation period of {where} has {held} steps, fewer "
            f"than the horizon of {windows.horizon}; hold out more, or predict fewer steps"
        )


def variable_values(table: Table, name: str) -> np.ndarray:
    """A variable's values, float64; missing or non-numbers refused with their line."""
    values, column = feature_column(table, name, None)
    if column["kind"] != "number":
        raise DataError(
            f"{table.path.name}, column {name!r}: a series' values must be numbers, but it "
            "holds text; leave it out with the ignore setting"
        )
    numbers = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
    holes = np.flatnonzero(np.isnan(numbers))
    if len(holes):
        raise DataError(
            f"{table.where(int(holes[0]), name)}: empty value; a series needs every step"
        )
    return numbers


def times_are_dates(table: Table, name: str) -> bool:
    """Whether the time column holds dates (or date-times), not plain numbers."""
    kind = table.column(name).type
    return bool(pa.types.is_temporal(kind) or is_text_type(kind))


def time_values(table: Table, name: str) -> np.ndarray:
    """The time column as numbers that order it (dates: years, e.g. 1749.0833), checked
    to increase step by step."""
    column = table.column(name)
    kind = column.type
    if is_text_type(kind):
        column = _parsed_times(table, name, trimmed_texts(column))
        kind = column.type
    if pa.types.is_temporal(kind):
        seconds = pc.cast(pc.cast(column, pa.timestamp("s")), pa.int64())
        values = seconds.to_numpy(zero_copy_only=False).astype(np.float64) / SECONDS_A_YEAR + 1970
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
        values = np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
    else:
        raise DataError(f"{table.path.name}, column {name!r}: holds {kind}, not times")
    holes = np.flatnonzero(np.isnan(values))
    if len(holes):
        raise DataError(f"{table.where(int(holes[0]), name)}: empty time")
    steps = np.diff(values)
    wrong = np.flatnonzero(steps <= 0)
    if len(wrong):
        row = int(wrong[0]) + 1
        here, before = table.text(row, name).strip(), table.text(row - 1, name).strip()
        problem = (
            "repeats the time on the line above"
            if steps[wrong[0]] == 0
            else (f"comes before {show(before)} on the line above")
        )
        raise DataError(
            f"{table.where(row, name)}: {show(here)} {problem}; the rows of a series must be "
            "in time order, one per time"
        )
    return values


def _parsed_times(table: Table, name: str, texts: pa.ChunkedArray) -> pa.ChunkedArray:
    for form in TIME_FORMATS:
        try:
            return pc.strptime(texts, format=form, unit="s")
        except pa.ArrowInvalid:
            continue
    row = next(i for i, v in enumerate(texts.to_pylist()) if not _parses(v))
    raise DataError(
        f"{table.where(row, name)}: {show(table.text(row, name).strip())} is not a time; the "
        "first column of a series holds its times, written as 2020-01-31, 2020-01-31 "
        "12:00:00, 2020-01 or as numbers"
    )


def _parses(text: str | None) -> bool:
    for form in TIME_FORMATS:
        try:
            datetime.datetime.strptime(text or "", form)
        except ValueError:
            continue
        return True
    return False


def _classified(table: Table, settings: dict) -> tuple[TensorData, TensorData]:
    names = table.names
    targets = [names[i] for i in target_columns(table.path, names, settings["target"])]
    if len(targets) != 1:
        raise DataError("data.target: a series' class is one column; name one")
    steps = [name for name in names if name not in targets]
    if not steps:
        raise DataError(f"{table.path.name}: has only the label column; add the series' steps")
    values = np.stack([variable_values(table, name) for name in steps], axis=1)
    y, classes = table_target(table, targets)
    if classes is None:
        raise DataError(
            f"{table.path.name}, column {targets[0]!r}: a series' class must be a label or "
            "a small integer, not a measurement"
        )
    data = TensorData.classification(
        values[:, :, None], y, classes, None, f"series {table.path.name}"
    )
    train, val = split(data, settings["val_fraction"], settings["seed"], settings["stratify"])
    values_of = train.x.reshape(-1, 1)
    scale = fit_normalization(values_of, settings["normalize"], settings["mean"], settings["std"])
    info = {"steps": len(steps), "scale": scale, "classes": classes}
    parts = []
    for part in (train, val):
        x = apply_normalization(part.x.reshape(-1, 1), scale).reshape(part.x.shape)
        scaled = TensorData(x.contiguous(), part.y, part.task, part.classes, None, dict(part.info))
        scaled.info["series"] = info
        parts.append(scaled)
    return parts[0], parts[1]
