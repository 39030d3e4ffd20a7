"""A newcomer's first model, with real clicks: drop Input, Linear and Output, wire them,
press Train on the default data from the Network tab. Each problem shows in the status
line with its fix as a button; two clicks later the model trains."""

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QPushButton

from gui.training.controller import TrainingState
from tests.gui.canvas_helpers import drag, drop_layer, input_of, output_of

RUN_MS = 60_000


def click(qtbot, widget) -> None:
    assert widget.isVisible() and widget.isEnabled(), widget.objectName()
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def layer(window, layer_type: str) -> str:
    return next(n.id for n in window.document.graph.nodes.values() if n.type == layer_type)


def test_three_layers_wired_by_hand_train_after_the_offered_fixes(window, qtbot):
    canvas, document, session = window.canvas, window.document, window.training.session
    for x, layer_type in ((120, b"Input"), (420, b"Linear"), (720, b"Output")):
        drop_layer(canvas, layer_type, QPoint(x, 200))
    x, fc, out = layer(window, "Input"), layer(window, "Linear"), layer(window, "Output")
    qtbot.waitUntil(lambda: canvas.scene().node_item(out) is not None)
    drag(canvas, output_of(canvas, x), input_of(canvas, fc))
    drag(canvas, output_of(canvas, fc), input_of(canvas, out))
    assert len(document.graph.edges) == 2
    train = window.findChild(QPushButton, "trainButton")
    qtbot.waitUntil(lambda: train.isEnabled() and session.data_check.settled(), timeout=RUN_MS)
    assert window.tabs.currentWidget() is canvas

    window.menu_actions["train"].trigger()  # Train from the Network tab
    fix = window.findChild(QPushButton, "fixButton")
    assert window.tabs.currentWidget() is window.training  # where it is explained
    assert "(64,)" in window.statusBar().currentMessage()
    assert session.controller.state is TrainingState.IDLE
    assert fix.text() == "Set the Input to [64]"
    click(qtbot, fix)
    assert document.graph.nodes[x].params["shape"] == [64]

    label = document.graph.nodes[fc].label
    assert fix.text() == f"Set {label}'s out_features to 10"  # the next problem, at once
    assert "64 class scores" in window.findChild(type(window._status), "trainingStatus").text()
    click(qtbot, fix)
    assert document.graph.nodes[fc].params["out_features"] == 10
    assert not fix.isVisible()

    with qtbot.waitSignal(session.controller.finished, timeout=RUN_MS) as done:
        click(qtbot, train)
    assert done.args[0]["status"] == "completed"
    assert done.args[0]["final"]["val_accuracy"] > 0.8
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert document.graph.nodes[x].params["shape"] != [64]  # each fix was one undo step
