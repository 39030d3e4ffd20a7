"""What the canvas shows, and how it follows the document: texts, shapes, problems,
ports, selection, undo, new projects, automatic layout, a 300-node graph."""

import pytest
from PySide6.QtCore import QPointF

from engine.document.commands import AddNode, Connect, MoveNodes, SetParams
from engine.document.graph import Edge, Graph
from engine.document.layout import BAND_GAP, ROW_COLUMNS, X_STEP, Y_STEP
from engine.document.project import Project, load
from engine.layers import get_spec
from engine.model.shapes import DataShapes, ShapeInference
from gui.canvas import CanvasScene, CanvasView
from gui.canvas.labels import count_text, param_summary
from gui.canvas.port_item import shown_input_ports
from gui.document import Document
from tests.gui.canvas_helpers import add, chain, connect, make_view
from tests.paths import PRESETS


@pytest.fixture
def view(qtbot, document):
    return make_view(qtbot, document)


def test_nodes_show_label_type_parameters_shape_and_count(view, document):
    document.set_project(load(PRESETS / "digits_cnn.json"))
    scene = view.scene()
    by_label = {document.graph.nodes[i.node_id].label: i for i in scene.node_items()}
    assert by_label["conv1"].texts() == [
        "conv1", "Conv2d", "1 → 16, 3x3, padding=1", "[N, 16, 8, 8]",
        "160 params · 9.2k MACs",
    ]  # fmt: skip
    assert by_label["fc1"].texts()[2:] == ["128 → 64", "[N, 64]", "8.3k params · 8.2k MACs"]
    assert by_label["relu1"].texts() == ["relu1", "ReLU", "[N, 16, 8, 8]"]
    assert all(item.status == "ok" for item in scene.node_items())
    assert "160 params" in by_label["conv1"].toolTip()


def test_wires_carry_the_shape_of_their_source(view, document):
    x, conv, relu = chain(document, "Input", "Conv2d", "ReLU")
    document.push(SetParams(x, {"shape": [3, 5, 5]}))
    wire = view.scene().edge_item(Edge(conv, relu, 0))
    assert wire.label == "[N, 16, 3, 3]" and wire.label_visible() and not wire.error
    assert view.scene().edge_item(Edge(x, conv, 0)).label == "[N, 3, 5, 5]"


def test_a_shape_error_turns_the_node_and_its_wire_red(view, document):
    x, fc, relu = chain(document, "Input", "Linear", "ReLU")
    document.push(SetParams(fc, {"in_features": 7}))
    scene = view.scene()
    item = scene.node_item(fc)
    assert item.status == "error"
    assert "in_features is set to 7" in item.toolTip()
    assert any(text.startswith("⚠ in_features") for text in item.texts())
    wire = scene.edge_item(Edge(x, fc, 0))
    assert wire.error and "in_features" in wire.toolTip()
    assert scene.node_item(relu).status == "waiting"
    assert scene.edge_item(Edge(fc, relu, 0)).label == ""
    document.undo_stack.undo()
    assert item.status == "ok" and not wire.error and wire.toolTip() == ""
    assert scene.node_item(relu).status == "ok"


def test_ports_follow_the_layer_and_its_wires(view, document):
    x, relu = chain(document, "Input", "ReLU")
    out = add(document, "Output", 600, 0)
    scene = view.scene()
    assert scene.node_item(x).input_ports == {} and scene.node_item(x).output_port
    assert list(scene.node_item(relu).input_ports) == [0]
    assert scene.node_item(out).output_port is None
    merge = add(document, "Concat", 600, 300)
    assert sorted(scene.node_item(merge).input_ports) == [0, 1]
    connect(document, x, merge, 0)
    connect(document, relu, merge, 1)
    assert sorted(scene.node_item(merge).input_ports) == [0, 1, 2]
    assert scene.node_item(merge).input_ports[1].connected
    document.undo_stack.undo()
    assert sorted(scene.node_item(merge).input_ports) == [0, 1]


def test_shown_ports_of_a_merge_keep_one_free():
    add_spec = get_spec("Add")
    assert shown_input_ports(add_spec, set()) == [0, 1]
    assert shown_input_ports(add_spec, {0, 1}) == [0, 1, 2]
    assert shown_input_ports(add_spec, {0, 2}) == [0, 1, 2]
    assert shown_input_ports(get_spec("Linear"), {0}) == [0]
    assert shown_input_ports(get_spec("Custom"), {0}) == [0, 1]


def test_parameter_summaries_and_counts():
    assert param_summary(get_spec("Linear"), {"in_features": None, "out_features": 8}) == (
        "auto → 8"
    )
    pool = get_spec("MaxPool2d")
    assert param_summary(pool, {**pool.defaults(), "stride": [1, 2]}) == "2x2, stride=1x2"
    assert param_summary(get_spec("Dropout"), {"p": 0.25}) == "p=0.25"
    assert [count_text(n) for n in (0, 1, 999, 8_320, 1_234_567)] == [
        "", "1 param", "999 params", "8.3k params", "1.2M params"
    ]  # fmt: skip
    assert count_text(0, 1_814_073_344) == "1.8G MACs"


def test_selection_follows_the_document_and_back_without_echo(view, document, qtbot):
    ids = chain(document, "Input", "ReLU", "Tanh")
    scene = view.scene()
    emitted = []
    document.selection_changed.connect(emitted.append)
    document.select([ids[1]])
    assert scene.selected_ids() == [ids[1]] and emitted == [[ids[1]]]
    scene.node_item(ids[2]).setSelected(True)
    assert document.selected == ids[1:] and emitted[-1] == ids[1:]
    assert len(emitted) == 2


def test_undo_and_redo_move_the_items(view, document):
    _x, relu = chain(document, "Input", "ReLU")
    document.push(SetParams(relu, label="act"))
    assert view.scene().node_item(relu).texts()[0] == "act"
    document.push(MoveNodes({relu: (100.0, 400.0)}))
    assert view.scene().node_item(relu).pos() == QPointF(100, 400)
    document.undo_stack.undo()
    assert view.scene().node_item(relu).pos() == QPointF(290, 0)
    document.undo_stack.redo()
    assert view.scene().node_item(relu).pos() == QPointF(100, 400)


def test_auto_layout_is_one_undoable_step(view, document):
    document.set_project(load(PRESETS / "multitask.json"))
    scene, graph = view.scene(), document.graph
    messy = {n: (37.0 * i, 300.0 - 50 * i) for i, n in enumerate(graph.nodes)}
    document.push(MoveNodes(messy))
    document.undo_stack.clear()
    before = {n: node.pos for n, node in graph.nodes.items()}
    assert scene.auto_layout()
    after = {n: node.pos for n, node in graph.nodes.items()}
    assert after != before and document.undo_stack.count() == 1
    assert {n: (i.x(), i.y()) for n, i in ((n, scene.node_item(n)) for n in graph.nodes)} == after
    assert max(x for x, _ in after.values()) == 2 * X_STEP
    assert not scene.auto_layout()  # already laid out: no empty undo step
    document.undo_stack.undo()
    assert {n: node.pos for n, node in graph.nodes.items()} == before
    assert all(scene.node_item(n).pos() == QPointF(*p) for n, p in before.items())


def test_a_new_project_rebuilds_the_scene_and_leaves_the_old_graph(view, document):
    old_graph = document.graph
    chain(document, "Input", "ReLU")
    document.select(list(old_graph.nodes)[:1])
    document.set_project(load(PRESETS / "multitask.json"))
    scene = view.scene()
    assert len(scene.node_items()) == 5 and len(scene.edge_items()) == 4
    assert scene.selected_ids() == []
    listeners = len(old_graph._listeners)
    old_graph.insert_node(old_graph.make_node("Tanh"))  # the canvas no longer follows it
    assert len(scene.node_items()) == 5 and listeners == 0


def test_a_deleted_canvas_stops_listening_to_the_graph(qtbot, document):
    view = CanvasView(document)
    assert len(document.graph._listeners) == 3  # document, inference and canvas
    scene = view.scene()
    assert isinstance(scene, CanvasScene)
    with qtbot.waitSignal(scene.destroyed):
        view.deleteLater()
    document.add_layer("ReLU", (0, 0))  # no item of a deleted scene is touched
    assert len(document.graph._listeners) == 2


def test_nodes_wait_for_inference_that_is_attached_late(qtbot):
    document = Document()
    canvas = make_view(qtbot, document)
    relu = document.add_layer("Input", (0, 0))
    item = canvas.scene().node_item(relu)
    assert item.status == "unknown" and item.texts()[2:] == []
    document.attach_inference(ShapeInference(document.graph))
    assert item.status == "waiting" and "waits for the data" in item.texts()[-1]
    document.follow_data(DataShapes((10,), {}))
    assert item.status == "ok" and item.texts()[1:] == [
        "Input",
        "shape=[10] (from data)",
        "[N, 10]",
    ]


def residual_project(blocks: int) -> Project:
    """Conv blocks with skip wires: 3 + 7 * blocks nodes."""
    graph = Graph()

    def node(layer_type: str, *inputs: str, **params) -> str:
        new = graph.make_node(layer_type, params)
        AddNode(new).do(graph)
        for port, src in enumerate(inputs):
            Connect(Edge(src, new.id, port)).do(graph)
        return new.id

    x = node("Conv2d", node("Input", shape=[3, 16, 16]), out_channels=8, padding=1)
    for _ in range(blocks):
        y = node("ReLU", node("BatchNorm2d", node("Conv2d", x, out_channels=8, padding=1)))
        y = node("ReLU", node("Conv2d", y, out_channels=8, padding=1))
        x = node("ReLU", node("Add", y, x))
    node("Output", x)
    return Project(graph=graph)


def test_a_300_node_graph_builds_and_lays_out(view, document):
    document.set_project(residual_project(43))
    scene, graph = view.scene(), document.graph
    assert len(graph.nodes) >= 300
    assert len(scene.node_items()) == len(graph.nodes)
    assert len(scene.edge_items()) == len(graph.edges)
    assert all(item.status == "ok" for item in scene.node_items())
    assert scene.auto_layout()
    row_step = Y_STEP + BAND_GAP  # the main chain stays straight in each wrapped row:
    assert all(node.pos[1] % row_step == 0 for node in graph.nodes.values())
    assert max(node.pos[0] for node in graph.nodes.values()) == (ROW_COLUMNS - 1) * X_STEP
    view.fit()
    assert view.zoom() >= 0.1


def test_an_empty_canvas_says_how_to_begin(view, document, qtbot):
    from PySide6.QtGui import QColor

    from gui.canvas import style

    def hint_pixels() -> int:
        image = view.viewport().grab().toImage()
        hint = QColor(style.HINT).rgb()
        w, h = image.width(), image.height()
        return sum(
            image.pixel(x, y) == hint for x in range(0, w, 2) for y in range(h // 3, 2 * h // 3, 2)
        )

    view.show()
    qtbot.waitExposed(view)
    assert hint_pixels() > 0
    document.add_layer("Linear", (0.0, 0.0))
    assert hint_pixels() == 0
