"""The open project as the GUI sees it: the engine's Project, an undo stack over the
engine's commands, live shape inference, and the selection.

Views observe it: the canvas listens to the graph's own events (nodes and wires come and
go) and to `inference_updated` (shapes, counts, problems); the inspector and the problems
list follow `selection_changed`. Every edit goes through `push`, so it can be undone.

torch takes seconds to import, and the window should not wait for it: the graph,
commands and project files do not need torch, so `ShapeInference` (which does) is
attached later by `attach_inference`, typically once a background import finished.
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from engine.document.blocks import BlockType, blocks_of, dependency_order, instance
from engine.document.commands import AddNode, Command, Connect, Macro, SetParams
from engine.document.events import NodeChanged
from engine.document.graph import Edge, Graph, GraphError, Node
from engine.document.project import Project
from engine.document.trust import NOT_ALLOWED, Trust
from engine.layers import CATALOG

if TYPE_CHECKING:
    from engine.model.shapes import DataShapes, ShapeInference


_alive: weakref.WeakSet[Document] = weakref.WeakSet()  # every Document not yet collected


class Document(QObject):
    about_to_replace = Signal()  # set_project is called: anything about the old one must end
    project_replaced = Signal()  # a new or opened project: views rebuild from scratch
    inference_updated = Signal(object)  # set of node ids whose results changed
    selection_changed = Signal(object)  # list of selected node ids
    modified_changed = Signal(bool)
    path_changed = Signal(object)  # Path or None
    edit_refused = Signal(str)  # why an edit was refused, for the status bar
    custom_code_changed = Signal(bool)  # whether the file's Custom layer code may run
    settings_changed = Signal(object)  # the path of the data/training setting that changed
    lock_changed = Signal(str)  # why edits are refused now ("" when they are allowed)
    blocks_changed = Signal()  # a block type was made, or a block's body edited

    def __init__(self, project: Project | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.project = project or Project()
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._clean_changed)
        self.inference: ShapeInference | None = None
        self.data_shapes: DataShapes | None = None  # what the data says, once it is known
        self.selected: list[str] = []
        # Which Custom layers' code may run: handed to everything that would run it.
        self.trust: Trust = NOT_ALLOWED
        self.lock_reason = ""
        self.inside: set[str] = set()  # the block types a block editor's document is within
        # In a block editor: (node id, parameter) -> the block parameter that sets it.
        self.set_by_block: dict[tuple[str, str], str] = {}
        self._unsubscribe = self.graph.subscribe(self._follow_output_renames)
        self._output_labels = self._current_output_labels()
        _alive.add(self)

    def _clean_changed(self, clean: bool) -> None:
        self.modified_changed.emit(not clean)

    # --- state ------------------------------------------------------------------------

    @property
    def graph(self) -> Graph:
        return self.project.graph

    @property
    def path(self) -> Path | None:
        return self.project.path

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    def set_project(self, project: Project) -> None:
        """Show another project; the undo history starts again, and its Custom layers'
        code does not run until the user allows it (`allow_custom_code`)."""
        self.about_to_replace.emit()
        if self.inference is not None:
            self.inference.close()
            self.inference = type(self.inference)(project.graph)
        self.data_shapes = None
        self._unsubscribe()
        self.project = project
        self._unsubscribe = project.graph.subscribe(self._follow_output_renames)
        self._output_labels = self._current_output_labels()
        self.undo_stack.clear()
        self.selected = []
        self.trust = NOT_ALLOWED  # the new inference starts with it too
        self.project_replaced.emit()
        self.path_changed.emit(project.path)
        self.selection_changed.emit([])
        self.custom_code_changed.emit(False)
        self.refresh()

    def close(self) -> None:
        """The document is done with (its window closes): its undo history goes now,
        while every command it holds is whole. Left to Python's garbage collector, the
        stack could be destroyed after a command's C++ object, and crash the process
        (see gui.commands)."""
        if shiboken6.isValid(self):
            self.undo_stack.clear()
        self._unsubscribe()
        self._unsubscribe = lambda: None

    def _current_output_labels(self) -> dict[str, str]:
        return {n.id: n.label for n in self.graph.nodes.values() if n.is_output}

    def _follow_output_renames(self, event) -> None:
        """Losses are kept by Output label: when an Output is renamed (or the rename is
        undone), its loss settings move with it."""
        node = self.graph.nodes.get(event.node_id)
        if not isinstance(event, NodeChanged) or node is None or not node.is_output:
            return
        old = self._output_labels.get(node.id)
        losses = self.project.training["losses"]
        if old and old != node.label and old in losses:
            losses[node.label] = losses.pop(old)
        self._output_labels[node.id] = node.label

    def has_custom_code(self) -> bool:
        return any(node.runs_user_code for node in self.graph.nodes.values())

    def refused_custom_layers(self) -> list[str]:
        """The labels of the model's Custom layers whose code may not run now."""
        return self.trust.refused(self.graph)

    def trust_source(self, source: str) -> None:
        """Let this Custom layer code run: the user added it or typed it here."""
        self._set_trust(self.trust.with_source(source))

    def allow_custom_code(self, allowed: bool = True) -> None:
        """Let (or stop) the file's Custom layer code run: for shapes on meta tensors, and
        for everything that builds the model."""
        self._set_trust(self.trust.allowing(allowed))
        self.custom_code_changed.emit(allowed)
        self.refresh()

    def _set_trust(self, trust: Trust) -> None:
        self.trust = trust
        if self.inference is not None:
            self.inference.set_trust(trust)

    def mark_modified(self) -> None:
        """Unsaved work that is not on the undo stack (e.g. recovered after a crash)."""
        self.undo_stack.resetClean()
        self.modified_changed.emit(True)

    def mark_saved(self, path: Path) -> None:
        self.project.path = path
        self.undo_stack.setClean()
        self.path_changed.emit(path)

    # --- shapes -----------------------------------------------------------------------

    def attach_inference(self, inference: ShapeInference, emit: bool = True) -> None:
        """Start live shape inference (once torch is imported)."""
        self.inference = inference
        inference.set_trust(self.trust)
        inference.set_data(self.data_shapes)
        if emit:
            self.refresh()

    def follow_data(self, shapes: DataShapes | None) -> None:
        """What the data says of the model's ends (None: not known yet): the values set
        to follow the data take it, and the views hear of it."""
        if shapes == self.data_shapes:
            return
        self.data_shapes = shapes
        if self.inference is not None:
            self.inference.set_data(shapes)
            self.refresh()

    def refresh(self) -> None:
        """Re-infer what the last edits touched and tell the views (before the engine is
        ready, with an empty set: the views still hear that something changed)."""
        changed = self.inference.update() if self.inference is not None else set()
        self.inference_updated.emit(changed)

    # --- edits ------------------------------------------------------------------------

    def set_locked(self, reason: str) -> None:
        """Refuse every edit, saying `reason`, until called with "" (e.g. while the graph
        trains, so the run and the drawing never disagree)."""
        if reason != self.lock_reason:
            self.lock_reason = reason
            self.lock_changed.emit(reason)

    def push(self, command: Command) -> bool:
        """Do an edit and put it on the undo stack; a refused edit changes nothing and
        emits `edit_refused` with the reason."""
        from gui.commands import UndoCommand

        if self.lock_reason:
            self.edit_refused.emit(self.lock_reason)
            return False
        try:
            command.do(self.graph)
        except GraphError as exc:
            self.edit_refused.emit(str(exc))
            return False
        if isinstance(command, SetParams) and "source" in command.params:
            # the user has read and typed this code
            self.trust_source(self.graph.nodes[command.node_id].params["source"])
        self.refresh()
        self.undo_stack.push(UndoCommand(self, command))
        return True

    def setting(self, path: tuple[str, ...]) -> Any:
        """A data or training setting: ("data", "kind"), ("training", "lr"), or one output's
        loss setting ("losses", "<Output label>", "loss")."""
        section, *keys = path
        if section == "losses":
            return self.project.losses()[keys[0]][keys[1]]
        return getattr(self.project, section)[keys[0]]

    def set_setting(self, path: tuple[str, ...], value: Any) -> bool:
        """Change a setting as one undoable edit (refused while locked)."""
        from gui.commands import SettingCommand

        if self.lock_reason:
            self.edit_refused.emit(self.lock_reason)
            return False
        old = self.setting(path)
        if old == value:
            return False
        self.undo_stack.push(SettingCommand(self, path, old, value))
        return True

    def write_setting(self, path: tuple[str, ...], value: Any) -> None:
        """Store a setting without undo (the undo command's own doing)."""
        section, *keys = path
        if section == "losses":
            losses = self.project.training["losses"]
            losses[keys[0]] = {**self.project.losses()[keys[0]], keys[1]: value}
        else:
            getattr(self.project, section)[keys[0]] = value
        self.settings_changed.emit(path)

    def select(self, node_ids: list[str]) -> None:
        node_ids = [n for n in node_ids if n in self.graph.nodes]
        if node_ids != self.selected:
            self.selected = node_ids
            self.selection_changed.emit(list(node_ids))

    # --- blocks -----------------------------------------------------------------------

    def block_types(self) -> list[BlockType]:
        """The project's block types (kept, and used by the model), dependencies first."""
        return dependency_order([*self.project.blocks.values(), *blocks_of(self.project.graph)])

    def block_type(self, name: str) -> BlockType | None:
        return next((b for b in self.block_types() if b.name == name), None)

    def free_block_name(self, wish: str) -> str:
        taken = set(CATALOG) | {b.name for b in self.block_types()}
        name, number = wish, 2
        while name in taken:
            name, number = f"{wish}{number}", number + 1
        return name

    def keep_block(self, block: BlockType) -> None:
        """Keep a block type with the project (in the palette's Blocks, and in its file)."""
        self.project.blocks.setdefault(block.name, block)
        self.blocks_changed.emit()

    def add_layer(
        self, layer_type: str, pos: tuple[float, float], wire_from: str | None = None
    ) -> str | None:
        """Add a layer (or an instance of a block type) at `pos` (one undo step), wired
        after `wire_from` when that node has an output and the new layer takes inputs.
        Returns the new node's id."""
        try:
            node = self._new_node(layer_type, pos)
        except GraphError as exc:
            self.edit_refused.emit(str(exc))
            return None
        if node.runs_user_code:
            self.trust_source(node.params["source"])  # code written here is the user's own
        commands: list[Command] = [AddNode(node)]
        source = self.graph.nodes.get(wire_from) if wire_from else None
        if source is not None and source.spec.has_output and node.spec.max_inputs != 0:
            commands.append(Connect(Edge(source.id, node.id, 0)))
        return node.id if self.push(Macro(commands, text=f"Add {layer_type}")) else None

    def _new_node(self, layer_type: str, pos: tuple[float, float]) -> Node:
        block = self.block_type(layer_type)
        if block is None:
            return self.graph.make_node(layer_type, pos=pos)
        if block.name in self.inside or any(u.name in self.inside for u in _all_uses(block)):
            raise GraphError(f"a block cannot hold itself: {block.name} is being edited here")
        node = instance(self.graph, block)
        node.pos = (float(pos[0]), float(pos[1]))
        return node


def _all_uses(block: BlockType) -> list[BlockType]:
    return dependency_order(block.uses())


def close_documents() -> None:
    """Close every document still alive: at the application's end (and a test's)."""
    for document in list(_alive):
        document.close()
