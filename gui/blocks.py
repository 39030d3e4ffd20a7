"""Blocks in the window: Make Block (Ctrl+G), Ungroup, Make Unique, Repeat, and a block
editor opened by double-clicking an instance.

The editor is a window of its own over the block's body: a document whose graph is the
body, with the palette, canvas and inspector of the main window. Its title is the path in
(`resnet18 > layer2 (DownStage)`); a block inside it opens one level deeper. An edit there
changes every instance of the type: the model's shapes, counts and code follow at once,
and the project is marked modified. Each window has its own undo history.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QSplitter,
    QWidget,
)

from engine.document.block_edits import make_block, make_unique, repeat, ungroup
from engine.document.blocks import BlockType
from engine.document.graph import GraphError
from engine.document.project import Project
from gui.canvas.view import CanvasView
from gui.document import Document
from gui.inspector import Inspector
from gui.palette import Palette


class MakeBlockDialog(QDialog):
    """The new block's name, and which of its layers' parameters it exposes."""

    def __init__(self, document: Document, node_ids: list[str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Make Block")
        self.name = QLineEdit(document.free_block_name("Block"))
        self.name.setObjectName("blockName")
        self.params = QListWidget()
        self.params.setObjectName("blockParams")
        for node_id in node_ids:
            node = document.graph.nodes[node_id]
            for param in node.spec.params:
                if param.inferred or not param.arg:
                    continue
                item = QListWidgetItem(f"{node.label}.{param.name} = {node.params[param.name]}")
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Unchecked)
                item.setData(Qt.ItemDataRole.UserRole, (node_id, param.name))
                self.params.addItem(item)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("name", self.name)
        form.addRow(QLabel("Parameters each instance sets (the others are shared):"))
        form.addRow(self.params)
        form.addRow(buttons)

    def exposed(self) -> list[tuple[str, str]]:
        items = (self.params.item(i) for i in range(self.params.count()))
        return [
            item.data(Qt.ItemDataRole.UserRole)
            for item in items
            if item.checkState() == Qt.CheckState.Checked
        ]


class BlockActions(QObject):
    """The block edits of one window's document (the main window's, or an editor's)."""

    def __init__(self, window: QMainWindow, document: Document, path: str):
        super().__init__(window)
        self.window = window
        self.document = document
        self.path = path  # how the window's graph is reached, for an editor's title
        self.editors: list[BlockEditor] = []

    def _instance(self) -> str | None:
        selected = self.document.selected
        node = self.document.graph.nodes.get(selected[0]) if len(selected) == 1 else None
        if node is None or node.block is None:
            self.document.edit_refused.emit("select one block instance first")
            return None
        return node.id

    def _push(self, build) -> bool:
        try:
            command = build()
        except GraphError as exc:
            self.document.edit_refused.emit(str(exc))
            return False
        return self.document.push(command)

    def make_block(self, name: str | None = None, exposed=None) -> BlockType | None:
        """Make the selected layers a block (asking its name and parameters unless given)."""
        selected = list(self.document.selected)
        if name is None:
            dialog = MakeBlockDialog(self.document, selected, self.window)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            name, exposed = dialog.name.text().strip(), dialog.exposed()
        made: list[BlockType] = []

        def build():
            command, block = make_block(self.document.graph, selected, name, exposed or [])
            made.append(block)
            return command

        if not self._push(build):
            return None
        self.document.keep_block(made[0])
        return made[0]

    def ungroup(self) -> None:
        node_id = self._instance()
        if node_id is not None:
            self._push(lambda: ungroup(self.document.graph, node_id))

    def make_unique(self) -> None:
        node_id = self._instance()
        if node_id is None:
            return
        name = self.document.free_block_name(self.document.graph.nodes[node_id].block.name)
        if self._push(lambda: make_unique(self.document.graph, node_id, name)):
            self.document.keep_block(self.document.graph.nodes[node_id].block)

    def repeat(self, count: int | None = None) -> None:
        node_id = self._instance()
        if node_id is None:
            return
        if count is None:
            count, ok = QInputDialog.getInt(self.window, "Repeat Block", "times", 2, 2, 1000)
            if not ok:
                return
        block = self.document.graph.nodes[node_id].block
        name = self.document.free_block_name(f"{block.name}Stage")
        if self._push(lambda: repeat(self.document.graph, node_id, count, name)):
            self.document.keep_block(self.document.graph.nodes[node_id].block)

    def open(self, node_id: str) -> BlockEditor | None:
        """The editor of the instance's block type, as that instance sees its inputs."""
        node = self.document.graph.nodes.get(node_id)
        if node is None or node.block is None:
            return None
        for editor in self.editors:  # one editor per block type: one undo history per body
            if editor.block is node.block:
                editor.activateWindow()
                return editor
        editor = BlockEditor(self.document, node_id, f"{self.path} > {node.label} ({node.type})")
        self.editors.append(editor)
        editor.closed.connect(lambda: self.editors.remove(editor))
        editor.show()
        return editor


class BlockEditor(QMainWindow):
    """A window over one block type's body."""

    closed = Signal()

    def __init__(self, outer: Document, node_id: str, path: str):
        super().__init__(outer.parent() if isinstance(outer.parent(), QWidget) else None)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.outer = outer
        node = outer.graph.nodes[node_id]
        self.block = node.block
        project = Project(name=self.block.name, graph=self.block.graph)
        project.blocks = outer.project.blocks
        self.document = Document(project, parent=self)
        self.document.inside = {*outer.inside, self.block.name}
        self.document.set_by_block = {t: p.name for p in self.block.params for t in p.targets}
        self.document.trust = outer.trust
        self.setWindowTitle(f"{path} - Torchwright")
        self.breadcrumb = QLabel(path)
        self.breadcrumb.setObjectName("breadcrumb")
        self.breadcrumb.setStyleSheet("font-weight: bold; padding: 6px 8px;")
        self.canvas = CanvasView(self.document)
        self.canvas.setObjectName("blockCanvas")
        self.actions = BlockActions(self, self.document, path)
        self.canvas.node_opened.connect(self.actions.open)
        splitter = QSplitter()
        splitter.addWidget(Palette(self.document))
        splitter.addWidget(self.canvas)
        splitter.addWidget(Inspector(self.document))
        splitter.setSizes([240, 800, 300])
        self.setMenuWidget(self.breadcrumb)
        self.setCentralWidget(splitter)
        self.resize(1300, 760)
        self._attach_inference(node_id)
        self.canvas.show_readable()
        self.document.undo_stack.indexChanged.connect(self._changed)
        self.document.set_locked(outer.lock_reason)
        outer.lock_changed.connect(self.document.set_locked)  # while the model trains
        outer.about_to_replace.connect(self.close)  # another project: this block is not in it

    def _attach_inference(self, node_id: str) -> None:
        """Shapes as the instance sees them: its input's shape (one input; with several,
        the inner Inputs wait), and its values of the block's parameters written into the
        inner parameters they set (which each instance sets anew: the body's own values
        there are placeholders)."""
        from engine.model.shapes import DataShapes, ShapeInference

        values = self.outer.graph.nodes[node_id].params
        for param in self.block.params:
            for inner_id, name in param.targets:
                self.block.graph.nodes[inner_id].params[name] = values[param.name]

        outer = self.outer.inference
        result = outer.results.get(node_id) if outer is not None else None
        inference = ShapeInference(self.block.graph, self.document.trust)
        self.document.attach_inference(inference, emit=False)
        edges = self.outer.graph.inputs_of(node_id)
        if len(self.block.inputs) == 1 and edges and outer is not None and result is not None:
            source = outer.results.get(edges[0].src)
            if source is not None and source.ok:
                self.document.follow_data(DataShapes(source.output.shape[1:], {}))
        self.document.refresh()

    def _changed(self, *_) -> None:
        """An edit of the body (or its undo): every instance follows, at every level up to
        the model, and the project is modified."""
        self.block.changed()
        if self.outer.inference is not None:
            self.outer.inference.refresh_blocks()
        self.outer.mark_modified()
        self.outer.refresh()
        self.outer.blocks_changed.emit()
        parent = self.outer.parent()
        if isinstance(parent, BlockEditor):  # opened from another block's editor
            parent._changed()

    def closeEvent(self, event) -> None:
        """Stop following the body and let the document go (its undo history first)."""
        self.document.undo_stack.indexChanged.disconnect(self._changed)
        self.outer.lock_changed.disconnect(self.document.set_locked)
        self.outer.about_to_replace.disconnect(self.close)
        if self.document.inference is not None:
            self.document.inference.close()
        self.document.close()
        self.closed.emit()
        super().closeEvent(event)
