"""View > Show Activations in the window: thumbnails on the nodes that follow each edit,
worked out off the GUI thread, the initial-loss line in the status bar, gone again when
switched off; a file's Custom code runs only when the user allows it."""

import threading

from PySide6.QtCore import QPoint
from PySide6.QtGui import QImage, QPainter

import engine.training.activation_preview as preview_module
from engine.document.commands import SetParams
from tests.custom_marker import saved_marked_project, traces
from tests.gui.test_custom_code_trust import NO, YES, answering
from tests.gui.test_training_panel import open_preset

WAIT_MS = 30_000


def _items(window) -> dict:
    graph = window.document.graph
    return {graph.nodes[i.node_id].label: i for i in window.canvas.scene().node_items()}


def _switch(window, qtbot, on: bool = True) -> None:
    action = window.menu_actions["show_activations"]
    if on:
        with qtbot.waitSignal(window.activations.shown, timeout=WAIT_MS):
            action.trigger()
    else:
        action.trigger()
    assert action.isChecked() == on


def _node_pixels(item) -> QImage:
    """The node as the canvas paints it."""
    box = item.boundingRect()
    image = QImage(int(box.width()), int(box.height()), QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    painter.translate(-box.topLeft())
    item.paint(painter, _Option(), None)
    painter.end()
    return image


def _channels(thumbs: dict, item) -> int | None:
    thumb = thumbs.get(item.node_id)
    return thumb.shape[0] if thumb is not None else None


def _greys(image: QImage, rect) -> set[int]:
    """The shades of grey (not white) among the pixels of `rect` in `image`."""
    found = set()
    for x in range(int(rect.left()), int(rect.right())):
        for y in range(int(rect.top()), int(rect.bottom())):
            colour = image.pixelColor(QPoint(x + 4, y + 4))  # the item's margin
            if colour.red() == colour.green() == colour.blue() < 250:
                found.add(colour.red())
    return found


class _Option:
    """A style option at full detail, as a view at 100% hands to paint()."""

    @staticmethod
    def levelOfDetailFromTransform(_):
        return 1.0


def test_thumbnails_follow_each_edit_and_go_when_switched_off(window, qtbot, monkeypatch):
    threads = []
    real = preview_module.ActivationProbe.preview

    def preview(self, project, trust):
        threads.append(threading.current_thread())
        return real(self, project, trust)

    monkeypatch.setattr(preview_module.ActivationProbe, "preview", preview)
    open_preset(window, "digits_cnn")
    items = _items(window)
    plain_height = items["conv1"].boundingRect().height()
    _switch(window, qtbot)
    assert threads and threading.main_thread() not in threads  # the window never waited
    conv1 = items["conv1"]
    assert conv1.activation.kind == "maps" and conv1.activation.values.shape[:2] == (4, 4)
    assert conv1.boundingRect().height() > plain_height  # room made for the picture
    assert conv1.texts()[-1].startswith("mean ")
    assert items["fc1"].activation.kind == "bars"
    assert items["x"].activation.shape == (1, 8, 8)  # the sample itself
    assert items["out"].activation is None  # the Output is fc2's: shown there
    line = window.activation_line.text()
    assert line.startswith("training sample 1 (class 0): initial loss 2.")
    assert "expected about ln 10 = 2.30" in line
    greys = _greys(_node_pixels(conv1), conv1._activation_rect)
    assert len(greys) > 20  # the feature maps drawn, in many shades of grey

    with qtbot.waitSignal(window.activations.shown, timeout=WAIT_MS):
        window.document.push(SetParams(conv1.node_id, {"out_channels": 4}))
    assert conv1.activation.shape[0] == 4 and conv1.activation.values.shape[:2] == (2, 2)

    shown_channels = []
    scene = window.canvas.scene()
    real_show = scene.show_activations
    monkeypatch.setattr(
        scene,
        "show_activations",
        lambda thumbs: shown_channels.append(_channels(thumbs, conv1)) or real_show(thumbs),
    )
    window.document.push(SetParams(conv1.node_id, {"out_channels": 6}))  # two quick edits
    window.document.push(SetParams(conv1.node_id, {"out_channels": 9}))
    qtbot.waitUntil(lambda: conv1.activation.shape[0] == 9, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.activations.idle, timeout=WAIT_MS)  # no pass left
    assert shown_channels == [9]  # the first edit's model was never shown

    _switch(window, qtbot, on=False)
    assert all(item.activation is None for item in items.values())
    assert conv1.boundingRect().height() == plain_height
    assert window.activation_line.text() == ""


def test_a_model_that_cannot_run_says_why_on_the_line(window, qtbot):
    open_preset(window, "digits_mlp")
    _switch(window, qtbot)
    fc1 = _items(window)["fc1"]
    with qtbot.waitSignal(window.activations.shown, timeout=WAIT_MS):
        window.document.set_setting(("data", "kind"), "csv")
        window.document.set_setting(("data", "path"), "nowhere.csv")
    assert window.activation_line.text().startswith("No activations: ")
    assert "nowhere.csv" in window.activation_line.text()
    assert fc1.activation is None


def test_custom_code_runs_only_once_the_user_allows_it(window, qtbot, tmp_path, monkeypatch):
    path, marker = saved_marked_project(tmp_path)
    window.open_project(path)
    asked = answering(monkeypatch, NO, YES)
    window.menu_actions["show_activations"].trigger()
    assert len(asked) == 1 and not window.menu_actions["show_activations"].isChecked()
    assert traces(marker) == [] and not window.activations.enabled
    _switch(window, qtbot)
    assert len(asked) == 2 and "forward" in traces(marker)
    assert any(item.activation is not None for item in _items(window).values())
