"""The run history as a table, newest run first, with buttons for the selected run.

It shows `engine.runs.store.RunRecord`s and says what the user asked for through signals; it
loads, resumes and deletes nothing itself. A run trained on another graph than the one
now on the canvas (its fingerprint differs) is greyed: its weights may no longer fit, and
it cannot be resumed. The first column's check boxes pick runs to overlay on the plots.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal, SignalInstance
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.runs.store import RunRecord
from gui.training.run_bar import clock

COLUMNS = (
    "Overlay",
    "Run",
    "Started",
    "Status",
    "Epochs",
    "Train loss",
    "Val loss",
    "Val acc / R²",
    "Device",
    "Time",
)
OVERLAY = 0
NUMERIC = {"Epochs", "Train loss", "Val loss", "Val acc / R²", "Time"}
READ_ONLY = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
OTHER_GRAPH = "trained on a different graph"
MISSING = "–"
LOAD_TIP = "Put the selected run's weights into the model"
RESUME_TIP = "Continue the selected run from its last completed epoch"
DELETE_TIP = "Delete the selected run's folder"
EXPORT_TIP = "Write the selected run's model.py, weights, summary and history to a folder"


def cells(record: RunRecord) -> list[str]:
    """The texts of a run's row after the overlay cell, in COLUMNS' order."""
    final = record.final
    return [
        record.name,
        started_text(record.started),
        record.status.replace("_", " "),
        f"{record.epochs}/{record.planned_epochs}",
        number_text(final.get("train_loss")),
        number_text(final.get("val_loss")),
        score_text(record.score),
        record.device,
        clock(record.seconds),
    ]


def started_text(started: str) -> str:
    try:
        return datetime.fromisoformat(started).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return started


def number_text(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else MISSING


def score_text(score: dict[str, Any] | None) -> str:
    if score is None:
        return MISSING
    if score["metric"] == "r2":
        return f"R² {score['value']:.3f}"
    return f"{score['value']:.1%}"


class RunsTable(QWidget):
    """The table (a QTableWidget, objectName "runsTableView") and its buttons."""

    overlay_changed = Signal(object)  # list of the RunRecords checked, in the table's order
    load_weights_requested = Signal(object)  # RunRecord
    resume_requested = Signal(object)  # RunRecord
    delete_requested = Signal(object)  # RunRecord
    export_requested = Signal(object)  # RunRecord
    run_selected = Signal(object)  # the RunRecord the user selected instead, or None

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("runsTable")
        self._records: list[RunRecord] = []  # row order: newest first
        self._fingerprint = ""
        self.table = _table()
        self._picked: str | None = None  # the id of the run selected
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.itemChanged.connect(self._item_changed)
        self.load_button = _button("Load weights", "loadRunButton", LOAD_TIP)
        self.resume_button = _button("Resume", "resumeRunButton", RESUME_TIP)
        self.delete_button = _button("Delete", "deleteRunButton", DELETE_TIP)
        self.export_button = _button("Export...", "exportRunButton", EXPORT_TIP)
        self.export_button.clicked.connect(lambda: self._ask(self.export_requested))
        self.load_button.clicked.connect(lambda: self._ask(self.load_weights_requested))
        self.resume_button.clicked.connect(lambda: self._ask(self.resume_requested))
        self.delete_button.clicked.connect(lambda: self._ask(self.delete_requested))
        buttons = QHBoxLayout()
        for button in (
            self.load_button,
            self.resume_button,
            self.export_button,
            self.delete_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self._update_buttons()

    def _ask(self, signal: SignalInstance) -> None:
        record = self.selected_run()
        if record is not None:
            signal.emit(record)

    # --- content ----------------------------------------------------------------------

    def set_runs(self, records: Sequence[RunRecord], current_fingerprint: str) -> None:
        """Show `records` (oldest first, as `engine.runs.store.list_runs` gives them) newest
        first. The selection and the overlay checks stay on runs still listed (by id);
        `overlay_changed` tells when that changes the checked runs (one was deleted, or
        resumed and has more epochs now)."""
        selected = self.selected_run()
        overlaid = self.overlay_runs()
        checked = {record.id for record in overlaid}
        self._records = list(reversed(records))
        self._fingerprint = current_fingerprint
        with QSignalBlocker(self.table):
            self.table.setRowCount(len(self._records))
            for row, record in enumerate(self._records):
                self._fill_row(row, record, record.id in checked)
        ids = [record.id for record in self._records]
        if selected is not None and selected.id in ids:
            self.table.selectRow(ids.index(selected.id))
        else:
            self.table.clearSelection()
        self._update_buttons()
        if self.overlay_runs() != overlaid:
            self.overlay_changed.emit(self.overlay_runs())

    def _fill_row(self, row: int, record: RunRecord, checked: bool) -> None:
        overlay = QTableWidgetItem()
        overlay.setFlags(READ_ONLY | Qt.ItemFlag.ItemIsUserCheckable)
        overlay.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        overlay.setToolTip("Show this run's curves on the plots")
        items = [overlay]
        for column, text in enumerate(cells(record), start=1):
            item = QTableWidgetItem(text)
            item.setFlags(READ_ONLY)
            if COLUMNS[column] in NUMERIC:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            items.append(item)
        if record.message:
            items[COLUMNS.index("Status")].setToolTip(record.message)
        if not self._same_graph(record):
            grey = self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
            for item in items:
                item.setForeground(grey)
                item.setToolTip(OTHER_GRAPH)
        for column, item in enumerate(items):
            self.table.setItem(row, column, item)

    def _same_graph(self, record: RunRecord) -> bool:
        return record.fingerprint == self._fingerprint

    # --- what the user picked ---------------------------------------------------------

    def selected_run(self) -> RunRecord | None:
        rows = self.table.selectionModel().selectedRows()
        return self._records[rows[0].row()] if rows else None

    def overlay_runs(self) -> list[RunRecord]:
        """The runs whose overlay box is checked, in the table's order."""
        return [
            record
            for row, record in enumerate(self._records)
            if self.table.item(row, OVERLAY).checkState() == Qt.CheckState.Checked
        ]

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == OVERLAY:
            self.overlay_changed.emit(self.overlay_runs())

    def _selection_changed(self) -> None:
        """Say when another run is selected; not when a new list keeps the selection."""
        self._update_buttons()
        record = self.selected_run()
        picked = record.id if record is not None else None
        if picked != self._picked:
            self._picked = picked
            self.run_selected.emit(record)

    def _update_buttons(self) -> None:
        record = self.selected_run()
        self.load_button.setEnabled(record is not None)
        self.delete_button.setEnabled(record is not None)
        self.export_button.setEnabled(record is not None)
        self.resume_button.setEnabled(
            record is not None and record.can_resume and self._same_graph(record)
        )


def _table() -> QTableWidget:
    table = QTableWidget(0, len(COLUMNS))
    table.setObjectName("runsTableView")
    table.setHorizontalHeaderLabels(COLUMNS)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setWordWrap(False)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return table


def _button(text: str, name: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.setToolTip(tip)
    return button
