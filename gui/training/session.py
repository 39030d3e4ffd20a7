"""`TrainingSession`: the app's side of training, between the document and the controller.

It checks a run can work before starting it (the graph has no problems, Custom code is
allowed to run, the device exists, each loss fits its output and, once the data is
loaded, its labels, and a sample fits the Input: `DataCheck`), keeps the graph read-only
while the run goes, and feeds the run bar and the plots from the controller's signals.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from engine.document.commands import SetParams
from engine.runs.store import RunRecord, new_run_folder, runs_folder
from engine.training.status import RunStatus
from gui.custom_code import allowed_to_run
from gui.document import Document
from gui.training.controller import TrainingController, TrainingState
from gui.training.data_check import DataCheck
from gui.training.plots import TrainingPlots
from gui.training.run_bar import RunBar, clock

if TYPE_CHECKING:
    from engine.training.preflight import Fix, Problem

STOP_WAIT_MS = 10_000  # for a run to stop before its process is killed
LOCKED = "The graph is read-only while it trains: stop the run to edit it."
END_TEXT = {
    RunStatus.COMPLETED: "Finished",
    RunStatus.EARLY_STOPPED: "Stopped early (no better validation loss)",
    RunStatus.STOPPED: "Stopped",
}


class TrainingSession(QObject):
    run_ended = Signal(object)  # the controller's summary, or None when the run failed
    run_started = Signal()
    problem_found = Signal(object)  # the Problem that kept Train from starting a run
    failed_at = Signal(str)  # the node a failed run, try or export is on (now selected)

    def __init__(self, document: Document, bar: RunBar, plots: TrainingPlots, parent=None):
        super().__init__(parent)
        self.document = document
        self.bar = bar
        self.plots = plots
        self.controller = TrainingController(self)
        self.data_check = DataCheck(document, self)
        self._scratch: Path | None = None
        self._earlier_rows: list[dict[str, Any]] = []
        self.devices: list[tuple[str, str]] = [("auto", "Auto")]
        self.bar.set_devices(self.devices, document.setting(("training", "device")))
        bar.train_clicked.connect(self.train)
        bar.fix_clicked.connect(self.apply_fix)
        bar.pause_clicked.connect(self.controller.pause)
        bar.resume_clicked.connect(self.controller.resume)
        bar.stop_clicked.connect(self.controller.stop)
        bar.device_chosen.connect(lambda d: document.set_setting(("training", "device"), d))
        document.settings_changed.connect(self._setting_changed)
        document.about_to_replace.connect(self.shutdown)
        document.path_changed.connect(self._path_changed)
        document.project_replaced.connect(self._project_replaced)
        self.data_check.changed.connect(self._follow_data)
        document.inference_updated.connect(self._follow_data)
        c = self.controller
        c.state_changed.connect(bar.show_state)
        c.decoding.connect(bar.show_decoding)
        c.started.connect(self._started)
        c.batch_losses.connect(plots.add_batches)
        c.progress.connect(bar.show_progress)
        c.epochs_finished.connect(plots.add_epochs)
        c.finished.connect(self._finished)
        c.failed.connect(self._failed)

    # --- the engine -------------------------------------------------------------------

    def engine_ready(self) -> None:
        """torch is loaded: list this machine's devices, start a training process
        for the first run and allow training."""
        from engine.process import parent
        from engine.training.devices import available_devices

        parent.warm()
        self.data_check.engine_ready()

        self.devices = available_devices()
        self.bar.set_devices(self.devices, self.document.setting(("training", "device")))
        self.bar.engine_ready = True
        self.bar.show_state(self.controller.state)

    def _follow_data(self, *_: Any) -> None:
        """Give the graph what the previewed data says of its ends (an Input's shape, the
        units of a Linear feeding an Output, where they follow the data)."""
        preview = self.data_check.current()
        if preview is None:
            self.document.follow_data(None)
            return
        from engine.training.data_shapes import preview_shapes

        self.document.follow_data(preview_shapes(self.document.project, preview))

    # --- a run ------------------------------------------------------------------------

    def problems(self) -> list[Problem]:
        """Why a run could not work now (empty: it can). A graph problem comes alone:
        the rest may follow from it. Asked once PyTorch has loaded."""
        from engine.training.preflight import Reason, preflight

        document = self.document
        devices = [value for value, _ in self.devices]
        found = preflight(document.project, document.inference, devices, self.data_check.state())
        # Values that follow data still loading: the run loads it and takes them from it.
        found = [p for p in found if p.reason is not Reason.WAITS_FOR_DATA]
        return [p for p in found if p.reason is Reason.GRAPH][:1] or found

    def sentence(self, problem: Problem) -> str:
        """The problem as the status line says it."""
        from engine.training.preflight import Reason

        if problem.reason is not Reason.GRAPH:
            return problem.message
        node = self.document.graph.nodes.get(problem.node_id or "")
        return f"Fix the graph first: {node.label + ': ' if node else ''}{problem.message}"

    def train(self, resume: RunRecord | None = None) -> bool:
        """Start a run of the project as it is now (continuing `resume`, a stopped run,
        when given); False (and the reason shown) if it cannot work or one is going."""
        if self.controller.state != TrainingState.IDLE or self.document.inference is None:
            return False
        allowed_to_run(self.document, self.bar)  # on No, problems() says why it cannot run
        problems = self.problems()
        if problems:
            self._show_problem(problems[0])
            self.problem_found.emit(problems[0])
            return False
        try:
            folder = resume.folder if resume else new_run_folder(self.runs_root())
        except OSError as exc:
            self.bar.show_end(f"Cannot make a folder for the run: {exc}", error=True)
            return False
        self._earlier_rows = list(resume.history) if resume else []
        self.document.set_locked(LOCKED)
        self.controller.start(self.document.project, folder, resume, self.document.trust)
        self.run_started.emit()
        return True

    def _show_problem(self, problem: Problem) -> None:
        self.bar.show_problem(self.sentence(problem), problem.fix)

    def apply_fix(self, fix: Fix) -> None:
        """Make the edit a problem offered (one undo step), then say what stands in the
        way now, if anything."""
        node = self.document.graph.nodes.get(fix.node_id)
        edit = SetParams(fix.node_id, dict(fix.params), text=fix.label)
        if node is None or not self.document.push(edit):
            self.bar.show_status(f"{fix.label}: the layer is no longer there.", error=True)
            return
        problems = self.problems()
        if problems:
            self._show_problem(problems[0])
        else:
            self.bar.show_status(f"Done: {fix.label[0].lower()}{fix.label[1:]}. Press Train.")

    def _started(self, plan: dict[str, Any]) -> None:
        self.plots.start_run({**plan, "history": self._earlier_rows})
        self.bar.show_plan(plan)

    # --- where runs are kept ----------------------------------------------------------

    def runs_root(self) -> Path:
        """The saved project's runs folder; for a project not saved yet, a temporary one
        that moves beside the project file when it is first saved."""
        if self.document.path is not None:
            return runs_folder(self.document.path)
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="torchwright-runs-"))
        return self._scratch

    def _path_changed(self, path: Path | None) -> None:
        scratch, self._scratch = self._scratch, None
        if scratch is None:
            return
        target = runs_folder(path) if path is not None else None
        if target is not None and not target.exists() and any(scratch.iterdir()):
            try:
                shutil.move(scratch, target)
            except OSError as exc:
                self.bar.show_status(
                    f"The runs so far could not move to {target}: {exc}; they stay in {scratch}",
                    error=True,
                )
        else:
            shutil.rmtree(scratch, ignore_errors=True)

    def _finished(self, summary: dict[str, Any]) -> None:
        self.document.set_locked("")
        self.plots.end_run()
        final = summary.get("final") or {}
        parts = [
            f"{END_TEXT.get(summary['status'], summary['status'])} after "
            f"{summary['epochs']} epoch(s) in {clock(summary['seconds'])} on {summary['device']}"
        ]
        for key in ("val_loss", "val_accuracy", "val_r2"):
            if key in final:
                parts.append(f"{key.replace('_', ' ')} {final[key]:.4g}")
        text = ", ".join(parts) + "."
        if summary.get("run_error"):
            text += f" The run could not be kept: {summary['run_error']}"
        self.bar.show_end(text, error=bool(summary.get("run_error")))
        self.run_ended.emit(summary)

    def _failed(self, message: str) -> None:
        self.document.set_locked("")
        self.plots.end_run()
        self.bar.show_end(f"Training failed: {message}", error=True)
        self._show_node(self.controller.failed_node)
        self.run_ended.emit(None)

    def show_failure(self, text: str, node_id: str | None = None) -> None:
        """Say in the status line what failed, and show the node it failed in, if any."""
        self.bar.show_status(text, error=True)
        self._show_node(node_id)

    def _show_node(self, node_id: str | None) -> None:
        if node_id in self.document.graph.nodes:
            self.document.select([node_id])
            self.failed_at.emit(node_id)

    def shutdown(self) -> None:
        """Stop any run and wait for its thread (closing, or opening another project).
        A run that does not stop in time has its process killed."""
        if not self.controller.shutdown(STOP_WAIT_MS):
            self.controller.shutdown()
        if self._scratch is not None and self.document.path is None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    # --- settings ---------------------------------------------------------------------

    def _setting_changed(self, path: tuple[str, ...]) -> None:
        if path == ("training", "device"):
            self.bar.show_device(self.document.setting(path))
        elif path == ("training", "epochs") and self.controller.state == TrainingState.IDLE:
            self.plots.span(self.document.setting(path))

    def _project_replaced(self) -> None:
        self.bar.set_devices(self.devices, self.document.setting(("training", "device")))
        self.bar.show_status("Not trained yet.")
        self.plots.span(self.document.setting(("training", "epochs")))
