"""The form for one node: its label, one editor per parameter, shapes and problems.

The form is generated from the layer's parameter schema. Each committed edit is checked
against the schema first (`engine.document.graph.check_params`): a bad value is shown in red
under its field and never reaches the graph; a good one is pushed as one undoable
`SetParams`. `refresh` shows the node as the graph holds it, after any change (undo
included), without pushing anything.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from engine.document.commands import Command, SetParams
from engine.document.graph import Graph, GraphError, Node, check_params
from engine.layers import LayerSpec, Param
from engine.layers.custom import source_problem
from gui.document import Document
from gui.inspector.code_field import CodeField
from gui.inspector.editors import AutoEditor, ParamEditor, make_editor
from gui.inspector.tuning import TuningRows

# Pushes a command; returns None when done, else why the document refused it.
Push = Callable[[Command], str | None]
ERROR_COLOR = "#c62828"


def muted(label: QLabel) -> QLabel:
    """Grey, as secondary text."""
    palette = label.palette()
    palette.setColor(
        QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.PlaceholderText)
    )
    label.setPalette(palette)
    return label


def wrapped(text: str = "", color: str | None = None) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    if color:
        label.setStyleSheet(f"color: {color};")
    return label


class Field:
    """An editor in a form row, and a red message row under it, hidden while empty (so a
    message gets the form's full width)."""

    def __init__(self, form: QFormLayout, name: QLabel | None, editor: QWidget):
        self.editor = editor
        self.error = wrapped(color=ERROR_COLOR)
        self.error.setObjectName("fieldError")
        self._form = form
        if name is None:
            form.addRow(editor)
        else:
            form.addRow(name, editor)
        form.addRow(self.error)
        form.setRowVisible(self.error, False)

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self._form.setRowVisible(self.error, bool(message))


def shape_facts(graph: Graph, inference: Any, node: Node) -> list[tuple[str, str]]:
    """(what, value) rows about a node: its input shapes, output shape, parameter count."""
    if inference is None:
        return [("shapes", "will appear when the engine is ready")]
    rows = []
    edges = graph.inputs_of(node.id)
    if node.spec.max_inputs != 0 and not edges:
        rows.append(("input", "not connected"))
    for edge in edges:
        result = inference.results.get(edge.src)
        shape = result.output.describe() if result is not None and result.ok else "?"
        name = "input" if len(edges) == 1 else f"input {edge.port}"
        rows.append((name, f"{shape} from {graph.nodes[edge.src].label}"))
    result = inference.results.get(node.id)
    if result is not None and result.ok and node.spec.has_output:
        rows.append(("output", result.output.describe()))
    if result is not None and result.ok and node.spec.module is not None:
        rows.append(("parameters", f"{result.num_params:,}"))
    if result is not None and result.ok and result.macs:
        rows.append(("multiply-adds", f"{result.macs:,} per sample"))
    return rows


class NodeForm(QWidget):
    """Everything about one node, editable. Built for a node; `refresh` keeps it current."""

    def __init__(self, document: Document, node_id: str, push: Push, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.graph = document.graph
        self.node_id = node_id
        self._push = push
        spec = self.graph.node(node_id).spec
        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        self._add_header(layout, spec)
        self.form = QFormLayout()
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.label_field = Field(self.form, QLabel("label"), QLineEdit(self))
        self.label_field.editor.setObjectName("label")
        self.label_field.editor.setToolTip("The layer's name in the generated code (self.<label>).")
        self.label_field.editor.editingFinished.connect(self._commit_label)
        self.fields: dict[str, Field] = {}
        for param in spec.params:
            self._add_param(param)
        self.tuning = None
        if spec.module is not None:  # a layer that holds weights (or may: Custom, a block)
            self.tuning = TuningRows(self.form, self, node_id, push, self.graph)
        layout.addLayout(self.form)
        layout.addStretch(1)
        self.refresh()

    def _add_header(self, layout: QVBoxLayout, spec: LayerSpec) -> None:
        title = QLabel(spec.type)
        font = QFont(title.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.25)
        title.setFont(font)
        layout.addWidget(title)
        layout.addWidget(muted(wrapped(spec.summary)))
        self.facts = wrapped()
        self.facts.setObjectName("shapes")
        self.problem = wrapped()
        self.problem.setObjectName("nodeProblem")
        layout.addWidget(self.facts)
        layout.addWidget(self.problem)
        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(line)

    def _add_param(self, param: Param) -> None:
        editor = CodeField(param, self) if param.kind == "text" else make_editor(param, self)
        editor.setObjectName(param.name)
        name = QLabel(param.name)
        name.setToolTip(param.help)
        if param.kind == "text":
            self.form.addRow(name)
        field = Field(self.form, None if param.kind == "text" else name, editor)
        self.fields[param.name] = field
        setter = self.document.set_by_block.get((self.node_id, param.name))
        if setter is not None:  # each instance writes its own value here
            editor.setEnabled(False)
            editor.setToolTip(f"Set by the block's parameter {setter!r}: change it on an instance.")
        editor.committed.connect(lambda value, name=param.name: self._commit(name, value))
        editor.rejected.connect(field.show_error)

    # --- showing ----------------------------------------------------------------------

    def node(self) -> Node | None:
        """The node, while it is in the graph this form was built for."""
        if self.document.graph is not self.graph:
            return None
        return self.graph.nodes.get(self.node_id)

    def shows(self, node: Node) -> bool:
        """Whether this form was built for `node` (the same node of the same graph)."""
        return self.node() is node

    def refresh(self) -> None:
        node = self.node()
        if node is None:
            return
        if self.label_field.editor.text() != node.label:
            self.label_field.editor.setText(node.label)
        self.label_field.show_error("")
        for name in self.fields:
            self._show_value(node, name)
        if self.tuning is not None:
            self.tuning.show(node)
        if node.runs_user_code:
            problem = source_problem(node.params) or ""
            self.fields["source"].show_error(problem[:1].upper() + problem[1:])
        self._show_facts(node)

    def _show_value(self, node: Node, name: str) -> None:
        field = self.fields[name]
        field.show_error("")
        editor: ParamEditor = field.editor
        if isinstance(editor, AutoEditor):
            inference = self.document.inference
            result = inference.results.get(node.id) if inference is not None else None
            editor.set_value(node.params[name], result.inferred.get(name) if result else None)
        else:
            editor.set_value(node.params[name])

    def _show_facts(self, node: Node) -> None:
        rows = shape_facts(self.graph, self.document.inference, node)
        cells = "".join(
            f"<tr><td style='padding-right: 10px'>{what}</td><td>{html.escape(value)}</td></tr>"
            for what, value in rows
        )
        self.facts.setText(f"<table cellspacing='0' cellpadding='1'>{cells}</table>")
        inference = self.document.inference
        result = inference.results.get(node.id) if inference is not None else None
        message = result.message if result is not None and not result.ok else ""
        color = ERROR_COLOR if result is not None and result.status == "error" else "gray"
        self.problem.setStyleSheet(f"color: {color};")
        self.problem.setText(message)
        self.problem.setVisible(bool(message))

    # --- editing ----------------------------------------------------------------------

    def _commit(self, name: str, value: Any) -> None:
        node = self.node()
        if node is None:
            return
        field = self.fields[name]
        if value == node.params[name]:
            self._show_value(node, name)
            return
        try:
            check_params(node.spec, {name: value})
        except GraphError as exc:
            field.show_error(str(exc))
            return
        refusal = self._push(SetParams(self.node_id, {name: value}))
        if refusal:
            field.show_error(refusal)

    def _commit_label(self) -> None:
        node = self.node()
        text = self.label_field.editor.text().strip()
        if node is None or text == node.label:
            return
        if not text:
            self.label_field.show_error("A label is required: it names the layer in the code.")
            return
        refusal = self._push(SetParams(self.node_id, label=text))
        if refusal:
            self.label_field.show_error(refusal)
