"""What `engine.runs.evaluation.evaluate` finds, as plain data (numpy, no torch), so views can
show it without importing torch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MISCLASSIFIED_LIMIT = 64


@dataclass(frozen=True)
class ClassScore:
    """One class's precision, recall and F1, and its number of true samples."""

    name: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Misclassified:
    """A sample (its index in the evaluated split) given the wrong class."""

    index: int
    true: int
    predicted: int


@dataclass(frozen=True)
class ClassificationEvaluation:
    """A classification output scored on `samples` samples of the `split` split.

    confusion: counts [true class, predicted class]; a binary output with several values
    counts every value. macro: precision / recall / F1 averaged over classes.
    misclassified: the first `MISCLASSIFIED_LIMIT` mistakes of `misclassified_count`.
    """

    label: str
    loss: str
    split: str
    samples: int
    class_names: list[str]
    confusion: np.ndarray
    per_class: list[ClassScore]
    accuracy: float
    macro: dict[str, float]
    misclassified: list[Misclassified]
    misclassified_count: int


@dataclass(frozen=True)
class Forecast:
    """A series' forecast against what happened, one step ahead, in the series' own
    units: `times` of the validation targets (dates as years), `actual`, `predicted`."""

    name: str
    times: np.ndarray
    actual: np.ndarray
    predicted: np.ndarray
    dates: bool


@dataclass(frozen=True)
class RegressionEvaluation:
    """A regression output scored on `samples` samples of the `split` split.

    true, predicted: [samples, columns], one column per value the output gives.
    r2: averaged over the columns, as in the training metrics.
    """

    label: str
    loss: str
    split: str
    samples: int
    column_names: list[str]
    true: np.ndarray
    predicted: np.ndarray
    r2: float
    mae: float
    mse: float
    forecast: Forecast | None = None


OutputEvaluation = ClassificationEvaluation | RegressionEvaluation
