"""The canvas driven as a user drives it: drops, wiring, moving, selecting, deleting."""

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QGraphicsPathItem

from engine.document.graph import Edge
from gui.canvas import style
from tests.gui.canvas_helpers import (
    LEFT,
    NO_MODS,
    add,
    chain,
    connect,
    drag,
    drop_layer,
    input_of,
    make_view,
    output_of,
    press_and_hover,
)


@pytest.fixture
def view(qtbot, document):
    return make_view(qtbot, document)


# --- drops from the palette -------------------------------------------------------------


def test_a_dropped_layer_lands_under_the_cursor_and_undo_takes_it_away(view, document):
    where = QPoint(400, 300)
    drop_layer(view, b"Conv2d", where)
    (node_id,) = document.graph.nodes
    node = document.graph.nodes[node_id]
    assert node.type == "Conv2d"
    header_centre = view.mapToScene(where)
    assert abs(node.pos[0] + style.NODE_WIDTH / 2 - header_centre.x()) <= 1
    assert abs(node.pos[1] + style.HEADER_HEIGHT / 2 - header_centre.y()) <= 1
    item = view.scene().node_item(node_id)
    assert item.pos() == QPointF(*node.pos)
    assert document.selected == [node_id] and item.isSelected()
    document.undo_stack.undo()
    assert document.graph.nodes == {} and view.scene().node_item(node_id) is None


def test_dropping_an_unknown_layer_changes_nothing_and_says_why(view, document, qtbot):
    with qtbot.waitSignal(document.edit_refused) as refused:
        drop_layer(view, b"Dense", QPoint(300, 300))
    assert "Dense" in refused.args[0]
    assert document.graph.nodes == {} and document.undo_stack.count() == 0


# --- wiring -------------------------------------------------------------------------------


def test_dragging_from_an_output_to_an_input_connects_them(view, document):
    x, fc = add(document, "Input", 0, 0), add(document, "Linear", 300, 80)
    hovered = press_and_hover(view, output_of(view, x), input_of(view, fc))
    assert view.scene().node_item(fc).input_ports[0].state == "valid"
    QTest.mouseRelease(view.viewport(), LEFT, NO_MODS, hovered)
    assert document.graph.edges == {Edge(x, fc, 0)}
    assert view.scene().edge_item(Edge(x, fc, 0)) is not None
    assert view.scene().node_item(fc).input_ports[0].state == "idle"
    document.undo_stack.undo()
    assert document.graph.edges == set() and view.scene().edge_items() == []


def test_dropping_a_wire_on_a_node_body_uses_its_free_port(view, document):
    x, a = add(document, "Input", 0, 0), add(document, "Input", 0, 200)
    b = add(document, "Add", 300, 100)
    connect(document, x, b, 0)
    drag(view, output_of(view, a), view.scene().node_item(b).sceneBoundingRect().center())
    assert Edge(a, b, 1) in document.graph.edges
    assert sorted(view.scene().node_item(b).input_ports) == [0, 1, 2]  # one free port more


@pytest.mark.parametrize("case", ["cycle", "onto an Input", "onto a taken input"])
def test_a_wire_the_graph_refuses_shows_red_and_changes_nothing(view, document, qtbot, case):
    _x, relu, tanh = chain(document, "Input", "ReLU", "Tanh")
    other = add(document, "Input", 0, 300)
    start, end = {
        "cycle": (output_of(view, tanh), input_of(view, relu)),
        "onto an Input": (
            output_of(view, relu),
            view.scene().node_item(other).pos() + QPointF(80, 30),
        ),
        "onto a taken input": (output_of(view, other), input_of(view, tanh)),
    }[case]
    before, steps = set(document.graph.edges), document.undo_stack.count()
    hovered = press_and_hover(view, start, end)
    assert view.scene()._wire.problem
    with qtbot.waitSignal(document.edit_refused):
        QTest.mouseRelease(view.viewport(), LEFT, NO_MODS, hovered)
    assert document.graph.edges == before and document.undo_stack.count() == steps
    assert all(e.isVisible() for e in view.scene().edge_items())
    assert all(p.state == "idle" for i in view.scene().node_items() for p in i.input_ports.values())


def test_a_wire_picked_up_from_an_input_can_be_rerouted_or_dropped(view, document):
    x, relu = chain(document, "Input", "ReLU")
    tanh = add(document, "Tanh", 290, 200)
    drag(view, input_of(view, relu), input_of(view, tanh))
    assert document.graph.edges == {Edge(x, tanh, 0)}
    document.undo_stack.undo()
    assert document.graph.edges == {Edge(x, relu, 0)}
    drag(view, input_of(view, relu), QPointF(150, 500))
    assert document.graph.edges == set()
    document.undo_stack.undo()
    assert document.graph.edges == {Edge(x, relu, 0)}


@pytest.mark.parametrize("case", ["loop", "taken port"])
def test_a_picked_up_wire_shows_red_where_its_drop_would_be_refused(view, document, qtbot, case):
    _x, merge, relu, tanh = chain(document, "Input", "Add", "ReLU", "Tanh")
    other = add(document, "ReLU", 290, 300)
    connect(document, _x, other)
    picked_up = Edge(relu, tanh, 0)
    target = view.scene().node_item(merge if case == "loop" else other)
    port = target.input_ports[1 if case == "loop" else 0]
    before, steps = set(document.graph.edges), document.undo_stack.count()
    hovered = press_and_hover(view, input_of(view, tanh), port.scenePos())
    wire = view.scene()._wire
    assert wire.picked_up == picked_up
    assert ("would make a loop" if case == "loop" else "already taken") in wire.problem
    assert port.state == "invalid"
    assert wire._preview.pen().color() == style.ERROR
    with qtbot.waitSignal(document.edit_refused):
        QTest.mouseRelease(view.viewport(), LEFT, NO_MODS, hovered)
    assert document.graph.edges == before and document.undo_stack.count() == steps
    assert view.scene().edge_item(picked_up).isVisible() and port.state == "idle"


def test_escape_abandons_a_wire(view, document):
    x, _relu = add(document, "Input"), add(document, "ReLU", 300, 0)
    press_and_hover(view, output_of(view, x), QPointF(250, 200))
    QTest.keyClick(view.viewport(), Qt.Key.Key_Escape)
    assert view.scene()._wire is None
    assert not [i for i in view.scene().items() if isinstance(i, QGraphicsPathItem)]
    QTest.mouseRelease(view.viewport(), LEFT, NO_MODS, view.mapFromScene(QPointF(250, 200)))
    assert document.graph.edges == set()


# --- moving and selecting -------------------------------------------------------------


def test_dragging_a_node_is_one_undoable_move(view, document):
    x, relu = chain(document, "Input", "ReLU")
    start = view.scene().node_item(relu).pos() + QPointF(60, 10)
    steps = document.undo_stack.count()
    drag(view, start, start + QPointF(40, 120))
    assert document.graph.nodes[relu].pos == (330.0, 120.0)
    assert document.undo_stack.count() == steps + 1
    wire = view.scene().edge_item(Edge(x, relu, 0))
    assert wire.boundingRect().contains(wire.mapFromScene(input_of(view, relu)))
    document.undo_stack.undo()
    assert document.graph.nodes[relu].pos == (290.0, 0.0)
    assert view.scene().node_item(relu).pos() == QPointF(290, 0)


def test_dragging_several_selected_nodes_moves_them_together(view, document):
    ids = chain(document, "Input", "ReLU", "Tanh")
    document.select(ids[:2])
    start = view.scene().node_item(ids[0]).pos() + QPointF(60, 10)
    drag(view, start, start + QPointF(0, 100))
    assert [document.graph.nodes[n].pos for n in ids] == [(0, 100), (290, 100), (580, 0)]
    document.undo_stack.undo()
    assert [document.graph.nodes[n].pos[1] for n in ids] == [0, 0, 0]


def test_rubber_band_selects_the_nodes_it_touches(view, document):
    ids = chain(document, "Input", "ReLU", "Tanh")
    drag(view, QPointF(-40, -60), QPointF(400, 100))
    assert document.selected == ids[:2]
    QTest.mouseClick(view.viewport(), LEFT, NO_MODS, view.mapFromScene(QPointF(100, 400)))
    assert document.selected == []


def test_delete_removes_the_selected_nodes_and_their_wires(view, document):
    x, relu, tanh = chain(document, "Input", "ReLU", "Tanh")
    document.select([relu])
    view.setFocus()
    QTest.keyClick(view.viewport(), Qt.Key.Key_Delete)
    assert set(document.graph.nodes) == {x, tanh} and document.graph.edges == set()
    assert view.scene().node_item(relu) is None and view.scene().edge_items() == []
    document.undo_stack.undo()
    assert len(document.graph.edges) == 2 and len(view.scene().edge_items()) == 2
    document.select([x, tanh])
    QTest.keyClick(view.viewport(), Qt.Key.Key_Backspace)
    assert list(document.graph.nodes) == [relu]


# --- zoom and pan ---------------------------------------------------------------------


def wheel(view, steps: int, modifiers) -> None:
    centre = QPointF(view.viewport().rect().center())
    event = QWheelEvent(
        centre, view.viewport().mapToGlobal(centre), QPoint(), QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    QApplication.sendEvent(view.viewport(), event)


def test_ctrl_wheel_and_the_zoom_methods_zoom_within_limits(view, document):
    chain(document, "Input", "ReLU")
    wheel(view, 2, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom() == pytest.approx(1.44)
    view.zoom_out()
    view.zoom_out()
    assert view.zoom() == pytest.approx(1.0)
    for _ in range(40):
        view.zoom_in()
    assert view.zoom() == pytest.approx(3.0)
    view.fit()
    assert view.zoom() <= 1.0
    for item in view.scene().node_items():
        assert view.viewport().rect().contains(view.mapFromScene(item.sceneBoundingRect().center()))


def test_middle_button_drag_pans(view, document):
    add(document, "Input")
    before = view.mapToScene(view.viewport().rect().center())
    viewport = view.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.MiddleButton, NO_MODS, QPoint(500, 300))
    QTest.mouseMove(viewport, QPoint(450, 250))
    QTest.mouseMove(viewport, QPoint(400, 200))
    QTest.mouseRelease(viewport, Qt.MouseButton.MiddleButton, NO_MODS, QPoint(400, 200))
    after = view.mapToScene(view.viewport().rect().center())
    assert after - before == QPointF(100, 100)
    assert document.undo_stack.count() == 1  # panning is no edit


def test_space_and_drag_pans_instead_of_moving_nodes(view, document):
    (x,) = chain(document, "Input")
    before = view.mapToScene(view.viewport().rect().center())
    QTest.keyPress(view.viewport(), Qt.Key.Key_Space)
    start = view.scene().node_item(x).pos() + QPointF(60, 10)
    drag(view, start, start + QPointF(100, 50))
    QTest.keyRelease(view.viewport(), Qt.Key.Key_Space)
    after = view.mapToScene(view.viewport().rect().center())
    assert after - before == QPointF(-100, -50)
    assert document.graph.nodes[x].pos == (0.0, 0.0) and document.undo_stack.count() == 1
    assert view.dragMode() == view.DragMode.RubberBandDrag and view.isInteractive()
