"""A newcomer's first model, with real clicks: drop Input, Linear and Output, wire them,
press Train on the default data from the Network tab. The Input takes the data's shape;
the one problem left shows in the status line with its fix as a button; a click later
the model trains. A Linear feeding the Output may follow the data's classes too."""

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QPushButton

from engine.document.commands import SetParams
from gui.training.controller import TrainingState
from tests.gui.canvas_helpers import drag, drop_layer, input_of, output_of

RUN_MS = 60_000


def click(qtbot, widget) -> None:
    assert widget.isVisible() and widget.isEnabled(), widget.objectName()
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def layer(window, layer_type: str) -> str:
    return next(n.id for n in window.document.graph.nodes.values() if n.type == layer_type)


def three_layers_wired(window, qtbot) -> tuple[str, str, str]:
    """Input, Linear and Output dropped from the palette and wired with the mouse."""
    canvas = window.canvas
    for x, layer_type in ((120, b"Input"), (420, b"Linear"), (720, b"Output")):
        drop_layer(canvas, layer_type, QPoint(x, 200))
    x, fc, out = layer(window, "Input"), layer(window, "Linear"), layer(window, "Output")
    qtbot.waitUntil(lambda: canvas.scene().node_item(out) is not None)
    drag(canvas, output_of(canvas, x), input_of(canvas, fc))
    drag(canvas, output_of(canvas, fc), input_of(canvas, out))
    return x, fc, out


def test_three_layers_wired_by_hand_train_after_the_offered_fixes(window, qtbot):
    canvas, document, session = window.canvas, window.document, window.training.session
    x, fc, _ = three_layers_wired(window, qtbot)
    assert len(document.graph.edges) == 2
    train = window.findChild(QPushButton, "trainButton")
    qtbot.waitUntil(lambda: train.isEnabled() and session.data_check.settled(), timeout=RUN_MS)
    assert window.tabs.currentWidget() is canvas

    # The new Input follows the data: once the preview has loaded it reads [64].
    item = canvas.scene().node_item(x)
    qtbot.waitUntil(lambda: "shape=[64] (from data)" in item.texts(), timeout=RUN_MS)
    assert "[N, 64]" in item.texts()
    assert document.graph.nodes[x].params["shape"] is None

    window.menu_actions["train"].trigger()  # Train from the Network tab
    fix = window.findChild(QPushButton, "fixButton")
    assert window.tabs.currentWidget() is window.training  # where it is explained
    assert "64 class scores" in window.statusBar().currentMessage()
    assert session.controller.state is TrainingState.IDLE
    label = document.graph.nodes[fc].label
    assert fix.text() == f"Set {label}'s out_features to 10"
    click(qtbot, fix)
    assert document.graph.nodes[fc].params["out_features"] == 10
    assert not fix.isVisible()

    with qtbot.waitSignal(session.controller.finished, timeout=RUN_MS) as done:
        click(qtbot, train)
    assert done.args[0]["status"] == "completed"
    assert done.args[0]["final"]["val_accuracy"] > 0.8
    document.undo_stack.undo()
    assert document.graph.nodes[fc].params["out_features"] == 64  # the fix was one undo step


def test_a_linear_feeding_an_output_follows_the_class_count(window, qtbot):
    canvas, document, session = window.canvas, window.document, window.training.session
    _, fc, _ = three_layers_wired(window, qtbot)
    document.push(SetParams(fc, params={"out_features": None}))
    item = canvas.scene().node_item(fc)
    qtbot.waitUntil(lambda: "64 → 10 (from data)" in item.texts(), timeout=RUN_MS)
    assert "[N, 10]" in item.texts()
    assert session.problems() == []
    with qtbot.waitSignal(session.controller.finished, timeout=RUN_MS) as done:
        window.menu_actions["train"].trigger()
    assert done.args[0]["status"] == "completed"

    # Other data: the Linear follows it (the iris set has three classes, four features).
    document.set_setting(("data", "name"), "iris")
    qtbot.waitUntil(lambda: "4 → 3 (from data)" in item.texts(), timeout=RUN_MS)
