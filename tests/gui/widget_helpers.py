"""Helpers shared by the GUI tests."""

from PySide6.QtWidgets import QWidget


def shown(qtbot, widget: QWidget, width: int, height: int) -> QWidget:
    """`widget` at the given size, shown and exposed, closed by qtbot after the test."""
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    return widget
