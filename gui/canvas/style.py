"""The canvas's look in one place: sizes, colours and fonts (light theme)."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QColor, QFont

from engine.layers import LayerSpec, Role
from gui.highlighter import monospace_font

NODE_WIDTH = 170.0
HEADER_HEIGHT = 24.0
ROW_HEIGHT = 17.0
PADDING = 8.0
CORNER = 6.0
IO_CORNER = 12.0  # Input and Output nodes are rounder, with a solid header
PORT_RADIUS = 5.0
PORT_HIT_RADIUS = 9.0  # a port reacts a little beyond the circle it draws
PORT_SPACING = 20.0
FIRST_PORT_Y = HEADER_HEIGHT + PADDING / 2 + ROW_HEIGHT / 2
LOW_DETAIL = 0.4  # below this zoom, nodes and wires leave their text out

BACKGROUND = QColor("#f5f6f8")
GRID = QColor("#eaecf0")
HINT = QColor("#8a919c")  # the empty canvas's how-to-begin text
NODE_FILL = QColor("#ffffff")
BORDER = QColor("#b8bec7")
SELECTION = QColor("#1a73e8")
TEXT = QColor("#1f2329")
MUTED = QColor("#6b7280")
WAITING = QColor("#9aa0a8")
ERROR = QColor("#d93025")
WARNING = QColor("#b06000")  # what a run's layer records say is wrong with a layer
FROZEN = QColor("#4a90c8")  # the border and mark of a layer whose weights stay as they are
GRADIENT_SHADE = 0.5  # how much of its colour by gradient a node's body takes
VALID = QColor("#1e8e3e")
WIRE = QColor("#8c939d")
PORT_FILL = QColor("#ffffff")
PORT_CONNECTED = QColor("#5f6670")

CATEGORY_COLORS = {
    "Core": "#1a73e8",
    "Convolution": "#00897b",
    "Pooling": "#0097a7",
    "Normalization": "#c98a00",
    "Activation": "#e8710a",
    "Recurrent": "#8e24aa",
    "Shape": "#795548",
    "Merge": "#3f51b5",
    "Custom": "#546e7a",
    "Blocks": "#5e35b1",
    "Attention": "#c2185b",
    "Resizing": "#6d4c41",
}
ROLE_COLORS = {Role.INPUT: "#2e7d32", Role.OUTPUT: "#ad1457"}


def accent(spec: LayerSpec) -> QColor:
    """The colour of a layer's category (inputs and outputs each have their own)."""
    return QColor(ROLE_COLORS.get(spec.role) or CATEGORY_COLORS.get(spec.category, "#607d8b"))


def tint(color: QColor, strength: float = 0.16) -> QColor:
    """`color` mixed into white: a light header background."""
    white = 255 * (1 - strength)
    return QColor(
        round(white + color.red() * strength),
        round(white + color.green() * strength),
        round(white + color.blue() * strength),
    )


@cache
def title_font() -> QFont:
    font = QFont()
    font.setBold(True)
    return font


@cache
def body_font() -> QFont:
    font = QFont()
    font.setPointSizeF(font.pointSizeF() * 0.92)
    return font


@cache
def small_font() -> QFont:
    font = QFont()
    font.setPointSizeF(font.pointSizeF() * 0.85)
    return font


@cache
def mono_font() -> QFont:
    """Shapes are written in a fixed-width font, a little smaller than the text."""
    font = monospace_font()
    font.setPointSizeF(QFont().pointSizeF() * 0.85)
    return font
