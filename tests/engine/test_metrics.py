"""Epoch metrics computed on the device agree with scikit-learn."""

import numpy as np
import pytest
import torch
from sklearn import metrics as sk

from engine.training import metrics
from engine.training.losses import OutputLoss
from engine.training.metrics import SplitMeter, classification_scores
from engine.training.trainer import Trainer
from tests.engine.training_support import digits, linear_regression, mlp, settings

CPU = torch.device("cpu")


def spec(kind: str, classes: int = 0, width: int = 1, threshold: float = 0.0) -> OutputLoss:
    loss = {"classes": "CrossEntropyLoss", "binary": "BCEWithLogitsLoss"}.get(kind, "MSELoss")
    return OutputLoss("out", loss, 1.0, None, kind, classes, threshold, (width,))


def batches(n: int, size: int):
    return [(start, min(start + size, n)) for start in range(0, n, size)]


def feed(meter: SplitMeter, outputs: torch.Tensor, targets: torch.Tensor, size: int = 7) -> dict:
    for start, end in batches(len(targets), size):
        loss = torch.tensor(float(end - start))
        meter.add((outputs[start:end],), (targets[start:end],), [loss], end - start)
    return meter.result()


def sklearn_classification(truth, predicted, labels) -> dict:
    return {
        "accuracy": sk.accuracy_score(truth, predicted),
        "precision": sk.precision_score(truth, predicted, average="macro", zero_division=0),
        "recall": sk.recall_score(truth, predicted, average="macro", zero_division=0),
        "f1": sk.f1_score(truth, predicted, average="macro", zero_division=0),
        "confusion": sk.confusion_matrix(truth, predicted, labels=labels).tolist(),
    }


@pytest.mark.parametrize("flush_elements", [1 << 20, 50])
def test_class_metrics_match_sklearn_in_any_number_of_reductions(monkeypatch, flush_elements):
    monkeypatch.setattr(metrics, "FLUSH_ELEMENTS", flush_elements)
    gen = torch.Generator().manual_seed(0)
    scores = torch.randn(200, 6, generator=gen)
    scores[:, 5] -= 100  # class 5 is never predicted ...
    truth = torch.randint(0, 4, (200,), generator=gen)  # ... nor present: it is left out
    result = feed(SplitMeter([spec("classes", 6, 6)], CPU), scores, truth)["outputs"]["out"]
    expected = sklearn_classification(truth, scores.argmax(1), labels=list(range(6)))
    assert result.pop("confusion") == expected.pop("confusion")
    sizes = [end - start for start, end in batches(200, 7)]
    assert result.pop("loss") == pytest.approx(sum(n * n for n in sizes) / 200)  # size-weighted
    assert result == pytest.approx(expected)


def test_a_class_predicted_but_never_present_counts_with_zero_recall():
    confusion = [[3, 1, 0], [0, 2, 2], [0, 0, 0]]
    truth = [0, 0, 0, 0, 1, 1, 1, 1]
    predicted = [0, 0, 0, 1, 1, 1, 2, 2]
    expected = sklearn_classification(truth, predicted, labels=[0, 1, 2])
    expected.pop("confusion")
    assert classification_scores(confusion) == pytest.approx(expected)


@pytest.mark.parametrize(("threshold", "shift"), [(0.0, 0.0), (0.5, 0.5)])
def test_binary_outputs_are_counted_per_value_at_their_threshold(threshold, shift):
    gen = torch.Generator().manual_seed(1)
    outputs = torch.randn(90, 3, generator=gen) + shift  # 3 yes/no labels per sample
    truth = torch.randint(0, 2, (90, 3), generator=gen).float()
    meter = SplitMeter([spec("binary", 2, 3, threshold)], CPU)
    result = feed(meter, outputs, truth)["outputs"]["out"]
    predicted = (outputs > threshold).long().flatten()
    expected = sklearn_classification(truth.long().flatten(), predicted, labels=[0, 1])
    assert result.pop("confusion") == expected.pop("confusion")
    result.pop("loss")
    assert result == pytest.approx(expected)


@pytest.mark.parametrize("offset", [0.0, 1e6])
def test_regression_metrics_match_sklearn_even_far_from_zero(monkeypatch, offset):
    monkeypatch.setattr(metrics, "FLUSH_ELEMENTS", 64)
    gen = torch.Generator().manual_seed(2)
    truth = offset + torch.randn(300, 2, generator=gen, dtype=torch.float64) * torch.tensor([1, 5])
    outputs = truth + 0.3 * torch.randn(300, 2, generator=gen, dtype=torch.float64)
    result = feed(SplitMeter([spec("regression", width=2)], CPU), outputs, truth)
    scores = result["outputs"]["out"]
    assert scores["mse"] == pytest.approx(sk.mean_squared_error(truth, outputs), rel=1e-9)
    assert scores["mae"] == pytest.approx(sk.mean_absolute_error(truth, outputs), rel=1e-9)
    assert scores["r2"] == pytest.approx(sk.r2_score(truth, outputs), rel=1e-6)


def test_constant_targets_score_r2_as_sklearn_does():
    truth = torch.ones(10, 1)
    exact = feed(SplitMeter([spec("regression")], CPU), truth.clone(), truth)
    wrong = feed(SplitMeter([spec("regression")], CPU), truth + 1, truth)
    assert exact["outputs"]["out"]["r2"] == 1.0
    assert wrong["outputs"]["out"]["r2"] == 0.0


def test_the_epoch_loss_weighs_batches_by_their_size():
    meter = SplitMeter([spec("regression")], CPU)
    meter.add((torch.zeros(3, 1),), (torch.zeros(3, 1),), [torch.tensor(1.0)], 3)
    meter.add((torch.zeros(1, 1),), (torch.zeros(1, 1),), [torch.tensor(5.0)], 1)
    assert meter.result()["loss"] == pytest.approx((3 * 1.0 + 1 * 5.0) / 4)


def test_trainer_validation_metrics_match_sklearn_on_the_final_model():
    train, val = digits()
    trainer = Trainer(mlp(), ["out"], settings(epochs=2))
    row = trainer.fit(train, val).history[-1]
    with torch.no_grad():
        predicted = trainer.model(val.x).argmax(1)
    expected = sklearn_classification(val.y, predicted, labels=list(range(10)))
    assert row["val_confusion"] == expected.pop("confusion")
    assert {k: row[f"val_{k}"] for k in expected} == pytest.approx(expected)


def test_trainer_regression_metrics_match_sklearn_on_the_final_model():
    train, val = linear_regression()
    trainer = Trainer(mlp(8, 16, 1), ["out"], settings("MSELoss", epochs=2))
    row = trainer.fit(train, val).history[-1]
    with torch.no_grad():
        predicted = trainer.model(val.x).numpy()
    truth = val.y.numpy()
    assert row["val_r2"] == pytest.approx(sk.r2_score(truth, predicted), rel=1e-5)
    assert row["val_mae"] == pytest.approx(sk.mean_absolute_error(truth, predicted), rel=1e-5)
    assert row["val_loss"] == pytest.approx(float(np.mean((truth - predicted) ** 2)), rel=1e-5)


def test_many_classes_keep_their_scores_but_leave_out_the_confusion_matrix():
    classes = metrics.CONFUSION_LIMIT + 1
    gen = torch.Generator().manual_seed(4)
    scores = torch.randn(500, classes, generator=gen)
    truth = torch.randint(0, classes, (500,), generator=gen)
    result = feed(SplitMeter([spec("classes", classes, classes)], CPU), scores, truth)
    scores_out = result["outputs"]["out"]
    assert "confusion" not in scores_out
    assert scores_out["accuracy"] == pytest.approx(sk.accuracy_score(truth, scores.argmax(1)))
