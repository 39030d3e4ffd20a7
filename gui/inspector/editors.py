"""One editor widget per parameter kind, made from the layer's `Param` by `make_editor`.

An editor shows a value (`set_value`, which never emits) and reports what the user
commits: `committed(value)` on Enter, focus-out, a click or a pick - never on every
keystroke - or `rejected(message)` for text it cannot read. Whether a committed value is
allowed is decided by the schema, in the form that pushes the edit.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from engine.layers import Param
from gui.inspector.values import ParseError, format_value, parse_value

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1  # QSpinBox holds a C int


class ParamEditor(QWidget):
    """Base of the editors: one parameter, shown and edited."""

    committed = Signal(object)  # a value the user committed (None: auto / not set)
    rejected = Signal(str)  # text that cannot be read, and why

    def __init__(self, param: Param, parent: QWidget | None = None):
        super().__init__(parent)
        self.param = param
        self.setToolTip(param.help)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def show_auto(self, text: str) -> None:
        """Show `text` (e.g. "auto (400)") in place of a value, read-only."""
        raise NotImplementedError


class _SpinBox(QSpinBox):
    """A spin box that reports a typed number outside its range (QSpinBox silently puts
    the old value back), and ignores the mouse wheel unless focused, so that scrolling
    the inspector never changes a value by accident."""

    out_of_range = Signal(int)

    def fixup(self, text: str) -> str:
        """Called on Enter or focus-out with text the spin box does not accept."""
        try:
            value = int(text.strip())
        except ValueError:
            return super().fixup(text)
        if not self.minimum() <= value <= self.maximum():
            self.out_of_range.emit(value)
        return super().fixup(text)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()


class IntEditor(ParamEditor):
    """A spin box within the parameter's bounds. An optional parameter gets one more
    step below its minimum that reads "none" (None)."""

    def __init__(self, param: Param, parent: QWidget | None = None):
        super().__init__(param, parent)
        self.spin = _SpinBox(self)
        self.spin.setKeyboardTracking(False)
        self.spin.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.spin.setToolTip(param.help)
        self._low = INT32_MIN + 1 if param.min is None else max(INT32_MIN + 1, int(param.min))
        self._sentinel = self._low - 1
        self.spin.setMaximum(INT32_MAX if param.max is None else min(INT32_MAX, int(param.max)))
        self._show_special("none" if param.optional else "")
        self._layout.addWidget(self.spin, 1)
        self.setFocusProxy(self.spin)
        self.spin.valueChanged.connect(self._changed)
        self.spin.out_of_range.connect(self.committed.emit)  # for the schema to explain

    def _show_special(self, text: str) -> None:
        """Let the spin box reach its sentinel, shown as `text`; "" turns that off."""
        self.spin.setMinimum(self._sentinel if text else self._low)
        self.spin.setSpecialValueText(text)

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.spin):
            self.spin.setEnabled(True)
            self._show_special("none" if self.param.optional else "")
            self.spin.setValue(self._sentinel if value is None else value)

    def show_auto(self, text: str) -> None:
        with QSignalBlocker(self.spin):
            self._show_special(text)
            self.spin.setValue(self._sentinel)
            self.spin.setEnabled(False)

    def _changed(self, value: int) -> None:
        self.committed.emit(None if value == self._sentinel else value)


class LineEditor(ParamEditor):
    """Text read by `parse_value`: floats, sizes, shapes, lists, names. Empty is None."""

    def __init__(self, param: Param, parent: QWidget | None = None):
        super().__init__(param, parent)
        self.edit = QLineEdit(self)
        self.edit.setToolTip(param.help)
        if param.optional:
            self.edit.setPlaceholderText("none")
        self._layout.addWidget(self.edit, 1)
        self.setFocusProxy(self.edit)
        self.edit.editingFinished.connect(self._finished)

    def set_value(self, value: Any) -> None:
        self.edit.setEnabled(True)
        text = format_value(value)
        if self.edit.text() != text:
            self.edit.setText(text)
        self.edit.setCursorPosition(0)

    def show_auto(self, text: str) -> None:
        self.edit.clear()
        self.edit.setPlaceholderText(text)
        self.edit.setEnabled(False)

    def _finished(self) -> None:
        try:
            value = parse_value(self.param, self.edit.text())
        except ParseError as exc:
            self.rejected.emit(str(exc))
            return
        self.committed.emit(value)


class BoolEditor(ParamEditor):
    def __init__(self, param: Param, parent: QWidget | None = None):
        super().__init__(param, parent)
        self.check = QCheckBox(self)
        self.check.setToolTip(param.help)
        self._layout.addWidget(self.check)
        self._layout.addStretch(1)
        self.setFocusProxy(self.check)
        self.check.clicked.connect(lambda checked: self.committed.emit(checked))

    def set_value(self, value: Any) -> None:
        self.check.setChecked(bool(value))


class ChoiceEditor(ParamEditor):
    def __init__(self, param: Param, parent: QWidget | None = None):
        super().__init__(param, parent)
        self.combo = QComboBox(self)
        self.combo.setToolTip(param.help)
        for choice in param.choices:
            self.combo.addItem(str(choice), choice)
        self._layout.addWidget(self.combo, 1)
        self.setFocusProxy(self.combo)
        self.combo.activated.connect(lambda i: self.committed.emit(self.combo.itemData(i)))

    def set_value(self, value: Any) -> None:
        self.combo.setCurrentIndex(self.combo.findData(value))


class AutoEditor(ParamEditor):
    """An inferred parameter: an "auto" check box next to an editor for an override.

    While auto, the editor reads "auto (400)" with the value the wire implies, or "auto
    (from data: 10)" for a value that follows the data. Unticking
    auto pins that value (an undoable edit), ready to be changed; if no wire implies one
    yet, the editor is simply opened for typing.
    """

    def __init__(self, inner: ParamEditor, parent: QWidget | None = None):
        super().__init__(inner.param, parent)
        self.inner = inner
        self.auto = QCheckBox("auto", self)
        follows = (
            "the data" if inner.param.from_data and not inner.param.inferred else "the input wire"
        )
        self.auto.setToolTip(f"Follow {follows} (fill the value in from its shape).")
        self.inferred: Any = None
        self._layout.addWidget(self.auto)
        self._layout.addWidget(inner, 1)
        self.setFocusProxy(inner)
        inner.committed.connect(self.committed.emit)
        inner.rejected.connect(self.rejected.emit)
        self.auto.clicked.connect(self._auto_clicked)

    def set_value(self, value: Any, inferred: Any = None) -> None:
        self.inferred = inferred
        self.auto.setChecked(value is None)
        if value is None:
            shown = "" if inferred is None else format_value(inferred)
            if self.param.from_data:
                self.inner.show_auto(f"auto (from data{': ' if shown else ''}{shown})")
            else:
                self.inner.show_auto(f"auto ({shown or '?'})")
        else:
            self.inner.set_value(value)

    def _auto_clicked(self, auto: bool) -> None:
        if auto:
            self.committed.emit(None)
        elif self.inferred is not None:
            self.committed.emit(self.inferred)
        else:
            self.inner.set_value(None)
            self.inner.setFocus()


def make_editor(param: Param, parent: QWidget | None = None) -> ParamEditor:
    """The editor for a parameter of any kind except `text` (see `CodeField`)."""
    if param.kind == "bool":
        editor: ParamEditor = BoolEditor(param, parent)
    elif param.kind == "choice":
        editor = ChoiceEditor(param, parent)
    elif param.kind == "int":
        editor = IntEditor(param, parent)
    else:
        editor = LineEditor(param, parent)
    return AutoEditor(editor, parent) if param.inferred or param.from_data else editor
