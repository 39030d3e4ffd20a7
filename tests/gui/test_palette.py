"""The palette as a user meets it: browse, search, drag, double-click to add."""

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QTest

from engine.layers import CATALOG
from engine.model.shapes import DataShapes
from gui.mime import LAYER_MIME
from gui.palette import NEXT_TO, SUMMARY_ROLE, TYPE_ROLE, Palette
from tests.gui.widget_helpers import shown


@pytest.fixture
def palette(qtbot, document):
    return shown(qtbot, Palette(document), 260, 700)


def layer_index(palette: Palette, layer_type: str) -> QModelIndex:
    model = palette.view.model()
    for row in range(model.rowCount()):
        group = model.index(row, 0)
        for child in range(model.rowCount(group)):
            index = model.index(child, 0, group)
            if index.data(TYPE_ROLE) == layer_type:
                return index
    raise AssertionError(f"{layer_type} is not shown")


def double_click_at(view, index: QModelIndex) -> None:
    """A user's double-click: QTest's mouseDClick sends only the second click's events."""
    view.scrollTo(index)
    centre = view.visualRect(index).center()
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QTest.mouseClick(view.viewport(), left, none, centre)
    QTest.mouseDClick(view.viewport(), left, none, centre)


def double_click(palette: Palette, layer_type: str) -> None:
    double_click_at(palette.view, layer_index(palette, layer_type))


def test_the_tree_is_named_and_lists_every_layer_by_category(palette):
    assert palette.view.objectName() == "palette"
    assert sorted(palette.visible_types()) == sorted(CATALOG)
    model = palette.view.model()
    categories = [model.index(row, 0).data() for row in range(model.rowCount())]
    assert categories[:3] == ["Input / Output", "Core", "Convolution"]


def test_a_row_shows_its_summary_and_its_tooltip_the_parameters(palette):
    index = layer_index(palette, "Linear")
    assert index.data() == "Linear"
    assert index.data(SUMMARY_ROLE).startswith("y = x W^T + b over the last dimension")
    lines = palette.view.visualRect(index).height() // palette.view.fontMetrics().height()
    assert lines >= 3, "the type, then the summary wrapped to the width"
    tooltip = index.data(Qt.ItemDataRole.ToolTipRole)
    assert "<b>out_features</b> = 64: Size of the output; auto" in tooltip
    assert "<b>in_features</b> = auto" in tooltip


def test_dragging_a_row_carries_the_layer_type(palette):
    index = layer_index(palette, "Conv2d")
    assert palette.view.dragEnabled()
    assert index.flags() & Qt.ItemFlag.ItemIsDragEnabled
    mime = palette.view.model().mimeData([index])
    assert bytes(mime.data(LAYER_MIME)).decode("utf-8") == "Conv2d"
    category = index.parent()
    assert not category.flags() & Qt.ItemFlag.ItemIsDragEnabled


def test_search_filters_as_you_type_ignoring_case(palette, qtbot):
    qtbot.keyClicks(palette.search, "CoNv")
    assert palette.visible_types() == ["Conv1d", "Conv2d", "ConvTranspose2d"]
    model = palette.view.model()
    assert [model.index(row, 0).data() for row in range(model.rowCount())] == ["Convolution"]
    palette.search.clear()
    assert len(palette.visible_types()) == len(CATALOG)


def test_search_matches_summaries_and_categories(palette, qtbot):
    qtbot.keyClicks(palette.search, "probabilit")
    assert palette.visible_types() == ["Dropout", "Dropout2d", "Softmax"]
    palette.search.clear()
    qtbot.keyClicks(palette.search, "merge")
    assert palette.visible_types() == ["Flatten", "Add", "Multiply", "Concat", "Subtract", "MatMul"]
    palette.search.clear()
    qtbot.keyClicks(palette.search, "no such layer")
    assert palette.visible_types() == []
    assert palette.view.model().rowCount() == 0


def test_double_click_adds_a_layer_wired_after_the_selected_one(palette, document):
    document.follow_data(DataShapes((10,), {}))
    double_click(palette, "Input")
    (input_id,) = document.graph.nodes
    assert document.selected == [input_id]
    double_click(palette, "Linear")
    linear_id = document.selected[0]
    linear = document.graph.nodes[linear_id]
    assert linear.type == "Linear"
    assert linear.pos[0] == document.graph.nodes[input_id].pos[0] + NEXT_TO
    assert [(e.src, e.dst) for e in document.graph.edges] == [(input_id, linear_id)]
    assert document.inference.results[linear_id].ok

    document.undo_stack.undo()
    assert set(document.graph.nodes) == {input_id}
    assert not document.graph.edges


def test_with_nothing_selected_a_layer_goes_right_of_the_rightmost_node(palette, document):
    double_click(palette, "Input")
    double_click(palette, "Linear")
    document.select([])
    double_click(palette, "Input")
    first, linear, second = document.graph.nodes.values()
    assert second.pos == (linear.pos[0] + NEXT_TO, linear.pos[1])
    assert len(document.graph.edges) == 1
    document.select([first.id])
    double_click(palette, "ReLU")
    relu = document.graph.nodes[document.selected[0]]
    assert relu.pos[0] == linear.pos[0] and relu.pos[1] > linear.pos[1], "not on top of fc1"


def test_enter_in_the_search_box_adds_the_first_match(palette, qtbot, document):
    qtbot.keyClicks(palette.search, "gelu")
    qtbot.keyClick(palette.search, Qt.Key.Key_Return)
    assert [n.type for n in document.graph.nodes.values()] == ["GELU"]


def test_double_clicking_a_category_adds_nothing(palette, document):
    double_click_at(palette.view, palette.view.model().index(0, 0))
    assert not document.graph.nodes
