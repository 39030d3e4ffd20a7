"""The evaluation view over real runs of the presets: what it shows is what the engine
measured, and the user can move between outputs and reach a misclassified sample."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QComboBox, QLabel, QListWidget, QTableWidget, QWidget

from engine.document.project import load
from engine.runs.evaluation import TrainedModel, evaluate
from engine.training.job import prepare_job
from gui.training.evaluation_view import (
    CELL_TEXT_LIMIT,
    EMPTY_TEXT,
    INDEX_ROLE,
    ConfusionMatrix,
    EvaluationView,
)
from tests.gui.widget_helpers import shown
from tests.paths import PRESETS


def trained_model(name: str, epochs: int) -> TrainedModel:
    """The preset `name` trained for `epochs` epochs (seeded, so always the same)."""
    project = load(PRESETS / f"{name}.json")
    project.training["epochs"] = epochs
    job = prepare_job(project)
    assert job.run().status == "completed"
    return TrainedModel.from_job(job)


@pytest.fixture(scope="module")
def digits() -> TrainedModel:
    return trained_model("digits_cnn", 5)


@pytest.fixture(scope="module")
def line() -> TrainedModel:
    return trained_model("linear_regression", 300)


@pytest.fixture
def view(qtbot) -> EvaluationView:
    return shown(qtbot, EvaluationView(), 1000, 560)


def test_before_any_run_the_view_says_there_is_nothing_yet(view):
    empty = view.findChild(QLabel, "evaluationEmpty")
    assert empty.isVisible() and empty.text() == EMPTY_TEXT
    assert not view.findChild(QComboBox, "evaluationOutput").isVisible()
    assert not view.findChild(QWidget, "confusionMatrix").isVisible()


def test_a_classifier_shows_its_confusion_matrix_scores_and_mistakes(view, digits, tmp_path):
    [result] = evaluate(digits)
    view.show_evaluation([result], digits.sample_image)
    matrix = view.findChild(ConfusionMatrix, "confusionMatrix")
    assert matrix.isVisible()
    assert np.array_equal(matrix.matrix, result.confusion)
    assert matrix.names == [str(d) for d in range(10)] and matrix.labelled
    assert not view.findChild(QComboBox, "evaluationOutput").isVisible()
    summary = view.findChild(QLabel, "evaluationSummary").text()
    assert f"on {len(digits.data)} validation samples: accuracy {result.accuracy:.1%}" in summary

    table = view.findChild(QTableWidget, "perClassTable")
    assert table.rowCount() == 11  # ten digits and the macro average
    three = result.per_class[3]
    assert [table.item(3, c).text() for c in range(5)] == [
        "3",
        f"{three.precision:.3f}",
        f"{three.recall:.3f}",
        f"{three.f1:.3f}",
        str(three.support),
    ]
    assert table.item(10, 0).text() == "macro average"

    grid = view.findChild(QListWidget, "misclassifiedGrid")
    assert grid.count() == len(result.misclassified) == min(result.misclassified_count, 64) > 0
    first = result.misclassified[0]
    assert grid.item(0).text() == f"{first.true} → {first.predicted}"
    assert grid.item(0).data(INDEX_ROLE) == first.index
    assert not grid.item(0).icon().isNull()

    picture = view.grab()
    picture.save(str(tmp_path / "evaluation.png"))
    cell = _cell_centre(matrix, 0, 0)
    diagonal = picture.toImage().pixelColor(matrix.mapTo(view, cell))
    assert diagonal.blue() > diagonal.red() + 60  # a well-recognised digit is deep blue


def _cell_centre(matrix: ConfusionMatrix, row: int, column: int) -> QPoint:
    grid, count = matrix.grid_rect(), len(matrix.matrix)
    step = grid.width() / count
    return QPoint(int(grid.left() + (column + 0.5) * step), int(grid.top() + (row + 0.5) * step))


def test_a_cell_under_the_mouse_is_described(view, digits):
    [result] = evaluate(digits)
    view.show_evaluation([result], digits.sample_image)
    matrix = view.findChild(ConfusionMatrix, "confusionMatrix")
    assert matrix.cell_at(_cell_centre(matrix, 3, 8)) == (3, 8)
    assert matrix.cell_at(QPoint(1, 1)) is None
    count, support = result.confusion[3, 8], result.confusion[3].sum()
    assert matrix.describe(3, 8).startswith(f"true 3, predicted 8: {count} sample")
    assert f"{count / support:.1%} of them" in matrix.describe(3, 8)


def test_double_clicking_a_mistake_names_its_sample(qtbot, view, digits):
    [result] = evaluate(digits)
    view.show_evaluation([result], digits.sample_image)
    grid = view.findChild(QListWidget, "misclassifiedGrid")
    where = grid.visualItemRect(grid.item(1)).center()
    with qtbot.waitSignal(view.sample_activated) as signal:
        qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=where)
        qtbot.mouseDClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert signal.args == [result.misclassified[1].index]


def test_without_pictures_mistakes_are_listed_by_sample(view, digits):
    [result] = evaluate(digits)
    view.show_evaluation([result])
    grid = view.findChild(QListWidget, "misclassifiedGrid")
    first = result.misclassified[0]
    assert grid.item(0).text() == f"sample {first.index}: {first.true} → {first.predicted}"
    assert grid.item(0).icon().isNull()


def test_a_regression_shows_predicted_against_true_around_the_diagonal(view, line, tmp_path):
    [result] = evaluate(line)
    view.show_evaluation([result])
    scatter = view.findChild(QWidget, "regressionScatter")
    assert scatter.isVisible()
    assert not view.findChild(QWidget, "confusionMatrix").isVisible()
    diagonal, points = scatter.getPlotItem().listDataItems()
    x, y = points.getData()
    assert np.allclose(x, result.true[:, 0]) and np.allclose(y, result.predicted[:, 0])
    ends = diagonal.getData()
    assert np.array_equal(ends[0], ends[1])  # the line y = x
    assert ends[0].min() < x.min() and ends[0].max() > x.max()
    scores = view.findChild(QLabel, "regressionScores").text()
    assert f"R² {result.r2:.4f}" in scores and f"MAE {result.mae:.4g}" in scores
    assert not view.findChild(QWidget, "forecastPlot").isVisible()  # not a series
    view.grab().save(str(tmp_path / "regression.png"))


def test_a_forecast_is_plotted_against_the_series_in_its_own_units(view, tmp_path):
    model = trained_model("time_series_forecast", 2)
    [result] = evaluate(model)
    view.show_evaluation([result])
    plot = view.findChild(QWidget, "forecastPlot")
    assert plot.isVisible()
    actual, forecast = plot.getPlotItem().listDataItems()
    times, values = actual.getData()
    assert times[0] == pytest.approx(1937.0, abs=0.01) and times[-1] == pytest.approx(
        1983.92, abs=0.01
    )
    assert values[0] == pytest.approx(132.5, abs=1e-3)  # January 1937's sunspots, unscaled
    scale = model.data.info["series"]["scale"]
    expected = result.predicted[:, 0] * scale["std"][0] + scale["mean"][0]
    assert np.allclose(forecast.getData()[1], expected)
    view.grab().save(str(tmp_path / "forecast.png"))


def test_the_output_picker_moves_between_outputs(qtbot, view):
    model = trained_model("multitask", 3)
    results = evaluate(model)
    view.show_evaluation(results)
    picker = view.findChild(QComboBox, "evaluationOutput")
    summary = view.findChild(QLabel, "evaluationSummary")
    assert picker.isVisible() and picker.count() == 2
    assert summary.text().startswith("output 'task_a'")
    picker.setFocus()
    qtbot.keyClick(picker, Qt.Key.Key_Down)
    assert picker.currentText() == "task_b"
    assert summary.text().startswith("output 'task_b'")
    _, points = view.findChild(QWidget, "regressionScatter").getPlotItem().listDataItems()
    assert np.allclose(points.getData()[0], results[1].true[:, 0])
    view.clear()
    assert view.findChild(QLabel, "evaluationEmpty").isVisible() and not picker.isVisible()


def test_many_classes_are_a_plain_heat_map(qtbot):
    matrix = shown(qtbot, ConfusionMatrix(), 400, 400)
    count = CELL_TEXT_LIMIT + 5
    counts = np.diag(np.arange(1, count + 1))
    counts[0, 1] = 3
    matrix.set_matrix(counts, [f"class {i}" for i in range(count)])
    assert not matrix.labelled
    assert matrix.grid_rect().left() < 40  # no room kept for names
    assert matrix.cell_at(_cell_centre(matrix, 0, 1)) == (0, 1)
    assert not matrix.grab().isNull()
