"""The layer records of a run as a grid of numbers: a row per layer, a column per record.

Records (engine.training.diagnosis.Record) come in order; each is written into numpy
arrays, one column per record, that grow by doubling, so a record costs the same Python
work at the first as at the ten-thousandth. `table(quantity)` cuts out the rows a quantity
applies to, in the order the layers first appeared in the records (forward order).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.training.diagnosis import Record, gradient_state

Stats = dict[str, Any]


def gradient_ratio(stats: Stats) -> float | None:
    """The norm of a layer's gradient over the norm of its weights; None without both."""
    grad, norm = stats.get("grad_norm"), stats.get("weight_norm")
    return grad / norm if grad is not None and norm else None


@dataclass(frozen=True)
class Quantity:
    """What the heat map colours a cell by. `log`: shown as log10; otherwise a fraction,
    from 0 to 1. `of_gradient`: a layer with weights has it, and a layer no gradient
    reaches shows that instead of a number."""

    name: str
    value: Callable[[Stats], float | None]
    log: bool = True
    of_gradient: bool = False

    def applies(self, stats: Stats) -> bool:
        if self.of_gradient:
            return stats.get("weight_norm") is not None
        return self.value(stats) is not None


QUANTITIES = (
    Quantity("gradient / weights (norms)", gradient_ratio, of_gradient=True),
    Quantity("update ratio", lambda s: s.get("update_ratio"), of_gradient=True),
    Quantity("activation std", lambda s: s.get("std")),
    Quantity("dead fraction (exact zeros)", lambda s: s.get("zeros"), log=False),
)


@dataclass(frozen=True)
class Table:
    """One quantity's rows: `values[row, column]` (NaN: not recorded), `no_gradient` the
    cells of layers no gradient reached."""

    nodes: list[str]
    values: np.ndarray
    no_gradient: np.ndarray


class LayerGrid:
    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.nodes: list[str] = []
        self._row: dict[str, int] = {}
        self.steps: list[int] = []
        self.epochs: list[int] = []
        self.gradient_states: dict[str, str] = {}  # node -> "frozen" / "no gradient", lately
        self._values = np.full((len(QUANTITIES), 4, 16), np.nan)
        self._no_gradient = np.zeros((4, 16), dtype=bool)
        self._applies = np.zeros((len(QUANTITIES), 4), dtype=bool)

    def add(self, records: list[Record]) -> None:
        for record in records:
            column = len(self.steps)
            self.steps.append(record["step"])
            self.epochs.append(record["epoch"])
            for node_id, stats in record["layers"].items():
                self._add_cell(self._row_of(node_id), column, node_id, stats)

    def _add_cell(self, row: int, column: int, node_id: str, stats: Stats) -> None:
        self._fit(row + 1, column + 1)
        for index, quantity in enumerate(QUANTITIES):
            value = quantity.value(stats)
            if value is not None:
                self._values[index, row, column] = value
            if quantity.applies(stats):
                self._applies[index, row] = True
        state = gradient_state(stats)
        self._no_gradient[row, column] = state is not None
        if state is None:
            self.gradient_states.pop(node_id, None)
        else:
            self.gradient_states[node_id] = state

    def _row_of(self, node_id: str) -> int:
        if node_id not in self._row:
            self._row[node_id] = len(self.nodes)
            self.nodes.append(node_id)
        return self._row[node_id]

    def _fit(self, rows: int, columns: int) -> None:
        """Room for `rows` x `columns`: the arrays double in what they lack."""
        have_rows, have_columns = self._no_gradient.shape
        if rows <= have_rows and columns <= have_columns:
            return
        more_rows, more_columns = _more(rows, have_rows), _more(columns, have_columns)
        grow = ((0, more_rows), (0, more_columns))
        self._values = np.pad(self._values, ((0, 0), *grow), constant_values=np.nan)
        self._no_gradient = np.pad(self._no_gradient, grow)
        self._applies = np.pad(self._applies, ((0, 0), (0, more_rows)))

    def table(self, quantity: Quantity) -> Table:
        index = QUANTITIES.index(quantity)
        rows = np.flatnonzero(self._applies[index, : len(self.nodes)])
        columns = len(self.steps)
        values = self._values[index, rows, :columns]
        no_gradient = self._no_gradient[rows, :columns] & quantity.of_gradient
        return Table([self.nodes[row] for row in rows], values, no_gradient)


def _more(needed: int, have: int) -> int:
    """How much to add to `have` for `needed`: nothing, or at least as much again."""
    return 0 if needed <= have else max(needed, 2 * have) - have
