"""The Training tab of the main window: the run bar over tabs of plots and results."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui.document import Document
from gui.training.history import RunHistory
from gui.training.plots import TrainingPlots
from gui.training.run_bar import RunBar
from gui.training.runs_table import RunsTable
from gui.training.session import TrainingSession


class TrainingPage(QWidget):
    def __init__(self, document: Document, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trainingPage")
        self.document = document
        self.bar = RunBar()
        self.plots = TrainingPlots()
        self.session = TrainingSession(document, self.bar, self.plots, self)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("trainingTabs")
        self.tabs.addTab(self._plots_tab(), "Plots")
        self.runs_table = RunsTable()
        self.history = RunHistory(self.session, self.runs_table, self.plots)
        self.tabs.addTab(self.runs_table, "Runs")
        layout = QVBoxLayout(self)
        layout.addWidget(self.bar)
        layout.addWidget(self.tabs, 1)

    def _plots_tab(self) -> QWidget:
        png = QPushButton("Save Plots as PNG...")
        png.setObjectName("exportPlotPng")
        png.clicked.connect(self._save_png)
        data = QPushButton("Save Data as CSV...")
        data.setObjectName("exportPlotCsv")
        data.clicked.connect(self._save_csv)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(png)
        row.addWidget(data)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addLayout(row)
        layout.addWidget(self.plots, 1)
        return tab

    def _save_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save plots", self._suggest("png"), "PNG images (*.png)"
        )
        if path:
            self._export(lambda: self.plots.export_png(Path(path)), path)

    def _save_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save plot data", self._suggest("csv"), "CSV files (*.csv)"
        )
        if path:
            self._export(lambda: self.plots.export_csv(Path(path)), path)

    def _export(self, write, path: str) -> None:
        try:
            write()
        except OSError as exc:
            self.bar.show_status(f"Cannot write {path}: {exc.strerror or exc}", error=True)
            return
        self.bar.show_status(f"Wrote {path}")

    def _suggest(self, suffix: str) -> str:
        folder = self.document.path.parent if self.document.path else Path.cwd()
        return str(folder / f"{self.document.project.name}-training.{suffix}")
