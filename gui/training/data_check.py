"""`DataCheck`: the project's data, previewed, and checked against the model before a run.

The data named by the data settings is loaded in a background thread (engine.data.preview)
a moment after the settings last changed, so typing a path never waits for a file. The
preview is kept until the data settings or the project's folder change; the checks that
use it (engine.training.preflight: does a sample fit the Input, do the labels fit each
output's loss) are made afresh whenever they are asked for, since the graph may have changed since.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from engine.errors import one_line
from gui.background import in_background
from gui.document import Document

if TYPE_CHECKING:
    from engine.data.preview import DataPreview
    from engine.training.preflight import DataState, Problem

DELAY_MS = 300  # after the last settings change


class DataCheck(QObject):
    changed = Signal()  # a load began or ended

    def __init__(self, document: Document, parent: QObject | None = None):
        super().__init__(parent)
        self.document = document
        self.preview: DataPreview | None = None
        self.error = ""
        self.error_blocks = False  # the error would stop a run too (not so: a pending download)
        self.loading = False
        self._key: str | None = None  # what `preview` (or `error`) is of
        self._generation = 0
        self._engine = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DELAY_MS)
        self._timer.timeout.connect(self._load)
        document.settings_changed.connect(self._setting_changed)
        document.project_replaced.connect(self.schedule)
        document.path_changed.connect(self.schedule)

    def engine_ready(self) -> None:
        self._engine = True
        self._load()

    def schedule(self, *_: Any) -> None:
        if self._engine:
            self._timer.start()

    def reload(self) -> None:
        """Load again, even with the same settings (the file may have changed)."""
        self._key = None
        self._load()

    def scheduled(self) -> bool:
        """Whether a load waits for the settings to stop changing (its delay)."""
        return self._timer.isActive()

    def settled(self) -> bool:
        """Whether `preview` or `error` is of the data as the settings are now."""
        return not self.loading and self._key == self._settings_key()

    def current(self) -> DataPreview | None:
        """The preview of the data as the settings are now, once loaded."""
        return self.preview if self.settled() else None

    # --- the checks -------------------------------------------------------------------

    def state(self) -> DataState:
        """What the checks know of the data now: the current preview, or the reason the
        data cannot be read (once a load of the data as the settings are now ended)."""
        from engine.training.preflight import DataState

        error = self.error if self.error_blocks and self.settled() else ""
        return DataState(self.current(), error)

    def problems(self) -> list[Problem]:
        """Why the data and the model cannot train together. Without a current preview
        only the losses are checked against the outputs' shapes."""
        if self.document.inference is None:
            return []
        from engine.training.preflight import data_problems

        return data_problems(self.document.project, self.document.inference, self.state())

    # --- loading ----------------------------------------------------------------------

    def _setting_changed(self, path: tuple[str, ...]) -> None:
        if path and path[0] == "data" and not path[1].startswith("augment_"):
            self.schedule()

    def _base_dir(self) -> Path | None:
        path = self.document.path
        return path.parent if path is not None else None

    def _settings_key(self) -> str:
        """What the preview is of: the data settings but augmentation's (which the
        preview's strip follows without reading the data again), and the folder."""
        data = {k: v for k, v in self.document.project.data.items() if not k.startswith("augment_")}
        return json.dumps([data, str(self._base_dir())], sort_keys=True, default=str)

    def _load(self) -> None:
        self._timer.stop()
        key = self._settings_key()
        if not self._engine or key == self._key:
            return
        self._key, self._generation = key, self._generation + 1
        self.preview, self.error, self.error_blocks, self.loading = None, "", False, True
        from engine.data.preview import preview_data

        settings = json.loads(json.dumps(self.document.project.data))
        base_dir = self._base_dir()
        in_background(lambda: preview_data(settings, base_dir), self._loaded, self._generation)
        self.changed.emit()

    def _loaded(self, generation: int, preview: DataPreview | None, error: Exception | None):
        """In the GUI thread, when a load has ended."""
        if generation != self._generation:
            return  # the settings changed while it loaded
        from engine.data.preview import NotDownloadedYet

        self.preview, self.loading = preview, False
        self.error = "" if error is None else one_line(error)
        self.error_blocks = error is not None and not isinstance(error, NotDownloadedYet)
        self.changed.emit()
