"""Small data sets that ship inside scikit-learn: no download needed.

scikit-learn is imported on first use: it takes a second, which the app's start-up and
the command line should not pay when the data comes from elsewhere.
"""

from __future__ import annotations

from engine.data.dataset import DataError, TensorData
from engine.document.settings import BUILTIN_DATASETS as BUILTIN_NAMES

_REGRESSION = ("diabetes",)


def load_builtin(name: str) -> TensorData:
    """digits (8x8 images as 64 features, 0..16), iris, wine, breast_cancer: classification;
    diabetes: regression with y [N, 1]."""
    if name not in BUILTIN_NAMES:
        known = ", ".join(BUILTIN_NAMES)
        raise DataError(f"data.name: {name!r} is not a built-in data set (known: {known})")
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")()
    names = list(bunch.feature_names)
    source = f"builtin {name}"
    if name in _REGRESSION:
        return TensorData.regression(bunch.data, bunch.target, names, source)
    classes = [str(c) for c in bunch.target_names]
    return TensorData.classification(bunch.data, bunch.target, classes, names, source)
