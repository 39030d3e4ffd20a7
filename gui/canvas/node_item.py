"""A node: a rounded box with the layer's label, type, key parameters, output shape and
parameter count; red when inference pins a problem on it, grey while it waits; under it,
in amber, what the last run's layer records said is wrong with the layer, and with Show
Activations on, a thumbnail of its output on a sample (gui.canvas.activation_thumb)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
)
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from engine.document.graph import Node
from gui.canvas import style
from gui.canvas.activation_thumb import HEIGHT as THUMB_HEIGHT
from gui.canvas.activation_thumb import draw_thumbnail, thumbnail_image
from gui.canvas.labels import count_text, param_summary
from gui.canvas.port_item import PortItem, shown_input_ports

if TYPE_CHECKING:
    from engine.model.shapes import NodeResult  # imports torch: only for type checkers
    from engine.training.activation_preview import Thumbnail
    from gui.canvas.edge_item import EdgeItem

Flag = QGraphicsItem.GraphicsItemFlag
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
TYPE_SHARE = 0.3  # of the header line, what a long layer type keeps when labels are long


@dataclass(frozen=True)
class _Text:
    """One piece of text, laid out once when the node changes, drawn as is."""

    text: str
    font: QFont
    color: QColor
    rect: QRectF
    align: Qt.AlignmentFlag


def _elided(text: str, font: QFont, width: float) -> str:
    return QFontMetricsF(font).elidedText(text, Qt.TextElideMode.ElideRight, width)


def _wrapped(text: str, font: QFont, width: float, max_lines: int) -> list[str]:
    """Up to `max_lines` lines of words that fit `width`, the last one elided."""
    metrics = QFontMetricsF(font)
    lines, words = [], text.split()
    while words and len(lines) < max_lines - 1:
        line = words.pop(0)
        while words and metrics.horizontalAdvance(f"{line} {words[0]}") <= width:
            line += " " + words.pop(0)
        lines.append(_elided(line, font, width))
    if words:
        lines.append(_elided(" ".join(words), font, width))
    return lines


def _header(label: str, layer_type: str, room: float) -> tuple[str, str]:
    """The label and the type as they fit on the header's line: the label whole where it
    can be, the type shortened first (down to TYPE_SHARE of the line)."""
    title, small = style.title_font(), style.small_font()
    type_width = QFontMetricsF(small).horizontalAdvance(layer_type)
    label_width = QFontMetricsF(title).horizontalAdvance(label)
    type_room = max(room - label_width, min(type_width, room * TYPE_SHARE))
    label_room = room - min(type_width, type_room)
    return _elided(label, title, label_room), _elided(layer_type, small, type_room)


def tuning_text(node: Node) -> str:
    """ "frozen", "lr x 0.1", or nothing for a layer trained as usual."""
    if node.frozen:
        return "❄ frozen"
    return f"lr x {node.lr_scale:g}" if node.lr_scale != 1.0 else ""


def _italic(font: QFont) -> QFont:
    font = QFont(font)
    font.setItalic(True)
    return font


class NodeItem(QGraphicsItem):
    """The item of one node. It keeps no model state: `refresh(node, result)` redraws it
    from the graph's node and its inference result, `place(pos)` moves it."""

    def __init__(self, node: Node):
        super().__init__()
        self.node_id = node.id
        self.status = "unknown"  # the NodeResult status; "unknown" before inference runs
        self.frozen = False
        self.training_notes: list[str] = []  # the run's warnings about this layer
        self.gradient_tint: tuple[QColor, str] | None = None  # Colour Layers by Gradient
        self.activation: Thumbnail | None = None  # its output on a sample (Show Activations)
        self._activation_rect: QRectF | None = None
        self._activation_image: QImage | None = None  # made when first painted
        self.edges: set[EdgeItem] = set()  # wires ending or starting here
        self.moved = False  # dragged by the user since the last committed move
        self.input_ports: dict[int, PortItem] = {}
        self._placing = False
        self._key: tuple | None = None
        self._texts: list[_Text] = []
        self._height = style.HEADER_HEIGHT
        self._outline = QPainterPath()
        self._header = QPainterPath()
        spec = node.spec
        self._io = spec.category == "Input / Output"
        self.accent = style.accent(spec)
        self._header_brush = QBrush(self.accent if self._io else style.tint(self.accent))
        self.output_port = PortItem(self, node.id, None, self.accent) if spec.has_output else None
        if self.output_port:
            self.output_port.setPos(style.NODE_WIDTH, style.FIRST_PORT_Y)
        self.setFlags(Flag.ItemIsMovable | Flag.ItemIsSelectable | Flag.ItemSendsGeometryChanges)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.place(node.pos)

    # --- following the model ------------------------------------------------------------

    def place(self, pos: tuple[float, float]) -> None:
        """Move to the node's position (top-left corner) without counting as a drag."""
        if (self.x(), self.y()) != pos:
            self._placing = True
            self.setPos(*pos)
            self._placing = False
        self.moved = False

    def refresh(self, node: Node, result: NodeResult | None) -> None:
        """Re-layout text and ports if the node, its result or its wires changed."""
        taken = {e.edge.port for e in self.edges if e.edge.dst == self.node_id}
        feeds = any(e.edge.src == self.node_id for e in self.edges)
        tuning = (node.frozen, node.lr_scale)
        notes = tuple(self.training_notes)
        key = (node.label, dict(node.params), result, frozenset(taken), feeds, tuning, notes)
        if key == self._key:
            return
        self._key = key
        self.status = result.status if result is not None else "unknown"
        self.frozen = node.frozen
        ports = shown_input_ports(node.spec, taken) if node.spec.max_inputs != 0 else []
        if ports != sorted(self.input_ports):
            self._set_ports(ports)
        for number, port in self.input_ports.items():
            port.set_connected(number in taken)
        if self.output_port:
            self.output_port.set_connected(feeds)
        self._layout(node, result, max(len(ports), 1))  # the output port needs a row too
        self.setToolTip(self._tooltip(node, result))
        self.update()

    def _set_ports(self, ports: list[int]) -> None:
        """Show these input ports, one below the other; wires follow them."""
        for number in set(self.input_ports) - set(ports):
            old = self.input_ports.pop(number)
            old.setParentItem(None)
            if old.scene() is not None:
                old.scene().removeItem(old)
        for i, number in enumerate(ports):
            port = self.input_ports.get(number)
            if port is None:
                port = self.input_ports[number] = PortItem(self, self.node_id, number, self.accent)
            port.setPos(0, style.FIRST_PORT_Y + i * style.PORT_SPACING)
        for edge in self.edges:
            edge.adjust()

    def _layout(self, node: Node, result: NodeResult | None, port_count: int) -> None:
        width, pad = style.NODE_WIDTH, style.PADDING
        waiting = self.status == "waiting"
        header_color = QColor("white") if self._io else style.TEXT
        label, layer_type = _header(node.label, node.type, width - 2 * pad - 6)
        header = QRectF(pad, 0, width - 2 * pad, style.HEADER_HEIGHT)
        texts = [
            _Text(label, style.title_font(), header_color, header, LEFT),
            _Text(layer_type, style.small_font(),
                  header_color if self._io else self.accent.darker(130), header, RIGHT),
        ]  # fmt: skip
        y = style.HEADER_HEIGHT + pad / 2
        for text, font, color, max_lines in self._rows(node, result):
            if waiting:
                font, color = _italic(font), style.WAITING
            for line in _wrapped(text, font, width - 2 * pad, max_lines):
                rect = QRectF(pad, y, width - 2 * pad, style.ROW_HEIGHT)
                texts.append(_Text(line, font, color, rect, LEFT))
                y += style.ROW_HEIGHT
        y = self._place_activation(texts, y)
        ports_bottom = style.FIRST_PORT_Y + (port_count - 1) * style.PORT_SPACING + pad
        height = max(y + pad / 2, ports_bottom + style.ROW_HEIGHT / 2)
        if height != self._height:
            self.prepareGeometryChange()
            self._height = height
        self._texts = texts
        self._outline, self._header = self._paths()

    def _place_activation(self, texts: list[_Text], y: float) -> float:
        """Room for the activation thumbnail and its numbers below the rows from `y`;
        returns the new bottom."""
        self._activation_image = None
        thumb, pad = self.activation, style.PADDING
        if thumb is None:
            self._activation_rect = None
            return y
        width = style.NODE_WIDTH - 2 * pad
        if thumb.kind != "none":
            self._activation_rect = QRectF(pad, y + pad / 2, width, THUMB_HEIGHT)
            y += THUMB_HEIGHT + pad / 2
        rect = QRectF(pad, y, width, style.ROW_HEIGHT)
        texts.append(_Text(thumb.caption(), style.small_font(), style.MUTED, rect, LEFT))
        return y + style.ROW_HEIGHT

    def _rows(self, node: Node, result: NodeResult | None) -> list[tuple[str, QFont, QColor, int]]:
        """The body's rows: (text, font, colour, at most how many lines)."""
        params = result.params if result is not None and result.params else node.params
        from_data = (
            [name for name in result.inferred if node.spec.param(name).from_data] if result else []
        )
        rows = [(param_summary(node.spec, params, from_data), style.body_font(), style.TEXT, 1)]
        if result is None:
            pass
        elif result.status == "error":
            rows.append((f"⚠ {result.message}", style.small_font(), style.ERROR, 2))
        elif result.status == "waiting":
            rows.append((result.message, style.small_font(), style.WAITING, 1))
        elif result.output is not None:
            rows.append((result.output.describe(), style.mono_font(), style.TEXT, 1))
            counts = count_text(result.num_params, result.macs)
            rows.append((counts, style.small_font(), style.MUTED, 1))
        rows.append((tuning_text(node), style.small_font(), style.FROZEN, 1))
        for note in self.training_notes:  # its name; the tooltip has the sentence
            rows.append((f"⚑ {note.split(':')[0]}", style.small_font(), style.WARNING, 1))
        return [row for row in rows if row[0]]

    def _paths(self) -> tuple[QPainterPath, QPainterPath]:
        corner = style.IO_CORNER if self._io else style.CORNER
        outline = QPainterPath()
        outline.addRoundedRect(QRectF(0, 0, style.NODE_WIDTH, self._height), corner, corner)
        band = QPainterPath()
        band.addRect(QRectF(0, 0, style.NODE_WIDTH, style.HEADER_HEIGHT))
        return outline, outline.intersected(band)

    def _tooltip(self, node: Node, result: NodeResult | None) -> str:
        if result is not None and result.status != "ok":
            return result.message
        lines = [f"{node.label} ({node.type})", param_summary(node.spec, node.params)]
        if result is not None and result.output is not None:
            lines += [result.output.describe(), count_text(result.num_params, result.macs)]
        lines += self.training_notes
        if self.gradient_tint is not None:
            lines.append(self.gradient_tint[1])
        return "\n".join(line for line in lines if line)

    def set_activation(self, thumb: Thumbnail | None) -> None:
        """Show this activation thumbnail (None: none) from the next `refresh` on."""
        self.activation = thumb
        self._key = None

    def set_gradient_tint(self, tint: tuple[QColor, str] | None) -> None:
        """Fill the body by the layer's gradient (its colour, a line for the tooltip), or
        as usual (None); the tooltip follows at the next `refresh`."""
        self.gradient_tint = tint
        self._key = None
        self.update()

    def fill_colour(self) -> QColor:
        """The body's colour: white, or a light shade of its colour by gradient."""
        tint = self.gradient_tint
        return style.NODE_FILL if tint is None else style.tint(tint[0], style.GRADIENT_SHADE)

    def texts(self) -> list[str]:
        """The texts the node shows, top to bottom (label, type, then the body's rows)."""
        return [text.text for text in self._texts]

    # --- ports and wires ------------------------------------------------------------------

    def box(self) -> QRectF:
        """The node's box in scene coordinates (its bounding rect has a margin more)."""
        return self.mapRectToScene(QRectF(0, 0, style.NODE_WIDTH, self._height))

    def output_anchor(self) -> QPointF:
        return self.mapToScene(QPointF(style.NODE_WIDTH, style.FIRST_PORT_Y))

    def input_anchor(self, port: int) -> QPointF:
        item = self.input_ports.get(port)
        return self.mapToScene(item.pos() if item else QPointF(0, style.FIRST_PORT_Y))

    # --- Qt -------------------------------------------------------------------------------

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:  # the document moves many at once: route them after
                edge.adjust(look=not self._placing)
            if not self._placing:
                self.moved = True
        return super().itemChange(change, value)

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, style.NODE_WIDTH, self._height).adjusted(-4, -4, 4, 4)

    def shape(self) -> QPainterPath:
        return self._outline

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if self.isSelected():
            painter.setPen(QPen(style.SELECTION, 5))
            painter.drawPath(self._outline)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(self.fill_colour()))
        painter.drawPath(self._outline)
        painter.setBrush(self._header_brush)
        painter.drawPath(self._header)
        if self.status == "error":
            painter.setPen(QPen(style.ERROR, 2))
        elif self.frozen:
            painter.setPen(QPen(style.FROZEN, 2, Qt.PenStyle.DashLine))
        else:
            painter.setPen(QPen(style.BORDER, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._outline)
        if option.levelOfDetailFromTransform(painter.worldTransform()) < style.LOW_DETAIL:
            return
        if self._activation_rect is not None and self.activation is not None:
            if self._activation_image is None:
                self._activation_image = thumbnail_image(self.activation)
            rect, thumb = self._activation_rect, self.activation
            draw_thumbnail(painter, rect, thumb, self._activation_image)
        for text in self._texts:
            painter.setFont(text.font)
            painter.setPen(text.color)
            painter.drawText(text.rect, text.align, text.text)
