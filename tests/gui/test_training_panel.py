"""Training from the main window as a user does it: settings, Train, live plots, pause,
resume, stop, closing or opening a project mid-run, and errors. Waits on signals only."""

from pathlib import Path

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt, QThread
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QWidget,
)
from safetensors.torch import load_file

from engine.document.commands import SetParams
from engine.document.project import save
from engine.model.build import load_class
from gui.training import TrainingState
from tests.gui.test_try_it import type_index
from tests.paths import PRESETS
from tests.run_helpers import custom_layer_failing

RUN_MS = 30_000


def open_preset(window, name: str, **training):
    assert window.files.open_preset(name)
    for key, value in training.items():
        window.document.project.training[key] = value
    return window.training.session.controller


def button(window, name: str) -> QPushButton:
    return window.findChild(QPushButton, name)


def plotted(qtbot, window, plot_name: str) -> dict[str, int]:
    """Points held by each named curve of a plot, once every plot has had its turn."""
    qtbot.waitUntil(lambda: not window.training.plots.drawing)
    plot = window.findChild(pg.PlotWidget, plot_name)
    counts = {}
    for item in plot.getPlotItem().listDataItems():
        x, _ = item.getOriginalDataset()
        counts[item.name()] = 0 if x is None else len(x)
    return counts


def click(qtbot, widget) -> None:
    assert widget.isEnabled(), widget.objectName()
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def type_in(qtbot, edit, text: str) -> None:
    """Replace a line edit's text by typing, and commit it with Enter."""
    edit.selectAll()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def test_the_automation_names_are_there(window):
    for name, kind in (
        ("trainButton", QPushButton),
        ("pauseButton", QPushButton),
        ("stopButton", QPushButton),
        ("progress", QProgressBar),
        ("deviceCombo", QComboBox),
        ("lossPlot", pg.PlotWidget),
        ("accuracyPlot", pg.PlotWidget),
    ):
        assert window.findChild(kind, name) is not None, name


def test_train_plots_batches_and_epochs_and_reports_the_result(window, qtbot):
    controller = open_preset(window, "digits_mlp", epochs=3)
    said = []
    controller.started.connect(lambda _: said.append(window.training.bar.status.text()))
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS) as done:
        click(qtbot, button(window, "trainButton"))
    assert done.args[0]["status"] == "completed"
    assert "Initial loss 2.3" in said[0] and "expected about ln 10 = 2.30" in said[0]
    assert window.tabs.currentWidget() is window.training
    loss = plotted(qtbot, window, "lossPlot")
    per_epoch = window.training.plots.batches_per_epoch
    assert per_epoch > 10
    assert loss["batch"] == loss["batch, smoothed"] == 3 * per_epoch
    assert loss["train (epoch)"] == loss["validation"] == 3
    assert plotted(qtbot, window, "accuracyPlot") == {"train accuracy": 3, "val accuracy": 3}
    progress = window.findChild(QProgressBar, "progress")
    assert progress.value() == progress.maximum()
    status = window.training.bar.status.text()
    assert status.startswith("Finished after 3 epoch(s)") and "val accuracy" in status
    assert "epoch 2:" in window.training.plots.describe(2.0)
    plots = window.training.plots
    assert plots.train_curve.item.opts["symbol"] == "o"  # the ended run's epochs marked
    # the trained model is evaluated on the validation split, and can be tried
    per_class = window.findChild(QTableWidget, "perClassTable")
    assert per_class.rowCount() >= 10 and per_class.item(0, 0).text() == "0"
    assert window.findChild(QLabel, "prediction").text()


def test_pause_resume_and_stop_from_the_buttons_with_the_graph_read_only(window, qtbot):
    controller = open_preset(window, "digits_mlp", epochs=400)
    document = window.document
    with qtbot.waitSignal(controller.epochs_finished, timeout=RUN_MS):
        click(qtbot, button(window, "trainButton"))
    pause = button(window, "pauseButton")
    with qtbot.waitSignal(
        controller.state_changed, check_params_cb=lambda s: s == TrainingState.PAUSED
    ):
        click(qtbot, pause)
    assert pause.text() == "Resume"
    assert not window.canvas.isInteractive() and not window.layer_palette.isEnabled()
    out = next(n for n in document.graph.nodes.values() if n.type == "Output")
    with qtbot.waitSignal(document.edit_refused) as refused:
        assert not document.push(SetParams(out.id, label="renamed"))
    assert "read-only while it trains" in refused.args[0]
    assert not window.menu_actions["undo"].isEnabled()
    rows = len(window.training.plots.history)
    with qtbot.waitSignal(controller.epochs_finished, timeout=RUN_MS):
        click(qtbot, pause)  # resume
    assert len(window.training.plots.history) > rows
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS) as done:
        click(qtbot, button(window, "stopButton"))
    assert done.args[0]["status"] == "stopped" and done.args[0]["epochs"] < 400
    assert window.canvas.isInteractive() and document.push(SetParams(out.id, label="renamed"))
    assert window.training.bar.status.text().startswith("Stopped after")
    assert button(window, "trainButton").isEnabled()


def test_closing_the_window_mid_run_stops_and_joins_the_worker(window, qtbot):
    controller = open_preset(window, "digits_mlp", epochs=400)
    with qtbot.waitSignal(controller.epochs_finished, timeout=RUN_MS):
        click(qtbot, button(window, "trainButton"))
    thread = controller._thread
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS):
        assert window.close()
    assert controller.state == TrainingState.IDLE and thread.isFinished()
    assert not any(isinstance(t, QThread) and t.isRunning() for t in window.findChildren(QThread))


def test_opening_another_project_mid_run_ends_the_run_first(window, qtbot):
    controller = open_preset(window, "digits_mlp", epochs=400)
    with qtbot.waitSignal(controller.epochs_finished, timeout=RUN_MS):
        click(qtbot, button(window, "trainButton"))
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS) as done:
        assert window.open_project(PRESETS / "linear_regression.json")
    assert done.args[0]["status"] == "stopped"
    assert controller.state == TrainingState.IDLE and not window.document.lock_reason
    assert window.canvas.isInteractive()


def test_a_failing_run_shows_its_message_and_the_app_stays_usable(window, qtbot, tmp_path):
    controller = open_preset(window, "digits_mlp")
    window.document.project.data.update(kind="csv", path=str(tmp_path / "missing.csv"))
    with qtbot.waitSignal(controller.failed, timeout=RUN_MS) as failed:
        click(qtbot, button(window, "trainButton"))
    assert "missing.csv" in failed.args[0]
    status = window.training.bar.status
    assert status.text().startswith("Training failed:") and "missing.csv" in status.text()
    assert button(window, "trainButton").isEnabled() and not window.document.lock_reason
    window.document.project.data.update(kind="builtin", path="")
    window.document.project.training["epochs"] = 1
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS):
        click(qtbot, button(window, "trainButton"))


def test_choices_that_cannot_work_are_explained_before_any_run(window, qtbot):
    controller = open_preset(window, "linear_regression")
    document = window.document
    label = document.project.output_labels()[0]
    assert document.set_setting(("losses", label, "loss"), "CrossEntropyLoss")
    click(qtbot, button(window, "trainButton"))
    assert controller.state == TrainingState.IDLE
    status = window.training.bar.status.text()
    assert "CrossEntropyLoss needs one score per class" in status and label in status
    document.undo_stack.undo()
    assert document.setting(("losses", label, "loss")) == "MSELoss"
    document.set_setting(("training", "device"), "cuda:7")
    combo = window.findChild(QComboBox, "deviceCombo")
    assert combo.currentText() == "cuda:7 (not on this machine)"
    click(qtbot, button(window, "trainButton"))
    assert controller.state == TrainingState.IDLE
    assert "'cuda:7' is not on this machine" in window.training.bar.status.text()


def test_the_device_list_offers_this_machine_and_sets_the_project(window, qtbot):
    open_preset(window, "digits_mlp")
    combo = window.findChild(QComboBox, "deviceCombo")
    values = [combo.itemData(i) for i in range(combo.count())]
    assert values[:2] == ["auto", "cpu"]
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # the next entry, as picked with the keyboard
    assert window.document.setting(("training", "device")) == "cpu"
    window.document.undo_stack.undo()
    assert combo.currentData() == "auto"


def test_settings_are_edited_in_the_form_with_undo(window, qtbot):
    open_preset(window, "digits_mlp")
    document = window.document
    form = window.training_settings
    lr = form.training.editor("lr")
    type_in(qtbot, lr.edit, "0.5")
    assert document.project.training["lr"] == 0.5
    type_in(qtbot, lr.edit, "1000")
    assert document.project.training["lr"] == 0.5
    assert "lr must be" in form.training.fields["lr"].error.text()
    training = form.training
    assert training.form.isRowVisible(training.editor("momentum"))  # the preset uses SGD
    assert not training.form.isRowVisible(training.editor("step_size"))  # no scheduler
    optimizer = training.editor("optimizer").combo
    assert optimizer.itemData(optimizer.currentIndex() + 1) == "Adam"
    qtbot.keyClick(optimizer, Qt.Key.Key_Down)
    assert not training.form.isRowVisible(training.editor("momentum"))
    kind = form.data.editor("kind")
    assert kind.combo.itemData(kind.combo.currentIndex() + 1) == "synthetic"
    qtbot.keyClick(kind.combo, Qt.Key.Key_Down)
    assert document.project.data["kind"] == "synthetic"
    assert form.data.form.isRowVisible(form.data.editor("samples"))
    assert not form.data.form.isRowVisible(form.data.editor("path"))
    names = form.data.editor("name").combo
    assert names.itemData(0) == "blobs"
    assert document.project.data["name"] == "blobs"  # digits is no generator: same step
    assert names.currentData() == "blobs"
    for _ in range(3):
        document.undo_stack.undo()
    assert document.project.data["kind"] == "builtin"
    assert document.project.data["name"] == "digits"
    assert document.project.training["optimizer"] == "SGD"
    assert document.project.training["lr"] == 0.01
    assert form.training.editor("lr").edit.text() == "0.01"


def test_mixed_precision_is_offered_only_where_a_cuda_gpu_would_train(window, qtbot):
    open_preset(window, "digits_mlp")
    form, document = window.training_settings, window.document
    shown = lambda: form.training.form.isRowVisible(form.training.editor("mixed_precision"))  # noqa: E731
    form.set_devices([("auto", "Auto (CPU)"), ("cpu", "CPU")])
    assert not shown()
    document.set_setting(("training", "device"), "cuda:0")  # a project from a GPU machine
    assert shown()
    document.set_setting(("training", "device"), "cpu")
    assert not shown()
    document.set_setting(("training", "mixed_precision"), True)
    assert shown()  # on, so it can be turned off
    document.set_setting(("training", "mixed_precision"), False)
    form.set_devices([("auto", "Auto (GPU 0)"), ("cpu", "CPU"), ("cuda:0", "GPU 0")])
    document.set_setting(("training", "device"), "auto")
    assert shown()


def test_threads_are_offered_only_where_the_cpu_would_train(window, qtbot):
    open_preset(window, "digits_mlp")
    form, document = window.training_settings, window.document
    shown = lambda: form.training.form.isRowVisible(form.training.editor("threads"))  # noqa: E731
    form.set_devices([("auto", "Auto (CPU)"), ("cpu", "CPU")])
    assert shown()
    assert form.training.editor("threads").spin.text() == "none"  # not set: chosen per run
    document.set_setting(("training", "device"), "cuda:0")
    assert not shown()
    document.set_setting(("training", "device"), "mps")
    assert not shown()
    document.set_setting(("training", "device"), "cpu")
    assert shown()


def test_a_renamed_output_keeps_its_loss_form(window, qtbot):
    open_preset(window, "multitask")
    form = window.training_settings
    labels = list(form.losses)
    assert len(labels) == 2
    out = next(n for n in window.document.graph.nodes.values() if n.label == labels[0])
    window.document.push(SetParams(out.id, label="price"))
    assert list(form.losses) == ["price", labels[1]]
    assert form.findChild(QWidget, "losses_price_loss") is not None


def test_plots_export_as_png_and_csv(window, qtbot, tmp_path):
    controller = open_preset(window, "linear_regression", epochs=2)
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS):
        click(qtbot, button(window, "trainButton"))
    plots = window.training.plots
    assert plotted(qtbot, window, "accuracyPlot") == {"train R²": 2, "val R²": 2}
    plots.export_png(tmp_path / "plots.png")
    assert (tmp_path / "plots.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    batches = plots.export_csv(tmp_path / "run.csv")
    lines = (tmp_path / "run.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,lr,") and len(lines) == 3
    assert batches.read_text().splitlines()[0] == "epoch_position,loss,smoothed_loss"


class Draws:
    """Every `setData` on the live plots' curves (name, points, symbol), with a "tick"
    after each timer burst of the controller and "end" when the run has ended."""

    def __init__(self, window, monkeypatch):
        self.log: list = []
        plots = window.training.plots
        shown = (plots.loss_plot, plots.score_plot, plots.lr_plot)
        set_data = pg.PlotDataItem.setData

        def logged(item, *args, **kwargs):
            if any(item in plot.getPlotItem().listDataItems() for plot in shown):
                x = args[0] if args else []
                self.log.append((item.name(), len(x), kwargs.get("symbol", "unchanged")))
            return set_data(item, *args, **kwargs)

        monkeypatch.setattr(pg.PlotDataItem, "setData", logged)
        controller = window.training.session.controller
        controller.started.connect(lambda _: self.log.clear())  # after the plots' reset
        controller._timer.timeout.connect(lambda: self.log.append("tick"))  # after its drain
        controller.finished.connect(lambda _: self.log.append("end"))

    def of(self, name: str) -> list[tuple[int, str]]:
        """(points, symbol) of each draw of the curve `name`."""
        return [entry[1:] for entry in self.log if entry[0] == name and len(entry) == 3]

    def bursts(self) -> list[list[tuple]]:
        """The draws between two marks, one list per tick or end, in order."""
        groups, current = [], []
        for entry in self.log:
            if isinstance(entry, str):
                groups.append(current)
                current = []
            else:
                current.append(entry)
        return groups


def test_a_long_run_draws_each_curve_at_most_once_per_burst(window, qtbot, monkeypatch):
    controller = open_preset(window, "linear_regression", epochs=400)
    draws = Draws(window, monkeypatch)
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS):
        click(qtbot, button(window, "trainButton"))
    for burst in draws.bursts():
        names = [name for name, *_ in burst]
        assert len(names) == len(set(names)), names
    rates = draws.of("lr")
    assert rates and all(symbol is None for _, symbol in rates)  # unmarked while live
    assert plotted(qtbot, window, "lossPlot") == {
        "batch": 400,
        "batch, smoothed": 400,
        "train (epoch)": 400,
        "validation": 400,
    }
    assert plotted(qtbot, window, "accuracyPlot") == {"train R²": 400, "val R²": 400}
    plots = window.training.plots
    for curve in (plots.train_curve, plots.smooth_curve, *plots.score_curves.values()):
        assert curve.item.opts["symbol"] is None and curve.item.opts["pen"].width() == 1
    assert "epoch 399:" in plots.describe(399.2)


def test_the_end_of_a_run_is_one_redraw_of_each_curve(window, qtbot, monkeypatch):
    controller = open_preset(window, "linear_regression", epochs=200)
    draws = Draws(window, monkeypatch)
    controller.started.connect(lambda _: controller._timer.stop())  # all waits for the end
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS):
        click(qtbot, button(window, "trainButton"))
    qtbot.waitUntil(lambda: not window.training.plots.drawing)
    assert "tick" not in draws.log
    # After the run's start has emptied the curves (drawn in turn after `started`),
    # nothing until the end, whose drawing comes in turn after it.
    drawn = [entry for entry in draws.log if entry != "end" and entry[1]]
    assert sorted(name for name, *_ in drawn) == sorted(
        ["batch", "batch, smoothed", "train (epoch)", "validation", "lr", "train R²", "val R²"]
    )
    assert {points for _, points, _ in drawn} == {200}
    assert plotted(qtbot, window, "accuracyPlot") == {"train R²": 200, "val R²": 200}


# --- run history --------------------------------------------------------------------------


def saved_preset(window, tmp_path, name: str, **training):
    controller = open_preset(window, name, **training)
    save_as(window, tmp_path / f"{name}.json")
    return controller


def save_as(window, path: Path) -> None:
    window.files.ask_save_path = lambda: str(path)
    assert window.files.save_as()


def test_each_run_is_kept_beside_the_project_and_listed(window, qtbot, tmp_path):
    controller = saved_preset(window, tmp_path, "digits_mlp", epochs=2)
    for _ in range(2):
        with qtbot.waitSignal(controller.finished, timeout=RUN_MS):
            click(qtbot, button(window, "trainButton"))
    folder = tmp_path / "digits_mlp.runs"
    assert sorted(p.name for p in folder.iterdir()) == ["run-001", "run-002"]
    assert (folder / "run-002" / "weights.safetensors").is_file()
    table = window.training.runs_table.table
    assert table.rowCount() == 2 and table.item(0, 1).text() == "Run 2"
    table.item(1, 0).setCheckState(Qt.CheckState.Checked)  # overlay Run 1
    assert plotted(qtbot, window, "lossPlot")["Run 1"] == 2


def test_a_stopped_run_resumes_where_it_stopped(window, qtbot, tmp_path):
    controller = saved_preset(window, tmp_path, "digits_mlp", epochs=400)
    with qtbot.waitSignal(controller.epochs_finished, timeout=RUN_MS):
        click(qtbot, button(window, "trainButton"))
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS) as done:
        click(qtbot, button(window, "stopButton"))
    stopped_at = done.args[0]["epochs"]
    runs = window.training.runs_table
    runs.table.selectRow(0)
    with qtbot.waitSignal(controller.epochs_finished, timeout=RUN_MS) as row:
        click(qtbot, runs.resume_button)
    assert row.args[0][0]["epoch"] == stopped_at + 1
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS) as done:
        click(qtbot, button(window, "stopButton"))
    assert done.args[0]["epochs"] > stopped_at  # the history goes on from the checkpoint
    assert len(window.training.plots.history) == done.args[0]["epochs"]
    assert [p.name for p in (tmp_path / "digits_mlp.runs").iterdir()] == ["run-001"]


def test_a_runs_weights_load_back_and_a_run_can_be_deleted(window, qtbot, tmp_path):
    controller = saved_preset(window, tmp_path, "digits_mlp", epochs=1)
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS):
        click(qtbot, button(window, "trainButton"))
    trained = controller.last_evaluation[0].module.state_dict()
    history, runs = window.training.history, window.training.runs_table
    runs.table.selectRow(0)
    with qtbot.waitSignal(history.weights_loaded) as loaded:
        click(qtbot, runs.load_button)
    assert "Loaded the weights of Run 1." in window.training.bar.status.text()
    for name, tensor in loaded.args[0].module.state_dict().items():
        assert tensor.equal(trained[name]), name
    page = window.training
    assert page.try_it.model is loaded.args[0]
    assert page.evaluation.pages.currentWidget() is page.evaluation.classes
    fc = next(n for n in window.document.graph.nodes.values() if n.type == "Linear")
    window.document.push(SetParams(fc.id, {"out_features": 7}))
    runs.table.selectRow(0)
    click(qtbot, runs.load_button)
    status = window.training.bar.status
    assert status.text() == "Loading the weights of Run 1..."
    qtbot.waitUntil(lambda: "no longer matches the graph" in status.text(), timeout=RUN_MS)
    history.ask_export_folder = lambda record: str(tmp_path / "export")
    click(qtbot, runs.export_button)
    exported = load_class((tmp_path / "export" / "model.py").read_text())()
    assert "def main():" in (tmp_path / "export" / "train.py").read_text()
    exported.load_state_dict(load_file(tmp_path / "export" / "weights.safetensors"))
    status = window.training.bar.status.text()
    assert "model.torchscript.pt, model.onnx of Run 1" in status
    assert {"weights.pt", "model.onnx", "model.torchscript.pt"} <= {
        p.name for p in (tmp_path / "export").iterdir()
    }
    history.ask_delete = lambda record: True
    click(qtbot, runs.delete_button)
    assert runs.table.rowCount() == 0
    assert not any((tmp_path / "digits_mlp.runs").iterdir())


def test_runs_of_an_unsaved_project_move_beside_it_when_saved(window, qtbot, tmp_path):
    controller = open_preset(window, "digits_mlp", epochs=1)
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS):
        click(qtbot, button(window, "trainButton"))
    scratch = window.training.session.runs_root()
    assert (scratch / "run-001" / "run.json").is_file()
    save_as(window, tmp_path / "mine.json")
    assert (tmp_path / "mine.runs" / "run-001" / "run.json").is_file()
    assert not scratch.exists()
    assert window.training.runs_table.table.rowCount() == 1


BOOM = "in layer 'affine' (Custom): ValueError: boom"


def open_failing(window, tmp_path, when: str):
    """The custom_layer preset, its Custom layer failing when `when` holds, opened from a
    file with its code allowed to run; the controller and the Custom layer's node id."""
    project, custom = custom_layer_failing(when)
    save(project, tmp_path / "failing.json")
    assert window.open_project(tmp_path / "failing.json")
    window.menu_actions["custom_code"].trigger()  # the user has read the code
    return window.training.session.controller, custom


def shows_failure_on(window, node_id: str) -> bool:
    item = window.canvas.scene().node_item(node_id)
    return window.document.selected == [node_id] and item.isSelected()


@pytest.mark.parametrize(
    "when", ["not x.is_meta", "self.training and not x.is_meta"], ids=["at once", "in a batch"]
)
def test_a_run_that_fails_in_a_layer_selects_it_and_names_it(window, qtbot, tmp_path, when):
    controller, custom = open_failing(window, tmp_path, when)
    with qtbot.waitSignal(controller.failed, timeout=RUN_MS):
        click(qtbot, button(window, "trainButton"))
    status = window.training.bar.status.text()
    assert status.startswith("Training failed: ") and status.endswith(BOOM)
    assert shows_failure_on(window, custom)


def test_a_sample_the_model_fails_on_in_try_it_selects_the_layer(window, qtbot, tmp_path):
    controller, custom = open_failing(window, tmp_path, "not x.is_meta and x.shape[0] == 1")
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS):
        click(qtbot, button(window, "trainButton"))
    page = window.training
    page.tabs.setCurrentWidget(page.try_it)
    window.document.select([])
    with qtbot.waitSignal(page.try_it.failed) as failed:
        type_index(qtbot, page.try_it, 3)
    assert failed.args == [f"the model fails on this sample: {BOOM}", custom]
    assert page.try_it.findChild(QLabel, "prediction").text() == "No prediction"
    assert page.try_it.error.text() == failed.args[0] and page.try_it.error.isVisible()
    assert page.bar.status.text() == f"Try It failed: {failed.args[0]}"
    assert shows_failure_on(window, custom)


def test_an_export_that_fails_in_a_layer_selects_it(window, qtbot, tmp_path):
    controller, custom = open_failing(window, tmp_path, "torch.jit.is_tracing()")
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS):
        click(qtbot, button(window, "trainButton"))
    history, runs = window.training.history, window.training.runs_table
    history.ask_export_folder = lambda record: str(tmp_path / "export")
    runs.table.selectRow(0)
    click(qtbot, runs.export_button)
    assert window.training.bar.status.text() == (
        f"Cannot export Run 1: the model cannot be traced to TorchScript: {BOOM}"
    )
    assert shows_failure_on(window, custom)
    assert not (tmp_path / "export" / "model.torchscript.pt").exists()


def test_a_preset_opened_by_path_trains_without_writing_into_the_presets_folder(
    window, qtbot, tmp_path
):
    def listing() -> dict[str, bytes]:
        files = (p for p in PRESETS.rglob("*") if p.is_file())
        return {str(p.relative_to(PRESETS)): p.read_bytes() for p in files}

    before = listing()
    assert window.open_project(PRESETS / "digits_mlp.json")
    window.document.project.training["epochs"] = 1
    controller = window.training.session.controller
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS) as done:
        click(qtbot, button(window, "trainButton"))
    assert done.args[0]["status"] == "completed"
    scratch = window.training.session.runs_root()
    assert (scratch / "run-001" / "weights.safetensors").is_file()
    assert not scratch.resolve().is_relative_to(PRESETS.resolve())
    assert listing() == before
    save_as(window, tmp_path / "digits.json")  # saved elsewhere, its runs go along
    assert (tmp_path / "digits.runs" / "run-001" / "run.json").is_file()
    assert listing() == before
