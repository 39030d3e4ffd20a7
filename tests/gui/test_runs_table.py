"""The runs table over real saved runs: rows, greyed runs of another graph, buttons and
overlay check boxes, driven by clicks."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem, QTableWidget, QTableWidgetItem

from engine.runs.store import RunRecord, graph_fingerprint
from gui.training.runs_table import COLUMNS, OTHER_GRAPH, RunsTable
from tests.gui.widget_helpers import shown
from tests.run_helpers import StopAfter, preset, train_run

NAME, STATUS, EPOCHS, SCORE = (
    COLUMNS.index(c) for c in ("Run", "Status", "Epochs", "Val acc / R²")
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> list[RunRecord]:
    """Run 1 completed, Run 2 stopped after epoch 1 of 3, Run 3 stopped on a wider fc1."""
    root = tmp_path_factory.mktemp("digits.runs")
    wider = preset("digits_mlp", epochs=2)
    wider.graph.nodes["n2"].params["out_features"] = 32
    return [
        train_run(root, preset("digits_mlp", epochs=2)),
        train_run(root, preset("digits_mlp", epochs=3), StopAfter(1)),
        train_run(root, wider, StopAfter(1)),
    ]


@pytest.fixture
def table(qtbot, runs) -> RunsTable:
    widget = shown(qtbot, RunsTable(), 900, 300)
    widget.set_runs(runs, graph_fingerprint(preset("digits_mlp", epochs=2)))
    return widget


def texts(view: QTableWidget, column: int) -> list[str]:
    return [view.item(row, column).text() for row in range(view.rowCount())]


def row_of(table: RunsTable, name: str) -> int:
    return texts(table.table, NAME).index(name)


def click_row(qtbot, table: RunsTable, name: str) -> None:
    item = table.table.item(row_of(table, name), NAME)
    center = table.table.visualItemRect(item).center()
    qtbot.mouseClick(table.table.viewport(), Qt.MouseButton.LeftButton, pos=center)


def check_box_center(view: QTableWidget, item: QTableWidgetItem) -> QPoint:
    """Where the style draws the item's check box, in viewport coordinates."""
    option = QStyleOptionViewItem()
    view.initViewItemOption(option)
    view.itemDelegate().initStyleOption(option, view.indexFromItem(item))
    option.rect = view.visualItemRect(item)
    element = QStyle.SubElement.SE_ItemViewItemCheckIndicator
    return view.style().subElementRect(element, option, view).center()


def click_overlay(qtbot, table: RunsTable, name: str) -> None:
    item = table.table.item(row_of(table, name), 0)
    center = check_box_center(table.table, item)
    qtbot.mouseClick(table.table.viewport(), Qt.MouseButton.LeftButton, pos=center)


def buttons_enabled(table: RunsTable) -> tuple[bool, bool, bool]:
    return tuple(
        b.isEnabled() for b in (table.load_button, table.resume_button, table.delete_button)
    )


def test_runs_are_listed_newest_first(table, runs):
    view = table.table
    assert table.objectName() == "runsTable" and view.objectName() == "runsTableView"
    assert texts(view, NAME) == ["Run 3", "Run 2", "Run 1"]
    assert texts(view, STATUS) == ["stopped", "stopped", "completed"]
    assert texts(view, EPOCHS) == ["1/2", "1/3", "2/2"]
    completed = runs[0]
    assert view.item(2, COLUMNS.index("Train loss")).text() == (
        f"{completed.final['train_loss']:.4f}"
    )
    assert view.item(2, SCORE).text() == f"{completed.final['val_accuracy']:.1%}"
    assert view.item(2, COLUMNS.index("Started")).text() == "2025-01-02 03:04"
    assert texts(view, COLUMNS.index("Device")) == ["cpu"] * 3


def test_a_run_of_another_graph_is_greyed_with_a_tooltip(table):
    view = table.table
    other, same = row_of(table, "Run 3"), row_of(table, "Run 2")
    for column in range(len(COLUMNS)):
        assert view.item(other, column).toolTip() == OTHER_GRAPH
        assert view.item(same, column).toolTip() != OTHER_GRAPH
    grey = view.item(other, NAME).foreground().color()
    assert grey != view.item(same, NAME).foreground().color()


def test_resume_is_offered_for_an_unfinished_run_of_this_graph_only(qtbot, table):
    assert table.selected_run() is None
    assert buttons_enabled(table) == (False, False, False)
    click_row(qtbot, table, "Run 1")
    assert table.selected_run().name == "Run 1"
    assert buttons_enabled(table) == (True, False, True)  # completed
    click_row(qtbot, table, "Run 2")
    assert buttons_enabled(table) == (True, True, True)
    click_row(qtbot, table, "Run 3")
    assert table.selected_run().can_resume
    assert buttons_enabled(table) == (True, False, True)  # trained on another graph


@pytest.mark.parametrize(
    ("button", "signal"),
    [
        ("loadRunButton", "load_weights_requested"),
        ("resumeRunButton", "resume_requested"),
        ("deleteRunButton", "delete_requested"),
    ],
)
def test_each_button_asks_for_the_selected_run(qtbot, table, runs, button, signal):
    click_row(qtbot, table, "Run 2")
    clicked = table.findChild(type(table.load_button), button)
    with qtbot.waitSignal(getattr(table, signal), timeout=1000) as caught:
        qtbot.mouseClick(clicked, Qt.MouseButton.LeftButton)
    assert caught.args == [runs[1]]


def test_checking_overlay_boxes_reports_the_checked_runs(qtbot, table, runs):
    with qtbot.waitSignal(table.overlay_changed, timeout=1000) as caught:
        click_overlay(qtbot, table, "Run 1")
    assert caught.args == [[runs[0]]]
    with qtbot.waitSignal(table.overlay_changed, timeout=1000) as caught:
        click_overlay(qtbot, table, "Run 3")
    assert caught.args == [[runs[2], runs[0]]]
    with qtbot.waitSignal(table.overlay_changed, timeout=1000) as caught:
        click_overlay(qtbot, table, "Run 1")
    assert caught.args == [[runs[2]]]
    assert table.overlay_runs() == [runs[2]]


def test_new_runs_keep_the_selection_and_checks(qtbot, table, runs):
    click_overlay(qtbot, table, "Run 1")
    click_row(qtbot, table, "Run 2")
    fingerprint = runs[0].fingerprint
    with qtbot.assertNotEmitted(table.overlay_changed):
        table.set_runs(runs[:2], fingerprint)  # Run 3 deleted
    assert texts(table.table, NAME) == ["Run 2", "Run 1"]
    assert table.selected_run() == runs[1] and table.overlay_runs() == [runs[0]]
    with qtbot.waitSignal(table.overlay_changed, timeout=1000) as caught:
        table.set_runs(runs[1:], fingerprint)  # Run 1 deleted
    assert caught.args == [[]]
    assert table.selected_run() == runs[1]


def test_a_regression_run_shows_its_r2(qtbot, tmp_path):
    record = train_run(tmp_path, preset("linear_regression", epochs=2))
    table = shown(qtbot, RunsTable(), 900, 200)
    table.set_runs([record], record.fingerprint)
    assert record.score["metric"] == "r2"
    assert table.table.item(0, SCORE).text() == f"R² {record.final['val_r2']:.3f}"
