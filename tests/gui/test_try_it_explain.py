"""Try It explains its predictions: a heat map over a digit, saliency or Grad-CAM on the
layer chosen with the real combo boxes, and bars per feature for a table."""

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QComboBox, QLabel, QWidget

from engine.runs.evaluation import TrainedModel
from engine.runs.explain import gradient_x_input
from gui.training.bar_charts import short_name
from gui.training.explain_view import FEATURES_SHOWN, WORKING
from gui.training.try_it import TryItPanel
from tests.gui.test_evaluation_view import trained_model
from tests.gui.widget_helpers import shown


@pytest.fixture(scope="module")
def digits() -> TrainedModel:
    return trained_model("digits_cnn", 3)


def trying(qtbot, model: TrainedModel) -> TryItPanel:
    """A shown Try It panel, wide enough for its Explain area, trying `model`."""
    panel = shown(qtbot, TryItPanel(), 1300, 440)
    panel.set_model(model)
    return panel


def caption(panel: TryItPanel) -> str:
    return panel.findChild(QLabel, "explainStatus").text()


def explained(qtbot, panel: TryItPanel, start: str) -> str:
    """The caption, once the explanation in the background shows and it starts so."""
    qtbot.waitUntil(lambda: caption(panel).startswith(start), timeout=10000)
    return caption(panel)


def overlay(panel: TryItPanel) -> QImage:
    return panel.findChild(QLabel, "explainOverlay").pixmap().toImage()


def predicted(panel: TryItPanel) -> str:
    return panel.findChild(QLabel, "prediction").text().split(" (")[0]


def choose_next(qtbot, box: QComboBox) -> None:
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Down)


def test_a_digit_is_explained_by_saliency_then_by_grad_cam_on_a_chosen_layer(
    qtbot, digits, tmp_path
):
    panel = trying(qtbot, digits)
    method = panel.findChild(QComboBox, "explainMethod")
    layer = panel.findChild(QComboBox, "explainLayer")
    assert method.isVisible() and method.currentText() == "Saliency"
    assert not layer.isVisible()
    assert explained(qtbot, panel, "Saliency:").endswith(f"the score of '{predicted(panel)}'.")
    saliency = overlay(panel)
    assert not saliency.isNull() and saliency.width() == saliency.height() >= 128

    choose_next(qtbot, method)
    assert caption(panel) == WORKING  # worked out in the background, not here
    assert explained(qtbot, panel, "Grad-CAM on conv2:")
    assert layer.isVisible()
    assert [layer.itemText(i) for i in range(layer.count())] == ["conv1", "conv2"]
    assert layer.currentText() == "conv2"  # the last convolution, before the pooling
    last = overlay(panel)
    assert last != saliency

    layer.setFocus()
    qtbot.keyClick(layer, Qt.Key.Key_Up)
    assert explained(qtbot, panel, "Grad-CAM on conv1:")
    assert overlay(panel) != last
    panel.grab().save(str(tmp_path / "explain.png"))

    panel.findChild(QWidget, "sampleIndex").setValue(9)
    assert explained(qtbot, panel, "Grad-CAM on conv1:")  # the next sample, same layer
    assert layer.currentText() == "conv1"


def test_a_tables_features_are_explained_by_bars(qtbot):
    model = trained_model("logistic_regression", 3)
    panel = trying(qtbot, model)
    assert not panel.findChild(QComboBox, "explainMethod").isVisible()
    panel.findChild(QWidget, "sampleIndex").setValue(4)
    text = explained(qtbot, panel, "Gradient x input:")
    assert text.endswith("the score of 'benign'.")  # the one value: P(benign)
    chart = panel.findChild(QWidget, "contributions")
    assert chart.isVisible()
    [bars] = [i for i in chart.getPlotItem().items if isinstance(i, pg.BarGraphItem)]
    values = gradient_x_input(model.module, model.data.x[4:5]).tolist()
    names = model.data.feature_names
    largest = sorted(range(len(values)), key=lambda i: -abs(values[i]))[:FEATURES_SHOWN]
    assert list(bars.opts["width"]) == pytest.approx([abs(values[i]) for i in largest])
    [ticks] = chart.getAxis("left")._tickLevels
    assert [name for _, name in ticks] == [short_name(names[i]) for i in largest]


def test_a_new_choice_asks_again_before_it_runs_the_model(qtbot, digits, monkeypatch):
    answers = [True]
    panel = shown(qtbot, TryItPanel(allowed=lambda custom: answers[-1]), 1300, 440)
    panel.set_model(digits)
    explained(qtbot, panel, "Saliency:")
    answers.append(False)  # the file's code no longer allowed
    runs = []
    monkeypatch.setattr(panel.explanation, "_run", lambda *job: runs.append(job))
    choose_next(qtbot, panel.findChild(QComboBox, "explainMethod"))
    assert runs == [] and caption(panel).startswith("Not explained: ")
    assert panel.findChild(QLabel, "explainOverlay").pixmap().isNull()
