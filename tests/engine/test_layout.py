"""The automatic layout: columns follow the wires, few crossings, nothing overlaps, and a
long graph wraps into rows that read left to right, top to bottom."""

import random

import pytest

from engine.document.graph import Graph
from engine.document.layout import (
    BAND_GAP,
    ROW_COLUMNS,
    X_STEP,
    Y_STEP,
    crossings,
    cut_costs,
    lay_out,
    layered_positions,
    longest_path_columns,
    unplaced,
    wrap_columns,
)
from engine.document.project import load
from engine.importing import import_model
from tests.engine.graph_builders import add, chain, lenet, wire
from tests.paths import PRESETS

CORPUS = "tests/engine/import_corpus"


def rows_of(graph: Graph, columns: int | None) -> dict[str, int]:
    """The wrapped row of every node, as the layout cuts its columns."""
    column_of = longest_path_columns(graph)
    bands = wrap_columns(cut_costs(graph, column_of), columns)
    return {n: next(i for i, b in enumerate(bands) if c in b) for n, c in column_of.items()}


def assert_clean(graph: Graph, positions: dict, columns: int | None = None) -> None:
    """Every node placed, none overlapping; each wire runs rightwards within its row or
    down to a later row; rows are at most `columns` wide and stacked in order."""
    assert set(positions) == set(graph.nodes)
    places = list(positions.values())
    for i, (x, y) in enumerate(places):
        for other_x, other_y in places[i + 1 :]:
            assert abs(x - other_x) >= X_STEP or abs(y - other_y) >= Y_STEP, "overlap"
    row = rows_of(graph, columns)
    for edge in graph.edges:
        src, dst = positions[edge.src], positions[edge.dst]
        assert row[edge.src] < row[edge.dst] or src[0] < dst[0], edge
    if columns is not None:
        assert max(x for x, _ in places) <= (columns - 1) * X_STEP
    for upper in range(max(row.values())):
        above = [positions[n][1] for n in graph.nodes if row[n] == upper]
        below = [positions[n][1] for n in graph.nodes if row[n] == upper + 1]
        assert min(below) - max(above) >= Y_STEP + BAND_GAP
    assert min(y for _, y in places) == 0


def random_dag(seed: int, size: int = 40) -> Graph:
    rng = random.Random(seed)
    graph = Graph()
    ids = [add(graph, "Input", shape=[8])]
    for _ in range(size):
        if rng.random() < 0.2 and len(ids) > 2:
            first, second = rng.sample(ids, 2)
            node = add(graph, "Add")
            wire(graph, first, node, 0)
            wire(graph, second, node, 1)
        else:
            node = add(graph, "ReLU")
            wire(graph, rng.choice(ids), node)
        ids.append(node)
    return graph


def flat_resnet34() -> Graph:
    path = f"{CORPUS}/resnet34.py"
    return import_model(path, "FlatResNet34", [(1, 3, 32, 32)], flat=True).project.graph


def test_empty_graph_has_no_positions():
    assert layered_positions(Graph()) == {}


def test_a_chain_unwrapped_is_one_straight_row():
    graph, ids = lenet()
    positions = layered_positions(graph, columns=None)
    assert [positions[n] for n in ids] == [(i * X_STEP, 0.0) for i in range(len(ids))]


def test_a_long_chain_wraps_into_balanced_rows_that_read_left_to_right():
    graph, ids = lenet()  # 14 layers
    positions = layered_positions(graph)
    assert_clean(graph, positions, ROW_COLUMNS)
    row_step = Y_STEP + BAND_GAP
    rows = [[n for n in ids if positions[n][1] == r * row_step] for r in range(4)]
    assert [len(r) for r in rows] == [4, 4, 3, 3]
    assert [n for r in rows for n in r] == ids  # reading order is wiring order
    for row in rows:
        assert [positions[n][0] for n in row] == [i * X_STEP for i in range(len(row))]


def test_wrap_columns_balances_rows_and_cuts_where_fewest_wires_cross():
    assert wrap_columns([1] * 11, 4) == [range(0, 4), range(4, 8), range(8, 12)]
    assert wrap_columns([1] * 12, 4) == [range(0, 4), range(4, 7), range(7, 10), range(10, 13)]
    assert wrap_columns([1] * 3, 4) == [range(4)]
    assert wrap_columns([1] * 30, None) == [range(31)]
    # A block of 7 columns with one wire out of it and two inside: the cut keeps it whole.
    block = [2, 2, 2, 2, 2, 1, 2]
    assert wrap_columns(block * 4, 7)[:3] == [range(0, 6), range(6, 13), range(13, 20)]
    assert all(len(r) >= 4 for r in wrap_columns([2, 1, 2, 2, 2, 2, 2, 2, 2], 7))


def test_cut_costs_count_the_wires_between_neighbouring_columns():
    graph = Graph()
    x, _a, b = chain(graph, ("Input", {"shape": [4]}), "ReLU", "Tanh")
    merge = add(graph, "Add")
    wire(graph, b, merge, 0)
    wire(graph, x, merge, 1)  # the skip wire passes three gaps
    chain(graph, "Output", start=merge)
    assert cut_costs(graph, longest_path_columns(graph)) == [2, 2, 2, 1]


def test_columns_are_longest_paths_from_the_inputs():
    graph = Graph()
    x, a, b = chain(graph, ("Input", {"shape": [4]}), "ReLU", "Tanh")
    merge = add(graph, "Add")
    wire(graph, x, merge, 0)
    wire(graph, b, merge, 1)
    assert longest_path_columns(graph) == {x: 0, a: 1, b: 2, merge: 3}


def test_two_heads_sit_on_two_rows_with_the_input_between():
    graph = load(PRESETS / "multitask.json").graph
    positions = layered_positions(graph)
    assert_clean(graph, positions, ROW_COLUMNS)
    by_label = {graph.nodes[n].label: p for n, p in positions.items()}
    assert by_label["head_a"][1] != by_label["head_b"][1]
    assert by_label["head_a"][0] == by_label["head_b"][0]  # side by side, one column
    assert by_label["head_a"][1] == by_label["task_a"][1]
    assert by_label["x"][1] == (by_label["head_a"][1] + by_label["head_b"][1]) / 2


def test_a_skip_wire_keeps_a_straight_lane_free_of_nodes():
    graph = Graph()
    x = add(graph, "Input", shape=[8])
    branch = chain(graph, "ReLU", "Tanh", "Sigmoid", start=x)
    merge = add(graph, "Add")
    wire(graph, branch[-1], merge, 0)
    wire(graph, x, merge, 1)
    after = chain(graph, "ReLU", "Output", start=merge)
    positions = layered_positions(graph, columns=None)
    assert_clean(graph, positions)
    lane = positions[x][1]
    assert {positions[n][1] for n in [merge, *after]} == {lane}
    assert all(positions[n][1] != lane for n in branch)
    assert len({positions[n][1] for n in branch}) == 1


def test_a_resnet34_wraps_with_its_main_chain_straight_and_shortcuts_beside_it():
    graph = flat_resnet34()
    assert sum(node.type == "Add" for node in graph.nodes.values()) == 16
    positions = layered_positions(graph)
    assert_clean(graph, positions, ROW_COLUMNS)
    assert layered_positions(graph) == positions  # deterministic
    row = rows_of(graph, ROW_COLUMNS)
    for edge in graph.edges:
        if row[edge.src] == row[edge.dst] and graph.nodes[edge.src].type == "BatchNorm2d":
            # inside a row, a block's main chain is one straight line
            assert positions[edge.src][1] == positions[edge.dst][1] or (
                graph.nodes[edge.dst].type == "Add"
            )
    shortcuts = [n for n, node in graph.nodes.items() if node.label.startswith("shortcuts_")]
    assert len(shortcuts) == 6  # a 1x1 convolution and its BatchNorm in three blocks
    for node_id in shortcuts:  # side by side with the block's main chain
        x, y = positions[node_id]
        beside = [n for n, p in positions.items() if p[0] == x and p[1] != y and n != node_id]
        assert any(row[n] == row[node_id] for n in beside)


def test_random_graphs_lay_out_cleanly_and_deterministically():
    for seed in range(8):
        graph = random_dag(seed)
        for columns in (None, 3, ROW_COLUMNS):
            positions = layered_positions(graph, columns)
            assert_clean(graph, positions, columns)
            assert layered_positions(graph, columns) == positions
            assert all(y % (Y_STEP / 2) == 0 or columns for _, y in positions.values())


def test_layout_reads_the_graph_without_changing_it():
    graph, _ = lenet()
    before = {n: node.pos for n, node in graph.nodes.items()}
    events = []
    graph.subscribe(events.append)
    layered_positions(graph)
    assert events == []
    assert {n: node.pos for n, node in graph.nodes.items()} == before


def test_lay_out_moves_the_nodes_of_a_file_written_without_positions():
    graph, _ = lenet()
    assert unplaced(graph)
    lay_out(graph)
    assert {n: node.pos for n, node in graph.nodes.items()} == layered_positions(graph)
    assert not unplaced(graph)
    single = Graph()
    add(single, "Input", shape=[4])
    assert not unplaced(single)


@pytest.mark.parametrize("name", ["digits_cnn", "mnist_cnn", "digits_mlp", "multitask"])
def test_presets_are_stored_laid_out_in_readable_rows(name):
    graph = load(PRESETS / f"{name}.json").graph
    stored = {n: node.pos for n, node in graph.nodes.items()}
    assert stored == layered_positions(graph)


def test_crossings_counts_pairs_of_crossing_segments():
    columns = [["a", "b"], ["c", "d"]]
    succs = {"a": ["d"], "b": ["c"], "c": [], "d": []}
    assert crossings(columns, succs) == 1
    succs = {"a": ["c"], "b": ["d"], "c": [], "d": []}
    assert crossings(columns, succs) == 0


def test_custom_spacing():
    graph, ids = lenet()
    positions = layered_positions(graph, x_step=100, y_step=50)
    assert positions[ids[1]] == (100.0, 0.0)
    assert positions[ids[4]] == (0.0, 50 + BAND_GAP)
