"""Explanations of real trained models: saliency and Grad-CAM where a picture's class is
decided, gradient x input that is exactly weight x input for a linear model, and the
sentences for what cannot be explained."""

import pytest
import torch
from torch import nn

from engine.document.graph import Graph
from engine.model.build import build_model
from engine.runs.evaluation import TrainedModel
from engine.runs.explain import (
    ExplainError,
    explain,
    grad_cam,
    gradient_x_input,
    picture_layers,
    saliency,
)
from tests.engine.graph_builders import add, chain, wire
from tests.engine.test_evaluation import trained


@pytest.fixture(scope="module")
def digits() -> TrainedModel:
    return TrainedModel.from_job(trained("digits_cnn", 3))


def left_half_pictures(count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Noise pictures [count, 1, 8, 8]; class 1 has a bright 3x3 square somewhere in the
    left half, class 0 has none: only the left half decides."""
    generator = torch.Generator().manual_seed(seed)
    x = 0.3 * torch.randn(count, 1, 8, 8, generator=generator)
    y = torch.randint(0, 2, (count,), generator=generator)
    for i in torch.nonzero(y).flatten().tolist():
        row, col = torch.randint(0, 6, (2,), generator=generator) % torch.tensor([6, 2])
        x[i, 0, row : row + 3, col : col + 3] += 1.5
    return x, y


@pytest.fixture(scope="module")
def left_half_cnn() -> nn.Module:
    """A small CNN built from a graph and trained to find the square."""
    graph = Graph()
    chain(
        graph,
        ("Input", {"shape": [1, 8, 8]}),
        ("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
        "ReLU",
        ("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
        "ReLU",
        "Flatten",
        ("Linear", {"out_features": 2}),
        "Output",
    )
    module = build_model(graph, "left", seed=0).module
    x, y = left_half_pictures(800, seed=1)
    optimizer = torch.optim.Adam(module.parameters(), lr=0.01)
    for _ in range(150):
        optimizer.zero_grad()
        nn.functional.cross_entropy(module(x), y).backward()
        optimizer.step()
    module.zero_grad(set_to_none=True)
    return module


def test_saliency_is_a_map_of_the_picture_between_0_and_1(digits):
    heat = saliency(digits.module, digits.data.x[:1])
    assert heat.shape == (8, 8)
    assert float(heat.min()) >= 0 and float(heat.max()) == 1.0
    assert float(heat.std()) > 0.05


def test_explaining_leaves_the_models_gradients_flags_and_mode_as_they_were(digits):
    module, x = digits.module, digits.data.x[:1]
    module.train()
    module.zero_grad(set_to_none=True)
    module.conv1.weight.grad = torch.ones_like(module.conv1.weight)
    module.fc2.bias.requires_grad_(False)
    try:
        saliency(module, x)
        grad_cam(module, x, "conv1")
        gradient_x_input(module, x)
        assert torch.equal(module.conv1.weight.grad, torch.ones_like(module.conv1.weight))
        others = [p.grad for name, p in module.named_parameters() if name != "conv1.weight"]
        assert others == [None] * len(others)
        flags = {name: p.requires_grad for name, p in module.named_parameters()}
        assert flags == {name: name != "fc2.bias" for name in flags}
        assert module.training
    finally:
        module.conv1.weight.grad = None
        module.fc2.bias.requires_grad_(True)
        module.eval()


def test_the_picture_layers_are_the_convolutions_and_grad_cam_defaults_to_the_last(digits):
    x = digits.data.x[:1]
    assert picture_layers(digits.module, x) == ["conv1", "conv2"]
    assert digits.layer_labels["conv2"] == "conv2"
    assert torch.equal(grad_cam(digits.module, x), grad_cam(digits.module, x, "conv2"))
    first, last = (grad_cam(digits.module, x, layer) for layer in ("conv1", "conv2"))
    assert first.shape == last.shape == (8, 8) and not torch.equal(first, last)
    explained = explain(digits, x, cam=True)
    assert (explained.layers, explained.layer) == (["conv1", "conv2"], "conv2")
    assert explained.heat.max() == 1.0 and explained.heat.min() >= 0


def test_grad_cam_and_saliency_look_at_the_half_that_decides(left_half_cnn):
    x, y = left_half_pictures(200, seed=2)
    with torch.no_grad():
        predicted = left_half_cnn(x).argmax(1)
    assert (predicted == y).float().mean() > 0.9
    squares = torch.nonzero((y == 1) & (predicted == 1)).flatten()[:20].tolist()
    for explained in (grad_cam, saliency):
        heats = torch.stack([explained(left_half_cnn, x[i : i + 1]) for i in squares])
        left, right = heats[:, :, :4].mean(), heats[:, :, 4:].mean()
        assert left > 2 * right, explained.__name__


def two_heads() -> nn.Module:
    """x [4] -> a Linear of 3 class scores, and a Linear of one value."""
    graph = Graph()
    x = add(graph, "Input", shape=[4])
    for width in (3, 1):
        linear = add(graph, "Linear", out_features=width)
        wire(graph, x, linear)
        wire(graph, linear, add(graph, "Output"))
    return build_model(graph, "heads", seed=0).module


def test_gradient_x_input_of_a_linear_model_is_weight_times_input():
    module = two_heads()
    classes, value = (module.get_submodule(name) for name in ("fc1", "fc2"))
    x = torch.tensor([[0.5, -2.0, 1.5, 3.0]])
    best = int(classes(x).argmax())
    assert torch.equal(gradient_x_input(module, x), classes.weight[best].detach() * x[0])
    assert torch.equal(gradient_x_input(module, x, 0), classes.weight[0].detach() * x[0])
    by_value = gradient_x_input(module, x, output=1)
    assert torch.equal(by_value, value.weight[0].detach() * x[0])


def test_a_tables_features_are_explained_by_their_column_names():
    model = TrainedModel.from_job(trained("logistic_regression", 2))
    x = model.data.x[:1]
    explained = explain(model, x)
    assert [name for name, _ in explained.features] == model.data.feature_names
    expected = gradient_x_input(model.module, x).tolist()
    assert [value for _, value in explained.features] == pytest.approx(expected)
    assert explained.heat is None


def test_text_ids_say_that_saliency_does_not_apply(digits):
    ids = torch.zeros(1, 12, dtype=torch.long)
    for explained in (saliency, gradient_x_input, grad_cam):
        with pytest.raises(ExplainError, match=r"int64 ids .* saliency and gradients do not"):
            explained(digits.module, ids)


def test_grad_cam_needs_a_convolution():
    graph = Graph()
    chain(graph, ("Input", {"shape": [64]}), ("Linear", {"out_features": 10}), "Output")
    module = build_model(graph, "mlp", seed=0).module
    x = torch.randn(1, 64)
    assert saliency(module, x).shape == (8, 8)  # 64 values are an 8x8 picture
    with pytest.raises(ExplainError, match=r"needs a convolutional layer .* this model has none"):
        grad_cam(module, x)


def test_grad_cam_names_a_layer_it_cannot_use(digits):
    x = digits.data.x[:1]
    with pytest.raises(ExplainError, match="The model has no layer 'conv9'"):
        grad_cam(digits.module, x, "conv9")
    with pytest.raises(ExplainError, match=r"layer 'fc1' gives \[64\] for this sample"):
        grad_cam(digits.module, x, "fc1")


def test_a_table_is_not_a_picture():
    with pytest.raises(ExplainError, match=r"shape \[30\] is not a picture"):
        saliency(nn.Linear(30, 2), torch.randn(1, 30))
