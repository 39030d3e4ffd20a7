"""The main window: canvas in the middle, palette left, inspector right, code preview,
problems and undo history below; menus, toolbar, title and settings."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QByteArray, QMimeData, QSettings, Qt
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSizePolicy,
    QTabWidget,
    QUndoView,
    QWidget,
)

from engine.document.commands import remove_nodes
from engine.document.fragments import copy_fragment, paste_command
from engine.document.graph import GraphError
from engine.document.presets import presets_folder
from engine.errors import UserError
from gui.actions import build_actions, build_menus
from gui.activations import ActivationPreviewer
from gui.blocks import BlockActions
from gui.canvas import CanvasView
from gui.canvas.labels import short_number
from gui.code_preview import CodePreview
from gui.collector import Collector
from gui.custom_code import allowed_to_run
from gui.document import Document
from gui.engine_loader import EngineLoader
from gui.files import FileController, recovery_path
from gui.gradient_colours import GradientColours
from gui.import_dialog import ImportDialog
from gui.inspector import Inspector
from gui.mime import NODES_MIME
from gui.palette import Palette
from gui.preset_gallery import PresetGallery
from gui.problems import ProblemsPanel
from gui.tensorboard import TensorBoardActions
from gui.training.page import TrainingPage
from gui.training.settings_form import SettingsForm
from gui.weights import WeightsActions

DOCK = Qt.DockWidgetArea


class MainWindow(QMainWindow):
    """`MainWindow()` opens an empty project; `open_project(path)` opens a file."""

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self._collector = Collector()
        self.settings = settings or QSettings("Torchwright", "Torchwright")
        self.document = Document(parent=self)
        self.canvas = CanvasView(self.document)
        self.canvas.setObjectName("canvas")
        self.training = TrainingPage(self.document)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("centralTabs")
        self.tabs.addTab(self.canvas, "Network")
        self.tabs.addTab(self.training, "Training")
        self.setCentralWidget(self.tabs)
        self.training.session.run_started.connect(lambda: self.tabs.setCurrentWidget(self.training))
        self.training.session.run_started.connect(self._note_frozen)
        self.training.session.problem_found.connect(self._show_problem)
        self.training.session.failed_at.connect(self.canvas.center_on_node)
        controller = self.training.session.controller
        controller.layer_warnings.connect(self.canvas.scene().show_training_notes)
        controller.started.connect(lambda _plan: self.canvas.scene().show_training_notes({}))
        self.gradient_colours = GradientColours(self.canvas.scene(), controller, self)
        self.docks: dict[str, QDockWidget] = {}
        self._add_docks()
        self.files = FileController(self, self.document, self.settings)
        self.weights = WeightsActions(self)
        self.tensorboard = TensorBoardActions(self)
        self.activations = ActivationPreviewer(self.document, self.canvas.scene(), self)
        self.blocks = BlockActions(self, self.document, "model")
        self.canvas.node_opened.connect(self.blocks.open)
        self.menu_actions = build_actions(self)
        self.recent_menu = build_menus(self, self.menu_actions)
        self.files.recent_changed.connect(self._fill_recent)
        self.files.notice.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self._fill_recent(self.files.recent())
        self._status = QLabel()
        self.activation_line = QLabel()  # the sample shown and the initial loss
        self.activation_line.setObjectName("activationLine")
        self.activation_line.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.activations.line_changed.connect(self._show_activation_line)
        self.statusBar().addPermanentWidget(self.activation_line)
        self.statusBar().addPermanentWidget(self._status)
        self.document.path_changed.connect(self._update_title)
        self.document.modified_changed.connect(self.setWindowModified)
        self.document.project_replaced.connect(self._update_title)
        self.document.project_replaced.connect(self.canvas.show_readable)
        self.document.edit_refused.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.document.inference_updated.connect(self._update_status)
        self.document.project_replaced.connect(self._mention_custom_code)
        self.document.lock_changed.connect(self._lock_changed)
        self._lock_shown = ""
        self._update_title()
        self.resize(1400, 860)
        self._restore_layout()
        self.loader = EngineLoader(self)
        self.loader.ready.connect(self._engine_ready)
        self._start_engine()

    def _show_activation_line(self, text: str) -> None:
        """The line may be longer than the status bar has room for: all of it in the tip."""
        self.activation_line.setText(text)
        self.activation_line.setToolTip(text)

    # --- layout -----------------------------------------------------------------------

    def _add_docks(self) -> None:
        self.layer_palette = Palette(self.document)
        self.inspector = Inspector(self.document)
        self.code_preview = CodePreview(self.document)
        self.problems = ProblemsPanel(self.document)
        self.problems.problem_activated.connect(self.canvas.center_on_node)
        self.training_settings = SettingsForm(self.document, self.training.session.data_check)
        settings = QScrollArea()
        settings.setWidgetResizable(True)
        settings.setWidget(self.training_settings)
        history = QUndoView(self.document.undo_stack)
        history.setEmptyLabel("<opened>")
        self.history = history
        for key, title, widget, area in (
            ("palette", "Layers", self.layer_palette, DOCK.LeftDockWidgetArea),
            ("inspector", "Inspector", self.inspector, DOCK.RightDockWidgetArea),
            ("training", "Training Settings", settings, DOCK.RightDockWidgetArea),
            ("code", "Code", self.code_preview, DOCK.BottomDockWidgetArea),
            ("problems", "Problems", self.problems, DOCK.BottomDockWidgetArea),
            ("history", "History", history, DOCK.BottomDockWidgetArea),
        ):
            dock = QDockWidget(title, self)
            dock.setObjectName(f"{key}Dock")
            dock.setWidget(widget)
            self.addDockWidget(area, dock)
            self.docks[key] = dock
        self.tabifyDockWidget(self.docks["code"], self.docks["problems"])
        self.tabifyDockWidget(self.docks["problems"], self.docks["history"])
        self.docks["code"].raise_()
        self.tabifyDockWidget(self.docks["inspector"], self.docks["training"])
        self.docks["inspector"].raise_()
        self.resizeDocks(
            [self.docks["palette"], self.docks["inspector"]], [270, 320], Qt.Orientation.Horizontal
        )
        self.resizeDocks([self.docks["code"]], [260], Qt.Orientation.Vertical)

    def _restore_layout(self) -> None:
        geometry, state = self.settings.value("geometry"), self.settings.value("windowState")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state)

    # --- engine ---------------------------------------------------------------------------

    def _start_engine(self) -> None:
        if "torch" in sys.modules:  # already imported (tests, scripts): no need to wait
            self._engine_ready("")
        else:
            self.statusBar().showMessage("Loading PyTorch: shapes appear in a moment...")
            self.loader.start()

    def _engine_ready(self, error: str) -> None:
        if error:
            self.files.show_error("PyTorch could not be loaded", error)
            return
        from engine.model.shapes import ShapeInference

        self.document.attach_inference(ShapeInference(self.document.graph))
        self.training.session.engine_ready()
        self.training_settings.set_devices(self.training.session.devices)
        self.statusBar().showMessage("Ready", 3000)

    # --- files ----------------------------------------------------------------------------

    def open_project(self, path: str | Path) -> bool:
        return self.files.open(path)

    def new_from_preset(self) -> None:
        gallery = PresetGallery(presets_folder(), self)
        if gallery.exec() == PresetGallery.DialogCode.Accepted and gallery.chosen():
            self.files.open_preset(gallery.chosen())

    def import_model(self) -> None:
        if not self.files.maybe_save():
            return
        dialog = ImportDialog(self, self.files.folder())
        if dialog.exec() == ImportDialog.DialogCode.Accepted:
            self.open_import(dialog.result)

    def open_import(self, result) -> None:
        """Show an imported model (engine.importing.ImportResult) as a new, unsaved project."""
        self.document.set_project(result.project)
        self.document.allow_custom_code(True)  # the user ran this code to import it
        renamed = result.renamed
        note = (
            f"; {len(renamed)} weight names changed (e.g. {next(iter(renamed))})" if renamed else ""
        )
        self.statusBar().showMessage(
            f"Imported {result.code.class_name}: {len(result.project.graph.nodes)} nodes, "
            f"{result.num_params:,} parameters{note}",
            10000,
        )

    def export_trained(self) -> None:
        """Export the run whose weights the model holds, in every deployment format."""
        record = self.training.history.latest()
        if record is None:
            self.files.show_error(
                "Nothing trained yet",
                "Train the model, or load a run's weights from the Runs tab, then export it.",
            )
            return
        self.training.history.export(record)

    def _note_frozen(self, *_) -> None:
        from engine.training.job import frozen_without_weights

        if note := frozen_without_weights(self.document.project):
            self.statusBar().showMessage(note[:1].upper() + note[1:] + ".", 20000)

    def _show_problem(self, problem) -> None:
        """Train was refused: say why in the status line and go where it is explained.
        A problem of the graph is shown on its node; any other under the run bar, with
        its fix."""
        from engine.training.preflight import Reason

        self.statusBar().showMessage(self.training.session.sentence(problem), 15_000)
        if problem.reason in (Reason.GRAPH, Reason.CUSTOM_NOT_ALLOWED) and problem.node_id:
            self.tabs.setCurrentWidget(self.canvas)
            self.canvas.center_on_node(problem.node_id)
        else:
            self.tabs.setCurrentWidget(self.training)

    def export_code(self) -> None:
        if not self._custom_code_may_run():
            return
        folder = QFileDialog.getExistingDirectory(self, "Export model.py and train.py to folder")
        if folder:
            self.export_to(Path(folder))

    def export_to(self, folder: Path) -> Path | None:
        """Write model.py and train.py into `folder`; the shapes after a Custom layer and
        the check that the model builds run its code, so that may be asked first."""
        from engine.export.code import export_code
        from engine.training.job import following

        if not self._custom_code_may_run():
            return None
        document = self.document
        project, shapes = document.project, document.data_shapes
        try:
            if shapes is not None:
                project = following(project, shapes, document.trust)
            exported = export_code(project, folder, document.trust)
        except UserError as exc:
            self.files.show_error("Cannot export", str(exc))
            return None
        except OSError as exc:
            self.files.show_error("Cannot export", f"{folder}: {exc.strerror or exc}")
            return None
        names = " and ".join(path.name for path in exported.written)
        note = f"; {exported.no_script}" if exported.no_script else ""
        self.statusBar().showMessage(f"Wrote {names} to {folder}{note}", 8000)
        return exported.written[0]

    def _custom_code_may_run(self) -> bool:
        if allowed_to_run(self.document, self):
            return True
        self.statusBar().showMessage("Not exported: the Custom layers' code was not run.", 8000)
        return False

    def _fill_recent(self, paths: list[str]) -> None:
        self.recent_menu.clear()
        for path in paths:
            self.recent_menu.addAction(Path(path).name, lambda p=path: self.files.open(p))
        self.recent_menu.setEnabled(bool(paths))

    # --- editing --------------------------------------------------------------------------

    def copy(self) -> None:
        if not self.document.selected:
            return
        fragment = copy_fragment(self.document.graph, self.document.selected)
        data = QMimeData()
        data.setData(NODES_MIME, QByteArray(json.dumps(fragment).encode()))
        data.setText(", ".join(n["label"] for n in fragment["nodes"]))
        QGuiApplication.clipboard().setMimeData(data)

    def paste(self) -> None:
        data = QGuiApplication.clipboard().mimeData()
        if data is None or not data.hasFormat(NODES_MIME):
            return
        try:
            fragment = json.loads(bytes(data.data(NODES_MIME)).decode())
            blocks = {block.name: block for block in self.document.block_types()}
            command, new_ids = paste_command(self.document.graph, fragment, blocks=blocks)
        except (ValueError, GraphError) as exc:
            self.statusBar().showMessage(f"Cannot paste: {exc}", 8000)
            return
        if self.document.push(command):
            self.document.select(new_ids)

    def cut(self) -> None:
        self.copy()
        self.delete_selection()

    def delete_selection(self) -> None:
        if self.document.selected:
            self.document.push(remove_nodes(list(self.document.selected)))

    def select_all(self) -> None:
        self.document.select(list(self.document.graph.nodes))

    # --- title, status, closing -----------------------------------------------------------

    def _lock_changed(self, reason: str) -> None:
        """While the graph trains nothing may edit it: not the canvas, palette, inspector,
        settings or undo (the status bar says why when an edit is tried anyway)."""
        editable = not reason
        for widget in (self.layer_palette, self.training_settings, self.history):
            widget.setEnabled(editable)
        self.canvas.setInteractive(editable)
        for name in ("undo", "redo", "cut", "paste", "delete"):
            self.menu_actions[name].setEnabled(editable)
        if editable:  # the stack knows again what can be undone
            self.menu_actions["undo"].setEnabled(self.document.undo_stack.canUndo())
            self.menu_actions["redo"].setEnabled(self.document.undo_stack.canRedo())
        if reason:
            self.statusBar().showMessage(reason, 8000)
        elif self.statusBar().currentMessage() == self._lock_shown:
            self.statusBar().clearMessage()
        self._lock_shown = reason

    def _update_title(self, *_) -> None:
        path = self.document.path
        name = path.name if path else f"{self.document.project.name} (unsaved)"
        self.setWindowTitle(f"{name}[*] - Torchwright")
        self.setWindowModified(self.document.modified)

    def _mention_custom_code(self) -> None:
        if self.document.has_custom_code():
            self.statusBar().showMessage(
                "This project has Custom layers: Edit > Run Custom Layer Code shows their shapes",
                15000,
            )

    def _update_status(self, *_) -> None:
        inference = self.document.inference
        if inference is None:
            return
        nodes, problems = len(self.document.graph.nodes), len(inference.problems())
        issues = f", {problems} problem{'s' if problems != 1 else ''}" if problems else ""
        total = inference.total_params()
        frozen = inference.total_params(
            {n.id for n in self.document.graph.nodes.values() if n.frozen}
        )
        counted = f"{total:,} parameters" + (f" ({total - frozen:,} trainable)" if frozen else "")
        macs = inference.total_macs()
        work = f", {short_number(macs)} MACs per sample" if macs else ""
        self._status.setText(f"{nodes} layers, {counted}{work}{issues}")

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.files.maybe_save():
            event.ignore()
            return
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("windowState", self.saveState())
        self.training.session.shutdown()
        self.tensorboard.stop()
        self.files.discard_recovery()
        self.loader.stop()
        self.document.close()
        self._collector.release()
        event.accept()


def open_window(path: str | None = None) -> MainWindow:
    """A shown main window, on `path` if given, offering back unsaved work after a crash."""
    window = MainWindow()
    window.show()
    if path:
        window.open_project(path)
    elif recovery_path().exists() and window.files.ask_restore() and window.files.recover():
        window.statusBar().showMessage("Restored the unsaved work of the last session", 10000)
    return window
