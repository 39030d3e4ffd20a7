"""The main window's actions, menus and toolbar."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QStyle

from gui.gradient_colours import LEGEND as GRADIENT_LEGEND

if TYPE_CHECKING:
    from gui.activations import ActivationPreviewer
    from gui.main_window import MainWindow

Keys = QKeySequence.StandardKey


def _action(window, text: str, slot: Callable, shortcut=None, icon=None, tip: str = "") -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(
            shortcut if isinstance(shortcut, QKeySequence) else QKeySequence(shortcut)
        )
    if icon is not None:
        action.setIcon(window.style().standardIcon(icon))
    action.setStatusTip(tip or text.replace("&", "").rstrip("."))
    action.triggered.connect(lambda *_: slot())
    return action


def build_actions(window: MainWindow) -> dict[str, QAction]:
    files, canvas, stack = window.files, window.canvas, window.document.undo_stack
    run_bar = window.training.bar
    icons = QStyle.StandardPixmap
    actions = {
        "new": _action(window, "&New", files.new, Keys.New, icons.SP_FileIcon),
        "new_preset": _action(
            window, "New from &Preset...", window.new_from_preset, "Ctrl+Shift+N"
        ),
        "open": _action(window, "&Open...", files.open, Keys.Open, icons.SP_DialogOpenButton),
        "save": _action(window, "&Save", files.save, Keys.Save, icons.SP_DialogSaveButton),
        "save_as": _action(window, "Save &As...", files.save_as, Keys.SaveAs),
        "export": _action(
            window,
            "&Export Code...",
            window.export_code,
            "Ctrl+E",
            icons.SP_DialogSaveButton,
            "Write model.py and the standalone train.py to a folder",
        ),
        "import": _action(
            window,
            "&Import Python Model...",
            window.import_model,
            "Ctrl+I",
            tip="Turn a PyTorch nn.Module class into an editable graph",
        ),
        "export_trained": _action(
            window,
            "Export &Trained Model...",
            window.export_trained,
            "Ctrl+Shift+E",
            tip="Write the trained model as TorchScript, ONNX and weights, each checked",
        ),
        "load_weights": _action(
            window,
            "&Load Weights into Model...",
            window.weights.load_from_file,
            tip="Start training from a .safetensors or .pt state_dict: what fits loads",
        ),
        "download_weights": _action(
            window,
            "&Download Pretrained Weights",
            window.weights.download,
            tip="Download the published weights this model records, and start from them",
        ),
        "quit": _action(window, "&Quit", window.close, Keys.Quit),
        "undo": stack.createUndoAction(window, "&Undo"),
        "redo": stack.createRedoAction(window, "&Redo"),
        "cut": _action(window, "Cu&t", window.cut, Keys.Cut),
        "copy": _action(window, "&Copy", window.copy, Keys.Copy),
        "paste": _action(window, "&Paste", window.paste, Keys.Paste),
        "delete": _action(window, "&Delete", window.delete_selection, Keys.Delete),
        "select_all": _action(window, "Select &All", window.select_all, Keys.SelectAll),
        "make_block": _action(
            window,
            "Make &Block...",
            window.blocks.make_block,
            "Ctrl+G",
            tip="Make the selected layers one block: a layer type of this project",
        ),
        "ungroup": _action(
            window,
            "&Ungroup Block",
            window.blocks.ungroup,
            "Ctrl+Shift+G",
            tip="Put the selected block's layers back in its place",
        ),
        "make_unique": _action(
            window,
            "Make Block U&nique",
            window.blocks.make_unique,
            tip="Give the selected block a type of its own, to edit apart from the others",
        ),
        "repeat_block": _action(
            window,
            "&Repeat Block...",
            window.blocks.repeat,
            tip="Make the selected block a stage: that block N times in a row",
        ),
        "custom_code": _action(
            window,
            "Run Custom Layer &Code",
            lambda: window.document.allow_custom_code(actions["custom_code"].isChecked()),
            tip="Run the project's Custom layers on meta tensors so their shapes show",
        ),
        "layout": _action(
            window,
            "Auto &Layout",
            canvas.auto_layout,
            "Ctrl+L",
            tip="Arrange the layers left to right, in rows as wide as the canvas",
        ),
        "zoom_in": _action(window, "Zoom &In", canvas.zoom_in, Keys.ZoomIn),
        "zoom_out": _action(window, "Zoom &Out", canvas.zoom_out, Keys.ZoomOut),
        "fit": _action(window, "&Fit to View", canvas.fit, "Ctrl+0"),
        "show_activations": _action(
            window,
            "Show &Activations",
            lambda: _follow_toggle(actions["show_activations"], window.activations),
            tip="Draw each layer's output for a training sample on its node, and the "
            "untrained model's initial loss",
        ),
        "train": _action(
            window,
            "&Train",
            run_bar.train.click,  # a disabled button ignores the click: same rules as the button
            "Ctrl+T",
            icons.SP_MediaPlay,
            "Train the network with the training settings",
        ),
        "pause": _action(window, "&Pause / Resume", run_bar.pause.click, "Ctrl+Shift+P"),
        "stop_training": _action(
            window, "&Stop Training", run_bar.stop.click, "Ctrl+.", icons.SP_MediaStop
        ),
        "tensorboard": _action(
            window,
            "Open in &TensorBoard",
            window.tensorboard.open,
            tip="Start TensorBoard on this project's runs and show its address",
        ),
        "colour_gradients": _action(
            window,
            "Colour Layers by &Gradient",
            lambda: _colour_by_gradient(window, actions["colour_gradients"].isChecked()),
            tip="Fill each layer with weights by its gradient's size, live from the run",
        ),
    }
    actions["colour_gradients"].setCheckable(True)
    actions["custom_code"].setCheckable(True)
    actions["show_activations"].setCheckable(True)
    window.document.custom_code_changed.connect(actions["custom_code"].setChecked)
    actions["undo"].setShortcut(Keys.Undo)
    redo_keys = QKeySequence.keyBindings(Keys.Redo)
    if QKeySequence("Ctrl+Y") not in redo_keys:
        redo_keys.append(QKeySequence("Ctrl+Y"))
    actions["redo"].setShortcuts(redo_keys)
    actions["undo"].setIcon(window.style().standardIcon(icons.SP_ArrowBack))
    actions["redo"].setIcon(window.style().standardIcon(icons.SP_ArrowForward))
    delete_keys = QKeySequence.keyBindings(Keys.Delete)
    if QKeySequence("Backspace") not in delete_keys:
        delete_keys.append(QKeySequence("Backspace"))
    actions["delete"].setShortcuts(delete_keys)

    def follow_run_bar(*_) -> None:
        for key, button in (("train", run_bar.train), ("pause", run_bar.pause)):
            actions[key].setEnabled(button.isEnabled())
        actions["stop_training"].setEnabled(run_bar.stop.isEnabled())

    run_bar.state_shown.connect(follow_run_bar)
    follow_run_bar()

    def follow_project(*_) -> None:
        actions["download_weights"].setEnabled(bool(window.document.project.pretrained))

    window.document.project_replaced.connect(follow_project)
    follow_project()
    for action in actions.values():
        window.addAction(action)  # shortcuts work whichever dock has the focus
    return actions


def _follow_toggle(action: QAction, previewer: ActivationPreviewer) -> None:
    """Switch the activations as the action now says; it then shows whether they are on
    (the user may keep the file's Custom code from running, and so the view off)."""
    previewer.set_enabled(action.isChecked())
    if action.isChecked() != previewer.enabled:
        action.setChecked(previewer.enabled)


def _colour_by_gradient(window: MainWindow, on: bool) -> None:
    window.gradient_colours.set_enabled(on)
    if on:
        window.statusBar().showMessage(GRADIENT_LEGEND, 15_000)


def build_menus(window: MainWindow, actions: dict[str, QAction]) -> QMenu:
    """Menus and toolbar; returns the Open Recent menu, which the window keeps filled."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addActions([actions["new"]])
    file_menu.addActions([actions["new_preset"], actions["open"]])
    recent = file_menu.addMenu("Open &Recent")
    file_menu.addSeparator()
    file_menu.addActions([actions["save"], actions["save_as"]])
    file_menu.addSeparator()
    file_menu.addActions([actions[k] for k in ("import", "export", "export_trained")])
    file_menu.addSeparator()
    file_menu.addActions([actions["load_weights"], actions["download_weights"]])
    file_menu.addSeparator()
    file_menu.addAction(actions["quit"])
    edit = bar.addMenu("&Edit")
    edit.addActions([actions["undo"], actions["redo"]])
    edit.addSeparator()
    edit.addActions([actions[k] for k in ("cut", "copy", "paste", "delete", "select_all")])
    edit.addSeparator()
    edit.addActions([actions["layout"], actions["custom_code"]])
    edit.addSeparator()
    edit.addActions([actions[k] for k in ("make_block", "ungroup", "make_unique", "repeat_block")])
    training = bar.addMenu("&Training")
    training.addActions([actions[k] for k in ("train", "pause", "stop_training")])
    training.addSeparator()
    training.addAction(actions["tensorboard"])
    training.addAction(actions["colour_gradients"])
    view = bar.addMenu("&View")
    view.addActions([actions["zoom_in"], actions["zoom_out"], actions["fit"]])
    view.addSeparator()
    view.addAction(actions["show_activations"])
    view.addSeparator()
    for dock in window.docks.values():
        view.addAction(dock.toggleViewAction())
    toolbar = window.addToolBar("Main")
    toolbar.setObjectName("mainToolbar")
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    toolbar.addActions([actions[k] for k in ("new", "open", "save", "undo", "redo")])
    toolbar.addSeparator()
    toolbar.addActions([actions[k] for k in ("layout", "fit", "export")])
    toolbar.addSeparator()
    toolbar.addActions([actions[k] for k in ("train", "stop_training")])
    return recent
