"""The app's training process, without Qt: a run's reports, its outcome, its failures,
and the controls it answers however early they come."""

import pytest
import torch
from safetensors.torch import load_file

from engine.document.project import from_dict, to_dict
from engine.document.trust import ALLOWED
from engine.errors import TrainingError
from engine.process import parent
from engine.process.protocol import (
    Batches,
    Decoding,
    Epoch,
    Pause,
    Paused,
    ProtocolError,
    Resume,
    Resumed,
    Started,
    Stop,
    Train,
)
from engine.runs.store import WEIGHTS_FILE, new_run_folder
from engine.training.status import RunStatus
from tests.run_helpers import custom_layer_failing, preset


class Listener:
    """Records what a run reports; `then` maps an event type to a control sent back
    when that event comes."""

    def __init__(self, process=None, then=None):
        self.events = []
        self.process = process
        self.then = then or {}

    @property
    def handlers(self):
        kinds = (Decoding, Started, Batches, Epoch, Paused, Resumed)
        return {kind: self._hear for kind in kinds}

    def _hear(self, event):
        match event:
            case Decoding(done, total):
                self.events.append(("decoding", done, total))
            case Started(plan):
                self.events.append(("started", plan["epochs"]))
            case Batches(losses):
                self.events.extend(("batch", epoch, batch) for epoch, batch, _ in losses)
            case Epoch(row):
                self.events.append(("epoch", row["epoch"]))
            case Paused():
                self.events.append(("paused",))
            case Resumed():
                self.events.append(("resumed",))
        if type(event) in self.then:
            self.process.send(self.then[type(event)])


@pytest.fixture(scope="module")
def process():
    process = parent.TrainingProcess()
    yield process
    process.close()


def test_a_run_reports_in_order_and_sends_back_its_model(process, tmp_path):
    project = preset("digits_mlp", 2)
    folder = new_run_folder(tmp_path)
    listener = Listener()
    process.send(Train(to_dict(project), None, folder))
    done = process.follow(listener.handlers)
    batches = [e for e in listener.events if e[0] == "batch"]
    per_epoch = len(batches) // 2
    assert listener.events[0] == ("started", 2)
    assert listener.events[per_epoch + 1] == ("epoch", 1)
    assert listener.events[-1] == ("epoch", 2)
    assert batches == [("batch", e, b) for e in (1, 2) for b in range(1, per_epoch + 1)]
    assert done.summary["status"] is RunStatus.COMPLETED and done.record.epochs == 2
    trained = parent.trained_model(done, project)
    saved = load_file(folder / WEIGHTS_FILE)
    for name, tensor in trained.module.state_dict().items():
        assert tensor.equal(saved[name]), name
    assert done.evaluation[0].label == "out" and trained.split == "validation"


def test_a_failed_run_says_why_and_the_process_trains_the_next(process):
    broken = preset("digits_mlp", 1)
    broken.data.update(kind="csv", path="/nowhere/data.csv")
    process.send(Train(to_dict(broken)))
    with pytest.raises(TrainingError, match=r"data\.csv"):
        process.follow(Listener().handlers)
    assert process.alive
    listener = Listener()
    process.send(Pause())  # before the run: void, the run has not begun
    process.send(Train(to_dict(preset("digits_mlp", 1))))
    process.send(Stop())  # asked while the run is prepared: it trains nothing
    done = process.follow(listener.handlers)
    assert (done.summary["status"], done.summary["epochs"]) == ("stopped", 0)
    assert listener.events == [("started", 1)]


def test_a_pause_asked_before_the_run_is_ready_holds_it_after_one_batch(process):
    listener = Listener(process, then={Paused: Resume()})
    process.send(Train(to_dict(preset("digits_mlp", 1))))
    process.send(Pause())
    done = process.follow(listener.handlers)
    assert listener.events[:4] == [("started", 1), ("batch", 1, 1), ("paused",), ("resumed",)]
    assert done.summary["status"] == RunStatus.COMPLETED


@pytest.mark.parametrize(
    ("after_pause", "status", "epochs", "last"),
    [
        (Resume(), "completed", 1, ("epoch", 1)),  # the pause is withdrawn
        (Stop(), "stopped", 0, ("started", 1)),  # a stop wins: nothing is trained
    ],
    ids=["resume", "stop"],
)
def test_a_pause_followed_before_the_run_is_ready_is_never_taken(
    process, after_pause, status, epochs, last
):
    listener = Listener()
    process.send(Train(to_dict(preset("digits_mlp", 1))))
    process.send(Pause())
    process.send(after_pause)
    done = process.follow(listener.handlers)
    assert ("paused",) not in listener.events
    assert (done.summary["status"], done.summary["epochs"]) == (status, epochs)
    assert listener.events[-1] == last


def test_what_is_not_a_control_is_refused_before_it_is_sent(process):
    with pytest.raises(ProtocolError, match="Started is not a control"):
        process.send(Started({}))
    assert process.alive


def test_an_event_without_a_handler_is_a_clear_error_and_ends_the_child():
    process = parent.TrainingProcess()
    try:
        process.send(Train(to_dict(preset("digits_mlp", 1))))
        handlers = {Started: lambda event: None}
        with pytest.raises(
            ProtocolError, match=r"no handler for Batches \(this end handles Started\)"
        ):
            process.follow(handlers)
        process._process.join(10)
        assert not process.alive  # not to be given back with the run still going
    finally:
        process.close()


def test_a_layer_that_fails_names_its_node_across_the_pipe(process):
    project, custom = custom_layer_failing("not x.is_meta")  # at the first forward pass
    process.send(Train(to_dict(project), trust=ALLOWED))
    with pytest.raises(TrainingError, match="in layer 'affine' \\(Custom\\)") as raised:
        process.follow(Listener().handlers)
    assert raised.value.node_id == custom
    project, custom = custom_layer_failing("self.training and not x.is_meta")  # in a batch
    process.send(Train(to_dict(project), trust=ALLOWED))
    outcome = process.follow(Listener().handlers)
    assert outcome.summary["status"] == RunStatus.FAILED and outcome.summary["node_id"] == custom
    assert "in layer 'affine' (Custom): ValueError: boom" in outcome.summary["message"]


def test_an_image_folder_reports_its_decoding_before_the_run_starts(process, tmp_path):
    from tests.data_files import save_image

    for i in range(600):
        save_image(tmp_path / "pictures" / ("a" if i % 2 else "b") / f"{i:03}.png", i % 256)
    project = preset("digits_cnn", 1)
    project.data.update(kind="image_folder", path=str(tmp_path / "pictures"), image_size=[8, 8])
    listener = Listener()
    process.send(Train(to_dict(project), None, None))
    done = process.follow(listener.handlers)
    assert done.summary["status"] is RunStatus.COMPLETED
    decoding = [e for e in listener.events if e[0] == "decoding"]
    started = listener.events.index(("started", 1))
    assert decoding and decoding[-1] == ("decoding", 600, 600)
    assert listener.events.index(decoding[-1]) < started
    process.send(Train(to_dict(project), None, None))  # the same folder again: cached
    listener.events.clear()
    process.follow(listener.handlers)
    assert not [e for e in listener.events if e[0] == "decoding"]


def test_streamed_images_decode_in_worker_processes_of_the_training_process(process, tmp_path):
    """The app's training process is a daemon, which multiprocessing lets have no
    children; streaming starts its DataLoader workers all the same, and trains what the
    cache trains, batch for batch."""
    from engine.data.shapes import draw_shapes

    draw_shapes(tmp_path / "shapes", count=120, side=32)
    project = preset("shapes_cnn", 2)
    project.data.update(path=str(tmp_path / "shapes"), generate="none")
    histories: dict[str, list[dict]] = {}
    for loading in ("cache", "stream"):
        project.data.update(image_loading=loading, num_workers=2)
        losses = histories[loading] = []
        handlers = {**Listener().handlers, Epoch: lambda e, into=losses: into.append(e.row)}
        process.send(Train(to_dict(project), None, None))
        done = process.follow(handlers)
        assert done.summary["status"] is RunStatus.COMPLETED, done.summary

    def losses_of(rows):
        return [row["train_loss"] for row in rows]

    assert len(histories["cache"]) == 2
    assert losses_of(histories["stream"]) == losses_of(histories["cache"])


def test_a_graph_that_follows_the_data_comes_back_as_it_trained(process):
    """The Input's shape taken from the data: the trained model builds from the graph
    the run trained, not the one sent (whose Input still waits for the data)."""
    project = preset("digits_mlp", 1)
    first = next(n for n in project.graph.nodes.values() if n.type == "Input")
    first.params["shape"] = None
    process.send(Train(to_dict(project), None, None))
    done = process.follow(Listener().handlers)
    assert done.summary["status"] is RunStatus.COMPLETED
    trained_graph = from_dict(done.document).graph
    assert trained_graph.nodes[first.id].params["shape"] == [64]
    model = parent.trained_model(done, from_dict(done.document))
    assert model.module(torch.zeros(2, 64)).shape == (2, 10)
