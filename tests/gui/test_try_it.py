"""Trying a trained model: samples picked with the real spin box and buttons, digits drawn
with real mouse events, predictions read back from the panel."""

import random

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QWidget,
)

from engine.runs.evaluation import TrainedModel, class_probabilities, evaluate
from gui.training.evaluation_view import EvaluationView
from gui.training.try_it import EMPTY_TEXT, DrawingPad, TryItPanel
from tests.gui.test_evaluation_view import trained_model
from tests.gui.widget_helpers import shown


@pytest.fixture(scope="module")
def digits() -> TrainedModel:
    return trained_model("digits_cnn", 5)


@pytest.fixture
def panel(qtbot) -> TryItPanel:
    return shown(qtbot, TryItPanel(), 1000, 420)


def bars(panel: TryItPanel) -> list[float]:
    chart = panel.findChild(QWidget, "probabilities")
    [item] = [i for i in chart.getPlotItem().items if isinstance(i, pg.BarGraphItem)]
    return list(item.opts["width"])


def prediction(panel: TryItPanel) -> str:
    return panel.findChild(QLabel, "prediction").text()


def type_index(qtbot, panel: TryItPanel, index: int) -> None:
    spin = panel.findChild(QSpinBox, "sampleIndex")
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(spin, str(index))


def send(pad: DrawingPad, kind: QMouseEvent.Type, at: QPoint, held: bool) -> None:
    """A mouse event for the pad, as a real mouse gives it (the button held, or not)."""
    left = Qt.MouseButton.LeftButton
    button = Qt.MouseButton.NoButton if kind == QMouseEvent.Type.MouseMove else left
    buttons = left if held else Qt.MouseButton.NoButton
    event = QMouseEvent(
        kind,
        QPointF(at),
        QPointF(pad.mapToGlobal(at)),
        button,
        buttons,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(pad, event)


def draw(pad: DrawingPad, points: list[tuple[int, int]]) -> None:
    """One stroke through `points`: press, moves with the button held, release."""
    send(pad, QMouseEvent.Type.MouseButtonPress, QPoint(*points[0]), held=True)
    for point in points[1:]:
        send(pad, QMouseEvent.Type.MouseMove, QPoint(*point), held=True)
    send(pad, QMouseEvent.Type.MouseButtonRelease, QPoint(*points[-1]), held=False)


def test_before_any_run_the_panel_says_there_is_nothing_to_try(panel):
    assert panel.empty.isVisible() and panel.empty.text() == EMPTY_TEXT
    assert not panel.findChild(QSpinBox, "sampleIndex").isVisible()


def test_picking_a_sample_predicts_it(qtbot, panel, digits, tmp_path):
    panel.set_model(digits)
    spin = panel.findChild(QSpinBox, "sampleIndex")
    assert (spin.minimum(), spin.maximum()) == (0, len(digits.data) - 1)
    type_index(qtbot, panel, 42)
    assert spin.value() == 42
    [output] = digits.predict_one(digits.data.x[42:43])
    probabilities = class_probabilities(output, "CrossEntropyLoss")
    best = int(np.argmax(probabilities))
    assert prediction(panel) == f"{best} ({probabilities[best]:.1%})"
    assert bars(panel) == pytest.approx(probabilities)
    assert sum(bars(panel)) == pytest.approx(1.0)
    truth = int(digits.data.y[42])
    assert panel.findChild(QLabel, "trueLabel").text() == f"true: {truth}"
    assert panel.findChild(QLabel, "predictionSource").text() == "for validation sample 42"
    assert not panel.findChild(QLabel, "sampleImage").pixmap().isNull()
    panel.grab().save(str(tmp_path / "try_it.png"))


def test_the_random_button_picks_another_sample(qtbot, panel, digits):
    panel.set_model(digits)
    panel._random = random.Random(3)
    spin = panel.findChild(QSpinBox, "sampleIndex")
    picked = set()
    for _ in range(3):
        qtbot.mouseClick(panel.findChild(QPushButton, "randomSample"), Qt.MouseButton.LeftButton)
        picked.add(spin.value())
        source = panel.findChild(QLabel, "predictionSource").text()
        assert source == f"for validation sample {spin.value()}"
    assert len(picked) > 1


def test_a_drawn_one_is_predicted_when_the_stroke_ends(qtbot, panel, digits, tmp_path):
    panel.set_model(digits)
    pad = panel.findChild(DrawingPad, "drawingPad")
    assert not pad.isVisible()  # the sample's tab first
    tabs = panel.findChild(QTabWidget, "tryItInputs")
    assert [tabs.isTabVisible(i) for i in range(3)] == [True, True, False]
    tabs.setCurrentIndex(1)
    assert pad.isVisible() and pad.blank
    with qtbot.waitSignal(pad.drawn):
        draw(pad, [(112, y) for y in range(30, 200, 10)])
    assert not pad.blank
    ink = pad.pixels()
    assert ink[110, 112] == 1.0 and ink[110, 10] == 0.0
    assert panel.findChild(QLabel, "predictionSource").text() == "for your drawing"
    assert sum(bars(panel)) == pytest.approx(1.0)
    assert prediction(panel).startswith("1 (")
    assert not panel.findChild(QLabel, "drawingAsSample").pixmap().isNull()
    panel.grab().save(str(tmp_path / "drawn.png"))
    source = panel.findChild(QLabel, "predictionSource")
    tabs.setCurrentIndex(0)  # the prediction follows the tab shown
    assert source.text() == "for validation sample 0"
    tabs.setCurrentIndex(1)
    assert source.text() == "for your drawing"

    qtbot.mouseClick(panel.findChild(QPushButton, "clearDrawing"), Qt.MouseButton.LeftButton)
    assert pad.blank and not pad.pixels().any()


def test_moving_without_the_button_held_draws_nothing(panel, digits):
    panel.set_model(digits)
    pad = panel.findChild(DrawingPad, "drawingPad")
    before = prediction(panel)
    send(pad, QMouseEvent.Type.MouseMove, QPoint(50, 50), held=False)
    send(pad, QMouseEvent.Type.MouseMove, QPoint(150, 150), held=False)
    assert pad.blank and prediction(panel) == before


def test_a_mistake_double_clicked_in_the_evaluation_is_tried(qtbot, panel, digits):
    view = shown(qtbot, EvaluationView(), 1000, 560)
    view.sample_activated.connect(panel.show_sample)
    panel.set_model(digits)
    [result] = evaluate(digits)
    view.show_evaluation([result], digits.sample_image)
    view.sample_activated.emit(result.misclassified[0].index)
    assert panel.findChild(QSpinBox, "sampleIndex").value() == result.misclassified[0].index
    predicted = digits.class_names[0][result.misclassified[0].predicted]
    assert prediction(panel).startswith(f"{predicted} (")


def test_a_regression_shows_its_value_and_no_drawing_pad(qtbot, panel):
    model = trained_model("linear_regression", 300)
    panel.set_model(model)
    assert not panel.findChild(QWidget, "drawingPad").isVisible()
    assert not panel.findChild(QWidget, "probabilities").isVisible()
    type_index(qtbot, panel, 7)
    [output] = model.predict_one(model.data.x[7:8])
    truth = float(model.data.y[7, 0])
    assert prediction(panel) == f"{output.item():.4g}"
    assert panel.findChild(QLabel, "trueLabel").text() == f"true: {truth:.4g}"
    error = panel.findChild(QLabel, "predictionError").text()
    assert error == f"error (predicted - true): {output.item() - truth:.4g}"
    assert "x0 = " in panel.findChild(QLabel, "sampleImage").text()


def test_several_outputs_are_tried_one_at_a_time(qtbot, panel):
    model = trained_model("multitask", 3)
    panel.set_model(model)
    picker = panel.findChild(QComboBox, "tryItOutput")
    assert picker.isVisible() and picker.count() == 2
    a, b = model.predict_one(model.data.x[:1])
    assert prediction(panel) == f"{a.item():.4g}"
    picker.setFocus()
    qtbot.keyClick(picker, Qt.Key.Key_Down)
    assert prediction(panel) == f"{b.item():.4g}"
    assert panel.findChild(QLabel, "trueLabel").text().startswith("true task_b: ")
    panel.set_model(None)
    assert panel.empty.isVisible()


def test_a_binary_output_shows_both_classes(panel):
    model = trained_model("logistic_regression", 3)
    panel.set_model(model)
    [p] = model.predict_one(model.data.x[:1])
    assert bars(panel) == pytest.approx([1 - p.item(), p.item()])
    best = "benign" if p.item() > 0.5 else "malignant"
    assert prediction(panel).startswith(f"{best} (")


def test_a_typed_text_is_read_by_the_runs_words_and_classified(qtbot, panel):
    model = trained_model("text_classification", 6)
    panel.set_model(model)
    tabs = panel.findChild(QTabWidget, "tryItInputs")
    assert [tabs.isTabVisible(i) for i in range(3)] == [True, False, True]
    tabs.setCurrentIndex(2)
    assert panel.findChild(QWidget, "typedText").isVisible()
    assert not panel.findChild(QWidget, "drawingPad").isVisible()
    words = panel.findChild(QLabel, "sampleImage").text()
    assert words and "<pad>" not in words  # the validation sample, as words
    box = panel.findChild(QWidget, "typedText")
    box.setFocus()
    qtbot.keyClicks(box, "The battery is not good but i love the screen")
    assert panel.findChild(QLabel, "textAsTokens").text() == (
        "reads: the battery is not good but i love the screen"
    )
    names = model.probability_names(0)
    [output] = model.predict_one(model.typed_text("The battery is not good but i love the screen"))
    probabilities = class_probabilities(output, "CrossEntropyLoss")
    assert bars(panel) == pytest.approx(probabilities)
    assert prediction(panel).startswith("positive")
    assert panel.findChild(QLabel, "predictionSource").text() == "for your text"
    box.selectAll()
    qtbot.keyClicks(box, "zzyzx battery")
    assert panel.findChild(QLabel, "textAsTokens").text() == "reads: <unk> battery"
    assert names == ["negative", "positive"]
