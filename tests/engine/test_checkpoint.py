"""Checkpoints: resuming gives the uninterrupted run's numbers; files are safe to write and
read."""

import os
import pickle

import pytest
import torch
from torch import nn

from engine.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from engine.training.trainer import Callback, Checkpointer, Trainer, TrainingError
from tests.engine.training_support import digits, same_weights, settings, weights, without_timing


def dropout_mlp(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(64, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 10)
    )


class SaveAt(Callback):
    def __init__(self, epoch: int, path):
        self.epoch, self.path = epoch, path

    def on_epoch_end(self, trainer, epoch, row):
        if epoch == self.epoch:
            trainer.save_checkpoint(self.path)


RUNS = {
    "adam-step-early": dict(optimizer="Adam", lr=0.003, scheduler="step", step_size=1,
                            gamma=0.7, early_stopping=10),
    "sgd-one_cycle": dict(optimizer="SGD", lr=0.05, momentum=0.9, scheduler="one_cycle"),
    "rmsprop-plateau": dict(optimizer="RMSprop", lr=0.001, momentum=0.5, scheduler="plateau",
                            patience=0),
    "adagrad-cosine-clip": dict(optimizer="Adagrad", lr=0.05, scheduler="cosine", grad_clip=0.5),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(RUNS))
def test_resuming_at_epoch_k_gives_the_uninterrupted_history(tmp_path, name):
    config = settings(epochs=4, seed=5, batch_size=50, **RUNS[name])
    path = tmp_path / "run.pt"
    whole = Trainer(dropout_mlp(), ["out"], config, [SaveAt(2, path)])
    uninterrupted = whole.fit(*digits())
    assert uninterrupted.status == "completed", uninterrupted.message

    resumed_trainer = Trainer(dropout_mlp(seed=99), ["out"], config)
    resumed = resumed_trainer.fit(*digits(), resume_from=path)
    assert resumed.status == "completed", resumed.message
    assert without_timing(resumed.history) == without_timing(uninterrupted.history)
    assert resumed.train_samples == 2 * len(digits()[0])  # only epochs 3 and 4 ran here
    assert same_weights(weights(resumed_trainer.model), weights(whole.model))


def test_checkpointer_saves_every_k_epochs_and_the_last(tmp_path):
    saved = []

    class Watch(Checkpointer):
        def on_epoch_end(self, trainer, epoch, row):
            before = self.path.stat().st_mtime_ns if self.path.exists() else None
            super().on_epoch_end(trainer, epoch, row)
            if self.path.exists() and self.path.stat().st_mtime_ns != before:
                saved.append(load_checkpoint(self.path)["epoch"])

    Trainer(dropout_mlp(), ["out"], settings(epochs=5), [Watch(tmp_path / "c.pt", every=2)]).fit(
        *digits()
    )
    assert saved == [2, 4, 5]


class StopDuring(Callback):
    def __init__(self, epoch: int):
        self.epoch = epoch

    def on_batch_end(self, trainer, epoch, batch, loss):
        if epoch == self.epoch:
            trainer.request_stop()


def test_a_waiting_checkpointer_writes_the_last_epoch_when_the_run_stops(tmp_path):
    config = settings(epochs=4, seed=5, batch_size=50, **RUNS["sgd-one_cycle"])
    path = tmp_path / "run.pt"
    in_file = []

    class Look(Callback):
        def on_epoch_end(self, trainer, epoch, row):
            in_file.append(load_checkpoint(path)["epoch"])

    waiting = Checkpointer(path, min_seconds=3600)
    stopped = Trainer(dropout_mlp(), ["out"], config, [waiting, Look(), StopDuring(4)])
    assert stopped.fit(*digits()).status == "stopped"
    assert in_file == [1, 1, 1]  # epochs 2 and 3 waited in memory...
    assert load_checkpoint(path)["epoch"] == 3  # ...and the end of the run wrote the last

    whole = Trainer(dropout_mlp(), ["out"], config)
    uninterrupted = whole.fit(*digits())
    resumed_trainer = Trainer(dropout_mlp(seed=99), ["out"], config)
    resumed = resumed_trainer.fit(*digits(), resume_from=path)
    assert without_timing(resumed.history) == without_timing(uninterrupted.history)
    assert same_weights(weights(resumed_trainer.model), weights(whole.model))


def test_a_held_checkpoint_that_cannot_be_written_fails_the_run_with_why(tmp_path, monkeypatch):
    save = torch.save
    calls = []

    def full_disk_after_the_first(obj, file):
        calls.append(1)
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        save(obj, file)

    monkeypatch.setattr(torch, "save", full_disk_after_the_first)
    waiting = Checkpointer(tmp_path / "run.pt", min_seconds=3600)
    result = Trainer(dropout_mlp(), ["out"], settings(epochs=3), [waiting, StopDuring(3)]).fit(
        *digits()
    )
    assert result.status == "failed" and len(calls) == 2
    assert "cannot write checkpoint" in result.message and "No space left" in result.message


def test_a_checkpoint_holds_only_tensors_and_plain_containers(tmp_path):
    path = tmp_path / "run.pt"
    trainer = Trainer(dropout_mlp(), ["out"], settings(epochs=1))
    trainer.fit(*digits())
    trainer.save_checkpoint(path)
    state = torch.load(path, weights_only=True)
    assert state["format"] == "torchwright-checkpoint" and state["epoch"] == 1
    assert set(state) >= {"model", "optimizer", "scheduler", "rng", "history", "early_stopping"}


def test_resuming_a_finished_run_does_nothing_more(tmp_path):
    path = tmp_path / "run.pt"
    trainer = Trainer(dropout_mlp(), ["out"], settings(epochs=2), [Checkpointer(path)])
    first = trainer.fit(*digits())
    again = Trainer(dropout_mlp(), ["out"], settings(epochs=2)).fit(*digits(), resume_from=path)
    assert again.status == "completed" and again.history == first.history
    assert again.train_samples == 0


def test_a_failed_write_keeps_the_old_checkpoint_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "run.pt"
    save_checkpoint(path, {"epoch": 1})
    original = path.read_bytes()

    def broken_save(obj, file):
        file.write(b"half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(CheckpointError, match=r"cannot write checkpoint .*No space left"):
        save_checkpoint(path, {"epoch": 2})
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["run.pt"]


def test_a_file_that_would_run_code_is_refused(tmp_path):
    class Payload:
        def __reduce__(self):
            return (os.system, ("echo owned",))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"format": "torchwright-checkpoint", "x": Payload()}, protocol=2))
    with pytest.raises(CheckpointError, match=r"checkpoint \(torch cannot read it"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ({"weights": torch.zeros(2)}, "is not a Torchwright training checkpoint"),
        ({"format": "torchwright-checkpoint", "version": 99}, "has version 99"),
    ],
)
def test_missing_and_foreign_files_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "other.pt"
    if content is not None:
        torch.save(content, path)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def saved_run(tmp_path, **values):
    path = tmp_path / "run.pt"
    Trainer(dropout_mlp(), ["out"], settings(epochs=1, **values), [Checkpointer(path)]).fit(
        *digits()
    )
    return path


def test_a_checkpoint_for_another_model_is_a_clear_error(tmp_path):
    path = saved_run(tmp_path)
    torch.manual_seed(0)
    other = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    with pytest.raises(CheckpointError, match="does not fit this model and settings"):
        Trainer(other, ["out"], settings(epochs=2)).fit(*digits(), resume_from=path)


def test_a_checkpoint_for_another_optimizer_is_a_clear_error(tmp_path):
    path = saved_run(tmp_path, optimizer="SGD")
    trainer = Trainer(dropout_mlp(), ["out"], settings(epochs=2, optimizer="Adam"))
    with pytest.raises(TrainingError, match="saved with the SGD optimizer, but the settings ask"):
        trainer.fit(*digits(), resume_from=path)


def test_save_before_fit_is_a_clear_error(tmp_path):
    with pytest.raises(TrainingError, match="call fit first"):
        Trainer(dropout_mlp(), ["out"], settings()).save_checkpoint(tmp_path / "x.pt")
