"""The graph document: events, validation of wires, and undoable commands."""

import gc

import pytest

from engine.document.commands import (
    AddNode,
    Connect,
    Disconnect,
    Macro,
    MoveNodes,
    RemoveNode,
    SetParams,
    remove_nodes,
)
from engine.document.events import (
    EdgeAdded,
    EdgeRemoved,
    NodeAdded,
    NodeChanged,
    NodeRemoved,
)
from engine.document.graph import Edge, Graph, GraphError
from tests.engine.graph_builders import add, chain, wire


def snapshot(graph: Graph):
    return (
        {n.id: (n.type, dict(n.params), n.label, n.pos) for n in graph.nodes.values()},
        set(graph.edges),
    )


def test_events_describe_every_change():
    graph = Graph()
    events = []
    graph.subscribe(events.append)
    a = add(graph, "Input")
    b = add(graph, "Linear")
    wire(graph, a, b)
    SetParams(b, {"out_features": 3}).do(graph)
    Disconnect(Edge(a, b)).do(graph)
    RemoveNode(b).do(graph)
    assert [(type(e), e.node_id) for e in events] == [
        (NodeAdded, a),
        (NodeAdded, b),
        (EdgeAdded, b),
        (NodeChanged, b),
        (EdgeRemoved, b),
        (NodeRemoved, b),
    ]
    assert events[2].edge == Edge(a, b, 0)


def test_unsubscribe_stops_events():
    graph = Graph()
    events = []
    unsubscribe = graph.subscribe(events.append)
    add(graph, "Input")
    unsubscribe()
    add(graph, "Input")
    assert len(events) == 1


class Recorder:
    def __init__(self):
        self.events = []

    def on_event(self, event):
        self.events.append(event)


def test_a_listening_method_is_held_weakly():
    graph = Graph()
    kept, dropped = Recorder(), Recorder()
    graph.subscribe(kept.on_event)
    graph.subscribe(dropped.on_event)
    add(graph, "Input")
    events_of_dropped = dropped.events
    del dropped
    gc.collect()
    add(graph, "Input")
    assert len(kept.events) == 2
    assert len(events_of_dropped) == 1
    assert len(graph._listeners) == 1


def test_labels_are_unique_python_names_numbered_like_hand_written_models():
    graph = Graph()
    ids = [add(graph, "Linear") for _ in range(3)] + [add(graph, "Input"), add(graph, "Input")]
    assert [graph.nodes[i].label for i in ids] == ["fc1", "fc2", "fc3", "x", "x1"]
    SetParams(ids[0], label="My Layer!").do(graph)
    assert graph.nodes[ids[0]].label == "My_Layer"
    SetParams(ids[1], label="fc3").do(graph)
    assert graph.nodes[ids[1]].label != "fc3"  # taken by another node
    SetParams(ids[2], label="class").do(graph)
    assert graph.nodes[ids[2]].label == "class_"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda g, i: Edge(i["fc"], i["fc"]), "cannot feed itself"),
        (lambda g, i: Edge(i["out"], i["fc2"]), "is an Output: nothing can follow it"),
        (lambda g, i: Edge(i["fc"], i["x"]), "is an Input: it takes no wires"),
        (lambda g, i: Edge(i["x"], i["fc"]), "already wired"),
        (lambda g, i: Edge(i["x2"], i["fc"], 0), "input 0 of 'fc1' is already taken"),
        (lambda g, i: Edge(i["x2"], i["fc"], 1), "has no input port 1; it takes 1 input"),
        (lambda g, i: Edge(i["x2"], i["fc"], -1), "has no input port -1"),
        (lambda g, i: Edge(i["fc2"], i["fc"]), "would make a loop"),
        (lambda g, i: Edge("nope", i["fc"]), "there is no node 'nope'"),
    ],
)
def test_bad_wires_are_refused_and_change_nothing(make, message):
    graph = Graph()
    ids = {
        "x": add(graph, "Input"),
        "x2": add(graph, "Input"),
        "fc": add(graph, "Linear"),
        "fc2": add(graph, "Linear"),
        "out": add(graph, "Output"),
    }
    wire(graph, ids["x"], ids["fc"])
    wire(graph, ids["fc"], ids["fc2"])
    wire(graph, ids["fc2"], ids["out"])
    before = snapshot(graph)
    with pytest.raises(GraphError, match=message):
        Connect(make(graph, ids)).do(graph)
    assert snapshot(graph) == before


def test_merge_nodes_take_many_inputs_in_port_order():
    graph = Graph()
    x = add(graph, "Input")
    a, b, c = (add(graph, "ReLU") for _ in range(3))
    for node in (a, b, c):
        wire(graph, x, node)
    cat = add(graph, "Concat")
    for port, node in enumerate((c, a, b)):
        wire(graph, node, cat, graph.free_port(cat))
        assert graph.inputs_of(cat)[port].src == node
    assert [e.port for e in graph.inputs_of(cat)] == [0, 1, 2]


def test_a_copy_without_one_wire_checks_new_wires_as_the_graph_would_without_it():
    graph = Graph()
    x, merge, relu, tanh = chain(graph, "Input", "Add", "ReLU", "Tanh")
    other = add(graph, "ReLU")
    wire(graph, x, other)
    picked_up = graph.inputs_of(tanh)[0]
    copy = graph.without_edge(picked_up)
    assert copy.edges == graph.edges - {picked_up} and len(copy._listeners) == 0
    assert copy.inputs_of(tanh) == [] and copy.outputs_of(relu) == []
    assert copy.descendants(merge) == {relu}
    with pytest.raises(GraphError, match="loop"):
        copy.check_edge(Edge(relu, merge, 1))
    with pytest.raises(GraphError, match="already taken"):
        copy.check_edge(Edge(relu, other, 0))
    copy.check_edge(Edge(relu, tanh, 0))  # its own port is free once it is picked up
    assert picked_up in graph.edges and graph.inputs_of(tanh) == [picked_up]


def test_topological_order_is_stable_and_complete():
    graph = Graph()
    ids = chain(graph, "Input", "Linear", "ReLU", "Output")
    side = add(graph, "Output")
    wire(graph, ids[1], side)
    order = graph.topological_order()
    assert order.index(ids[0]) < order.index(ids[1]) < order.index(ids[2]) < order.index(ids[3])
    assert set(order) == set(graph.nodes)
    assert graph.descendants(ids[1]) == {ids[2], ids[3], side}
    assert graph.ancestors(ids[3]) == {ids[0], ids[1], ids[2]}


def test_every_command_undoes_exactly():
    graph = Graph()
    ids = chain(graph, "Input", "Linear", "ReLU", "Output")
    extra = graph.make_node("Dropout")
    commands = [
        AddNode(extra),
        Connect(Edge(ids[2], extra.id)),
        SetParams(ids[1], {"out_features": 7, "bias": False}, label="hidden"),
        MoveNodes({ids[0]: (10.0, 20.0), ids[1]: (-5.5, 3.0)}),
        Disconnect(Edge(ids[2], ids[3])),
        RemoveNode(ids[1]),
        remove_nodes([ids[2], extra.id]),
    ]
    states = [snapshot(graph)]
    for command in commands:
        command.do(graph)
        states.append(snapshot(graph))
    for command, state in zip(reversed(commands), reversed(states[:-1]), strict=True):
        command.undo(graph)
        assert snapshot(graph) == state
    for command, state in zip(commands, states[1:], strict=True):  # redo
        command.do(graph)
        assert snapshot(graph) == state


def test_a_failing_macro_rolls_back_what_it_did():
    graph = Graph()
    x, fc = chain(graph, "Input", "Linear")
    before = snapshot(graph)
    relu = graph.make_node("ReLU")
    macro = Macro([AddNode(relu), Connect(Edge(fc, relu.id)), Connect(Edge(relu.id, x))])
    with pytest.raises(GraphError, match="is an Input"):
        macro.do(graph)
    assert snapshot(graph) == before


def test_bad_params_in_a_command_change_nothing():
    graph = Graph()
    fc = add(graph, "Linear")
    before = snapshot(graph)
    with pytest.raises(GraphError, match="out_features: must be a positive integer, got 0"):
        SetParams(fc, {"bias": False, "out_features": 0}).do(graph)
    assert snapshot(graph) == before


def test_undoing_a_delete_puts_the_node_back_in_its_place():
    graph = Graph()
    ids = [add(graph, "Input"), add(graph, "Output"), add(graph, "Output"), add(graph, "ReLU")]
    macro = remove_nodes(ids[:2])
    macro.do(graph)
    macro.undo(graph)
    assert list(graph.nodes) == ids


def test_undoing_a_rename_restores_the_label_exactly():
    graph = Graph()
    node = graph.make_node("Linear", label="FC_Big")
    AddNode(node).do(graph)
    rename = SetParams(node.id, label="small")
    rename.do(graph)
    rename.undo(graph)
    assert graph.nodes[node.id].label == "FC_Big"
