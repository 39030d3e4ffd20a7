"""The initial-loss line: the untrained model's loss on the first batch beside the loss
at chance, said plainly when it is far off, and free: the run trains as without it."""

import math

import pytest
import torch
from torch import nn

from engine.training.sanity import InitialLoss, expected_loss, initial_loss_lines
from engine.training.trainer import Callback, Trainer
from tests.engine.training_support import digits, settings


class Plan(Callback):
    def on_train_start(self, trainer, plan):
        self.plan = plan


def mlp(seed=0, last_bias=0.0) -> nn.Module:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 10))
    nn.init.constant_(model[-1].bias, last_bias)
    return model


def test_ten_classes_start_near_ln_10_and_the_line_says_so():
    seen = Plan()
    Trainer(mlp(), ["out"], settings(epochs=1), [seen]).fit(*digits())
    (entry,) = seen.plan["initial_loss"]
    assert entry["expected"] == pytest.approx(math.log(10))
    assert abs(entry["loss"] - math.log(10)) < 0.3
    (line,) = initial_loss_lines(seen.plan["initial_loss"])
    assert "expected about ln 10 = 2.30 (10 classes at chance)" in line and "far" not in line


def test_outputs_that_start_large_are_called_far_off():
    model = mlp()
    with torch.no_grad():
        model[-1].weight.mul_(200)
    seen = Plan()
    Trainer(model, ["out"], settings(epochs=1), [seen]).fit(*digits())
    (line,) = initial_loss_lines(seen.plan["initial_loss"])
    assert "far from it: the untrained outputs are not small" in line


def test_measuring_it_changes_nothing_in_the_run():
    """Eval mode: no dropout mask is drawn, so two runs with the same seed match, and a
    run resumed from a checkpoint (which measures nothing) matches its uninterrupted one."""
    first = Trainer(mlp(), ["out"], settings(epochs=2, seed=3)).fit(*digits())
    torch.manual_seed(123)  # whatever the global generator held before
    again = Trainer(mlp(), ["out"], settings(epochs=2, seed=3)).fit(*digits())
    assert [r["train_loss"] for r in first.history] == [r["train_loss"] for r in again.history]


@pytest.mark.parametrize(
    ("loss", "kind", "targets", "expected"),
    [
        ("BCELoss", "binary", torch.tensor([[0.0], [1.0]]), math.log(2)),
        ("MSELoss", "regression", torch.tensor([[1.0], [-3.0]]), 5.0),
        ("L1Loss", "regression", torch.tensor([[1.0], [-3.0]]), 2.0),
        ("HuberLoss", "regression", torch.tensor([[0.5], [-3.0]]), (0.125 + 2.5) / 2),
    ],
)
def test_chance_for_each_kind_of_loss(loss, kind, targets, expected):
    value, why = expected_loss(loss, kind, 2, targets)
    assert value == pytest.approx(expected)
    assert InitialLoss("out", value, value, why).text().startswith("initial loss ")


def test_several_outputs_are_named_and_a_non_finite_loss_is_far_off():
    entries = [
        InitialLoss("a", 0.7, math.log(2), "ln 2: a coin toss").as_dict(),
        InitialLoss("b", float("nan"), 1.0, "the targets' mean square, outputs near 0").as_dict(),
    ]
    first, second = initial_loss_lines(entries)
    assert first.startswith("a: initial loss 0.700, expected about ln 2 = 0.693 (a coin toss)")
    assert second.startswith("b: initial loss nan") and "far from it" in second
