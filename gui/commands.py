"""QUndoCommand adapter around the engine's command objects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoCommand

from engine.document.commands import Command, MoveNodes

if TYPE_CHECKING:
    from gui.document import Document

MOVE_ID = 1


class UndoCommand(QUndoCommand):
    """Wraps one engine command. It has already been done when pushed (the document runs
    it first, so a refused edit never reaches the stack); the first redo is skipped."""

    def __init__(self, document: Document, command: Command):
        super().__init__(command.text)
        self.document = document
        self.command = command
        self._done = True

    def redo(self) -> None:
        if self._done:
            self._done = False
            return
        self.command.do(self.document.graph)
        self.document.refresh()

    def undo(self) -> None:
        self.command.undo(self.document.graph)
        self.document.refresh()

    def id(self) -> int:
        return MOVE_ID if isinstance(self.command, MoveNodes) else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        """Consecutive moves of the same nodes become one undo step."""
        if not isinstance(other, UndoCommand) or not isinstance(other.command, MoveNodes):
            return False
        mine, theirs = self.command, other.command
        if set(mine.positions) != set(theirs.positions):
            return False
        mine.positions = dict(theirs.positions)
        return True


class SettingCommand(QUndoCommand):
    """One change of a data or training setting (see `Document.set_setting`)."""

    def __init__(self, document: Document, path: tuple[str, ...], old: Any, new: Any):
        super().__init__(f"Set {' '.join(path[1:])} to {new}")
        self.document = document
        self.path, self.old, self.new = path, old, new

    def redo(self) -> None:
        self.document.write_setting(self.path, self.new)

    def undo(self) -> None:
        self.document.write_setting(self.path, self.old)
