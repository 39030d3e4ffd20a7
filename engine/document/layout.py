"""Automatic layout: a left-to-right layered drawing of a graph (no Qt), wrapped into
rows that read like lines of text so that a long chain stays readable on screen.

`layered_positions` works in four steps, the first three in the manner of Sugiyama's
layered drawings:

1. columns: each node goes one column right of its furthest input (longest path from the
   nodes without inputs), so every wire points rightwards;
2. order: a wire that skips columns gets a placeholder slot in each column it crosses (so
   it runs along a free row, not through nodes), then a few barycenter sweeps reorder
   each column to reduce crossings, keeping the best order seen;
3. wrapping: the columns are cut into rows of at most `columns` (balanced, cut where
   the fewest wires cross, so a residual block stays whole when it fits), stacked top
   to bottom, `BAND_GAP` apart for the wires that run down to a later row;
4. lanes: within each wrapped row, each node sits level with the median of its inputs
   where there is room; long wires keep a straight lane and the short branch beside
   them steps aside. A wire that goes on to a later row takes no lane: the canvas
   routes it through the gap below.

Positions are the nodes' top-left corners on a fixed grid (`X_STEP`, `Y_STEP`), which is
how the canvas places its items.
"""

from __future__ import annotations

from collections.abc import Hashable
from itertools import pairwise

from engine.document.graph import Graph

X_STEP = 290.0  # a node is 170 wide; the rest leaves room for the shape on the wire
Y_STEP = 130.0
BAND_GAP = 40.0  # more room between wrapped rows than between the rows inside one
ROW_COLUMNS = 4  # columns per wrapped row: readable in the canvas of a 1400x900 window
SWEEPS = 4

Key = Hashable  # a node id (str) or a placeholder (tuple) for a wire crossing a column


def layered_positions(
    graph: Graph,
    columns: int | None = ROW_COLUMNS,
    x_step: float = X_STEP,
    y_step: float = Y_STEP,
) -> dict[str, tuple[float, float]]:
    """Top-left position of every node for a clean left-to-right drawing, wrapped into
    rows of at most `columns` columns (None: one row however long)."""
    if not graph.nodes:
        return {}
    column_of = longest_path_columns(graph)
    layered, preds, succs = _columns_with_placeholders(graph, column_of)
    layered = _reduce_crossings(layered, preds, succs)
    positions: dict[str, tuple[float, float]] = {}
    top = 0.0
    for band in wrap_columns(cut_costs(graph, column_of), columns):
        kept = [[k for k in layered[c] if _within(k, band, column_of)] for c in band]
        keys = {k for column in kept for k in column}
        rows = _assign_rows(kept, _among(preds, keys), _among(succs, keys))
        compact = _compact(set(rows.values()))
        for key in (k for column in kept for k in column if _is_node(k)):
            x = (column_of[key] - band.start) * x_step
            positions[key] = (x, top + compact[rows[key]] * y_step)
        top += (max(compact.values()) + 1) * y_step + BAND_GAP
    return positions


def lay_out(graph: Graph, columns: int | None = ROW_COLUMNS) -> None:
    """Move every node to its place in `layered_positions` (one node_moved event each)."""
    for node_id, pos in layered_positions(graph, columns).items():
        graph.update_node(node_id, pos=pos)


def unplaced(graph: Graph) -> bool:
    """True for several nodes all in one place: a file written without positions."""
    return len(graph.nodes) > 1 and len({node.pos for node in graph.nodes.values()}) == 1


def cut_costs(graph: Graph, column_of: dict[str, int]) -> list[int]:
    """For each pair of neighbouring columns (c, c + 1), how many wires pass between them."""
    change = [0] * (max(column_of.values()) + 1)
    for edge in graph.edges:
        change[column_of[edge.src]] += 1
        change[column_of[edge.dst]] -= 1
    costs, running = [], 0
    for step in change[:-1]:
        running += step
        costs.append(running)
    return costs


def wrap_columns(costs: list[int], columns: int | None) -> list[range]:
    """Columns 0..len(costs) cut into rows of at most `columns`: rows of about equal
    length, none shorter than half a row (but the last), each cut where the fewest wires
    cross (`costs[c]` between columns c and c + 1), the longer row on a tie."""
    count = len(costs) + 1
    if columns is None or count <= columns:
        return [range(count)]
    shortest = max(1, -(-columns // 2))
    rows, start = [], 0
    while count - start > columns:
        left = count - start
        even = -(-left // -(-left // columns))  # the length of equal rows for what is left
        ends = range(start + shortest, start + columns + 1)
        ends = [e for e in ends if count - e >= shortest] or list(ends)
        end = min(ends, key=lambda e: (costs[e - 1], abs(e - start - even), -e))
        rows.append(range(start, end))
        start = end
    rows.append(range(start, count))
    return rows


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


def _within(key: Key, band: range, column_of: dict[str, int]) -> bool:
    """A node, or the lane of a wire with both ends in this row: a wire that goes on to a
    later row leaves by the gap below instead, so its lane takes no room here."""
    if _is_node(key):
        return True
    edge = key[1]
    return column_of[edge.src] in band and column_of[edge.dst] in band


def _among(neighbours: dict[Key, list[Key]], keys: set[Key]) -> dict[Key, list[Key]]:
    return {k: [n for n in neighbours[k] if n in keys] for k in keys}


def _compact(rows: set[float]) -> dict[float, float]:
    """Rows shifted to start at 0, with empty rows between them left out."""
    ordered = sorted(rows)
    compact = {ordered[0]: 0.0}
    for above, row in pairwise(ordered):
        compact[row] = compact[above] + min(1.0, row - above)
    return compact


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
