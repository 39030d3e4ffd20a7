"""The presets reproduce the seed articles' examples (fixed where the articles were broken)."""

import pytest

from engine.document.project import load
from engine.document.trust import ALLOWED
from engine.model.build import build_model
from engine.training.job import with_its_data
from tests.paths import PRESETS

EXPECTED = {
    "binary_classifier": (["Linear(10, 5)", "Linear(5, 1)", "torch.sigmoid"], "BCELoss", "Adam"),
    "digits_mlp": (["Linear(64, 128)", "torch.relu", "Linear(128, 10)"], "CrossEntropyLoss", "SGD"),
    "digits_cnn": (["Conv2d(1, 16, 3, padding=1)", "Linear(128, 64)"], "CrossEntropyLoss", "SGD"),
    "mnist_mlp": (
        ["torch.flatten", "Linear(784, 128)", "Linear(128, 10)"],
        "CrossEntropyLoss",
        "SGD",
    ),
    "mnist_cnn": (
        ["Conv2d(1, 10, 5)", "Conv2d(10, 20, 5)", "Linear(320, 50)"],
        "CrossEntropyLoss",
        "SGD",
    ),
    "linear_regression": (["nn.Linear(1, 1)"], "MSELoss", "SGD"),
    "logistic_regression": (["nn.Linear(30, 1)", "torch.sigmoid"], "BCELoss", "SGD"),
    "multitask": (
        ["self.head_a = nn.Linear(10, 1)", "self.head_b = nn.Linear(10, 1)"],
        "MSELoss",
        "Adam",
    ),
    "custom_layer": (["class Affine(nn.Module)", "nn.Parameter"], "CrossEntropyLoss", "Adam"),
    "shapes_cnn": (["Conv2d(3, 16, 3, padding=1)", "Linear(2048, 64)"], "CrossEntropyLoss", "Adam"),
    "text_classification": (
        ["nn.Embedding(5000, 32, padding_idx=0)", "bidirectional=True", "> 0", "Linear(96, 2)"],
        "CrossEntropyLoss",
        "Adam",
    ),
    "resnet18": (
        ["class BasicBlock(nn.Module)", "class DownStage2(nn.Sequential)", "DownStage2(256, 512)"],
        "CrossEntropyLoss",
        "Adam",
    ),
    "finetune_resnet18": (
        [
            'frozen = ("conv1", "bn1", "layer1", "layer2", "layer3")',
            'lr_multipliers = {"fc": 10.0}',
        ],
        "CrossEntropyLoss",
        "Adam",
    ),
    "resnet34": (
        ["class Stage3(nn.Sequential)", "DownStage6(256)"],
        "CrossEntropyLoss",
        "Adam",
    ),
    "vit_tiny": (
        ["nn.TransformerEncoderLayer(", "class Encoder(nn.Sequential)", "chunk(65, 1)[0]"],
        "CrossEntropyLoss",
        "AdamW",
    ),
    "text_transformer": (
        ["nn.Embedding(5000, 64, padding_idx=0)", "self.positions(torch.arange("],
        "CrossEntropyLoss",
        "Adam",
    ),
    "mobilenet_v2": (
        ["class InvertedResidualSkip(nn.Module)", "groups=hidden", "Classifier(4)"],
        "CrossEntropyLoss",
        "Adam",
    ),
    "time_series_forecast": (
        ["nn.LSTM(1, 64, batch_first=True)", "Linear(64, 1)"],
        "MSELoss",
        "Adam",
    ),
}


def test_every_seed_example_has_a_preset():
    assert sorted(p.stem for p in PRESETS.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_preset_builds_the_seed_model(name):
    project = with_its_data(load(PRESETS / f"{name}.json"))  # shapes taken from the data
    fragments, loss, optimizer = EXPECTED[name]
    source = build_model(project.graph, project.name, trust=ALLOWED).code.source
    for fragment in fragments:
        assert fragment in source, fragment
    assert {spec["loss"] for spec in project.losses().values()} == {loss}
    assert project.training["optimizer"] == optimizer
    assert project.description


def test_seed_settings_are_kept():
    mlp = load(PRESETS / "mnist_mlp.json")
    assert (mlp.training["lr"], mlp.training["momentum"], mlp.training["epochs"]) == (0.01, 0.9, 10)
    assert (mlp.data["mean"], mlp.data["std"]) == ([0.1307], [0.3081])
    cnn = load(PRESETS / "mnist_cnn.json")
    assert (cnn.training["momentum"], cnn.training["batch_size"]) == (0.5, 64)
    assert cnn.training["eval_batch_size"] == 1000
    linear = load(PRESETS / "linear_regression.json")
    assert (linear.training["epochs"], linear.training["lr"]) == (1000, 0.01)
    multitask = load(PRESETS / "multitask.json")
    assert [s["target"] for s in multitask.losses().values()] == [0, 1]
