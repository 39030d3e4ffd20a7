"""The Custom layer's source editor: monospace, highlighted, Tab inserts four spaces.

Edits are applied as one undoable change with the Apply button (or Ctrl+Return), or when
the editor loses focus, never on each keystroke.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from engine.layers import Param
from gui.highlighter import PythonHighlighter, monospace_font
from gui.inspector.editors import ParamEditor

INDENT = "    "


class CodeEditor(QPlainTextEdit):
    """A plain-text Python editor: Tab and Shift+Tab indent by four spaces, Return keeps
    the indentation (one level more after a colon), focus-out is announced."""

    focus_lost = Signal()
    apply_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFont(monospace_font())
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTabStopDistance(self.fontMetrics().horizontalAdvance(" ") * len(INDENT))
        self.highlighter = PythonHighlighter(self.document())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        enter = key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and mods & Qt.KeyboardModifier.ControlModifier:
            self.apply_requested.emit()
        elif key == Qt.Key.Key_Tab and not mods:
            self._indent()
        elif key == Qt.Key.Key_Backtab:
            self._dedent()
        elif enter and not mods:
            self._new_line()
        else:
            super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.focus_lost.emit()

    def _indent(self) -> None:
        cursor = self.textCursor()
        column = cursor.positionInBlock()
        cursor.insertText(" " * (len(INDENT) - column % len(INDENT)))

    def _dedent(self) -> None:
        cursor = self.textCursor()
        line = cursor.block().text()
        remove = min(len(INDENT), len(line) - len(line.lstrip(" ")))
        if remove:
            cursor.movePosition(QTextCursor.MoveOperation.StartOfBlock)
            cursor.movePosition(
                QTextCursor.MoveOperation.Right, QTextCursor.MoveMode.KeepAnchor, remove
            )
            cursor.removeSelectedText()

    def _new_line(self) -> None:
        cursor = self.textCursor()
        before = cursor.block().text()[: cursor.positionInBlock()]
        indent = before[: len(before) - len(before.lstrip(" "))]
        if before.rstrip().endswith(":"):
            indent += INDENT
        cursor.insertText("\n" + indent)
        self.ensureCursorVisible()


class CodeField(ParamEditor):
    """A `text` parameter (the Custom layer's source) in a `CodeEditor`."""

    def __init__(self, param: Param, parent: QWidget | None = None):
        super().__init__(param, parent)
        self.editor = CodeEditor(self)
        self.editor.setMinimumHeight(220)
        self.apply = QPushButton("Apply", self)
        self.apply.setToolTip("Use this source for the layer (Ctrl+Return)")
        self.apply.setEnabled(False)
        column = QVBoxLayout()
        column.setSpacing(4)
        column.addWidget(self.editor, 1)
        column.addWidget(self.apply, 0, Qt.AlignmentFlag.AlignRight)
        self._layout.addLayout(column)
        self.setFocusProxy(self.editor)
        self._applied = ""
        self.editor.textChanged.connect(self._edited)
        self.apply.clicked.connect(self._apply)
        self.editor.apply_requested.connect(self._apply)
        self.editor.focus_lost.connect(self._apply)

    def set_value(self, value: Any) -> None:
        self._applied = value or ""
        if self.editor.toPlainText() != self._applied:
            self.editor.setPlainText(self._applied)
        self.apply.setEnabled(False)

    def _edited(self) -> None:
        self.apply.setEnabled(self.editor.toPlainText() != self._applied)

    def _apply(self) -> None:
        text = self.editor.toPlainText()
        if text != self._applied:
            self.committed.emit(text)
