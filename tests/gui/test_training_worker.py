"""The Qt bridge to the trainer: real runs on the digits preset in the training process,
steered from the GUI thread, waiting on signals only."""

import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from engine.document.project import load
from engine.document.trust import ALLOWED
from engine.errors import one_line
from engine.process.child import training_threads
from engine.training.job import prepare_job
from engine.training.progress import ProgressMeter
from engine.training.threads import torch_threads
from gui.training import TrainingBusyError, TrainingController, TrainingState
from gui.training.feed import Taken, TrainingFeed
from tests.paths import PRESETS, ROOT

PRESET = PRESETS / "digits_mlp.json"
RUN_MS = 30_000  # the longest wait for a run: a new training process imports torch


def digits(epochs: int, **training):
    project = load(PRESET)
    project.training.update(epochs=epochs, **training)
    return project


class Recorder:
    """Everything a controller emits, in order."""

    def __init__(self, controller: TrainingController):
        self.plans, self.deliveries, self.rows, self.progress = [], [], [], []
        self.states, self.messages = [], []
        controller.started.connect(self.plans.append)
        controller.batch_losses.connect(self.deliveries.append)
        controller.epochs_finished.connect(self.rows.extend)
        controller.progress.connect(self.progress.append)
        controller.state_changed.connect(self.states.append)
        controller.failed.connect(self.messages.append)

    @property
    def losses(self) -> list[tuple[int, int, float]]:
        return [loss for delivery in self.deliveries for loss in delivery]


@pytest.fixture
def controller(qtbot):
    controller = TrainingController()
    yield controller
    assert controller.shutdown(), "a training thread was left running"


def wait_for_ticks(qtbot, controller: TrainingController, ticks: int) -> None:
    for _ in range(ticks):
        with qtbot.waitSignal(controller._timer.timeout, timeout=1000):
            pass


def test_a_run_reports_batches_in_bursts_epochs_and_the_result(qtbot, controller):
    project = digits(epochs=8)
    seen = Recorder(controller)
    ticks = []
    controller._timer.timeout.connect(lambda: ticks.append(len(seen.deliveries)))
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS) as finished:
        controller.start(project)
        project.training["epochs"] = 1000  # the run trains the project as it was at start
        project.data["name"] = "iris"
    summary = finished.args[0]
    plan = seen.plans[0]
    batches = plan["epochs"] * plan["batches_per_epoch"]
    assert plan["epochs"] == 8 and plan["batch_size"] == 64
    assert [(e, b) for e, b, _ in seen.losses] == [
        (e, b) for e in range(1, 9) for b in range(1, plan["batches_per_epoch"] + 1)
    ]
    assert all(isinstance(loss, float) for _, _, loss in seen.losses)
    assert len(seen.deliveries) < batches
    assert len(seen.deliveries) <= len(ticks) + 1  # one per timer tick, and the last ones
    assert [row["epoch"] for row in seen.rows] == list(range(1, 9))
    last = seen.progress[-1]
    assert (last["epoch"], last["batch"], last["seconds_left"]) == (8, plan["batches_per_epoch"], 0)
    assert last["samples_per_second"] > 0
    assert summary["status"] == "completed" and summary["epochs"] == 8
    assert summary["final"]["val_accuracy"] > 0.9
    assert seen.states == ["preparing", "running", "idle"]
    trained, evaluation = controller.last_evaluation
    assert trained.split == "validation" and evaluation
    assert controller._thread is None and not controller.is_running


def test_no_batch_reaches_the_views_before_the_plan_even_when_the_timer_fires_first(
    qtbot, controller
):
    """The worker feeds losses from its thread while `started` is still queued: a tick
    that comes first must keep them (a view starts its run afresh on `started`)."""
    seen = Recorder(controller)
    order = []
    controller.started.connect(lambda plan: order.append("plan"))
    controller.batch_losses.connect(lambda losses: order.append("batches"))
    controller.start(digits(epochs=2))
    deadline = time.monotonic() + RUN_MS / 1000
    while not controller._worker.feed._losses and time.monotonic() < deadline:
        time.sleep(0.01)  # the GUI thread waits without delivering the queued `started`
    controller._drain()  # the timer's tick, before `started` has been delivered
    assert order == []
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS):
        pass
    plan = seen.plans[0]
    assert order[0] == "plan"
    assert len(seen.losses) == plan["epochs"] * plan["batches_per_epoch"]


def test_pause_holds_the_run_until_resumed(qtbot, controller):
    seen = Recorder(controller)
    controller.start(digits(epochs=3))
    controller.pause()  # asked while preparing: taken after the first batch
    qtbot.waitUntil(lambda: controller.state == TrainingState.PAUSED, timeout=RUN_MS)
    delivered = len(seen.losses)
    wait_for_ticks(qtbot, controller, 3)
    assert len(seen.losses) == delivered == 1
    assert controller.state == TrainingState.PAUSED
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS) as finished:
        controller.resume()
    assert finished.args[0]["status"] == "completed"
    assert len(seen.losses) == 3 * seen.plans[0]["batches_per_epoch"]
    assert seen.states == ["preparing", "running", "paused", "running", "idle"]


def test_a_stop_asked_while_preparing_wins_over_a_pause(qtbot, controller):
    seen = Recorder(controller)
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS) as finished:
        controller.start(digits(epochs=3))
        controller.pause()  # both wished before the run has a trainer, maybe before
        controller.stop()  # it has a training process
    assert (finished.args[0]["status"], finished.args[0]["epochs"]) == ("stopped", 0)
    assert seen.losses == [] and seen.rows == []
    assert seen.states == ["preparing", "stopping", "idle"]


def test_stop_ends_the_run_and_keeps_what_it_trained(qtbot, controller):
    # Stopping within one batch is the trainer's (tests/engine/test_training_control.py);
    # here the stop travels to the training process and every batch trained comes back.
    seen = Recorder(controller)
    with qtbot.waitSignal(controller.batch_losses, timeout=RUN_MS):
        controller.start(digits(epochs=500))
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS) as finished:
        controller.stop()
        assert controller.state == TrainingState.STOPPING
    assert finished.args[0]["status"] == "stopped"
    epochs, batches = finished.args[0]["epochs"], seen.plans[0]["batches_per_epoch"]
    assert epochs * batches <= len(seen.losses) <= (epochs + 1) * batches
    assert [row["epoch"] for row in seen.rows] == list(range(1, epochs + 1))
    assert finished.args[0]["epochs"] < 500
    assert seen.states[-2:] == ["stopping", "idle"]


def test_shutdown_while_running_joins_the_thread(qtbot, controller):
    seen = []
    controller.finished.connect(seen.append)
    with qtbot.waitSignal(controller.batch_losses, timeout=RUN_MS):
        controller.start(digits(epochs=500))
    thread = controller._thread
    assert controller.shutdown()
    assert not thread.isRunning() and thread.isFinished()
    assert [summary["status"] for summary in seen] == ["stopped"]
    assert controller.state == "idle"


def test_shutdown_while_paused_wakes_and_joins_the_thread(qtbot, controller):
    seen = Recorder(controller)
    controller.start(digits(epochs=3))
    controller.pause()
    qtbot.waitUntil(lambda: controller.state == TrainingState.PAUSED, timeout=RUN_MS)
    thread = controller._thread
    with qtbot.waitSignal(controller.finished, timeout=1000) as finished:
        assert controller.shutdown(timeout_ms=RUN_MS)
    assert not thread.isRunning()
    assert finished.args[0]["status"] == "stopped"
    assert len(seen.losses) == 1


def missing_file(project, tmp_path):
    project.data.update(kind="csv", path=str(tmp_path / "missing.csv"))
    return "missing.csv: no such file"


def too_few_classes(project, tmp_path):
    project.graph.nodes["n4"].params["out_features"] = 5
    return "training labels go up to 9, but output 'out' has 5 classes"


def diverging(project, tmp_path):
    project.training["lr"] = 100.0
    return "loss became nan at epoch 1"


@pytest.mark.parametrize("spoil", [missing_file, too_few_classes, diverging])
def test_a_failed_run_says_why_in_one_line_and_the_next_run_starts(
    qtbot, controller, tmp_path, spoil
):
    project = digits(epochs=2)
    expected = spoil(project, tmp_path)
    seen = Recorder(controller)
    with qtbot.waitSignal(controller.failed, timeout=RUN_MS) as failed:
        controller.start(project)
    message = failed.args[0]
    assert expected in message and "\n" not in message and "Traceback" not in message
    assert seen.states[-1] == "idle" and controller._thread is None
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS) as finished:
        controller.start(digits(epochs=1))
    assert finished.args[0]["status"] == "completed"


def test_starting_during_a_run_is_refused(qtbot, controller):
    project = digits(epochs=500)
    controller.start(project)
    with pytest.raises(TrainingBusyError):
        controller.start(project)
    controller.stop()
    with pytest.raises(TrainingBusyError):
        controller.start(project)
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS) as finished:
        pass
    assert finished.args[0]["status"] == "stopped"


def test_importing_the_window_and_its_training_tab_leaves_torch_to_a_thread():
    # The window shows before torch has loaded (gui/engine_loader.py).
    code = (
        "import sys, gui.main_window, gui.training; "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


# --- the plain-Python parts ------------------------------------------------------------


def test_relative_data_paths_start_at_the_project_folder(tmp_path):
    x, y = load_digits(return_X_y=True)
    table = np.column_stack([x[:100], y[:100]])
    header = ",".join([f"p{i}" for i in range(64)] + ["digit"])
    np.savetxt(tmp_path / "digits.csv", table, delimiter=",", header=header, comments="")
    project = digits(epochs=1)
    project.data.update(kind="csv", path="digits.csv", target="digit", stratify=False)
    project.path = tmp_path / "project.json"
    job = prepare_job(project)
    assert len(job.splits.train) + len(job.splits.val) == 100
    assert job.output_labels == ["out"]
    assert job.run().status == "completed"


def test_torch_threads_are_limited_while_training_and_restored():
    before = torch.get_num_threads()
    count = training_threads()
    assert 1 <= count <= before
    with torch_threads(count):
        assert torch.get_num_threads() == count
    assert torch.get_num_threads() == before


def test_progress_counts_batches_samples_and_time_without_pauses():
    now = [0.0]
    plan = {
        "epochs": 2,
        "start_epoch": 1,
        "batches_per_epoch": 4,
        "train_samples": 100,
        "batch_size": 30,
    }
    meter = ProgressMeter(plan, clock=lambda: now[0])
    now[0] = 2.0
    assert meter.batch(1, 2) == {
        "epoch": 1,
        "epochs": 2,
        "batch": 2,
        "batches_per_epoch": 4,
        "samples_per_second": 30.0,
        "seconds_left": 6.0,
    }
    meter.pause()
    now[0] = 50.0
    meter.resume()
    now[0] = 52.0
    progress = meter.batch(2, 4)
    assert progress["samples_per_second"] == 200 / 4
    assert progress["seconds_left"] == 0


def test_the_feed_hands_over_everything_once():
    feed = TrainingFeed()
    assert feed.take() == Taken([], [], None)
    feed.put([(1, 1, 0.5)], {"batch": 1})
    feed.put_row({"epoch": 1})
    feed.put([(2, 1, 0.4)], {"batch": 1})
    assert feed.take() == Taken([(1, 1, 0.5), (2, 1, 0.4)], [{"epoch": 1}], {"batch": 1})
    assert feed.take() == Taken([], [], {"batch": 1})


def test_messages_are_one_line_and_name_unexpected_errors():
    assert one_line(FileNotFoundError(2, "No such file or directory", "a.csv")) == (
        "a.csv: No such file or directory"
    )
    assert one_line(KeyError("shape")) == "KeyError: 'shape'"
    assert one_line(RuntimeError("first\n  second\n")) == "RuntimeError: first second"


def custom_layer_that(line: str):
    """The custom_layer preset with `line` run first in its Custom layer's forward, while
    it trains (not while shapes are inferred)."""
    project = load(PRESETS / "custom_layer.json")
    custom = next(n for n in project.graph.nodes.values() if n.type == "Custom")
    custom.params["source"] = custom.params["source"].replace(
        "        return x * self.scale",
        f"        if torch.is_grad_enabled():\n            {line}\n        return x * self.scale",
    )
    return project


def test_a_crashed_training_process_fails_the_run_and_the_next_run_starts(qtbot, controller):
    project = custom_layer_that("__import__('os')._exit(3)  # as a crash would")
    seen = Recorder(controller)
    with qtbot.waitSignal(controller.failed, timeout=RUN_MS) as failed:
        controller.start(project, trust=ALLOWED)
    assert "training process ended unexpectedly (exit code 3)" in failed.args[0]
    assert seen.states[-1] == "idle" and controller._thread is None
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS) as finished:
        controller.start(digits(epochs=1))
    assert finished.args[0]["status"] == "completed"


def test_a_run_that_will_not_stop_is_killed_on_shutdown(qtbot, controller):
    project = custom_layer_that("__import__('time').sleep(3600)  # hung, as I/O can be")
    seen = Recorder(controller)
    with qtbot.waitSignal(controller.started, timeout=RUN_MS):
        controller.start(project, trust=ALLOWED)
    assert controller.shutdown(timeout_ms=200)
    assert "training process ended unexpectedly" in seen.messages[0]
    assert controller.state == "idle"


def test_a_model_whose_input_follows_the_data_comes_back_to_try_and_evaluate(qtbot, controller):
    project = digits(epochs=1)
    first = next(node for node in project.graph.nodes.values() if node.type == "Input")
    first.params["shape"] = None  # "auto (from data)"
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS):
        controller.start(project)
    trained, evaluation = controller.last_evaluation
    assert evaluation and trained.module(torch.zeros(3, 64)).shape == (3, 10)
