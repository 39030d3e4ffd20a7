"""File > Import Python Model, driven with real key presses and clicks, and File >
Export Trained Model with nothing trained."""

from pathlib import Path

from PySide6.QtCore import Qt

from gui.import_dialog import ImportDialog, module_classes, parse_shapes
from gui.problems import collect_problems, inference_ready

CORPUS = Path(__file__).resolve().parents[1] / "engine" / "import_corpus"


def filled_dialog(qtbot, window, path: Path, class_name: str, shapes: str) -> ImportDialog:
    dialog = ImportDialog(window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.path, str(path))
    qtbot.keyClick(dialog.path, Qt.Key.Key_Return)  # lists the file's classes
    dialog.class_name.setCurrentText(class_name)
    dialog.shapes.clear()
    qtbot.keyClicks(dialog.shapes, shapes)
    return dialog


def test_an_imported_model_opens_as_a_new_project_with_its_custom_code_allowed(window, qtbot):
    path = CORPUS / "custom_layer.py"
    dialog = filled_dialog(qtbot, window, path, "WithCustom", "1,10")
    assert "WithCustom" in [dialog.class_name.itemText(i) for i in range(dialog.class_name.count())]
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert dialog.result is not None and not dialog.isVisible()
    window.open_import(dialog.result)
    types = [node.type for node in window.document.graph.nodes.values()]
    assert types.count("Custom") >= 2 and "Linear" in types
    assert window.document.trust.custom_code and window.document.path is None
    qtbot.waitUntil(lambda: inference_ready(window.document))
    assert collect_problems(window.document) == []  # the Custom layers' shapes are known
    assert "Imported WithCustom" in window.statusBar().currentMessage()


def test_a_failed_import_lists_the_problem_and_keeps_the_dialog(window, qtbot, tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import torch\nfrom torch import nn\n\n\nclass Net(nn.Module):\n"
        "    def forward(self, x):\n        return torch.einsum('ij->ji', x)\n"
    )
    dialog = filled_dialog(qtbot, window, bad, "Net", "1,4")
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.result is None
    assert "bad.py line 7" in dialog.problems.text()
    dialog.shapes.clear()
    qtbot.keyClicks(dialog.shapes, "1,x")
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert "input shape '1,x'" in dialog.problems.text()


def test_classes_are_found_without_running_the_file(tmp_path):
    path = tmp_path / "models.py"
    path.write_text(
        "raise SystemExit('never run')\nimport torch.nn as nn\n"
        "class Helper:\n    pass\nclass A(nn.Module):\n    pass\n"
        "class B(nn.Sequential):\n    pass\n"
    )
    assert module_classes(path) == ["A", "B"]
    assert module_classes(tmp_path / "missing.py") == []
    assert parse_shapes("1,3,8,8; 1, 10") == [(1, 3, 8, 8), (1, 10)]


def test_exporting_a_trained_model_with_nothing_trained_says_what_to_do(window):
    window.export_trained()
    assert "Train the model, or load a run's weights" in window.errors[0]
