"""The trainer's intra-op thread count: chosen from the work of a step, fixed by the
setting, kept on resume, and changing nothing the run computes."""

import torch
from torch import nn

from engine.training.checkpoint import load_checkpoint
from engine.training.setup import probe_outputs
from engine.training.threads import STEP_PER_FORWARD, WORK_PER_THREAD, threads_for, torch_threads
from engine.training.trainer import Callback, Trainer
from tests.engine.test_checkpoint import SaveAt, dropout_mlp
from tests.engine.training_support import digits, settings, without_timing


def test_one_thread_and_one_more_per_share_of_a_steps_work_up_to_the_ceiling():
    per_step = WORK_PER_THREAD / STEP_PER_FORWARD  # forward operations of a batch
    assert threads_for(0, 64, 4) == 1
    assert threads_for((per_step - 1) / 64, 64, 4) == 1
    assert threads_for(per_step / 64, 64, 4) == 2
    assert threads_for(2.5 * per_step / 64, 64, 4) == 3
    assert threads_for(1e12, 64, 4) == 4
    assert threads_for(1e12, 64, 1) == 1


def test_the_shape_probe_counts_the_forward_operations_per_sample():
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    _, _, flops = probe_outputs(model, torch.randn(2, 64), ["out"])
    assert flops == 2 * (64 * 128 + 128 * 10)


class CountsThreads(Callback):
    def __init__(self):
        self.seen = set()

    def on_batch_end(self, trainer, epoch, batch, loss):
        self.seen.add(torch.get_num_threads())


def test_the_setting_fixes_the_count_while_training_and_is_restored():
    before = torch.get_num_threads()
    seen = CountsThreads()
    result = Trainer(dropout_mlp(), ["out"], settings(epochs=1, threads=1), [seen]).fit(*digits())
    assert result.status == "completed", result.message
    assert seen.seen == {1}
    assert result.threads == 1 and result.summary()["threads"] == 1
    assert torch.get_num_threads() == before


def test_a_small_model_trains_on_one_thread_and_a_big_one_on_all():
    with torch_threads(2):
        small = Trainer(dropout_mlp(), ["out"], settings(epochs=1)).fit(*digits())
        torch.manual_seed(0)
        wide = nn.Sequential(nn.Linear(64, 1024), nn.ReLU(), nn.Linear(1024, 10))
        big = Trainer(wide, ["out"], settings(epochs=1, batch_size=256)).fit(*digits())
    assert (small.threads, big.threads) == (1, 2)


def test_choosing_the_count_changes_nothing_the_run_computes():
    """Dropout draws and BatchNorm statistics of a run that chose its count are those of
    a run with the count fixed."""
    chosen = Trainer(dropout_mlp(), ["out"], settings(epochs=2, seed=3)).fit(*digits())
    config = settings(epochs=2, seed=3, threads=chosen.threads)
    fixed = Trainer(dropout_mlp(), ["out"], config).fit(*digits())
    assert without_timing(chosen.history) == without_timing(fixed.history)


def test_a_resumed_run_keeps_the_count_it_started_with(tmp_path):
    """Two threads, fixed, for a model that would get one: the resumed run, with no
    count set, goes on with two."""
    path = tmp_path / "run.pt"
    first = Trainer(dropout_mlp(), ["out"], settings(epochs=2, threads=2), [SaveAt(1, path)])
    assert first.fit(*digits()).status == "completed"
    assert load_checkpoint(path)["threads"] == 2
    seen = CountsThreads()
    again = Trainer(dropout_mlp(), ["out"], settings(epochs=2), [seen])
    resumed = again.fit(*digits(), resume_from=path)
    assert resumed.status == "completed", resumed.message
    assert resumed.threads == 2 and seen.seen == {2}


def test_choosing_the_count_runs_the_model_no_extra_time():
    class Counted(nn.Module):
        def __init__(self):
            super().__init__()
            self.body, self.calls = dropout_mlp(), 0

        def forward(self, x):
            self.calls += 1
            return self.body(x)

    chosen, fixed = Counted(), Counted()
    Trainer(chosen, ["out"], settings(epochs=1)).fit(*digits())
    Trainer(fixed, ["out"], settings(epochs=1, threads=1)).fit(*digits())
    assert chosen.calls == fixed.calls
