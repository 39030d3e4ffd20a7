"""A run's layer records in the window: the warnings they give are pinned to the nodes
they are about while it trains, and taken off when the next run starts."""

from tests.gui.test_training_panel import RUN_MS, button, click, open_preset


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
