"""The main window as a user meets it: files, shortcuts, clipboard, closing, recovery."""

import gc

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget

from engine.document.commands import SetParams
from engine.document.project import load, save
from engine.model.build import load_class
from gui import MainWindow
from gui.files import recovery_path
from tests.gui.canvas_helpers import drop_layer
from tests.paths import PRESETS


def test_the_automation_names_are_there(window):
    for name in ("palette", "canvas", "inspector", "codePreview", "problems"):
        assert window.findChild(QWidget, name) is not None, name


def test_opening_a_project_file_shows_it_and_names_the_window(window, own_preset):
    assert window.open_project(own_preset("digits_cnn"))
    assert len(window.document.graph.nodes) == 12
    assert window.windowTitle() == "digits_cnn.json[*] - Torchwright"
    assert not window.isWindowModified()
    assert window.files.recent()[0].endswith("digits_cnn.json")


def test_a_bad_file_opens_nothing_and_keeps_the_current_document(window, tmp_path, own_preset):
    window.open_project(own_preset("digits_mlp"))
    before = set(window.document.graph.nodes)
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1, "nodes": [{"id": "a", "type": "Dense"}]}')
    assert not window.open_project(bad)
    assert "nodes[0].type: unknown layer type 'Dense'" in window.errors[0]
    assert set(window.document.graph.nodes) == before
    assert window.document.path.name == "digits_mlp.json"


def test_drop_delete_undo_redo_with_real_events_and_shortcuts(window, qtbot):
    drop_layer(window.canvas, b"Linear", QPoint(200, 150))
    graph = window.document.graph
    (node_id,) = graph.nodes
    assert graph.nodes[node_id].type == "Linear"
    assert window.isWindowModified()
    window.document.select([node_id])
    window.canvas.setFocus()
    QTest.keyClick(window.canvas.viewport(), Qt.Key.Key_Delete)
    assert graph.nodes == {}
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert list(graph.nodes) == [node_id]
    QTest.keyClick(window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert graph.nodes == {}


def test_copy_paste_duplicates_the_selection_with_new_labels(window):
    window.open_project(PRESETS / "digits_mlp.json")
    graph = window.document.graph
    fc_ids = [n.id for n in graph.nodes.values() if n.type in ("Linear", "ReLU")]
    window.document.select(fc_ids)
    QTest.keyClick(window, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(window, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert len(graph.nodes) == 5 + 3
    pasted = window.document.selected
    assert [graph.nodes[n].label for n in pasted] == ["fc3", "relu2", "fc4"]
    assert len(graph.inputs_of(pasted[1])) == 1  # the wire between the copies came along
    window.document.undo_stack.undo()
    assert len(graph.nodes) == 5


def test_save_writes_the_file_and_clears_the_modified_mark(window, tmp_path):
    window.files.open_preset("multitask")
    assert window.document.path is None
    window.document.add_layer("ReLU", (0, 400))
    target = tmp_path / "mine"
    window.files.ask_save_path = lambda: str(target)
    QTest.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    saved = tmp_path / "mine.json"
    assert load(saved).graph.nodes.keys() == window.document.graph.nodes.keys()
    assert not window.isWindowModified()
    assert window.windowTitle() == "mine.json[*] - Torchwright"


@pytest.mark.parametrize(("answer", "closes"), [("cancel", False), ("discard", True)])
def test_closing_with_unsaved_changes_asks(window, answer, closes):
    window.document.add_layer("Linear", (0, 0))
    asked = []
    window.files.ask_unsaved = lambda: asked.append(True) or answer
    window.close()
    assert asked and window.isVisible() is not closes


def test_unsaved_work_is_recovered_after_a_crash(window, qtbot, tmp_path, own_preset):
    window.open_project(own_preset("digits_mlp"))
    window.document.add_layer("Dropout", (500, 300))
    window.files.write_recovery()
    assert recovery_path().exists()
    settings = QSettings(str(tmp_path / "other.ini"), QSettings.Format.IniFormat)
    second = MainWindow(settings)
    qtbot.addWidget(second)
    assert second.files.recover()
    assert {n.type for n in second.document.graph.nodes.values()} >= {"Dropout", "Linear"}
    assert second.document.modified
    assert second.document.path.name == "digits_mlp.json"
    second.document.undo_stack.setClean()


def test_export_writes_a_model_that_runs(window, tmp_path):
    window.open_project(PRESETS / "custom_layer.json")
    window.menu_actions["custom_code"].trigger()  # exporting runs its Custom layer's code
    target = window.export_to(tmp_path / "export")
    model = load_class(target.read_text())()
    assert sum(p.numel() for p in model.parameters()) == 163
    script = (tmp_path / "export" / "train.py").read_text()
    assert "class Affine(nn.Module)" in script and "load_iris()" in script
    assert "model.py and train.py" in window.statusBar().currentMessage()


def test_export_of_a_broken_graph_says_why(window, tmp_path):
    window.document.add_layer("Linear", (0, 0))
    assert window.export_to(tmp_path) is None
    assert "no Output node" in window.errors[0]
    assert not (tmp_path / "model.py").exists()


def test_the_preset_gallery_lists_every_preset_with_its_description(window, qtbot):
    from gui.preset_gallery import PresetGallery

    gallery = PresetGallery(PRESETS, window)
    qtbot.addWidget(gallery)
    items = [gallery.list.item(i) for i in range(gallery.list.count())]
    assert len(items) == len(list(PRESETS.glob("*.json")))
    gallery.list.setCurrentRow(
        [i.text() for i in items].index(
            next(t for t in (i.text() for i in items) if t.startswith("Digits cnn"))
        )
    )
    assert "CNN" in gallery.list.currentItem().text()
    assert gallery.chosen() == "digits_cnn"
    window.files.open_preset(gallery.chosen())
    assert window.document.path is None and len(window.document.graph.nodes) == 12


def test_a_preset_opened_by_path_is_an_unsaved_copy_saved_only_elsewhere(window, tmp_path):
    preset = PRESETS / "digits_mlp.json"
    original = preset.read_bytes()
    assert window.open_project(preset)
    assert window.document.path is None
    assert window.windowTitle() == "digits_mlp (unsaved)[*] - Torchwright"
    assert "is a preset" in window.statusBar().currentMessage()
    assert window.files.recent() == []
    asked = []
    window.files.ask_save_path = lambda: asked.append("where?") or str(preset)
    QTest.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert asked == ["where?"]  # Save asks for a path: the copy has no file of its own
    assert "holds Torchwright's presets" in window.errors[0]
    window.files.ask_save_path = lambda: str(PRESETS / "another")
    assert not window.files.save_as()
    assert not (PRESETS / "another.json").exists() and preset.read_bytes() == original
    window.files.ask_save_path = lambda: str(tmp_path / "mine.json")
    assert window.files.save()
    assert window.document.path == tmp_path / "mine.json"
    assert load(tmp_path / "mine.json").graph.nodes.keys() == window.document.graph.nodes.keys()


def test_layout_and_recent_files_are_remembered(window, qtbot, own_preset):
    window.open_project(own_preset("digits_mlp"))
    assert [a.text() for a in window.recent_menu.actions()] == ["digits_mlp.json"]
    window.docks["history"].close()
    window.close()
    again = MainWindow(window.settings)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    assert again.docks["history"].isHidden()
    assert not again.docks["palette"].isHidden()
    assert [a.text() for a in again.recent_menu.actions()] == ["digits_mlp.json"]
    again.recent_menu.actions()[0].trigger()
    assert again.document.path.name == "digits_mlp.json"


def test_custom_code_from_a_file_runs_only_when_the_user_allows_it(window, qtbot):
    window.open_project(PRESETS / "custom_layer.json")
    inference, graph = window.document.inference, window.document.graph
    custom = next(n.id for n in graph.nodes.values() if n.type == "Custom")
    out = next(n.id for n in graph.nodes.values() if n.type == "Output")
    assert inference.results[custom].status == "waiting"
    assert "Run Custom Layer Code" in window.statusBar().currentMessage()
    window.menu_actions["custom_code"].trigger()
    assert window.menu_actions["custom_code"].isChecked()
    assert window.document.inference.results[out].output.describe() == "[N, 3]"
    qtbot.waitUntil(lambda: "self.affine = Affine()" in window.code_preview.editor.toPlainText())
    window.open_project(PRESETS / "custom_layer.json")  # another file: asked again
    assert not window.menu_actions["custom_code"].isChecked()
    assert window.document.inference.results[custom].status == "waiting"


def test_a_custom_layer_added_in_the_app_runs_at_once(window):
    x = window.document.add_layer("Input", (0.0, 0.0))
    custom = window.document.add_layer("Custom", (300.0, 0.0), wire_from=x)
    window.document.push(SetParams(x, {"shape": [16]}))
    assert window.document.inference.results[custom].output.describe() == "[N, 16]"


def test_adding_a_custom_layer_does_not_run_the_files_custom_code(window, tmp_path):
    project = load(PRESETS / "custom_layer.json")
    from_file = next(n.id for n in project.graph.nodes.values() if n.type == "Custom")
    # the preset's code is the palette's template, which is ours: make it the file's own
    project.graph.nodes[from_file].params["source"] += "# from the file\n"
    save(project, tmp_path / "theirs.json")
    window.open_project(tmp_path / "theirs.json")
    mine = window.document.add_layer("Custom", (0.0, 300.0))
    assert window.document.inference.results[from_file].status == "waiting"
    assert not window.menu_actions["custom_code"].isChecked()
    assert window.document.inference.may_run(mine)
    assert not window.document.inference.may_run(from_file)


def test_renaming_an_output_keeps_its_loss(window):
    window.open_project(PRESETS / "linear_regression.json")
    out = next(n.id for n in window.document.graph.nodes.values() if n.type == "Output")
    window.document.push(SetParams(out, label="price"))
    assert window.document.project.losses()["price"]["loss"] == "MSELoss"
    window.document.undo_stack.undo()
    assert window.document.project.losses()["y"]["loss"] == "MSELoss"


def test_the_cycle_collector_runs_on_the_gui_thread_only(window):
    # Collected from a worker thread, a Qt object's destructor can deadlock with the
    # GUI thread: automatic collection is off, and the window collects on a timer.
    assert not gc.isenabled()
    assert window._collector.timer.isActive()
    assert window._collector.timer.thread() is window.thread()
