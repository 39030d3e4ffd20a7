"""Automatic layout: a left-to-right layered drawing of a graph (no Qt).

`layered_positions` works in three steps, in the manner of Sugiyama's layered drawings:

1. columns: each node goes one column right of its furthest input (longest path from the
   nodes without inputs), so every wire points rightwards;
2. order: a wire that skips columns gets a placeholder slot in each column it crosses (so
   it runs along a free row, not through nodes), then a few barycenter sweeps reorder
   each column to reduce crossings, keeping the best order seen;
3. rows: each node sits level with the median of its inputs where there is room; long
   wires keep a straight lane and the short branch beside them steps aside.

Positions are the nodes' top-left corners on a fixed grid (`X_STEP`, `Y_STEP`), which is
how the canvas places its items.
"""

from __future__ import annotations

from collections.abc import Hashable
from itertools import pairwise

from engine.document.graph import Graph

X_STEP = 290.0  # a node is 170 wide; the rest leaves room for the shape on the wire
Y_STEP = 130.0
SWEEPS = 4

Key = Hashable  # a node id (str) or a placeholder (tuple) for a wire crossing a column


def layered_positions(
    graph: Graph, x_step: float = X_STEP, y_step: float = Y_STEP
) -> dict[str, tuple[float, float]]:
    """Top-left position of every node for a clean left-to-right drawing."""
    if not graph.nodes:
        return {}
    column_of = longest_path_columns(graph)
    columns, preds, succs = _columns_with_placeholders(graph, column_of)
    columns = _reduce_crossings(columns, preds, succs)
    rows = _assign_rows(columns, preds, succs)
    top = min(rows[n] for n in graph.nodes)
    return {n: (column_of[n] * x_step, (rows[n] - top) * y_step) for n in graph.nodes}


def longest_path_columns(graph: Graph) -> dict[str, int]:
    """Column of each node: 0 without inputs, else one more than its furthest input."""
    column: dict[str, int] = {}
    for node_id in graph.topological_order():
        sources = [e.src for e in graph.inputs_of(node_id)]
        column[node_id] = 1 + max(column[s] for s in sources) if sources else 0
    return column


def crossings(columns: list[list[Key]], succs: dict[Key, list[Key]]) -> int:
    """How many pairs of wire segments cross between neighbouring columns."""
    total = 0
    for left, right in pairwise(columns):
        place = {key: i for i, key in enumerate(right)}
        segments = [(i, place[s]) for i, key in enumerate(left) for s in succs[key]]
        total += sum(
            1
            for a, (a_src, a_dst) in enumerate(segments)
            for b_src, b_dst in segments[a + 1 :]
            if (a_src - b_src) * (a_dst - b_dst) < 0
        )
    return total


def _columns_with_placeholders(
    graph: Graph, column_of: dict[str, int]
) -> tuple[list[list[Key]], dict[Key, list[Key]], dict[Key, list[Key]]]:
    """Columns (in topological order) and the neighbours of every key in the next and
    previous column, wires that skip columns being split by placeholders."""
    order = graph.topological_order()
    columns: list[list[Key]] = [[] for _ in range(max(column_of.values()) + 1)]
    preds: dict[Key, list[Key]] = {n: [] for n in order}
    succs: dict[Key, list[Key]] = {n: [] for n in order}
    for node_id in order:
        columns[column_of[node_id]].append(node_id)
    for node_id in order:
        for edge in graph.inputs_of(node_id):
            previous: Key = edge.src
            for col in range(column_of[edge.src] + 1, column_of[node_id]):
                slot = ("wire", edge, col)
                columns[col].append(slot)
                preds[slot], succs[slot] = [previous], []
                succs[previous].append(slot)
                previous = slot
            succs[previous].append(node_id)
            preds[node_id].append(previous)
    return columns, preds, succs


def _reduce_crossings(
    columns: list[list[Key]], preds: dict[Key, list[Key]], succs: dict[Key, list[Key]]
) -> list[list[Key]]:
    """Barycenter sweeps, right then left; returns the order with the fewest crossings
    (the latest on a tie, as a sweep also moves placeholders into straight lanes)."""
    best, best_count = columns, crossings(columns, succs)
    current = [list(c) for c in columns]
    for _ in range(SWEEPS):
        for i in range(1, len(current)):
            current[i] = _sorted_by_barycenter(current[i], current[i - 1], preds)
        for i in range(len(current) - 2, -1, -1):
            current[i] = _sorted_by_barycenter(current[i], current[i + 1], succs)
        count = crossings(current, succs)
        if count <= best_count:
            best, best_count = [list(c) for c in current], count
        if count == 0:
            break
    return best


def _sorted_by_barycenter(
    column: list[Key], neighbour_column: list[Key], neighbours: dict[Key, list[Key]]
) -> list[Key]:
    place = {key: i for i, key in enumerate(neighbour_column)}

    def barycenter(item: tuple[int, Key]) -> tuple[float, bool, int]:
        index, key = item
        linked = [place[n] for n in neighbours[key]]
        # On a tie a placeholder goes first: long wires keep a straight lane, and the
        # short branch beside them bends around it.
        return (sum(linked) / len(linked) if linked else float(index), _is_node(key), index)

    return [key for _, key in sorted(enumerate(column), key=barycenter)]


def _assign_rows(
    columns: list[list[Key]], preds: dict[Key, list[Key]], succs: dict[Key, list[Key]]
) -> dict[Key, float]:
    """Row of every key: level with its inputs where there is room, one row apart."""
    rows: dict[Key, float] = {}
    for column in columns:
        _place(column, rows, {k: _lower_median([rows[p] for p in preds[k]]) for k in column})
    sources = columns[0]
    _place(sources, rows, {k: _source_row(succs[k], rows) for k in sources})
    return rows


def _source_row(succs: list[Key], rows: dict[Key, float]) -> float | None:
    """A node without inputs sits level with the lane of a long wire it starts, else
    with the mean of what it feeds (between two heads, say)."""
    lanes = [rows[s] for s in succs if not _is_node(s)]
    return lanes[0] if lanes else _mean([rows[s] for s in succs])


def _is_node(key: Key) -> bool:
    return isinstance(key, str)


def _place(column: list[Key], rows: dict[Key, float], wanted: dict[Key, float | None]) -> None:
    """Rows in column order, each at its wanted row or just below the one before."""
    previous: float | None = None
    for key in column:
        row = wanted[key]
        if row is None:
            row = 0.0 if previous is None else previous + 1
        elif previous is not None:
            row = max(row, previous + 1)
        rows[key] = previous = row


def _lower_median(values: list[float]) -> float | None:
    return sorted(values)[(len(values) - 1) // 2] if values else None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None
