"""The problems list: what is wrong, where; a click selects the node at fault."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget, QStyle

from engine.document.commands import SetParams
from engine.document.project import load
from engine.model.shapes import DataShapes, ShapeInference
from gui.document import Document
from gui.problems import NODE_ROLE, ProblemsPanel
from tests.gui.canvas_helpers import mlp
from tests.gui.widget_helpers import shown
from tests.paths import PRESETS


@pytest.fixture
def panel(qtbot, document):
    return shown(qtbot, ProblemsPanel(document), 500, 300)


def rows(panel: ProblemsPanel) -> list[str]:
    return [panel.list.item(i).text() for i in range(panel.list.count())]


def test_the_list_is_named_and_an_empty_graph_lacks_an_output(panel):
    assert panel.findChild(QListWidget, "problems") is panel.list
    assert rows(panel) == [
        "The network has no Output node: add one and wire the last layer into it."
    ]
    assert panel.list.item(0).data(NODE_ROLE) is None
    assert not panel.list.item(0).icon().isNull()


def test_a_working_model_has_no_problems(panel, document):
    mlp(document)
    assert rows(panel) == []
    assert panel.list.placeholder == "No problems"


def test_a_wrong_in_features_is_listed_and_a_click_selects_the_node(qtbot, panel, document):
    fc2 = mlp(document)[3]
    document.push(SetParams(fc2, {"in_features": 7}))
    assert rows(panel) == [
        "fc2: in_features is set to 7, but the input [N, 64] needs 64. "
        "Set in_features to auto to follow the input."
    ]
    item = panel.list.item(0)
    assert item.data(NODE_ROLE) == fc2
    with qtbot.waitSignal(panel.problem_activated) as activated:
        qtbot.mouseClick(
            panel.list.viewport(),
            Qt.MouseButton.LeftButton,
            pos=panel.list.visualItemRect(item).center(),
        )
    assert activated.args == [fc2]
    assert document.selected == [fc2]

    document.push(SetParams(fc2, {"in_features": None}))
    assert rows(panel) == []


def test_graph_problems_come_first_then_nodes_in_graph_order(panel, document):
    document.follow_data(DataShapes((10,), {}))
    x = document.add_layer("Input", (0.0, 0.0))
    fc = document.add_layer("Linear", (220.0, 0.0), wire_from=x)
    lone = document.add_layer("Conv2d", (0.0, 300.0))
    document.push(SetParams(fc, {"in_features": 7}))
    assert rows(panel) == [
        "The network has no Output node: add one and wire the last layer into it.",
        "fc1: in_features is set to 7, but the input [N, 10] needs 10. "
        "Set in_features to auto to follow the input.",
        "conv1: Conv2d needs 1 input wire; it has 0.",
    ]
    assert [panel.list.item(i).data(NODE_ROLE) for i in range(3)] == [None, fc, lone]


def test_before_the_engine_is_ready_the_list_says_so(qtbot):
    document = Document()
    widget = ProblemsPanel(document)
    qtbot.addWidget(widget)
    assert rows(widget) == []
    assert widget.list.placeholder == "Problems will be listed when the engine is ready."
    document.attach_inference(ShapeInference(document.graph))
    assert rows(widget)[0].startswith("The network has no Output node")


def test_a_custom_layer_not_yet_allowed_to_run_is_a_warning(panel, document):
    document.set_project(load(PRESETS / "custom_layer.json"))  # code from a file
    assert rows(panel) == [
        "affine: Custom code has not run yet; shapes after it appear once you allow it."
    ]
    warning = panel.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
    assert panel.list.item(0).icon().pixmap(16).toImage() == warning.pixmap(16).toImage()
