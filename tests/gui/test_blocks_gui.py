"""Blocks in the window: make one, find it in the palette, drop another, open it by a
double-click and edit it (every instance follows), ungroup, fork and repeat it."""

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel

from engine.document.commands import SetParams
from engine.document.project import save
from gui.blocks import BlockEditor
from tests.engine.test_fine_tuning import digits_project, node
from tests.gui.canvas_helpers import drop_layer


def opened(window, qtbot, tmp_path):
    save(digits_project(tmp_path), tmp_path / "net.json")
    assert window.open_project(tmp_path / "net.json")
    qtbot.waitUntil(lambda: window.document.inference is not None, timeout=30_000)
    return window.document


def double_click(view, node_id):
    item = view.scene().node_item(node_id)
    point = view.mapFromScene(item.box().center())
    QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                      point)  # fmt: skip


def test_a_block_made_from_layers_is_in_the_palette_and_drops_as_an_instance(
    window, qtbot, tmp_path
):
    document = opened(window, qtbot, tmp_path)
    project = document.project
    layers = [node(project, label).id for label in ("fc1", "bn1", "relu1")]
    document.select(layers)
    block = window.blocks.make_block("Dense", [(layers[0], "out_features")])
    assert block is not None and len(document.graph.nodes) == 4
    assert "Dense" in window.layer_palette.visible_types()
    (instance,) = [n for n in document.graph.nodes.values() if n.block is block]
    assert window.canvas.scene().node_item(instance.id).texts()[1] == "Dense"
    drop_layer(window.canvas, b"Dense", QPoint(300, 300))
    assert sum(n.block is block for n in document.graph.nodes.values()) == 2
    count = len(digits_project(tmp_path).graph.nodes)
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert len(document.graph.nodes) == count
    assert not any(n.block for n in document.graph.nodes.values())


def test_an_opened_block_edits_every_instance(window, qtbot, tmp_path):
    document = opened(window, qtbot, tmp_path)
    layers = [node(document.project, label).id for label in ("fc1", "bn1", "relu1")]
    document.select(layers)
    block = window.blocks.make_block("Dense", [])
    (instance,) = [n.id for n in document.graph.nodes.values() if n.block is block]
    document.undo_stack.clear()  # the edits below are the editor's
    double_click(window.canvas, instance)
    qtbot.waitUntil(lambda: bool(window.blocks.editors), timeout=5000)
    editor: BlockEditor = window.blocks.editors[-1]
    assert editor.findChild(QLabel, "breadcrumb").text() == "model > dense (Dense)"
    inner = editor.document
    fc = next(n.id for n in inner.graph.nodes.values() if n.label == "fc1")
    qtbot.waitUntil(lambda: inner.inference.results[fc].ok)  # shapes as the instance sees them
    assert inner.inference.results[fc].output.shape[1:] == (32,)
    assert inner.push(SetParams(fc, {"out_features": 48}))
    result = document.inference.results[instance]
    assert result.output.shape[1:] == (48,) and window.isWindowModified()
    inner.undo_stack.undo()
    assert document.inference.results[instance].output.shape[1:] == (32,)


def test_ungroup_make_unique_and_repeat_from_the_edit_menu(window, qtbot, tmp_path):
    document = opened(window, qtbot, tmp_path)
    layers = [node(document.project, label).id for label in ("bn1", "relu1")]
    document.select(layers)
    block = window.blocks.make_block("Norm", [])
    (instance,) = [n.id for n in document.graph.nodes.values() if n.block is block]
    document.select([instance])
    window.menu_actions["make_unique"].trigger()
    assert document.graph.nodes[instance].type == "Norm2"
    window.blocks.repeat(3)
    stage = document.graph.nodes[instance].block
    assert stage.sequential and len(stage.graph.nodes) == 5
    assert stage.name == "Norm2Stage" and [b.name for b in stage.uses()] == ["Norm2"]
    assert "Norm2Stage" in window.layer_palette.visible_types()
    document.select([instance])
    window.menu_actions["ungroup"].trigger()
    assert sum(n.type == "Norm2" for n in document.graph.nodes.values()) == 3
    for _ in range(3):
        document.undo_stack.undo()
    assert document.graph.nodes[instance].block is block


def test_an_inner_value_a_block_parameter_sets_is_not_edited_inside(window, qtbot, tmp_path):
    from PySide6.QtWidgets import QWidget

    document = opened(window, qtbot, tmp_path)
    fc1 = node(document.project, "fc1").id
    document.select([fc1, node(document.project, "bn1").id])
    block = window.blocks.make_block("Dense", [(fc1, "out_features")])
    instance = next(n.id for n in document.graph.nodes.values() if n.block is block)
    editor = window.blocks.open(instance)
    editor.document.select([fc1])
    qtbot.waitUntil(lambda: editor.findChild(QWidget, "out_features") is not None)
    field = editor.findChild(QWidget, "out_features")
    assert not field.isEnabled() and "'out_features'" in field.toolTip()
    assert editor.findChild(QWidget, "bias").isEnabled()


def test_an_editor_is_locked_while_the_model_trains_and_closes_with_its_project(
    window, qtbot, tmp_path
):
    document = opened(window, qtbot, tmp_path)
    document.select([node(document.project, "bn1").id, node(document.project, "relu1").id])
    block = window.blocks.make_block("Norm", [])
    editor = window.blocks.open(next(n.id for n in document.graph.nodes.values() if n.block))
    document.set_locked("training")
    bn = next(n.id for n in editor.document.graph.nodes.values() if n.label == "bn1")
    assert not editor.document.push(SetParams(bn, {"eps": 0.01}))  # refused while it trains
    assert block.graph.nodes[bn].params["eps"] == 1e-5
    document.set_locked("")
    assert editor.document.push(SetParams(bn, {"eps": 0.01}))
    window.files.new()
    qtbot.waitUntil(lambda: window.blocks.editors == [], timeout=5000)


def test_an_edit_two_blocks_down_reaches_the_model_and_one_editor_serves_a_block(
    window, qtbot, tmp_path
):
    document = opened(window, qtbot, tmp_path)
    document.select([node(document.project, "bn1").id, node(document.project, "relu1").id])
    inner = window.blocks.make_block("Norm", [])
    norm = next(n.id for n in document.graph.nodes.values() if n.block is inner)
    document.select([norm, node(document.project, "fc2").id])
    outer = window.blocks.make_block("Head", [])
    head = next(n.id for n in document.graph.nodes.values() if n.block is outer)
    document.undo_stack.setClean()
    first = window.blocks.open(head)
    assert window.blocks.open(head) is first  # raised again, not a second history
    second = first.actions.open(norm)
    bn = next(n.id for n in second.document.graph.nodes.values() if n.label == "bn1")
    assert second.document.push(SetParams(bn, {"eps": 0.01}))
    assert document.modified and window.isWindowModified()
    second.close()
    qtbot.waitUntil(lambda: first.actions.editors == [], timeout=5000)
