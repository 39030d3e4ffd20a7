"""Imports the torch-based half of the engine in a background thread, so the window can
appear while torch (seconds to import) loads."""

from __future__ import annotations

import importlib

from PySide6.QtCore import QObject, QThread, Signal, Slot

TORCH_MODULES = ("engine.model.shapes", "engine.model.codegen", "engine.model.build")


class _Importer(QObject):
    finished = Signal(str)  # empty on success, else why it failed

    @Slot()
    def run(self) -> None:
        try:
            for name in TORCH_MODULES:
                importlib.import_module(name)
        except Exception as exc:  # shown to the user; the app stays usable without shapes
            self.finished.emit(f"{type(exc).__name__}: {exc}")
            return
        self.finished.emit("")


class EngineLoader(QObject):
    """Call `start()`; `ready` fires in the GUI thread once the modules are imported
    (with an error message, or "" when all went well)."""

    ready = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread = QThread(self)
        self._importer = _Importer()
        self._importer.moveToThread(self._thread)
        self._thread.started.connect(self._importer.run)
        self._importer.finished.connect(self._done)

    def start(self) -> None:
        self._thread.start()

    @Slot(str)
    def _done(self, error: str) -> None:
        self._thread.quit()
        self._thread.wait()
        self.ready.emit(error)

    def stop(self) -> None:
        """Wait for the thread (an import cannot be interrupted) before the app exits."""
        if self._thread.isRunning():
            self._thread.quit()
            self._thread.wait()
