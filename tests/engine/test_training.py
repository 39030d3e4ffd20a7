"""The trainer on small real data: losses, optimizers, schedules, clipping, early stopping,
reproducibility, several outputs and non-finite losses."""

import itertools
import math

import pytest
import torch
from torch import nn

from engine.data.dataset import TensorData
from engine.document.settings import validate_training
from engine.training.trainer import Checkpointer, Trainer, metric_key
from tests.engine.training_support import (
    Recorder,
    breast_cancer,
    digits,
    linear_regression,
    mlp,
    same_weights,
    settings,
    weights,
    without_timing,
)


def fit(model, config, data, callbacks=(), labels=("out",)):
    train, val = data
    return Trainer(model, list(labels), config, callbacks).fit(train, val)


def test_digits_mlp_reaches_95_percent_validation_accuracy():
    config = settings(epochs=5, batch_size=16, lr=0.01, momentum=0.9)
    result = fit(mlp(), config, digits())
    assert result.status == "completed"
    assert len(result.history) == 5
    assert result.history[-1]["val_accuracy"] >= 0.95
    assert result.train_samples == 5 * len(digits()[0])
    assert result.samples_per_second > 0


def test_history_rows_hold_losses_metrics_lr_and_time():
    result = fit(mlp(), settings(epochs=2), digits())
    row = result.history[-1]
    for key in ("epoch", "lr", "seconds", "train_loss", "val_loss", "train_accuracy"):
        assert key in row
    for metric in ("accuracy", "precision", "recall", "f1"):
        assert 0.0 <= row[f"val_{metric}"] <= 1.0
    confusion = row["val_confusion"]
    assert len(confusion) == 10 and sum(map(sum, confusion)) == len(digits()[1])
    assert [r["epoch"] for r in result.history] == [1, 2]
    summary = result.summary()
    assert summary["epochs"] == 2 and summary["device"] == "cpu"
    assert summary["mixed_precision"] is False and summary["final"] == row


def test_mixed_precision_is_silently_off_on_the_cpu():
    result = fit(mlp(), settings(epochs=1, mixed_precision=True), digits())
    assert result.status == "completed" and result.mixed_precision is False


def binary_model(probabilities: bool) -> nn.Module:
    torch.manual_seed(0)
    layers = [nn.Linear(30, 16), nn.ReLU(), nn.Linear(16, 1)]
    return nn.Sequential(*layers, nn.Sigmoid()) if probabilities else nn.Sequential(*layers)


LOSS_CASES = {
    "CrossEntropyLoss": (lambda: mlp(), digits, "accuracy", 0.85),
    "NLLLoss": (lambda: nn.Sequential(mlp(), nn.LogSoftmax(dim=1)), digits, "accuracy", 0.85),
    "BCELoss": (lambda: binary_model(True), breast_cancer, "accuracy", 0.9),
    "BCEWithLogitsLoss": (lambda: binary_model(False), breast_cancer, "accuracy", 0.9),
    "MSELoss": (lambda: mlp(8, 16, 1), linear_regression, "r2", 0.9),
    "L1Loss": (lambda: mlp(8, 16, 1), linear_regression, "r2", 0.9),
    "SmoothL1Loss": (lambda: mlp(8, 16, 1), linear_regression, "r2", 0.9),
    "HuberLoss": (lambda: mlp(8, 16, 1), linear_regression, "r2", 0.9),
}


@pytest.mark.parametrize("loss", sorted(LOSS_CASES))
def test_every_loss_trains_a_fitting_model(loss):
    make_model, data, metric, floor = LOSS_CASES[loss]
    result = fit(make_model(), settings(loss, epochs=5, batch_size=32), data())
    assert result.status == "completed", result.message
    first, last = result.history[0], result.history[-1]
    assert last["train_loss"] < first["train_loss"]
    assert last[f"val_{metric}"] >= floor


def test_regression_rows_report_mse_mae_and_r2():
    result = fit(mlp(8, 16, 1), settings("MSELoss", epochs=2), linear_regression())
    row = result.history[-1]
    assert row["val_mse"] == pytest.approx(row["val_loss"], rel=1e-5)
    assert row["val_mae"] > 0 and "val_accuracy" not in row


@pytest.mark.parametrize(
    ("optimizer", "lr"),
    [("SGD", 0.05), ("Adam", 0.003), ("AdamW", 0.003), ("RMSprop", 0.001), ("Adagrad", 0.05)],
)
def test_every_optimizer_lowers_the_loss(optimizer, lr):
    config = settings(optimizer=optimizer, lr=lr, momentum=0.5, weight_decay=1e-4, epochs=3)
    result = fit(mlp(), config, digits())
    assert result.status == "completed", result.message
    losses = [row["train_loss"] for row in result.history]
    assert losses[-1] < losses[0] * 0.7


def test_sgd_nesterov_trains():
    result = fit(mlp(), settings(nesterov=True, epochs=2), digits())
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]


def lrs(result):
    return [row["lr"] for row in result.history]


def test_step_scheduler_decays_every_step_size_epochs():
    config = settings(scheduler="step", step_size=2, gamma=0.5, lr=0.02, epochs=5)
    assert lrs(fit(mlp(), config, digits())) == pytest.approx([0.02, 0.02, 0.01, 0.01, 0.005])


def test_cosine_scheduler_anneals_over_all_epochs():
    result = fit(mlp(), settings(scheduler="cosine", lr=0.02, epochs=4), digits())
    expected = [0.01 * (1 + math.cos(math.pi * e / 4)) for e in range(4)]
    assert lrs(result) == pytest.approx(expected)


def test_one_cycle_scheduler_rises_to_the_lr_then_falls_per_batch():
    trainer = Trainer(mlp(), ["out"], settings(scheduler="one_cycle", lr=0.05, epochs=4))
    result = trainer.fit(*digits())
    assert result.status == "completed"
    history = lrs(result)
    assert history[0] == pytest.approx(0.05 / 25)
    assert max(history) > history[0] and history[-1] < max(history)
    assert history[1] > history[0]  # the lr changed within the first epoch's batches
    end = trainer.model[0].weight  # training ran every scheduled step without error
    assert torch.isfinite(end).all()


def test_plateau_scheduler_lowers_the_lr_when_validation_stalls():
    config = settings(scheduler="plateau", patience=0, gamma=0.5, lr=1e-6, momentum=0, epochs=4)
    assert lrs(fit(mlp(), config, digits())) == pytest.approx([1e-6, 1e-6, 5e-7, 2.5e-7])


def test_gradient_clipping_bounds_every_step():
    clip, lr = 1e-3, 1.0
    recorder = Recorder(keep_weights=True)
    config = settings(grad_clip=clip, lr=lr, momentum=0, epochs=1)
    model = mlp()
    start = weights(model)
    fit(model, config, digits(), [recorder])
    steps = [start, *recorder.batch_weights]
    for before, after in itertools.pairwise(steps):
        moved = torch.sqrt(sum(((after[k] - before[k]) ** 2).sum() for k in before))
        assert moved <= lr * clip * (1 + 1e-4)


def noisy_labels() -> tuple[TensorData, TensorData]:
    """Random labels: a big model memorises the training set and validation gets worse."""
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(120, 20, generator=gen)
    y = torch.randint(0, 2, (120,), generator=gen)
    return TensorData(x[:60], y[:60], "classification"), TensorData(
        x[60:], y[60:], "classification"
    )


class EpochWeights(Recorder):
    def on_epoch_end(self, trainer, epoch, row):
        super().on_epoch_end(trainer, epoch, row)
        self.batch_weights.append(weights(trainer.model))


def test_early_stopping_ends_the_run_and_restores_the_best_weights():
    recorder = EpochWeights()
    config = settings(optimizer="Adam", lr=0.01, epochs=200, early_stopping=3, batch_size=16)
    model = mlp(20, 256, 2)
    result = fit(model, config, noisy_labels(), [recorder])
    assert result.status == "early_stopped"
    val_losses = [row["val_loss"] for row in result.history]
    best = result.best_epoch
    assert val_losses[best - 1] == min(val_losses)
    assert len(result.history) == best + 3 < 200
    assert same_weights(weights(model), recorder.batch_weights[best - 1])


def test_early_stopping_restores_the_best_weights_after_the_last_epoch_too():
    recorder = EpochWeights()
    config = settings(optimizer="Adam", lr=0.01, epochs=8, early_stopping=100, batch_size=16)
    model = mlp(20, 256, 2)
    result = fit(model, config, noisy_labels(), [recorder])
    assert result.status == "completed" and result.best_epoch < 8
    assert same_weights(weights(model), recorder.batch_weights[result.best_epoch - 1])


class SavesEveryEpoch(Checkpointer):
    """Keeps what each epoch's checkpoint said of early stopping."""

    def __init__(self, path):
        super().__init__(path)
        self.best_epochs = []

    def on_epoch_end(self, trainer, epoch, row):
        super().on_epoch_end(trainer, epoch, row)
        state = torch.load(self.path, weights_only=True)
        self.best_epochs.append(state["early_stopping"]["best_epoch"])


def test_early_stopping_has_decided_before_the_callers_callbacks_hear_of_an_epoch(tmp_path):
    saver = SavesEveryEpoch(tmp_path / "checkpoint.pt")
    config = settings(optimizer="Adam", lr=0.01, epochs=200, early_stopping=3, batch_size=16)
    result = fit(mlp(20, 256, 2), config, noisy_labels(), [saver])
    assert result.status == "early_stopped"
    val_losses = [row["val_loss"] for row in result.history]
    best_so_far = [
        1 + min(range(n), key=val_losses.__getitem__) for n in range(1, len(val_losses) + 1)
    ]
    assert saver.best_epochs == best_so_far
    assert saver.best_epochs[-1] == result.best_epoch


def dropout_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, 10))


def test_same_seed_same_history_different_seed_different_history():
    def run(seed):
        result = fit(dropout_model(), settings(seed=seed, epochs=3), digits())
        return without_timing(result.history)

    assert run(7) == run(7)
    assert run(7) != run(8)


def two_heads_data() -> tuple[TensorData, TensorData]:
    """Targets [N, 2]: column 0 the digit (as a float), column 1 the mean pixel value."""
    train, val = digits()

    def with_targets(part: TensorData) -> TensorData:
        y = torch.stack([part.y.float(), part.x.mean(dim=1)], dim=1)
        return TensorData(part.x, y, "regression")

    return with_targets(train), with_targets(val)


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.trunk = nn.Sequential(nn.Linear(64, 64), nn.ReLU())
        self.digit = nn.Linear(64, 10)
        self.brightness = nn.Linear(64, 1)

    def forward(self, x):
        h = self.trunk(x)
        return self.digit(h), self.brightness(h)


def test_two_outputs_with_their_own_losses_columns_weights_and_metrics():
    config = settings(epochs=6, optimizer="Adam", lr=0.005)
    config["losses"] = {
        "digit": {"loss": "CrossEntropyLoss", "target": 0},
        "brightness": {"loss": "MSELoss", "target": 1, "weight": 0.5},
    }
    result = fit(TwoHeads(), config, two_heads_data(), labels=("digit", "brightness"))
    assert result.status == "completed", result.message
    row = result.history[-1]
    assert row[metric_key("val", "accuracy", "digit")] > 0.9
    assert row[metric_key("val", "r2", "brightness")] > 0.5
    assert "val_brightness_accuracy" not in row and "val_digit_r2" not in row
    total = row["val_digit_loss"] + 0.5 * row["val_brightness_loss"]
    assert row["val_loss"] == pytest.approx(total, rel=1e-6)


def test_a_model_built_from_a_graph_trains_with_its_output_labels():
    from engine.document.graph import Graph
    from engine.model.build import build_model
    from tests.engine.graph_builders import add, chain

    graph = Graph()
    trunk = chain(graph, ("Input", {"shape": [64]}), ("Linear", {"out_features": 32}), "ReLU")[-1]
    chain(graph, ("Linear", {"out_features": 10}), "Output", start=trunk)
    chain(graph, ("Linear", {"out_features": 1}), "Output", start=trunk)
    add(graph, "ReLU")  # a loose layer that leads to no Output is not part of the model
    built = build_model(graph, seed=0)
    labels = [graph.nodes[node_id].label for node_id in built.code.outputs]
    config = settings(epochs=2)
    config["losses"] = {
        labels[0]: {"loss": "CrossEntropyLoss", "target": 0},
        labels[1]: {"loss": "MSELoss", "target": 1},
    }
    result = fit(built.module, config, two_heads_data(), labels=labels)
    assert result.status == "completed", result.message
    assert metric_key("val", "accuracy", labels[0]) in result.history[-1]


def exploding_regression() -> tuple[TensorData, TensorData]:
    gen = torch.Generator().manual_seed(0)
    x = 10 * torch.randn(256, 4, generator=gen)
    y = x.sum(dim=1, keepdim=True)
    return TensorData(x[:200], y[:200], "regression"), TensorData(x[200:], y[200:], "regression")


def test_a_non_finite_loss_stops_with_epoch_batch_and_keeps_the_last_good_weights():
    recorder = Recorder(keep_weights=True)
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    config = settings("MSELoss", lr=10, momentum=0, epochs=5, batch_size=8)
    result = fit(model, config, exploding_regression(), [recorder])
    assert result.status == "failed"
    good_batches = len(recorder.batch_weights)
    epoch, batch = divmod(good_batches, 25)
    assert f"at epoch {epoch + 1}, batch {batch + 1};" in result.message
    assert result.message.startswith("loss became inf") or result.message.startswith(
        "loss became nan"
    )
    assert result.message.endswith("try a lower learning rate (now 10)")
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert same_weights(weights(model), recorder.batch_weights[-1])
    assert recorder.names()[-1] == "failed"


class BlowsUpGradients(nn.Module):
    """Gives a finite loss whose gradient overflows at one call: the next weights are inf."""

    def __init__(self, at_call: int):
        super().__init__()
        torch.manual_seed(0)
        self.linear = nn.Linear(64, 10)
        self.calls = 0
        self.at_call = at_call

    def forward(self, x):
        self.calls += 1
        out = self.linear(x)
        if self.calls == self.at_call:
            out.register_hook(lambda grad: grad * math.inf)
        return out


def test_weights_made_non_finite_by_a_finite_loss_go_back_to_the_epoch_start():
    recorder = EpochWeights()
    # calls: a probe, epoch 1's 23 batches, its validation pass, then epoch 2's batch 7
    model = BlowsUpGradients(at_call=1 + 23 + 1 + 7)
    result = fit(model, settings(momentum=0, epochs=3), digits(), [recorder])
    assert result.status == "failed"
    assert "at epoch 2, batch 8;" in result.message
    assert "weights are those from the start of epoch 2" in result.message
    assert same_weights(weights(model), recorder.batch_weights[0])


class SecondHeadOverflows(TwoHeads):
    def __init__(self, at_call: int):
        super().__init__()
        self.calls, self.at_call = 0, at_call

    def forward(self, x):
        self.calls += 1
        digit, brightness = super().forward(x)
        return digit, brightness * (math.inf if self.calls == self.at_call else 1.0)


def test_a_non_finite_loss_of_one_output_is_named():
    config = settings(epochs=1)
    config["losses"] = {
        "digit": {"loss": "CrossEntropyLoss", "target": 0},
        "brightness": {"loss": "MSELoss", "target": 1},
    }
    model = SecondHeadOverflows(at_call=1 + 3)  # the probe pass, then batch 3
    result = fit(model, config, two_heads_data(), labels=("digit", "brightness"))
    assert result.status == "failed"
    assert result.message.startswith("loss of output 'brightness' became inf at epoch 1, batch 3;")


def test_a_lone_last_sample_joins_the_batch_before_it_so_batchnorm_trains():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    x, y = torch.randn(9, 3), torch.randint(0, 2, (9,))
    data = TensorData(x, y, "classification")
    settings, _ = validate_training({"epochs": 2, "batch_size": 4}, ["out"])
    result = Trainer(model, ["out"], settings).fit(data)
    assert result.status == "completed", result.message
