"""Copy and paste of graph fragments."""

import json

import pytest

from engine.document.fragments import copy_fragment, paste_command
from engine.document.graph import Graph, GraphError
from tests.engine.graph_builders import add, chain, wire


def test_paste_copies_nodes_and_inner_wires_with_fresh_ids_and_labels():
    graph = Graph()
    x, fc, relu, out = chain(
        graph, ("Input", {}), ("Linear", {"out_features": 7}), "ReLU", "Output"
    )
    fragment = json.loads(json.dumps(copy_fragment(graph, [fc, relu])))  # via the clipboard
    assert len(fragment["nodes"]) == 2 and fragment["edges"] == [{"src": 0, "dst": 1, "port": 0}]
    macro, new_ids = paste_command(graph, fragment)
    macro.do(graph)
    assert len(graph.nodes) == 6 and len(set(new_ids) & {x, fc, relu, out}) == 0
    labels = [graph.nodes[n].label for n in new_ids]
    assert labels == ["fc2", "relu2"]
    assert graph.nodes[new_ids[0]].params["out_features"] == 7
    assert graph.nodes[new_ids[0]].pos == (40.0, 40.0)
    assert [(e.src, e.dst) for e in graph.inputs_of(new_ids[1])] == [(new_ids[0], new_ids[1])]
    macro.undo(graph)
    assert set(graph.nodes) == {x, fc, relu, out}


def test_pasting_twice_never_repeats_a_label():
    graph = Graph()
    a = add(graph, "Linear")
    b = add(graph, "Linear")
    wire(graph, add(graph, "Input"), a)
    fragment = copy_fragment(graph, [a, b])
    for _ in range(2):
        macro, _ = paste_command(graph, fragment)
        macro.do(graph)
    labels = [n.label for n in graph.nodes.values()]
    assert len(labels) == len(set(labels)) == 7


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        "text",
        {"nodes": 3, "edges": []},
        {"nodes": [{"type": "Dense", "label": "a", "params": {}, "pos": [0, 0]}], "edges": []},
        {
            "nodes": [
                {"type": "Linear", "label": "a", "params": {"out_features": -1}, "pos": [0, 0]}
            ],
            "edges": [],
        },
        {
            "nodes": [{"type": "Linear", "label": "a", "params": {}, "pos": [0, 0]}],
            "edges": [{"src": 0, "dst": 5, "port": 0}],
        },
        {"nodes": [{"type": "Linear", "label": "a", "params": {}, "pos": ["x", 0]}], "edges": []},
        {"nodes": [{"type": "Linear", "label": "a", "params": {}, "pos": ["nan", 0]}], "edges": []},
        {"nodes": [{"type": "Linear", "label": "a", "params": [1], "pos": [0, 0]}], "edges": []},
    ],
)
def test_garbage_on_the_clipboard_is_refused(garbage):
    graph = Graph()
    with pytest.raises(GraphError):
        macro, _ = paste_command(graph, garbage)
        macro.do(graph)
    assert graph.nodes == {}
