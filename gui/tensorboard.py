"""Training > Open in TensorBoard: a TensorBoard server over the project's runs.

The server (engine.runs.tensorboard_server) is a real child process on 127.0.0.1; it is
started off the GUI thread (it takes seconds to answer) and its address is shown in a
dialog with a link and in the status bar. One server at a time, reused while it runs
over the same folder; the window stops it when it closes. A run writes its log when the
`tensorboard` training setting is on.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import QMainWindow, QMessageBox

from gui.background import in_background

TITLE = "Open in TensorBoard"


class TensorBoardActions(QObject):
    """Starts, shows and stops the window's TensorBoard server."""

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window = window
        self.server = None  # engine.runs.tensorboard_server.TensorBoardServer
        self.starting = False
        self.dialog: QMessageBox | None = None

    def open(self) -> None:
        folder = self._logdir()
        if folder is None or self.starting:
            return
        if self.server is not None and self.server.running and self.server.logdir == folder:
            self._show(self.server.url)
            return
        self.stop()
        from engine.runs.tensorboard_server import TensorBoardServer

        self.starting = True
        self.window.statusBar().showMessage(f"Starting TensorBoard on {folder}...")
        in_background(lambda: TensorBoardServer.start(folder), self._started)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def _logdir(self) -> Path | None:
        from engine.runs.store import TENSORBOARD_FOLDER, runs_folder

        path = self.window.document.project.path
        if path is None:
            self._say("Save the project first: its runs, and their logs, are kept beside it.")
            return None
        folder = runs_folder(path)
        if not any(folder.glob(f"*/{TENSORBOARD_FOLDER}")):
            self._say(
                "No run of this project has a TensorBoard log yet: turn on "
                f"'tensorboard' in Training Settings and train. ({html.escape(str(folder))})"
            )
            return None
        return folder

    @Slot(object, object, object)
    def _started(self, _tag, server, error: Exception | None) -> None:
        self.starting = False
        if error is not None:
            self.window.statusBar().clearMessage()
            self._say(html.escape(str(error)))
            return
        self.server = server
        self._show(server.url)

    def _show(self, url: str) -> None:
        self.window.statusBar().showMessage(f"TensorBoard: {url}")
        self._say(f'TensorBoard shows this project\'s runs at <a href="{url}">{url}</a>')

    def _say(self, text: str) -> None:
        dialog = self.dialog = QMessageBox(QMessageBox.Icon.Information, TITLE, text)
        dialog.setObjectName("tensorboardDialog")
        dialog.setParent(self.window, dialog.windowFlags())
        dialog.setTextFormat(Qt.TextFormat.RichText)
        dialog.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        dialog.open()
