"""Wires: from an output port to an input port, around the layers in the way, with the
shape they carry."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSizeF, Qt
from PySide6.QtGui import QBrush, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from engine.document.graph import Edge
from gui.canvas import style
from gui.canvas.node_item import NodeItem
from gui.canvas.routing import route, wire_path

LABEL_PAD = 3.0


class EdgeItem(QGraphicsItem):
    """The item of one Edge. Its geometry is cached by `adjust()` (called when either
    end moves) and its text and colour by `set_style()` (when shapes change)."""

    def __init__(self, edge: Edge, source: NodeItem, target: NodeItem):
        super().__init__()
        self.edge = edge
        self.source = source
        self.target = target
        self.label = ""
        self.error = False
        self.routed = False  # it goes around layers (or has not looked): see `adjust`
        self.setZValue(-1)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._path = QPainterPath()
        self._shape: QPainterPath | None = None  # made when first asked for
        self._label_size = QSizeF()
        self._label_rect = QRectF()
        self._bounds = QRectF()
        self._pen = self._make_pen()

    def _make_pen(self) -> QPen:
        pen = QPen(style.ERROR if self.error else style.WIRE, 2.5 if self.error else 2.0)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        return pen

    def set_style(self, label: str, error: bool, message: str) -> None:
        if (label, error) == (self.label, self.error) and message == self.toolTip():
            return
        relabelled = label != self.label
        self.label, self.error = label, error
        self._pen = self._make_pen()
        self.setToolTip(message)
        if relabelled:
            metrics = QFontMetricsF(style.mono_font())
            self._label_size = QSizeF(
                metrics.horizontalAdvance(label) + 2 * LABEL_PAD, metrics.height() + LABEL_PAD
            )
            self.adjust()
        else:
            self.update()

    def adjust(self, look: bool = True) -> None:
        """Follow the ports after a node moved or changed its ports. `look=False` takes
        the plain curve, for now: the scene looks for the way once an edit that moves
        many layers is done (`routed` says it should)."""
        start = self.source.output_anchor()
        end = self.target.input_anchor(self.edge.port)
        if look:
            # The route asks the scene's index where the layers are. Asked between
            # prepareGeometryChange() and the new bounds, the index would file this wire
            # under its old bounds, and crash once the wire is gone.
            ends = self.source.box(), self.target.box()
            path, self.routed = route(start, end, ends, self._layers_in)
        else:
            path, self.routed = wire_path(start, end), True
        self.prepareGeometryChange()
        self._path = path
        self._shape = None
        self._label_rect = self._fit_label()
        margin = 3.0
        self._bounds = (
            self._path.boundingRect()
            .united(self._label_rect)
            .adjusted(-margin, -margin, margin, margin)
        )
        self.update()

    def _layers_in(self, rect: QRectF) -> list[QRectF]:
        scene = self.scene()
        if scene is None:
            return []
        items = scene.items(rect, Qt.ItemSelectionMode.IntersectsItemBoundingRect)
        boxes = (item.box() for item in items if isinstance(item, NodeItem))
        return [box for box in boxes if box.intersects(rect)]

    def _fit_label(self) -> QRectF:
        """Where the label goes: centred on the curve, if the wire is long enough for it."""
        width, height = self._label_size.width(), self._label_size.height()
        if not self.label or self._path.length() < width + 2 * style.PORT_HIT_RADIUS + 8:
            return QRectF()
        middle = self._path.pointAtPercent(0.5)
        return QRectF(middle.x() - width / 2, middle.y() - height / 2, width, height)

    def label_visible(self) -> bool:
        return not self._label_rect.isEmpty()

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        if self._shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(8)
            self._shape = stroker.createStroke(self._path)
        return self._shape

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setPen(self._pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if self._label_rect.isEmpty() or lod < style.LOW_DETAIL:
            return
        painter.setPen(QPen(self._pen.color(), 1))
        painter.setBrush(QBrush(style.NODE_FILL))
        painter.drawRoundedRect(self._label_rect, 4, 4)
        painter.setFont(style.mono_font())
        painter.setPen(style.ERROR if self.error else style.TEXT)
        painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignCenter, self.label)
