"""Helpers shared by the canvas tests (no tests here): build graphs through the document,
act on the canvas with real events."""

import warnings

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from engine.document.commands import Connect, SetParams
from engine.document.graph import Edge
from engine.model.shapes import DataShapes
from gui.canvas import CanvasView
from gui.document import Document
from gui.mime import LAYER_MIME

LEFT = Qt.MouseButton.LeftButton
NO_MODS = Qt.KeyboardModifier.NoModifier


def make_view(qtbot, document: Document) -> CanvasView:
    view = CanvasView(document)
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    qtbot.waitExposed(view)
    return view


def add(document: Document, layer_type: str, x: float = 0.0, y: float = 0.0, **params) -> str:
    """A layer added as the palette adds it, with `params` set (one more undo step). An
    Input follows data of 10 features unless the document knows other data (these
    documents have no data preview)."""
    if layer_type == "Input" and document.data_shapes is None:
        document.follow_data(DataShapes((10,), {}))
    node_id = document.add_layer(layer_type, (x, y))
    if params:
        document.push(SetParams(node_id, params))
    return node_id


def mlp(document: Document) -> list[str]:
    """Input, Linear, ReLU, Linear, Output as the palette adds them, each after the last,
    with data of 10 features previewed (the Input follows it)."""
    document.follow_data(DataShapes((10,), {}))
    ids: list[str] = []
    for layer_type in ("Input", "Linear", "ReLU", "Linear", "Output"):
        ids.append(document.add_layer(layer_type, (0.0, 0.0), ids[-1] if ids else None))
    return ids


def connect(document: Document, src: str, dst: str, port: int = 0) -> None:
    assert document.push(Connect(Edge(src, dst, port)))


def chain(document: Document, *types: str, y: float = 0.0) -> list[str]:
    """Layers in a row, 290 px apart, wired one after another."""
    ids = []
    for i, layer_type in enumerate(types):
        ids.append(add(document, layer_type, 290.0 * i, y))
        if i:
            connect(document, ids[-2], ids[-1])
    return ids


def drag(view: CanvasView, start: QPointF, end: QPointF, button=LEFT, modifiers=NO_MODS) -> None:
    """Press at `start`, move in two steps, release at `end` (scene coordinates)."""
    viewport = view.viewport()
    a, b = view.mapFromScene(start), view.mapFromScene(end)
    QTest.mousePress(viewport, button, modifiers, a)
    QTest.mouseMove(viewport, (a + b) / 2)
    QTest.mouseMove(viewport, b)
    QTest.mouseRelease(viewport, button, modifiers, b)


def press_and_hover(view: CanvasView, start: QPointF, end: QPointF) -> QPoint:
    """Press at `start` and move to `end`, leaving the button down; returns `end` mapped."""
    viewport = view.viewport()
    a, b = view.mapFromScene(start), view.mapFromScene(end)
    QTest.mousePress(viewport, LEFT, NO_MODS, a)
    QTest.mouseMove(viewport, (a + b) / 2)
    QTest.mouseMove(viewport, b)
    return b


def output_of(view: CanvasView, node_id: str) -> QPointF:
    return view.scene().node_item(node_id).output_port.scenePos()


def input_of(view: CanvasView, node_id: str, port: int = 0) -> QPointF:
    return view.scene().node_item(node_id).input_ports[port].scenePos()


def drop_layer(view: CanvasView, payload: bytes, where: QPoint) -> None:
    """A drag from the palette arriving at `where` (viewport coordinates), then dropped."""
    data = QMimeData()
    data.setData(LAYER_MIME, payload)
    action = Qt.DropAction.CopyAction
    with warnings.catch_warnings():
        # PySide6 6.12 binds only the QPoint constructors of these two, marked deprecated.
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(where, action, data, LEFT, NO_MODS)
        move = QDragMoveEvent(where, action, data, LEFT, NO_MODS)
    for event in (enter, move, QDropEvent(QPointF(where), action, data, LEFT, NO_MODS)):
        QApplication.sendEvent(view.viewport(), event)
