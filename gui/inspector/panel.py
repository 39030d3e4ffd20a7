"""The inspector panel: the selected node's form, or a hint when there is none."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QScrollArea, QStackedLayout, QWidget

from engine.document.commands import Command
from engine.document.graph import Node
from gui.document import Document
from gui.inspector.form import NodeForm, muted, wrapped

NOTHING_SELECTED = "Select a layer on the canvas to edit its parameters."


class Inspector(QWidget):
    """Edits the single selected node (objectName "inspector").

    It follows `selection_changed` (a new form), `inference_updated` (the form shows the
    graph's current values: after an undo, say) and `project_replaced`.
    """

    def __init__(self, document: Document, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("inspector")
        self.document = document
        self.form: NodeForm | None = None
        self._refusal = ""
        self.hint = muted(wrapped(NOTHING_SELECTED))
        self.hint.setObjectName("inspectorHint")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setMargin(16)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.stack = QStackedLayout(self)
        self.stack.addWidget(self.hint)
        self.stack.addWidget(self.scroll)
        document.selection_changed.connect(self._selection_changed)
        document.inference_updated.connect(self._show_selection)
        document.project_replaced.connect(self._project_replaced)
        document.edit_refused.connect(self._remember_refusal)
        self._show_selection()

    def _selected_node(self) -> Node | None:
        selected = self.document.selected
        if len(selected) != 1:
            return None
        return self.document.graph.nodes.get(selected[0])

    def _show_selection(self, *_changed: object) -> None:
        node = self._selected_node()
        if node is None:
            self._set_form(None)
            count = len(self.document.selected)
            self.hint.setText(
                f"{count} layers selected: select one to edit its parameters."
                if count > 1
                else NOTHING_SELECTED
            )
        elif self.form is not None and self.form.shows(node):
            self.form.refresh()
        else:
            self._set_form(NodeForm(self.document, node.id, self._push))

    def _set_form(self, form: NodeForm | None) -> None:
        if self.form is not None:
            self.scroll.takeWidget()
            self.form.deleteLater()
        self.form = form
        if form is not None:
            self.scroll.setWidget(form)
        self.stack.setCurrentWidget(self.scroll if form is not None else self.hint)

    def _selection_changed(self, _ids: object) -> None:
        """Commit what the user was typing (to the node it belongs to), then follow."""
        focused = QApplication.focusWidget()
        if self.form is not None and focused is not None and self.form.isAncestorOf(focused):
            focused.clearFocus()
        self._show_selection()

    def _project_replaced(self) -> None:
        self._set_form(None)
        self._show_selection()

    def _remember_refusal(self, message: str) -> None:
        self._refusal = message

    def _push(self, command: Command) -> str | None:
        """Push an edit; None when done, else the document's reason for refusing it."""
        self._refusal = ""
        return None if self.document.push(command) else self._refusal
