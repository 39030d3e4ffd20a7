"""The training process's messages: each one survives the pipe, the pending-controls rule,
dispatch by type, and the two sides that share them without importing each other."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engine.process.protocol import (
    Batches,
    Decoding,
    Done,
    Epoch,
    Failed,
    Message,
    Pause,
    Paused,
    PendingControls,
    ProtocolError,
    Quit,
    Resume,
    Resumed,
    Started,
    Stop,
    Train,
    decode,
    dispatch,
    encode,
)
from engine.training.status import RunStatus
from tests.layering import imports
from tests.paths import ROOT
from tests.run_helpers import preset, train_run

PLAN = {"epochs": 2, "start_epoch": 1, "batches_per_epoch": 3, "batch_size": 64}
SUMMARY = {"status": RunStatus.STOPPED, "message": "", "epochs": 1, "final": {"epoch": 1}}

MESSAGES = [
    Train({"graph": {"nodes": {}}}, Path("/p/project.json"), Path("/p/project.runs/run-001")),
    Stop(),
    Pause(),
    Resume(),
    Quit(),
    Decoding(1200, 20000),
    Started(PLAN),
    Batches(((1, 1, 0.5), (1, 2, 0.25)), {"epoch": 1, "batch": 2}),
    Epoch({"epoch": 1, "train_loss": 0.3, "val_loss": None}),
    Paused(),
    Resumed(),
    Done(SUMMARY),
    Failed("data.csv: no such file"),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_each_message_survives_the_pipe_and_is_frozen(message):
    again = decode(encode(message))
    assert again == message and again is not message
    field = next(iter(dataclasses.fields(message)), None)
    if field is not None:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(message, field.name, None)


def test_every_kind_of_message_is_tried():
    assert {type(m) for m in MESSAGES} == set(Message.__args__)


def test_a_run_s_record_and_weights_survive_the_pipe(tmp_path):
    record = train_run(tmp_path, preset("digits_mlp", 1))
    weights = {"layer.weight": torch.randn(3, 4), "layer.bias": torch.zeros(3)}
    again = decode(encode(Done(SUMMARY, record, weights=weights)))
    assert again.record == record and again.summary["status"] is RunStatus.STOPPED
    assert again.weights.keys() == weights.keys()
    assert all(again.weights[k].equal(v) for k, v in weights.items())
    resume = decode(encode(Train({}, None, record.folder, record)))
    assert resume.resume == record


# --- pending controls ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wishes", "taken"),
    [
        ([], None),
        ([Pause()], Pause()),
        ([Stop()], Stop()),
        ([Resume()], None),  # nothing to resume yet
        ([Pause(), Resume()], None),  # a resume cancels the pause before it
        ([Resume(), Pause()], Pause()),  # a pause after a resume holds
        ([Pause(), Resume(), Pause()], Pause()),
        ([Pause(), Stop()], Stop()),  # a stop wins over a pause...
        ([Stop(), Pause()], Stop()),  # ...whichever came first
        ([Stop(), Resume()], Stop()),  # and a resume does not undo it
        ([Stop(), Stop()], Stop()),
    ],
)
def test_wishes_add_up_to_one_control(wishes, taken):
    pending = PendingControls()
    for wish in wishes:
        pending.add(wish)
    assert pending.take() == taken
    assert pending.take() is None  # taken once


def test_cleared_wishes_are_forgotten():
    pending = PendingControls()
    pending.add(Stop())
    pending.clear()
    pending.add(Pause())
    assert pending.take() == Pause()


@pytest.mark.parametrize("control", [Quit(), Train({})], ids=lambda m: type(m).__name__)
def test_only_stop_pause_and_resume_are_wishes(control):
    with pytest.raises(ProtocolError, match=f"{type(control).__name__} is not a wish"):
        PendingControls().add(control)


# --- dispatch --------------------------------------------------------------------------


def test_dispatch_calls_the_handler_of_the_message_s_type():
    heard = []
    handlers = {Epoch: lambda e: heard.append(e.row["epoch"]) or "epoch", Paused: heard.append}
    assert dispatch(Epoch({"epoch": 3}), handlers) == "epoch"
    dispatch(Paused(), handlers)
    assert heard == [3, Paused()]


def test_dispatch_of_an_unhandled_message_names_it_and_what_is_handled():
    handlers = {Started: print, Epoch: print}
    with pytest.raises(ProtocolError) as error:
        dispatch(Resumed(), handlers)
    assert str(error.value) == "no handler for Resumed (this end handles Epoch, Started)"


# --- the two sides -----------------------------------------------------------------------


def test_the_parent_and_the_child_share_the_protocol_and_never_import_each_other():
    side = {
        name: {module for _, module in imports(ROOT, ROOT / "engine" / "process" / f"{name}.py")}
        for name in ("parent", "child")
    }
    assert "engine.process.protocol" in side["parent"] & side["child"]
    assert "engine.process.child" not in side["parent"]
    assert "engine.process.parent" not in side["child"]


def test_the_parent_imports_without_torch():
    code = "import sys, engine.process.parent; assert 'torch' not in sys.modules, 'torch'"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
