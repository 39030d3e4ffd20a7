"""The automatic layout: columns follow the wires, few crossings, nothing overlaps."""

import random

from engine.document.graph import Graph
from engine.document.layout import (
    X_STEP,
    Y_STEP,
    crossings,
    layered_positions,
    longest_path_columns,
)
from engine.document.project import load
from tests.engine.graph_builders import add, chain, lenet, wire
from tests.paths import PRESETS


def assert_clean(graph: Graph, positions: dict[str, tuple[float, float]]) -> None:
    assert set(positions) == set(graph.nodes)
    assert len(set(positions.values())) == len(positions), "two nodes share a place"
    for edge in graph.edges:
        assert positions[edge.src][0] < positions[edge.dst][0], edge
    assert min(y for _, y in positions.values()) == 0


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


def test_empty_graph_has_no_positions():
    assert layered_positions(Graph()) == {}


def test_a_chain_is_one_straight_row():
    graph, ids = lenet()
    positions = layered_positions(graph)
    assert [positions[n] for n in ids] == [(i * X_STEP, 0.0) for i in range(len(ids))]


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
    assert_clean(graph, positions)
    by_label = {graph.nodes[n].label: p for n, p in positions.items()}
    assert by_label["head_a"][1] != by_label["head_b"][1]
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
    positions = layered_positions(graph)
    assert_clean(graph, positions)
    lane = positions[x][1]
    assert {positions[n][1] for n in [merge, *after]} == {lane}
    assert all(positions[n][1] != lane for n in branch)
    assert len({positions[n][1] for n in branch}) == 1


def test_sweeps_untangle_crossed_wires():
    graph = Graph()
    a = add(graph, "Input", shape=[4])
    b = add(graph, "Input", shape=[4])
    after_b = chain(graph, "ReLU", "Tanh", start=b)
    after_a = chain(graph, "ReLU", "Tanh", start=a)
    positions = layered_positions(graph)
    assert_clean(graph, positions)
    for first, second in zip(after_a, after_b, strict=True):
        assert (positions[first][1] < positions[second][1]) == (positions[a][1] < positions[b][1])


def test_random_graphs_lay_out_cleanly_and_deterministically():
    for seed in range(8):
        graph = random_dag(seed)
        positions = layered_positions(graph)
        assert_clean(graph, positions)
        assert layered_positions(graph) == positions
        assert all(y % (Y_STEP / 2) == 0 for _, y in positions.values())


def test_layout_reads_the_graph_without_changing_it():
    graph, _ = lenet()
    before = {n: node.pos for n, node in graph.nodes.items()}
    events = []
    graph.subscribe(events.append)
    layered_positions(graph)
    assert events == []
    assert {n: node.pos for n, node in graph.nodes.items()} == before


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
