"""Seeing inside a run from the window: the warnings the layer records give are pinned
to the nodes they are about while it trains, and taken off when the next run starts;
Training > Open in TensorBoard serves the project's runs from a real server."""

import json
import urllib.request

from PySide6.QtGui import QAction

from tests.gui.test_training_panel import RUN_MS, button, click, open_preset, saved_preset


def _notes(window) -> dict[str, list[str]]:
    scene = window.canvas.scene()
    graph = window.document.graph
    return {graph.nodes[i.node_id].label: i.training_notes for i in scene.node_items()}


def test_a_learning_rate_too_high_is_pinned_to_its_layers_and_cleared_by_the_next_run(
    window, qtbot
):
    controller = open_preset(window, "digits_mlp", epochs=2, lr=0.5, record_every=5)
    records = []
    controller.layer_records.connect(records.extend)
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS):
        click(qtbot, button(window, "trainButton"))
    qtbot.waitUntil(lambda: bool(_notes(window)["fc1"]), timeout=5_000)
    assert records and all({"epoch", "batch", "step", "layers"} <= set(r) for r in records)
    notes = _notes(window)
    assert any(note.startswith("learning rate too high for it: ") for note in notes["fc1"])
    assert notes["relu1"] == [] and notes["x"] == []
    graph = window.document.graph
    fc1 = next(n for n in graph.nodes.values() if n.label == "fc1")
    item = window.canvas.scene().node_item(fc1.id)
    assert "⚑ learning rate too high for it" in item.texts()  # the sentence: in its tip
    assert "each step changes its weights by" in item.toolTip()

    window.document.project.training["lr"] = 0.01
    with qtbot.waitSignal(controller.started, timeout=RUN_MS):
        click(qtbot, button(window, "trainButton"))
    assert all(notes == [] for notes in _notes(window).values())
    qtbot.waitSignal(controller.finished, timeout=RUN_MS).wait()


def _action(window, text: str):
    return next(a for a in window.findChildren(QAction) if a.text().replace("&", "") == text)


def test_open_in_tensorboard_serves_the_projects_runs_and_stops_with_the_window(
    window, qtbot, tmp_path
):
    controller = saved_preset(window, tmp_path, "digits_mlp", epochs=1)
    open_tensorboard = _action(window, "Open in TensorBoard")
    open_tensorboard.trigger()  # no run has a log yet: it says how to get one
    assert "turn on 'tensorboard'" in window.tensorboard.dialog.text()
    assert window.tensorboard.server is None
    window.document.project.training["tensorboard"] = True
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS):
        click(qtbot, button(window, "trainButton"))
    assert (tmp_path / "digits_mlp.runs" / "run-001" / "tensorboard").is_dir()
    open_tensorboard.trigger()
    qtbot.waitUntil(lambda: window.tensorboard.server is not None, timeout=60_000)
    server = window.tensorboard.server
    assert server.url in window.tensorboard.dialog.text()
    assert server.url in window.statusBar().currentMessage()
    with urllib.request.urlopen(server.url + "data/runs", timeout=10) as response:
        assert json.loads(response.read()) == ["run-001/tensorboard"]
    window.close()
    assert not server.running
