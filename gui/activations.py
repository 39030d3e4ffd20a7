"""View > Show Activations: every layer's output on one real sample, drawn on its node
while the model is designed, and the untrained model's initial loss beside chance.

`ActivationPreviewer` follows the document: a short while after each edit (or a change
of the data or training settings) it builds the model and runs it on the first training
samples in a background thread (engine.training.activation_preview), so the window never
waits; an edit made meanwhile starts one more pass when that one is done, and a result
older than the newest edit is dropped. Nodes draw their thumbnails when they are painted,
so a large graph converts only the nodes in view. Custom layer code runs only when the
file's code is allowed: switching the view on asks, as training does; an edit never does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from engine.document.project import from_dict, to_dict
from engine.errors import one_line
from gui.background import in_background
from gui.custom_code import allowed_to_run
from gui.document import Document

if TYPE_CHECKING:
    from pathlib import Path

    from PySide6.QtWidgets import QWidget

    from engine.document.trust import Trust
    from engine.training.activation_preview import ActivationPreview, ActivationProbe
    from gui.canvas.scene import CanvasScene

DELAY_MS = 300  # after the last edit, so a drag of a value does not start a pass per step


class ActivationPreviewer(QObject):
    """Thumbnails on the nodes of `scene` for the model of `document`, while on."""

    line_changed = Signal(str)  # the sample and initial loss, or why there is no preview
    shown = Signal()  # a preview (or its failure) reached the canvas

    def __init__(self, document: Document, scene: CanvasScene, window: QWidget):
        super().__init__(window)
        self.document, self.scene, self.window = document, scene, window
        self.enabled = False
        self._probe: ActivationProbe | None = None  # keeps the data between passes
        self._generation = 0  # the newest edit's number
        self._busy = False
        self._again = False  # an edit came during the pass: one more pass after it
        self._timer = QTimer(self, singleShot=True, interval=DELAY_MS)
        self._timer.timeout.connect(self._start)
        document.inference_updated.connect(self.schedule)
        document.project_replaced.connect(self.schedule)
        document.settings_changed.connect(self.schedule)
        document.custom_code_changed.connect(self.schedule)

    @property
    def idle(self) -> bool:
        """No pass is running, waiting for an edit to settle, or due after one."""
        return not (self._busy or self._again or self._timer.isActive())

    def set_enabled(self, on: bool) -> None:
        if on and not allowed_to_run(self.document, self.window):
            on = False  # the user kept the file's code from running
        self.enabled = on
        self._generation += 1
        if on:
            self._start()
        else:
            self._timer.stop()
            self._again = False
            self.scene.show_activations({})
            self.line_changed.emit("")

    def schedule(self, *_: Any) -> None:
        if self.enabled:
            self._generation += 1
            self._timer.start()

    def _start(self) -> None:
        if self._busy:
            self._again = True
            return
        self._busy = True
        document = to_dict(self.document.project)  # plain data: the thread's own copy
        path, trust = self.document.path, self.document.trust
        work = lambda: self._work(document, path, trust)  # noqa: E731
        in_background(work, self._done, self._generation)

    def _work(self, document: dict, path: Path | None, trust: Trust) -> ActivationPreview:
        from engine.training.activation_preview import ActivationProbe

        project = from_dict(document)
        project.path = path
        if self._probe is None:
            self._probe = ActivationProbe()
        return self._probe.preview(project, trust)

    def _done(self, generation: int, preview: ActivationPreview | None, error: Exception | None):
        self._busy = False
        if self._again and self.enabled:
            self._again = False
            self._start()
        if not self.enabled or generation != self._generation:
            return  # switched off, or the model changed since: the next pass shows it
        if error is not None:
            self.scene.show_activations({})
            self.line_changed.emit(f"No activations: {one_line(error)}")
        else:
            self.scene.show_activations(preview.thumbnails)
            self.line_changed.emit(f"{preview.sample}: " + "; ".join(preview.initial_loss))
        self.shown.emit()
