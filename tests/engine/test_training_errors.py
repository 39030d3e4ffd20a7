"""Bad input is refused before training starts, with a one-sentence message."""

import re

import pytest
import torch
from torch import nn

from engine.data.dataset import TensorData
from engine.training.trainer import Trainer, TrainingError
from tests.engine.training_support import breast_cancer, digits, linear_regression, mlp, settings


def refused(model, config, train, val=None, labels=("out",)) -> str:
    trainer = Trainer(model, list(labels), config)
    with pytest.raises(TrainingError) as caught:
        trainer.fit(train, val)
    return str(caught.value)


def test_labels_beyond_the_output_size():
    message = refused(mlp(outputs=5), settings(), *digits())
    assert message == "training labels go up to 9, but output 'out' has 5 classes"


def test_negative_labels():
    train, _ = digits()
    bad = TensorData(train.x, train.y - 1, "classification")
    assert "class ids must be 0 or more, but the training labels include -1" in refused(
        mlp(), settings(), bad
    )


def test_fractional_class_ids():
    train, _ = linear_regression()
    message = refused(mlp(8, 16, 3), settings(), train)
    assert re.fullmatch(
        r"CrossEntropyLoss needs whole-number class ids for output 'out', "
        r"but the training targets include -?\d+\.\d+",
        message,
    )


def test_whole_number_float_class_ids_are_accepted():
    train, val = digits()
    as_floats = TensorData(train.x, train.y.float(), "classification")
    result = Trainer(mlp(), ["out"], settings(epochs=1)).fit(as_floats, val)
    assert result.status == "completed"


def test_cross_entropy_on_a_single_value_output():
    message = refused(mlp(outputs=1), settings(), *digits())
    assert message.startswith(
        "CrossEntropyLoss needs one score per class from output 'out', but it gives 1 value"
    )


def test_bce_with_labels_outside_0_and_1():
    model = nn.Sequential(mlp(outputs=1), nn.Sigmoid())
    message = refused(model, settings("BCELoss"), *digits())
    assert message == "BCELoss needs training targets between 0 and 1, but they go up to 9"


def test_bce_on_a_wide_output_with_one_label_per_sample():
    message = refused(mlp(), settings("BCEWithLogitsLoss"), *digits())
    assert "for 10 classes use CrossEntropyLoss" in message


def test_bce_without_a_sigmoid():
    message = refused(mlp(30, 8, 1), settings("BCELoss"), *breast_cancer())
    assert message.startswith("BCELoss needs probabilities from output 'out' (add a Sigmoid")


def test_regression_targets_shaped_unlike_the_output():
    message = refused(mlp(8, 16, 3), settings("MSELoss"), *linear_regression())
    assert message == (
        "MSELoss needs targets shaped like output 'out' (3 values per sample), but the targets "
        "have 1 value per sample; pick a column with the loss's target setting or change the "
        "output size"
    )


def test_target_column_out_of_range():
    config = settings("MSELoss")
    config["losses"]["out"]["target"] = 2
    message = refused(mlp(8, 16, 1), config, *linear_regression())
    assert message == (
        "output 'out' learns target column 2, but the targets have 1 column(s), numbered from 0"
    )


def test_mismatched_sample_counts():
    train, _ = digits()
    bad = TensorData(train.x, train.y[:-3], "classification")
    assert refused(mlp(), settings(), bad) == "the training data has 1437 samples but 1434 targets"


def test_an_absent_device():
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    message = refused(mlp(), settings(device="cuda"), *digits())
    assert message == (
        "device 'cuda' is not available: PyTorch sees no CUDA GPU here; choose auto or cpu"
    )


def test_auto_device_trains_on_what_is_there():
    result = Trainer(mlp(), ["out"], settings(device="auto", epochs=1)).fit(*digits())
    assert result.status == "completed" and result.device in ("cpu", "cuda", "mps")


def test_a_model_that_cannot_run_on_the_data():
    message = refused(mlp(inputs=784), settings(), *digits())
    assert message.startswith("the model cannot run on the data (one sample has shape [64]):")


def test_more_labels_than_model_outputs():
    config = settings()
    config["losses"]["other"] = {"loss": "MSELoss"}
    message = refused(mlp(), config, *digits(), labels=("out", "other"))
    assert message == "the model returns 1 output(s), but 2 output label(s) were given (out, other)"


def test_early_stopping_and_plateau_need_validation_data():
    train, _ = digits()
    assert "early stopping watches the validation loss" in refused(
        mlp(), settings(early_stopping=2), train
    )
    assert "plateau scheduler watches the validation loss" in refused(
        mlp(), settings(scheduler="plateau"), train
    )


def test_invalid_settings_are_listed():
    with pytest.raises(TrainingError, match=r"training\.lr: .*training\.epochs"):
        Trainer(mlp(), ["out"], {"lr": -1, "epochs": 0})


def test_an_empty_training_set():
    empty = TensorData(torch.zeros(0, 64), torch.zeros(0, dtype=torch.long), "classification")
    assert refused(mlp(), settings(), empty) == "the training data is empty"


def test_training_without_validation_data_works():
    train, _ = digits()
    result = Trainer(mlp(), ["out"], settings(epochs=1)).fit(train)
    assert result.status == "completed" and result.history[0]["val_loss"] is None
