"""File > Load Weights into Model and File > Download Pretrained Weights.

Either way the weights are tried on the model in a background thread (a copy of the
project, built as a run would build it) and the report by layer is shown: loaded, left as
initialised, skipped, left out. When tensors of the right name have another shape (a
pretrained head for 1,000 classes), the user is asked whether to skip them. Once the
weights fit, the project's training starts from them (`init_weights`, one undoable edit).
A download shows its progress and can be cancelled; offline, a sentence says so and the
project is left as it was.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog

from engine.document.project import from_dict, to_dict
from engine.errors import one_line
from gui.background import in_background

if TYPE_CHECKING:
    from gui.main_window import MainWindow

FILTER = "Weights (*.safetensors *.pt *.pth);;All files (*)"


def try_weights(project, trust, data_shapes, source: str, skip: bool):
    """The report of starting the project's model from `source` (in a worker thread)."""
    from engine.model.build import build_model
    from engine.model.shapes import infer_all, resolved
    from engine.training.job import start_from_settings, with_its_data

    if data_shapes is None:  # the data preview has not told them yet: load the data
        graph = with_its_data(project, trust).graph
    else:
        graph = resolved(project.graph, infer_all(project.graph, trust, data_shapes))
    module = build_model(graph, project.name, project.training["seed"], trust).module
    base = project.path.parent if project.path is not None else None
    settings = {"init_weights": source, "skip_mismatched": skip}
    return start_from_settings(module, settings, base)


class WeightsActions(QObject):
    progress = Signal(int, object)  # bytes so far, bytes in all; from the download's thread

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.document = window.document
        self._cancel = threading.Event()
        self._dialog: QProgressDialog | None = None
        self._percent = -1
        self._generation = 0  # a result for another project than the open one is dropped
        self.progress.connect(self._show_progress)
        self.document.about_to_replace.connect(self._forget)

    def _forget(self) -> None:
        self._generation += 1
        self._cancel.set()

    # --- loading a file ------------------------------------------------------------------

    def load_from_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Load Weights into Model", str(self.window.files.folder()), FILTER
        )
        if path:
            self.check(path, skip=False)

    def check(self, source: str, skip: bool) -> None:
        """Try `source` on the model in the background; report, or ask, when done."""
        snapshot = from_dict(to_dict(self.document.project))
        snapshot.path = self.document.project.path
        trust, shapes = self.document.trust, self.document.data_shapes
        self.window.statusBar().showMessage(f"Trying the weights of {source} on the model...")
        in_background(
            lambda: try_weights(snapshot, trust, shapes, source, skip),
            self._checked,
            (source, skip, self._generation),
        )

    def _checked(self, tag, report, error) -> None:
        from engine.model.transfer import SKIP_HINT

        source, skip, generation = tag
        self.window.statusBar().clearMessage()
        if generation != self._generation:
            return
        if error is not None:
            text = one_line(error)
            if SKIP_HINT in text and not skip and self._ask_to_skip(text):
                self.check(source, skip=True)
            else:
                self.window.files.show_error("The weights cannot be loaded", text)
            return
        if self.document.lock_reason:
            self.window.files.show_error("The weights cannot be set now", self.document.lock_reason)
            return
        stack = self.document.undo_stack
        stack.beginMacro("Start from weights")
        self.document.set_setting(("training", "init_weights"), source)
        self.document.set_setting(("training", "skip_mismatched"), skip)
        stack.endMacro()
        box = QMessageBox(QMessageBox.Icon.Information, "Weights loaded", "", parent=self.window)
        lines = report.lines()
        box.setText(lines[0] + ".\n\nTraining now starts from these weights.")
        box.setDetailedText("\n".join(lines))
        box.setObjectName("weightsReport")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _ask_to_skip(self, message: str) -> bool:
        answer = QMessageBox.question(
            self.window,
            "Some layers differ",
            f"{message[:1].upper()}{message[1:]}.\n\nSkip those tensors and load the rest?",
        )
        return answer == QMessageBox.StandardButton.Yes

    # --- downloading -------------------------------------------------------------------

    def download(self) -> None:
        url = self.document.project.pretrained.get("url")
        if not url:
            self.window.files.show_error(
                "No published weights", "This project records no pretrained weights to download."
            )
            return
        self._cancel.clear()
        self._percent = -1
        dialog = QProgressDialog(f"Downloading {url}", "Cancel", 0, 0, self.window)
        dialog.setObjectName("downloadProgress")
        dialog.setWindowTitle("Download Pretrained Weights")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.canceled.connect(self._cancel.set)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self._dialog = dialog
        in_background(lambda: self._download(url), self._downloaded, (url, self._generation))

    def _download(self, url: str):
        from engine.model.pretrained import download_weights

        return download_weights(url, lambda done, total: self.progress.emit(done, total),
                                self._cancel.is_set)  # fmt: skip

    def _show_progress(self, done: int, total) -> None:
        """Shown once per percent (the download reports every few kilobytes)."""
        percent = 100 * done // total if total else done // 1_000_000
        if self._dialog is None or percent == self._percent:
            return
        self._percent = percent
        if total:
            self._dialog.setMaximum(100)
            self._dialog.setValue(percent)
        self._dialog.setLabelText(f"Downloading: {done / 1e6:.1f} MB")

    def _downloaded(self, tag, _path, error) -> None:
        from engine.model.pretrained import DownloadCancelled

        url, generation = tag
        if self._dialog is not None:
            self._dialog.close()
            self._dialog = None
        if generation != self._generation:
            return
        if isinstance(error, DownloadCancelled):
            self.window.statusBar().showMessage(str(error), 8000)
        elif error is not None:
            self.window.files.show_error("The weights were not downloaded", one_line(error))
        else:
            self.check(url, skip=True)
