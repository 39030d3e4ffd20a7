"""The app's training process, without Qt: a run's reports, its outcome, its failures."""

import pytest
from safetensors.torch import load_file

from engine.document.project import to_dict
from engine.errors import TrainingError
from engine.process import parent
from engine.runs.store import WEIGHTS_FILE, new_run_folder
from tests.run_helpers import custom_layer_failing, preset


class Listener:
    def __init__(self):
        self.events = []

    def on_started(self, plan):
        self.events.append(("started", plan["epochs"]))

    def on_batches(self, losses, progress):
        self.events.extend(("batch", epoch, batch) for epoch, batch, _ in losses)

    def on_epoch(self, row):
        self.events.append(("epoch", row["epoch"]))

    def on_paused(self):
        self.events.append(("paused",))

    def on_resumed(self):
        self.events.append(("resumed",))


@pytest.fixture(scope="module")
def process():
    process = parent.TrainingProcess()
    yield process
    process.close()


def test_a_run_reports_in_order_and_sends_back_its_model(process, tmp_path):
    project = preset("digits_mlp", 2)
    folder = new_run_folder(tmp_path)
    listener = Listener()
    process.begin(parent.RunRequest(to_dict(project), None, folder))
    outcome = process.follow(listener)
    batches = [e for e in listener.events if e[0] == "batch"]
    per_epoch = len(batches) // 2
    assert listener.events[0] == ("started", 2)
    assert listener.events[per_epoch + 1] == ("epoch", 1)
    assert listener.events[-1] == ("epoch", 2)
    assert batches == [("batch", e, b) for e in (1, 2) for b in range(1, per_epoch + 1)]
    assert outcome.summary["status"] == "completed" and outcome.record.epochs == 2
    trained = parent.trained_model(outcome, project)
    saved = load_file(folder / WEIGHTS_FILE)
    for name, tensor in trained.module.state_dict().items():
        assert tensor.equal(saved[name]), name
    assert outcome.evaluation[0].label == "out" and trained.split == "validation"


def test_a_failed_run_says_why_and_the_process_trains_the_next(process):
    broken = preset("digits_mlp", 1)
    broken.data.update(kind="csv", path="/nowhere/data.csv")
    process.begin(parent.RunRequest(to_dict(broken)))
    with pytest.raises(TrainingError, match=r"data\.csv"):
        process.follow(Listener())
    assert process.alive
    listener = Listener()
    process.control("pause")  # before the run: void, the run has not begun
    process.begin(parent.RunRequest(to_dict(preset("digits_mlp", 1))))
    process.control("stop")  # asked while the run is prepared: it trains nothing
    outcome = process.follow(listener)
    assert (outcome.summary["status"], outcome.summary["epochs"]) == ("stopped", 0)
    assert listener.events == [("started", 1)]


def test_a_layer_that_fails_names_its_node_across_the_pipe(process):
    project, custom = custom_layer_failing("not x.is_meta")  # at the first forward pass
    process.begin(parent.RunRequest(to_dict(project)))
    with pytest.raises(TrainingError, match="in layer 'affine' \\(Custom\\)") as raised:
        process.follow(Listener())
    assert raised.value.node_id == custom
    project, custom = custom_layer_failing("self.training and not x.is_meta")  # in a batch
    process.begin(parent.RunRequest(to_dict(project)))
    outcome = process.follow(Listener())
    assert outcome.summary["status"] == "failed" and outcome.summary["node_id"] == custom
    assert "in layer 'affine' (Custom): ValueError: boom" in outcome.summary["message"]
