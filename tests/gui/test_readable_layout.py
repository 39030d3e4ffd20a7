"""Graphs open readable: in a 1400x900 window every layer of the digits CNN and of an
imported ResNet-34 is at least 100 px wide on screen, with its label whole; wires go
around layers, never through them; Ctrl+L wraps rows to the canvas's width; the overview
of a graph too big for the canvas moves the canvas where it is clicked."""

import dataclasses
import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetricsF, QPainterPathStroker
from PySide6.QtTest import QTest

from engine.document.layout import layered_positions
from engine.document.project import from_dict, load, to_dict
from engine.importing import import_model
from gui.canvas import style
from gui.canvas.view import READABLE_ZOOM
from tests.paths import PRESETS, ROOT

RESNET = ROOT / "tests/engine/import_corpus/resnet34.py"
MIN_WIDTH = 100  # on-screen pixels
MIN_TEXT = 8  # on-screen pixels of a label's line


@pytest.fixture
def big_window(window, qtbot):
    window.resize(1400, 900)
    qtbot.waitUntil(lambda: window.height() == 900)
    return window


@pytest.fixture(scope="module")
def imported_resnet():
    return import_model(RESNET, "FlatResNet34", [(1, 3, 32, 32)], flat=True)


@pytest.fixture
def flat_resnet(imported_resnet):
    """The import, with a project of its own for each test."""
    return dataclasses.replace(imported_resnet, project=from_dict(to_dict(imported_resnet.project)))


def on_screen(view, item):
    return view.transform().mapRect(item.box())


def assert_readable(window) -> None:
    """Every layer wide enough and its label whole and tall enough; the first layers
    in view; no two layers overlapping."""
    view = window.canvas
    items = view.scene().node_items()
    assert min(on_screen(view, i).width() for i in items) >= MIN_WIDTH
    assert QFontMetricsF(style.title_font()).height() * view.zoom() >= MIN_TEXT
    assert view.zoom() >= style.LOW_DETAIL  # the texts are drawn
    graph = window.document.graph
    for item in items:
        assert item.texts()[0] == graph.nodes[item.node_id].label  # not elided
    inputs = [i for i in items if graph.nodes[i.node_id].type == "Input"]
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert all(shown.contains(i.box()) for i in inputs)
    boxes = [i.box() for i in items]
    for n, box in enumerate(boxes):
        assert not any(box.intersects(other) for other in boxes[n + 1 :])


def assert_wires_clear(scene) -> None:
    """No wire crosses a layer other than the two it joins."""
    stroker = QPainterPathStroker()
    stroker.setWidth(1)
    boxes = {i.node_id: i.box() for i in scene.node_items()}
    for wire in scene.edge_items():
        stroke = stroker.createStroke(wire.mapToScene(wire._path))
        others = (b for n, b in boxes.items() if n not in (wire.edge.src, wire.edge.dst))
        assert not any(stroke.intersects(b) for b in others), wire.edge


def test_the_digits_cnn_opens_whole_and_readable(big_window):
    assert big_window.open_project(PRESETS / "digits_cnn.json")
    graph, scene = big_window.document.graph, big_window.canvas.scene()
    assert {n: (i.x(), i.y()) for n, i in ((i.node_id, i) for i in scene.node_items())} == {
        n: node.pos for n, node in graph.nodes.items()
    }  # the file's positions, as stored
    assert_readable(big_window)
    view = big_window.canvas
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert all(shown.contains(i.box()) for i in scene.node_items())  # all of it at once
    assert_wires_clear(scene)


def test_an_imported_resnet34_opens_readable_at_its_top(big_window, flat_resnet):
    big_window.open_import(flat_resnet)
    graph = big_window.document.graph
    assert len(graph.nodes) == 127 and sum(n.type == "Add" for n in graph.nodes.values()) == 16
    assert_readable(big_window)
    assert_wires_clear(big_window.canvas.scene())
    routed = [w for w in big_window.canvas.scene().edge_items() if w.routed]
    assert len(routed) >= 30  # each wrapped row's wire down, and the shortcuts across


def test_a_resnet34_of_blocks_opens_readable(big_window):
    big_window.open_import(import_model(RESNET, "ResNet34", [(1, 3, 32, 32)]))
    types = [node.type for node in big_window.document.graph.nodes.values()]
    assert "Custom" not in types and types.count("Layers") == 1  # the stages: one block
    assert_readable(big_window)


def test_a_file_laid_out_in_one_long_row_opens_readable_and_ctrl_l_wraps_it(big_window, tmp_path):
    doc = json.loads((PRESETS / "digits_cnn.json").read_text())
    for i, node in enumerate(doc["nodes"]):
        node["pos"] = [290.0 * i, 0.0]
    path = tmp_path / "one_row.json"
    path.write_text(json.dumps(doc))
    assert big_window.open_project(path)
    view, graph = big_window.canvas, big_window.document.graph
    assert view.zoom() == pytest.approx(READABLE_ZOOM)  # not shrunk to fit it all
    assert_readable(big_window)
    QTest.keyClick(big_window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    columns = view.readable_columns()
    assert {n: node.pos for n, node in graph.nodes.items()} == layered_positions(graph, columns)
    assert len({node.pos[1] for node in graph.nodes.values()}) == 3  # 12 layers, 3 rows
    assert_readable(big_window)
    assert_wires_clear(view.scene())
    big_window.document.undo_stack.undo()
    assert [node.pos for node in graph.nodes.values()] == [(290.0 * i, 0) for i in range(12)]


def test_a_file_without_positions_opens_laid_out(big_window, tmp_path):
    doc = json.loads((PRESETS / "mnist_cnn.json").read_text())
    for node in doc["nodes"]:
        del node["pos"]
    path = tmp_path / "no_positions.json"
    path.write_text(json.dumps(doc))
    assert big_window.open_project(path)
    graph = big_window.document.graph
    assert {n: node.pos for n, node in graph.nodes.items()} == layered_positions(load(path).graph)
    assert not big_window.isWindowModified()
    assert_readable(big_window)


def test_the_overview_of_a_big_graph_moves_the_canvas_where_it_is_clicked(
    big_window, flat_resnet, qtbot
):
    view = big_window.canvas
    overview = view.overview
    big_window.open_import(flat_resnet)
    qtbot.waitUntil(overview.isVisible)
    graph = big_window.document.graph
    (out,) = (view.scene().node_item(n) for n, node in graph.nodes.items() if node.type == "Output")
    (x,) = (view.scene().node_item(n) for n, node in graph.nodes.items() if node.type == "Input")
    shown = overview.shown_rect()
    assert shown.contains(x.box()) and not shown.intersects(out.box())
    shown_in_overview = overview.to_picture(overview.shown_rect())
    assert overview.rect().contains(overview.to_picture(out.box()).toRect())
    zoom = view.zoom()
    at_out = overview.to_picture(out.box()).center().toPoint()
    QTest.mouseClick(overview, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at_out)
    assert overview.shown_rect().contains(out.box()) and view.zoom() == zoom
    assert overview.to_picture(overview.shown_rect()) != shown_in_overview  # the outline moved
    at_x = overview.to_picture(x.box()).center().toPoint()
    QTest.mousePress(overview, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at_out)
    QTest.mouseMove(overview, (at_out + at_x) / 2)
    QTest.mouseMove(overview, at_x)
    QTest.mouseRelease(overview, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at_x)
    assert overview.shown_rect().contains(x.box().center())
    assert big_window.document.undo_stack.count() == 0  # looking around is no edit
    assert big_window.open_project(PRESETS / "digits_cnn.json")
    qtbot.waitUntil(lambda: not overview.isVisible())  # it fits: no overview
