"""Built-in data sets and synthetic generators."""

import pytest
import torch

from engine.data import (
    BUILTIN_NAMES,
    SYNTHETIC_NAMES,
    DataError,
    Recipe,
    load_builtin,
    make_synthetic,
)

BUILTIN_CLASSIFICATION = {
    # name: (samples, features, classes)
    "digits": (1797, 64, 10),
    "iris": (150, 4, 3),
    "wine": (178, 13, 3),
    "breast_cancer": (569, 30, 2),
}


@pytest.mark.parametrize("name", sorted(BUILTIN_CLASSIFICATION))
def test_builtin_classification_shapes_and_classes(name):
    samples, features, classes = BUILTIN_CLASSIFICATION[name]
    data = load_builtin(name)
    assert data.task == "classification"
    assert data.x.shape == (samples, features) and data.x.dtype == torch.float32
    assert data.y.shape == (samples,) and data.y.dtype == torch.int64
    assert len(data.classes) == classes
    assert set(data.y.tolist()) == set(range(classes))
    assert len(data.feature_names) == features


def test_digits_are_pixel_counts_with_digit_names():
    data = load_builtin("digits")
    assert data.x.min() == 0 and data.x.max() == 16
    assert data.classes == [str(i) for i in range(10)]


def test_diabetes_is_single_target_regression_as_a_column():
    data = load_builtin("diabetes")
    assert data.task == "regression" and data.classes is None
    assert data.x.shape == (442, 10)
    assert data.y.shape == (442, 1) and data.y.dtype == torch.float32


def test_builtin_names_cover_all_and_unknown_is_refused():
    assert set(BUILTIN_NAMES) == {*BUILTIN_CLASSIFICATION, "diabetes"}
    with pytest.raises(DataError, match=r"'mnist' is not a built-in data set"):
        load_builtin("mnist")


SYNTHETIC_SHAPES = {
    # name: (x shape, y shape, task) for Recipe(samples=200, features=5, classes=3, targets=4)
    "blobs": ((200, 5), (200,), "classification"),
    "moons": ((200, 2), (200,), "classification"),
    "circles": ((200, 2), (200,), "classification"),
    "classification": ((200, 5), (200,), "classification"),
    "linear": ((200, 5), (200, 1), "regression"),
    "multi_target": ((200, 5), (200, 4), "regression"),
}
RECIPE = Recipe(samples=200, features=5, classes=3, targets=4, noise=0.1, seed=7)


@pytest.mark.parametrize("name", SYNTHETIC_NAMES)
def test_synthetic_shapes_dtypes_and_determinism(name):
    x_shape, y_shape, task = SYNTHETIC_SHAPES[name]
    data = make_synthetic(name, RECIPE)
    assert data.task == task
    assert data.x.shape == x_shape and data.x.dtype == torch.float32
    assert data.y.shape == y_shape
    assert data.y.dtype == (torch.int64 if task == "classification" else torch.float32)
    again = make_synthetic(name, RECIPE)
    assert torch.equal(data.x, again.x) and torch.equal(data.y, again.y)
    other = make_synthetic(name, Recipe(**{**RECIPE.__dict__, "seed": 8}))
    assert not torch.equal(data.x, other.x)


@pytest.mark.parametrize("name", ["blobs", "classification"])
def test_synthetic_classes_setting_gives_that_many_classes(name):
    data = make_synthetic(name, RECIPE)
    assert len(data.classes) == 3
    assert set(data.y.tolist()) == {0, 1, 2}


def test_linear_follows_the_true_line():
    recipe = Recipe(samples=500, features=1, weight=-3.0, bias=0.5, noise=0.0, seed=1)
    data = make_synthetic("linear", recipe)
    assert torch.allclose(data.y, -3.0 * data.x + 0.5, atol=1e-5)


def test_multi_target_targets_are_different_learnable_functions():
    recipe = Recipe(samples=400, features=3, targets=2, noise=0.0, seed=3)
    data = make_synthetic("multi_target", recipe)
    design = torch.cat([data.x, torch.ones(400, 1)], dim=1).double()
    solution = torch.linalg.lstsq(design, data.y.double()).solution
    assert torch.allclose(design @ solution, data.y.double(), atol=1e-4)
    assert not torch.allclose(solution[:, 0], solution[:, 1])


def test_synthetic_classification_needs_enough_features():
    with pytest.raises(DataError, match=r"data.features: 8 classes need at least 3 features"):
        make_synthetic("classification", Recipe(features=2, classes=8))
    assert len(make_synthetic("classification", Recipe(features=3, classes=8)).classes) == 8


def test_unknown_generator_is_refused():
    with pytest.raises(DataError, match=r"'spiral' is not a synthetic generator"):
        make_synthetic("spiral", RECIPE)
