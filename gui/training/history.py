"""`RunHistory`: the project's saved runs behind the Runs tab.

It lists the runs (engine.runs.store) whenever the project or its file changes, and adds
each run as it ends; it draws the checked ones over the live plots, resumes a stopped
run, deletes one (after asking), and puts a run's weights back into the model for the
evaluation and try-it views.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from engine.document.project import Project, from_dict, to_dict
from engine.document.trust import Trust
from engine.errors import node_of, one_line
from engine.runs.store import (
    RunError,
    RunRecord,
    delete_run,
    export_run,
    graph_fingerprint,
    list_runs,
    load_run_weights,
    refused_run_code,
)
from gui.background import in_background
from gui.custom_code import allowed_to_run
from gui.training.plots import TrainingPlots
from gui.training.runs_table import RunsTable
from gui.training.session import TrainingSession


class RunHistory(QObject):
    weights_loaded = Signal(object, object, object)  # TrainedModel, its evaluation, RunRecord

    def __init__(self, session: TrainingSession, table: RunsTable, plots: TrainingPlots):
        super().__init__(session)
        self.session = session
        self.document = session.document
        self.table = table
        self.plots = plots
        self.records: list[RunRecord] = []
        self._latest: RunRecord | None = None
        self._loading = 0  # loads of weights asked for: only the last one is shown
        table.overlay_changed.connect(self._overlay)
        table.resume_requested.connect(self._resume)
        table.delete_requested.connect(self._delete)
        table.load_weights_requested.connect(self.load_weights)
        table.export_requested.connect(self.export)
        session.run_ended.connect(self._run_ended)
        self.document.project_replaced.connect(self._project_replaced)
        self.document.path_changed.connect(self.refresh)
        self.document.inference_updated.connect(self._graph_may_have_changed)
        self.refresh()

    def _project_replaced(self, *_) -> None:
        self._latest = None
        self.refresh()

    def _run_ended(self, *_) -> None:
        """The run just kept joins the list as the training process sent it back:
        reading every run's history from disk again would stall the window at the end
        of long runs."""
        record = self.session.controller.last_record
        if record is None:
            return
        self._latest = record
        ids = [known.id for known in self.records]
        if record.id in ids:  # resumed
            self.records[ids.index(record.id)] = record
        else:
            self.records.append(record)
        self.table.set_runs(self.records, graph_fingerprint(self.document.project))

    def refresh(self, *_) -> None:
        self.records, problems = list_runs(self.session.runs_root())
        self.table.set_runs(self.records, graph_fingerprint(self.document.project))
        if problems:
            self.session.bar.show_status("Some runs could not be read: " + "; ".join(problems))

    def _graph_may_have_changed(self, *_) -> None:
        """Edits change which runs fit the graph (greyed rows, Resume)."""
        if self.records:
            self.table.set_runs(self.records, graph_fingerprint(self.document.project))

    def _overlay(self, records: list[RunRecord]) -> None:
        self.plots.set_overlays([(record.name, record.history) for record in records])

    def _resume(self, record: RunRecord) -> None:
        self.session.train(resume=record)

    def ask_delete(self, record: RunRecord) -> bool:
        answer = QMessageBox.question(
            self.table,
            "Delete run",
            f"Delete {record.name} and its weights ({record.folder})? This cannot be undone.",
        )
        return answer == QMessageBox.StandardButton.Yes

    def _delete(self, record: RunRecord) -> None:
        if not self.ask_delete(record):
            return
        try:
            delete_run(record)
        except RunError as exc:
            self.session.bar.show_status(str(exc), error=True)
        self.refresh()

    def ask_export_folder(self, record: RunRecord) -> str:
        return QFileDialog.getExistingDirectory(self.table, f"Export {record.name} to folder")

    def export(self, record: RunRecord) -> None:
        """Write the run's code, script, weights and its model as TorchScript and (when
        installed) ONNX, each checked against the model, to a folder the user picks."""
        from engine.export.deploy import ONNX_INSTALL, onnx_installed

        try:
            refused = refused_run_code(record, self.document.trust)
        except RunError as exc:
            self.session.bar.show_status(f"Cannot export {record.name}: {exc}", True)
            return
        if not allowed_to_run(self.document, self.table, refused):
            self.session.bar.show_status("Not exported: the Custom layers' code was not run.")
            return
        folder = self.ask_export_folder(record)
        if not folder:
            return
        formats = ["state_dict", "torchscript", *(["onnx"] if onnx_installed() else [])]
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # ONNX takes a second or two
        try:
            written = export_run(record, folder, formats, self.document.trust)
        except (RunError, OSError, ValueError) as exc:
            self.session.show_failure(f"Cannot export {record.name}: {one_line(exc)}", node_of(exc))
            return
        finally:
            QApplication.restoreOverrideCursor()
        names = ", ".join(path.name for path in written)
        missing = "" if "onnx" in formats else f"; for ONNX too: {ONNX_INSTALL}"
        self.session.bar.show_status(f"Wrote {names} of {record.name} to {folder}{missing}")

    def latest(self) -> RunRecord | None:
        """The run whose weights the model holds: the last one trained or loaded."""
        return self._latest

    def load_weights(self, record: RunRecord) -> None:
        """Build the current graph, load the data and put the run's weights in, in the
        background: the evaluation and try-it views then show that run."""
        if self.session.controller.is_running:
            self.session.bar.show_status("Stop the run first: it is training the model.", True)
            return
        if not allowed_to_run(self.document, self.table):
            self.session.bar.show_status("Not loaded: the Custom layers' code was not run.")
            return
        project = from_dict(to_dict(self.document.project))  # as it is now
        project.path = self.document.path
        trust = self.document.trust
        self._loading += 1
        self.session.bar.show_status(f"Loading the weights of {record.name}...")
        in_background(
            lambda: _evaluated(project, record, trust), self._loaded, (self._loading, record)
        )

    def _loaded(self, tag, result, error: Exception | None) -> None:
        number, record = tag
        if number != self._loading or self.session.controller.is_running:
            return  # another load was asked for, or a run started, meanwhile
        if error is not None:  # the engine's errors name what is wrong; see one_line
            self.session.bar.show_status(f"Cannot load {record.name}: {one_line(error)}", True)
            return
        self.session.bar.show_status(f"Loaded the weights of {record.name}.")
        self._latest = record
        trained, evaluation = result
        self.weights_loaded.emit(trained, evaluation, record)


def _evaluated(project: Project, record: RunRecord, trust: Trust):
    """(TrainedModel, its evaluation) of `project` with `record`'s weights; in a
    background thread."""
    from engine.runs.evaluation import TrainedModel, evaluate
    from engine.training.job import prepare_job

    job = prepare_job(project, trust=trust)
    load_run_weights(record, job.built.module, graph_fingerprint(project))
    trained = TrainedModel.from_job(job)
    return trained, evaluate(trained)
