"""Generated data sets: the same settings and seed always give the same samples.

What `noise` means per generator:
  blobs           spread of each cluster, scaled so 0.1 is scikit-learn's usual 1.0;
  moons, circles  standard deviation of Gaussian noise added to the points;
  classification  share of labels assigned at random (capped at 1);
  linear, multi_target  standard deviation of Gaussian noise added to y.
moons and circles are always two-dimensional: `features` does not apply to them.
scikit-learn is imported on first use (it takes a second).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.data.dataset import DataError, TensorData
from engine.document.settings import SYNTHETIC_DATASETS as SYNTHETIC_NAMES


@dataclass(frozen=True)
class Recipe:
    """The data settings a generator reads."""

    samples: int = 1000
    features: int = 2
    classes: int = 2
    targets: int = 2
    noise: float = 0.1
    weight: float = 2.0
    bias: float = 1.0
    seed: int = 0

    @classmethod
    def from_settings(cls, settings: dict) -> Recipe:
        return cls(**{name: settings[name] for name in cls.__dataclass_fields__})


def make_synthetic(name: str, recipe: Recipe) -> TensorData:
    makers = {
        "blobs": _blobs,
        "moons": _moons,
        "circles": _circles,
        "classification": _classification,
        "linear": _linear,
        "multi_target": _multi_target,
    }
    if name not in makers:
        known = ", ".join(SYNTHETIC_NAMES)
        raise DataError(f"data.name: {name!r} is not a synthetic generator (known: {known})")
    return makers[name](recipe)


def _class_names(count: int) -> list[str]:
    return [f"class {i}" for i in range(count)]


def _blobs(r: Recipe) -> TensorData:
    from sklearn import datasets

    x, y = datasets.make_blobs(
        n_samples=r.samples,
        n_features=r.features,
        centers=r.classes,
        cluster_std=10 * r.noise,
        random_state=r.seed,
    )
    return TensorData.classification(x, y, _class_names(r.classes), source="synthetic blobs")


def _moons(r: Recipe) -> TensorData:
    from sklearn import datasets

    x, y = datasets.make_moons(n_samples=r.samples, noise=r.noise, random_state=r.seed)
    return TensorData.classification(x, y, _class_names(2), source="synthetic moons")


def _circles(r: Recipe) -> TensorData:
    from sklearn import datasets

    x, y = datasets.make_circles(
        n_samples=r.samples, noise=r.noise, factor=0.5, random_state=r.seed
    )
    return TensorData.classification(x, y, ["outer", "inner"], source="synthetic circles")


def _classification(r: Recipe) -> TensorData:
    """Four in five features informative, the rest linear mixes of them."""
    redundant = r.features // 5
    informative = r.features - redundant
    if r.classes > 2**informative:
        raise DataError(
            f"data.features: {r.classes} classes need at least {_features_for(r.classes)} "
            f"features for the synthetic classification data set, got {r.features}"
        )
    from sklearn import datasets

    x, y = datasets.make_classification(
        n_samples=r.samples,
        n_features=r.features,
        n_informative=informative,
        n_redundant=redundant,
        n_classes=r.classes,
        n_clusters_per_class=1,
        flip_y=min(r.noise, 1.0),
        random_state=r.seed,
    )
    return TensorData.classification(
        x, y, _class_names(r.classes), source="synthetic classification"
    )


def _features_for(classes: int) -> int:
    """make_classification puts each class on a corner of a cube of the informative features."""
    features = 1
    while 2 ** (features - features // 5) < classes:
        features += 1
    return features


def _linear(r: Recipe) -> TensorData:
    """y = weight * (sum of the features) + bias + noise * N(0, 1); with one feature the
    true line is exactly y = weight * x + bias."""
    rng = np.random.default_rng(r.seed)
    x = rng.standard_normal((r.samples, r.features))
    y = r.weight * x.sum(axis=1) + r.bias + r.noise * rng.standard_normal(r.samples)
    return TensorData.regression(x, y, source="synthetic linear")


def _multi_target(r: Recipe) -> TensorData:
    """Each target is its own random linear combination of the features plus an offset."""
    rng = np.random.default_rng(r.seed)
    x = rng.standard_normal((r.samples, r.features))
    weights = rng.standard_normal((r.features, r.targets))
    offsets = rng.standard_normal(r.targets)
    y = x @ weights + offsets + r.noise * rng.standard_normal((r.samples, r.targets))
    return TensorData.regression(x, y, source="synthetic multi_target")
