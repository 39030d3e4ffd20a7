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

from gui.custom_code import allowed_to_run
from gui.document import Document
from gui.training.evaluation_view import EvaluationView
from gui.training.history import RunHistory
from gui.training.layers_view import LayersView
from gui.training.plots import TrainingPlots
from gui.training.run_bar import RunBar
from gui.training.runs_table import RunsTable
from gui.training.session import TrainingSession
from gui.training.try_it import TryItPanel


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
        self.layers = LayersView()
        self.tabs.addTab(self.layers, "Layers")
        self.runs_table = RunsTable()
        self.history = RunHistory(self.session, self.runs_table, self.plots)
        self.tabs.addTab(self.runs_table, "Runs")
        self.evaluation = EvaluationView()
        self.try_it = TryItPanel(allowed=self._may_run)
        self.tabs.addTab(self.evaluation, "Evaluation")
        self.tabs.addTab(self.try_it, "Try It")
        self.evaluation.sample_activated.connect(self._try_sample)
        self.try_it.failed.connect(self._try_failed)
        self.session.run_started.connect(self._forget_model)
        self.session.run_ended.connect(self._show_run)
        self.history.weights_loaded.connect(self._show_loaded)
        self.document.project_replaced.connect(self._forget_model)
        self._follow_layers()
        layout = QVBoxLayout(self)
        layout.addWidget(self.bar)
        layout.addWidget(self.tabs, 1)

    # --- the trained model ------------------------------------------------------------

    def _may_run(self, custom_layers: dict[str, str]) -> bool:
        """Whether a prediction may run the model's Custom layers: asks when the file's
        code is not allowed (any more)."""
        refused = self.document.trust.refused_among(custom_layers)
        return allowed_to_run(self.document, self, refused)

    def _forget_model(self) -> None:
        self.evaluation.clear()
        self.try_it.set_model(None)

    def _show_run(self, summary) -> None:
        trained, evaluation = self.session.controller.last_evaluation
        if trained is not None and evaluation is not None:
            self.show_model(trained, evaluation)

    def _show_loaded(self, trained, evaluation, record) -> None:
        self.show_model(trained, evaluation)

    def show_model(self, trained, evaluation) -> None:
        """Show a trained model's evaluation and let the user try it."""
        self.evaluation.show_evaluation(evaluation, trained.sample_image if trained.image else None)
        self.try_it.set_model(trained)

    def _try_failed(self, message: str, node_id: str | None) -> None:
        self.session.show_failure(f"Try It failed: {message}", node_id)

    def _try_sample(self, index: int) -> None:
        self.try_it.show_sample(index)
        self.tabs.setCurrentWidget(self.try_it)

    # --- layers -----------------------------------------------------------------------

    def _follow_layers(self) -> None:
        """The Layers view shows the run training, or else the run picked in the table."""
        controller = self.session.controller
        controller.started.connect(self._layers_of_new_run)
        controller.layer_records.connect(self.layers.add_records)
        self.session.run_ended.connect(self.layers.end_run)
        self.document.project_replaced.connect(self.layers.clear)
        self.runs_table.run_selected.connect(self.layers.show_run)

    def _layers_of_new_run(self, _plan) -> None:
        nodes = self.document.graph.nodes.values()
        self.layers.start_run({node.id: node.label for node in nodes})

    # --- plots ------------------------------------------------------------------------

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
