"""The problems list: every reason the graph is not a working model yet, one per row.

Rows come from shape inference (a node at fault, with its label: an error icon) and
from `engine.model.codegen.check_model` (graph-level ones, such as a missing Output, and model
nodes that wait, such as a Custom layer whose code has not been allowed to run: a
warning icon). Clicking a row selects its node and emits `problem_activated(node_id)`,
for the window to bring the node into view.
"""

from __future__ import annotations

from typing import NamedTuple

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QStyle, QVBoxLayout, QWidget

from gui.document import Document

NODE_ROLE = Qt.ItemDataRole.UserRole + 1
NO_PROBLEMS = "No problems"
NOT_READY = "Problems will be listed when the engine is ready."


def inference_ready(document: Document) -> bool:
    """Whether shape inference has a result for every node (it has none while torch is
    still importing, nor between a project being replaced and the next refresh)."""
    inference = document.inference
    return inference is not None and all(n in inference.results for n in document.graph.nodes)


class Problem(NamedTuple):
    node_id: str | None  # None for the graph as a whole
    message: str
    error: bool  # False: the node waits on something, e.g. Custom code not yet allowed


def collect_problems(document: Document) -> list[Problem]:
    """Graph-level problems first, then nodes in graph order: every node at fault, in the
    model or not, and model nodes that keep it from being generated."""
    if not inference_ready(document):
        return []
    from engine.model.codegen import check_model  # imports torch, loaded by then

    graph, inference = document.graph, document.inference
    model = check_model(graph, inference)
    found = [Problem(None, message, True) for node_id, message in model if node_id is None]
    errors = dict(inference.problems())
    flagged = {**{n: m for n, m in model if n is not None}, **errors}
    found += [
        Problem(n, flagged[n], n in errors) for n in graph.topological_order() if n in flagged
    ]
    return found


class ProblemList(QListWidget):
    """A list that says "No problems" (or why it is empty) when it is empty."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.placeholder = NO_PROBLEMS

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.count() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().placeholderText().color())
            area = self.viewport().rect().adjusted(8, 8, -8, -8)
            flags = (
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
            )
            painter.drawText(QRect(area), flags, self.placeholder)


class ProblemsPanel(QWidget):
    """The list of problems (a QListWidget, objectName "problems")."""

    problem_activated = Signal(object)  # node id of the clicked problem (never None)

    def __init__(self, document: Document, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("problemsPanel")
        self.document = document
        self.list = ProblemList(self)
        self.list.setObjectName("problems")
        self.list.setWordWrap(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        self.list.itemClicked.connect(self._activate)
        self.list.itemActivated.connect(self._activate)
        document.inference_updated.connect(self.refresh)
        document.project_replaced.connect(self.refresh)
        self.refresh()

    def refresh(self, *_changed: object) -> None:
        """List the document's problems as they are now."""
        self.list.clear()
        self.list.placeholder = NO_PROBLEMS if self.document.inference else NOT_READY
        icons = {
            True: self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical),
            False: self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning),
        }
        graph = self.document.graph
        for problem in collect_problems(self.document):
            node = graph.nodes.get(problem.node_id) if problem.node_id else None
            text = f"{node.label}: {problem.message}" if node else problem.message
            item = QListWidgetItem(icons[problem.error], text)
            item.setData(NODE_ROLE, problem.node_id)
            item.setToolTip(text)
            self.list.addItem(item)
        self.list.viewport().update()

    def _activate(self, item: QListWidgetItem) -> None:
        node_id = item.data(NODE_ROLE)
        if node_id is not None and node_id in self.document.graph.nodes:
            self.document.select([node_id])
            self.problem_activated.emit(node_id)
