"""Evaluation of trained presets: the numbers agree with the trainer's own metrics and with
scikit-learn, and samples (drawn or loaded) go to the model on the scale it learned."""

import numpy as np
import pytest
import torch
from sklearn import metrics as sk
from torch import nn

from engine.data.pictures import ImageLayout, image_layout
from engine.document.project import load
from engine.runs.evaluation import (
    MISCLASSIFIED_LIMIT,
    ClassificationEvaluation,
    InkStyle,
    RegressionEvaluation,
    TrainedModel,
    class_probabilities,
    drawn_sample,
    evaluate,
    normalized_samples,
    predict,
    raw_samples,
)
from engine.training.job import TrainingJob, prepare_job
from engine.training.metrics import classification_scores
from engine.training.trainer import metric_key
from tests.paths import PRESETS


def trained(name: str, epochs: int, **data) -> TrainingJob:
    project = load(PRESETS / f"{name}.json")
    project.training["epochs"] = epochs
    job = prepare_job(project, data={**project.data, **data} if data else None)
    assert job.run().status == "completed"
    return job


@pytest.fixture(scope="module")
def digits_mlp() -> TrainingJob:
    return trained("digits_mlp", 5)


@pytest.fixture(scope="module")
def digits_cnn() -> TrainingJob:
    return trained("digits_cnn", 5)


def final(job: TrainingJob, metric: str, label: str | None = None) -> float:
    return job.result.history[-1][metric_key("val", metric, label)]


# --- predict ------------------------------------------------------------------------------


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(3, 2), nn.Linear(3, 1)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        x = self.drop(x)
        return self.a(x), self.b(x)


def test_predict_batches_without_dropout_and_restores_the_mode():
    torch.manual_seed(0)
    model = TwoHeads().train()
    x = torch.randn(25, 3)
    a, b = predict(model, x, batch_size=4)
    assert model.training
    assert (a.shape, b.shape) == ((25, 2), (25, 1))
    assert torch.allclose(a, model.a(x)) and torch.allclose(b, model.b(x))
    assert predict(model.eval(), x[:0])[0].shape == (0, 2)
    assert not model.training


# --- classification -----------------------------------------------------------------------


def test_digits_evaluation_agrees_with_the_trainer_and_scikit_learn(digits_mlp):
    model = TrainedModel.from_job(digits_mlp)
    [result] = evaluate(model)
    val = digits_mlp.splits.val
    assert isinstance(result, ClassificationEvaluation)
    assert (result.label, result.split, result.samples) == ("out", "validation", len(val))
    assert result.confusion.sum() == len(val)
    assert result.confusion.tolist() == digits_mlp.result.history[-1]["val_confusion"]
    assert result.accuracy == pytest.approx(final(digits_mlp, "accuracy"))
    scores = classification_scores(result.confusion)
    assert result.macro == pytest.approx(
        {key: scores[key] for key in ("precision", "recall", "f1")}
    )
    assert result.class_names == [str(d) for d in range(10)]

    truth = val.y.numpy()
    guess = predict(digits_mlp.built.module, val.x)[0].argmax(1).numpy()
    precision, recall, f1, support = sk.precision_recall_fscore_support(
        truth, guess, labels=range(10), zero_division=0
    )
    assert [c.precision for c in result.per_class] == pytest.approx(precision)
    assert [c.recall for c in result.per_class] == pytest.approx(recall)
    assert [c.f1 for c in result.per_class] == pytest.approx(f1)
    assert [c.support for c in result.per_class] == support.tolist()

    wrong = np.flatnonzero(guess != truth)
    assert result.misclassified_count == len(wrong) == result.samples - np.trace(result.confusion)
    assert [m.index for m in result.misclassified] == wrong[:MISCLASSIFIED_LIMIT].tolist()
    assert all(
        (m.true, m.predicted) == (truth[m.index], guess[m.index]) for m in result.misclassified
    )


def test_binary_outputs_read_probabilities_with_their_threshold():
    job = trained("logistic_regression", 3)
    model = TrainedModel.from_job(job)
    [result] = evaluate(model)
    p = predict(job.built.module, job.splits.val.x)[0].reshape(-1)
    assert result.class_names == ["malignant", "benign"]
    assert result.confusion.shape == (2, 2)
    assert result.confusion[:, 1].sum() == int((p > 0.5).sum())
    assert result.confusion.tolist() == job.result.history[-1]["val_confusion"]
    assert class_probabilities(p[0], "BCELoss") == pytest.approx([1 - p[0].item(), p[0].item()])


def test_the_training_split_is_evaluated_when_nothing_is_held_out():
    job = trained("binary_classifier", 2, val_fraction=0.0)
    [result] = evaluate(TrainedModel.from_job(job))
    assert (result.split, result.samples) == ("training", len(job.splits.train))
    assert result.confusion.sum() == len(job.splits.train)


# --- regression ---------------------------------------------------------------------------


def test_regression_gives_values_r2_and_mae_as_the_trainer_measured():
    job = trained("linear_regression", 300)
    [result] = evaluate(TrainedModel.from_job(job))
    val = job.splits.val
    assert isinstance(result, RegressionEvaluation)
    assert result.column_names == ["target"]
    assert result.true.shape == result.predicted.shape == (len(val), 1)
    assert np.allclose(result.true, val.y.numpy())
    assert result.r2 == pytest.approx(final(job, "r2"), rel=1e-6)
    assert result.mae == pytest.approx(final(job, "mae"), rel=1e-6)
    assert result.r2 > 0.8


def test_several_outputs_are_evaluated_in_the_models_order_on_their_columns():
    job = trained("multitask", 5)
    results = evaluate(TrainedModel.from_job(job))
    assert [r.label for r in results] == job.output_labels == ["task_a", "task_b"]
    for column, result in enumerate(results):
        assert result.column_names == [f"target column {column}"]
        assert np.allclose(result.true[:, 0], job.splits.val.y[:, column].numpy())
        assert result.r2 == pytest.approx(final(job, "r2", result.label), rel=1e-6)


# --- probabilities --------------------------------------------------------------------------


def test_class_probabilities_per_loss():
    scores = torch.tensor([2.0, -1.0, 0.5])
    softmax = torch.softmax(scores, 0)
    assert class_probabilities(scores, "CrossEntropyLoss") == pytest.approx(softmax.tolist())
    log_p = torch.log_softmax(scores, 0)
    assert class_probabilities(log_p, "NLLLoss") == pytest.approx(log_p.exp().tolist())
    p = torch.sigmoid(torch.tensor(0.3)).item()
    assert class_probabilities(torch.tensor([0.3]), "BCEWithLogitsLoss") == pytest.approx(
        [1 - p, p]
    )
    assert class_probabilities(torch.tensor([0.2, 0.9]), "BCELoss") == pytest.approx([0.2, 0.9])
    with pytest.raises(ValueError, match="MSELoss trains values"):
        class_probabilities(scores, "MSELoss")


def test_a_trained_models_probabilities_sum_to_one(digits_cnn):
    model = TrainedModel.from_job(digits_cnn)
    [output] = model.predict_one(model.data.x[3:4])
    assert sum(class_probabilities(output, model.outputs[0].loss)) == pytest.approx(1.0)
    assert model.probability_names(0) == [str(d) for d in range(10)]


# --- images -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "layout"),
    [
        ((1, 28, 28), ImageLayout(1, 28, 28)),
        ((3, 32, 16), ImageLayout(3, 32, 16)),
        ((8, 8), ImageLayout(1, 8, 8)),
        ((64,), ImageLayout(1, 8, 8)),
        ((784,), ImageLayout(1, 28, 28)),
        ((4,), None),  # iris: four features, not a 2x2 picture
        ((30,), None),
        ((2, 8, 8), None),
        ((1, 4, 4), None),
    ],
)
def test_image_layout(shape, layout):
    assert image_layout(shape) == layout


def test_samples_look_like_the_digits_on_their_raw_scale(digits_mlp, digits_cnn):
    flat, square = TrainedModel.from_job(digits_mlp), TrainedModel.from_job(digits_cnn)
    image = flat.sample_image(7)
    assert image.shape == (8, 8)
    assert np.allclose(image, square.sample_image(7), atol=1e-5)  # same split, other shape
    assert np.allclose(image, image.round(), atol=1e-4)  # whole numbers 0..16
    assert image.min() == pytest.approx(0, abs=1e-4) and image.max() <= 16 + 1e-4
    style = flat.ink
    assert (style.background, style.ink, style.extent) == pytest.approx((0, 16, 1), abs=1e-4)


def test_raw_and_normalized_samples_are_inverses(digits_cnn):
    x, normalization = digits_cnn.splits.val.x[:5], digits_cnn.splits.normalization
    assert len(normalization["mean"]) == 64 and x.shape[1:] == (1, 8, 8)
    assert torch.allclose(normalized_samples(raw_samples(x, normalization), normalization), x)


def test_a_drawing_of_a_validation_digit_is_predicted_like_the_digit(digits_cnn):
    model = TrainedModel.from_job(digits_cnn)
    style = model.ink
    agree = 0
    for index in range(100):
        ink = (model.sample_image(index) - style.background) / (style.ink - style.background)
        drawing = np.kron(ink, np.ones((28, 28)))  # as on a 224-pixel pad
        [drawn] = model.predict_one(model.drawn_sample(drawing))
        [real] = model.predict_one(model.data.x[index : index + 1])
        agree += int(drawn.argmax() == real.argmax())
    assert agree >= 90


def test_blank_and_full_drawings_are_background_and_ink():
    normalization = {"kind": "fixed", "mean": [0.1307], "std": [0.3081]}
    style = InkStyle(0.0, 1.0, 0.7)
    blank = drawn_sample(np.zeros((224, 224)), style, normalization, (1, 28, 28))
    full = drawn_sample(np.ones((100, 100)), style, normalization, (784,))
    assert blank.shape == (1, 1, 28, 28) and full.shape == (1, 784)
    assert torch.allclose(raw_samples(blank, normalization), torch.zeros(1), atol=1e-6)
    # a full square spans 70% of the picture, centred
    picture = raw_samples(full, normalization).reshape(28, 28)
    assert picture[14, 14] == pytest.approx(1.0) and picture[0, 0] == pytest.approx(0.0)
    with pytest.raises(ValueError, match=r"\(3, 8, 8\) is not a one-channel image"):
        drawn_sample(np.zeros((8, 8)), style, {}, (3, 8, 8))
