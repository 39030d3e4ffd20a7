"""Stop, pause and resume from another thread; the events callbacks receive; failures."""

import threading

import pytest
import torch
from torch import nn

from engine.training.trainer import Callback, Trainer
from tests.engine.training_support import Recorder, digits, mlp, same_weights, settings, weights
from tests.run_helpers import StopAfter

WAIT = 30  # seconds; a handshake that takes this long means the trainer is stuck


class Gate(Recorder):
    """At (epoch, batch) the training thread signals `reached` and waits for `go`."""

    def __init__(self, epoch: int, batch: int):
        super().__init__(keep_weights=True)
        self.at = (epoch, batch)
        self.reached = threading.Event()
        self.go = threading.Event()
        self.paused = threading.Event()
        self.batches_at_pause: int | None = None
        self.batches_at_resume: int | None = None

    def batches(self) -> int:
        return self.names().count("batch_end")

    def on_batch_end(self, trainer, epoch, batch, loss):
        super().on_batch_end(trainer, epoch, batch, loss)
        if (epoch, batch) == self.at:
            self.reached.set()
            assert self.go.wait(WAIT)

    def on_pause(self, trainer, epoch, batch):
        super().on_pause(trainer, epoch, batch)
        self.batches_at_pause = self.batches()
        self.paused.set()

    def on_resume(self, trainer):
        super().on_resume(trainer)
        self.batches_at_resume = self.batches()


def start(trainer: Trainer) -> tuple[threading.Thread, dict]:
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.update(result=trainer.fit(*digits())))
    thread.start()
    return thread, outcome


def finish(thread: threading.Thread, outcome: dict):
    thread.join(WAIT)
    assert not thread.is_alive()
    return outcome["result"]


def test_stop_from_another_thread_ends_after_the_current_batch():
    gate = Gate(epoch=2, batch=5)
    trainer = Trainer(mlp(), ["out"], settings(epochs=5), [gate])
    thread, outcome = start(trainer)
    assert gate.reached.wait(WAIT)
    trainer.request_stop()
    gate.go.set()
    result = finish(thread, outcome)
    assert result.status == "stopped"
    assert len(result.history) == 1  # the partial epoch 2 is not a history row
    assert gate.batches() == 23 + 5
    assert same_weights(weights(trainer.model), gate.batch_weights[-1])
    assert gate.names()[-1] == "finished" and gate.events[-1] == ("finished", "stopped")
    assert gate.threads == {thread.ident}


def paused_run(batch: int, epochs: int) -> tuple[Trainer, Gate, threading.Thread, dict]:
    """A run paused after `batch` batches of epoch 1, its thread blocked in the pause."""
    gate = Gate(epoch=1, batch=batch)
    trainer = Trainer(mlp(), ["out"], settings(epochs=epochs), [gate])
    thread, outcome = start(trainer)
    assert gate.reached.wait(WAIT)
    trainer.request_pause()
    gate.go.set()
    assert gate.paused.wait(WAIT)
    return trainer, gate, thread, outcome


def test_pause_blocks_the_training_thread_until_resumed():
    trainer, gate, thread, outcome = paused_run(batch=3, epochs=2)
    assert trainer.paused
    assert gate.batches_at_pause == 3
    trainer.request_resume()
    result = finish(thread, outcome)
    assert result.status == "completed" and len(result.history) == 2
    assert gate.batches_at_resume == 3  # nothing ran while paused
    assert not trainer.paused
    assert gate.names().count("pause") == 1 and gate.names().count("resume") == 1


def test_stop_while_paused_ends_the_run():
    trainer, gate, thread, outcome = paused_run(batch=2, epochs=3)
    trainer.request_stop()
    result = finish(thread, outcome)
    assert result.status == "stopped" and result.history == []
    assert gate.batches() == 2


def test_a_stop_requested_at_epoch_end_keeps_that_epoch():
    trainer = Trainer(mlp(), ["out"], settings(epochs=4), [StopAfter(1)])
    result = trainer.fit(*digits())
    assert result.status == "stopped" and len(result.history) == 1
    assert result.train_samples == len(digits()[0])
    again = trainer.fit(*digits())  # a finished run leaves no stop request behind
    assert again.status == "stopped" and len(again.history) == 1


def test_events_arrive_in_order_with_the_plan_and_rows():
    recorder = Recorder()
    result = Trainer(mlp(), ["out"], settings(epochs=2), [recorder]).fit(*digits())
    names = recorder.names()
    assert names[0] == "train_start" and names[-1] == "finished"
    assert names.count("batch_end") == 2 * 23
    assert names.count("epoch_start") == names.count("epoch_end") == 2
    plan = recorder.events[0][1]
    (initial,) = plan.pop("initial_loss")  # the first batch's, beside chance: test_sanity.py
    assert initial["label"] == "out" and initial["why"] == "ln 10: 10 classes at chance"
    assert plan == {
        "epochs": 2,
        "start_epoch": 1,
        "batches_per_epoch": 23,
        "train_samples": 1437,
        "val_samples": 360,
        "device": "cpu",
        "threads": 1,  # a small MLP
    }
    rows = [event[2] for event in recorder.events if event[0] == "epoch_end"]
    assert rows == result.history


def test_batch_losses_are_detached_tensors_reported_every_k_batches():
    recorder = Recorder()
    trainer = Trainer(mlp(), ["out"], settings(epochs=2), [recorder], batch_report_every=5)
    trainer.fit(*digits())
    reported = [event[1:] for event in recorder.events if event[0] == "batch_end"]
    assert reported == [(e, b) for e in (1, 2) for b in (5, 10, 15, 20)]
    for loss in recorder.batch_losses:
        assert isinstance(loss, torch.Tensor) and loss.dim() == 0 and not loss.requires_grad
        assert float(loss) > 0


class FailsAt(nn.Module):
    def __init__(self, call: int):
        super().__init__()
        self.inner = mlp()
        self.calls = 0
        self.fail_at = call

    def forward(self, x):
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("custom layer exploded")
        return self.inner(x)


def test_an_exception_in_training_becomes_a_failed_status_naming_epoch_and_batch():
    recorder = Recorder()
    model = FailsAt(call=1 + 4)  # the probe pass, then batch 4
    result = Trainer(model, ["out"], settings(epochs=2), [recorder]).fit(*digits())
    assert result.status == "failed"
    assert result.message == (
        "training failed at epoch 1, batch 4: RuntimeError: custom layer exploded"
    )
    assert isinstance(result.error, RuntimeError)
    assert recorder.events[-1] == ("failed", result.message)


def test_an_exception_in_a_callback_also_fails_the_run():
    class Broken(Callback):
        def on_epoch_end(self, trainer, epoch, row):
            raise KeyError("plot")

    result = Trainer(mlp(), ["out"], settings(epochs=2), [Broken()]).fit(*digits())
    assert result.status == "failed" and "KeyError" in result.message


def test_no_thread_is_left_behind():
    before = threading.active_count()
    Trainer(mlp(), ["out"], settings(epochs=1)).fit(*digits())
    assert threading.active_count() == before


@pytest.mark.parametrize("every", [1, 3])
def test_reporting_does_not_change_the_numbers(every):
    def history(callbacks, k):
        trainer = Trainer(mlp(), ["out"], settings(epochs=2), callbacks, batch_report_every=k)
        return [row["val_loss"] for row in trainer.fit(*digits()).history]

    assert history([Recorder()], every) == history([], 1)
