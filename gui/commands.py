"""QUndoCommand adapter around the engine's command objects.

A command holds its document weakly. The document's QUndoStack owns the commands (C++
deletes them with it); a command that held its document strongly made a reference cycle
of Python wrappers, and Python's garbage collector could then free a command's C++
object while the stack still pointed to it: the stack's destructor crashed the process
(seen at the end of a test session, in `QUndoStack::clear`).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoCommand

from engine.document.commands import Command, MoveNodes

if TYPE_CHECKING:
    from gui.document import Document

MOVE_ID = 1


class DocumentCommand(QUndoCommand):
    """A command on a document, which it holds weakly (see the module docstring)."""

    def __init__(self, document: Document, text: str):
        super().__init__(text)
        self._document = weakref.ref(document)

    @property
    def document(self) -> Document:
        return self._document()


class UndoCommand(DocumentCommand):
    """Wraps one engine command. It has already been done when pushed (the document runs
    it first, so a refused edit never reaches the stack); the first redo is skipped."""

    def __init__(self, document: Document, command: Command):
        super().__init__(document, command.text)
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


class SettingCommand(DocumentCommand):
    """One change of a data or training setting (see `Document.set_setting`)."""

    def __init__(self, document: Document, path: tuple[str, ...], old: Any, new: Any):
        super().__init__(document, f"Set {' '.join(path[1:])} to {new}")
        self.path, self.old, self.new = path, old, new

    def redo(self) -> None:
        self.document.write_setting(self.path, self.new)

    def undo(self) -> None:
        self.document.write_setting(self.path, self.old)
