"""In the window, an action that runs a project's Custom layer code asks first when the
file's code is not allowed: Export Code, Train, Load Weights, a run's Export and Try It.
No runs nothing; Yes allows the file's code (once per file) and the action goes on.
The marker the Custom layer's class body writes shows what ran."""

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from engine.document.commands import SetParams
from engine.document.project import load
from engine.runs.store import runs_folder
from gui.training.try_it import NOT_RUN
from tests.custom_marker import saved_marked_project, traces
from tests.run_helpers import train_run

RUN_MS = 30_000
YES, NO = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No


def answering(monkeypatch, *answers):
    """Answer the questions asked with `answers`, in turn; returns the questions' texts."""
    asked = []

    def question(parent, title, text, *_):
        asked.append(text)
        return answers[len(asked) - 1]

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


def click_in_next_question(button) -> None:
    """Click `button` of the question box that opens next, as the user would."""

    def click():
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox), box
        box.button(button).click()

    QTimer.singleShot(0, click)


def click(qtbot, widget) -> None:
    assert widget.isEnabled(), widget.objectName()
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def test_export_code_asks_and_exports_only_on_yes(window, tmp_path, monkeypatch):
    path, marker = saved_marked_project(tmp_path)
    window.open_project(path)
    assert not marker.exists()  # opening infers shapes without the Custom code
    out = tmp_path / "out"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_: str(out))
    click_in_next_question(NO)
    window.menu_actions["export"].trigger()
    assert "Not exported" in window.statusBar().currentMessage()
    assert not marker.exists() and not out.exists()
    assert not window.menu_actions["custom_code"].isChecked()
    click_in_next_question(YES)
    window.menu_actions["export"].trigger()
    assert (out / "model.py").is_file() and (out / "train.py").is_file()
    assert "class" in traces(marker)
    assert window.menu_actions["custom_code"].isChecked()  # allowed for this file now
    asked = answering(monkeypatch)  # no more questions for this file
    assert window.export_to(tmp_path / "again") == tmp_path / "again" / "model.py"
    assert asked == []


def test_the_question_names_the_file_and_its_custom_layers(window, tmp_path, monkeypatch):
    path, marker = saved_marked_project(tmp_path)
    window.open_project(path)
    asked = answering(monkeypatch, NO)
    assert window.export_to(tmp_path / "out") is None
    assert asked == [
        "This project's Custom layers hold code from the file marked.json ('affine'). "
        "This action runs it, and it can do whatever your programs can: read it first "
        "(the Inspector shows a selected layer's code).\n\nRun it?"
    ]
    window.open_project(path)  # another opening: asked again
    asked = answering(monkeypatch, NO)
    window.export_to(tmp_path / "out")
    assert len(asked) == 1 and not marker.exists()


def test_custom_layers_added_in_the_app_export_without_a_question(window, tmp_path, monkeypatch):
    document = window.document
    x = document.add_layer("Input", (0.0, 0.0))
    custom = document.add_layer("Custom", (300.0, 0.0), wire_from=x)
    document.add_layer("Output", (600.0, 0.0), wire_from=custom)
    document.push(SetParams(x, {"shape": [16]}))  # the template's Affine takes 16 features
    asked = answering(monkeypatch)
    assert window.export_to(tmp_path) == tmp_path / "model.py", window.errors
    assert asked == []


def test_train_asks_and_trains_only_on_yes_then_try_it_asks_once_withdrawn(
    window, qtbot, tmp_path, monkeypatch
):
    path, marker = saved_marked_project(tmp_path)
    window.open_project(path)
    controller, bar = window.training.session.controller, window.training.bar
    answering(monkeypatch, NO, YES)
    click(qtbot, bar.train)
    assert not controller.is_running and not marker.exists()
    assert "Custom layer 'affine' comes from the file" in bar.status.text()
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS):
        click(qtbot, bar.train)
    assert traces(marker)[0] == "class" and "forward" in traces(marker)  # in the child
    try_it = window.training.try_it
    assert try_it.model is not None and try_it.prediction.text() != NOT_RUN
    qtbot.waitUntil(lambda: not try_it.explanation.working)  # its explanation ran too
    window.menu_actions["custom_code"].trigger()  # the user withdraws the permission
    assert not window.menu_actions["custom_code"].isChecked()
    marker.unlink()
    answering(monkeypatch, NO, YES)
    click(qtbot, try_it.random_button)
    assert try_it.prediction.text() == NOT_RUN and not marker.exists()
    click(qtbot, try_it.random_button)
    assert try_it.prediction.text() != NOT_RUN
    assert "forward" in traces(marker)


def saved_with_a_run(tmp_path):
    """A marked project with one run trained (allowed) beside it; the marker removed."""
    path, marker = saved_marked_project(tmp_path)
    train_run(runs_folder(path), load(path))
    marker.unlink()
    return path, marker


def test_load_weights_asks_and_loads_only_on_yes(window, qtbot, tmp_path, monkeypatch):
    path, marker = saved_with_a_run(tmp_path)
    window.open_project(path)
    history, runs = window.training.history, window.training.runs_table
    runs.table.selectRow(0)
    answering(monkeypatch, NO, YES)
    click(qtbot, runs.load_button)
    assert window.training.bar.status.text() == "Not loaded: the Custom layers' code was not run."
    assert history.latest() is None and not marker.exists()
    with qtbot.waitSignal(history.weights_loaded, timeout=RUN_MS):
        click(qtbot, runs.load_button)
    assert "class" in traces(marker)
    assert window.training.try_it.model.custom_layers.keys() == {"affine"}


def test_a_runs_export_asks_and_exports_only_on_yes(window, qtbot, tmp_path, monkeypatch):
    path, marker = saved_with_a_run(tmp_path)
    window.open_project(path)
    history, runs = window.training.history, window.training.runs_table
    out = tmp_path / "export"
    history.ask_export_folder = lambda record: str(out)
    runs.table.selectRow(0)
    asked = answering(monkeypatch, NO, YES)
    click(qtbot, runs.export_button)
    assert "'class Affine'" in asked[0]
    assert not out.exists() and not marker.exists()
    click(qtbot, runs.export_button)
    assert (out / "model.torchscript.pt").is_file()
    assert "class" in traces(marker)
