"""The code preview: the model's generated source, live, read-only and highlighted.

Regeneration waits until edits pause (a 150 ms single-shot timer restarted by each
`inference_updated`), so twenty quick edits cost one `generate`. While the graph is not a
model yet, the preview shows why, as comment lines, instead of code.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.document.graph import Graph
from gui.document import Document
from gui.highlighter import PythonHighlighter, monospace_font
from gui.problems import inference_ready

if TYPE_CHECKING:
    from engine.model.codegen import CodegenError

DEBOUNCE_MS = 150
NOT_READY = "# The code will appear when the engine is ready."


def problems_as_comments(error: CodegenError, graph: Graph) -> str:
    """A CodegenError's problems as Python comment lines, one paragraph per problem."""
    lines = ["# The model cannot be generated yet:", "#"]
    for node_id, message in error.problems:
        node = graph.nodes.get(node_id) if node_id is not None else None
        text = f"'{node.label}': {message}" if node is not None else message
        lines += ["# " + line for line in textwrap.wrap(text, 86)]
    return "\n".join(lines) + "\n"


class CodePreview(QWidget):
    """The generated model source. The read-only QPlainTextEdit users see is `editor`,
    objectName "codePreview"; `regenerated` fires after each regeneration."""

    regenerated = Signal()

    def __init__(self, document: Document, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("codePreviewPanel")
        self.document = document
        self.editor = QPlainTextEdit(self)
        self.editor.setObjectName("codePreview")
        self.editor.setReadOnly(True)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setFont(monospace_font())
        self.highlighter = PythonHighlighter(self.editor.document())
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setToolTip("Copy the code to the clipboard")
        self.copy_button.clicked.connect(self.copy)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.regenerate)
        self._build_layout()
        document.inference_updated.connect(self.schedule)
        document.project_replaced.connect(self.schedule)
        self.regenerate()

    def _build_layout(self) -> None:
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Generated model code", self), 1)
        bar.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.editor, 1)

    def schedule(self, *_changed: object) -> None:
        """Regenerate once edits pause for DEBOUNCE_MS."""
        self._timer.start()

    def source_text(self) -> str:
        """What the preview should show for the document as it is now."""
        document = self.document
        if not inference_ready(document):
            return NOT_READY + "\n"
        from engine.model.codegen import CodegenError, generate  # torch: imported once it is loaded

        try:
            return generate(document.graph, document.project.name, document.inference).source
        except CodegenError as exc:
            return problems_as_comments(exc, document.graph)

    def regenerate(self) -> None:
        self._timer.stop()
        text = self.source_text()
        if text != self.editor.toPlainText():
            self._replace_text(text)
        self.regenerated.emit()

    def _replace_text(self, text: str) -> None:
        """Set the text, keeping the scroll position where the user left it."""
        vertical = self.editor.verticalScrollBar().value()
        horizontal = self.editor.horizontalScrollBar().value()
        self.editor.setPlainText(text)
        self.editor.verticalScrollBar().setValue(vertical)
        self.editor.horizontalScrollBar().setValue(horizontal)

    def copy(self) -> None:
        QApplication.clipboard().setText(self.editor.toPlainText())
