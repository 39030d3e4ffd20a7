"""The canvas widget: zoom, pan, rubber-band selection, layer drops and the Delete key.

Zoom: ctrl+wheel (under the mouse), `zoom_in()` / `zoom_out()`, `fit()`; a project
opens at `show_readable()`: all of it if that can be read, else its top at a zoom that can.
Pan: middle-button drag, space+drag, the wheel (shift+wheel sideways), or a click in the
overview that a graph too big for the canvas shows in its corner.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QShowEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsView, QWidget

from engine.document.commands import remove_nodes
from engine.document.layout import X_STEP
from gui.canvas import style
from gui.canvas.node_item import NodeItem
from gui.canvas.overview import Overview
from gui.canvas.scene import CanvasScene
from gui.mime import LAYER_MIME

if TYPE_CHECKING:
    from gui.document import Document

ZOOM_STEP = 1.2
MIN_ZOOM, MAX_ZOOM = 0.1, 3.0
READABLE_ZOOM = 0.6  # a layer 100 px wide: its label and shape can still be read
FIT_MARGIN = 40.0
GRID_STEP = 25.0
DELETE_KEYS = (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)


class CanvasView(QGraphicsView):
    node_opened = Signal(str)  # a block instance was double-clicked: the id of its node

    def __init__(self, document: Document, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.setObjectName("canvas")
        self.setScene(CanvasScene(document, self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAcceptDrops(True)
        self._pan_from: QPoint | None = None
        self._fit_pending = False
        self._fit_readable = False
        self._was_empty = True
        document.inference_updated.connect(self._hint_changed)
        document.project_replaced.connect(self._hint_changed)
        self.overview = Overview(self)
        self.centerOn(0, 0)

    # --- zoom -----------------------------------------------------------------------------

    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_in(self) -> None:
        self._zoom_by(ZOOM_STEP, QGraphicsView.ViewportAnchor.AnchorViewCenter)

    def zoom_out(self) -> None:
        self._zoom_by(1 / ZOOM_STEP, QGraphicsView.ViewportAnchor.AnchorViewCenter)

    def _zoom_by(self, factor: float, anchor: QGraphicsView.ViewportAnchor) -> None:
        target = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom() * factor))
        previous = self.transformationAnchor()
        self.setTransformationAnchor(anchor)
        self.scale(target / self.zoom(), target / self.zoom())
        self.setTransformationAnchor(previous)

    def fit(self) -> None:
        """Show every node, at most at natural size."""
        self._fit(readable=False)

    def show_readable(self) -> None:
        """Show every node if they can all be read, else the top of the graph, as wide
        as it is at a zoom that can be read: the rest is a scroll away."""
        self._fit(readable=True)

    def readable_columns(self) -> int:
        """How many layout columns fit across the canvas at the readable zoom."""
        room = self.viewport().width() / READABLE_ZOOM - 2 * FIT_MARGIN
        return max(2, int((room + X_STEP - style.NODE_WIDTH) // X_STEP))

    def auto_layout(self) -> None:
        """Lay the graph out in rows as wide as the canvas shows readably, then show it."""
        if self.scene().auto_layout(self.readable_columns()):
            self.show_readable()

    def _fit(self, readable: bool) -> None:
        """Fit the nodes in view, at most at natural size (once shown, if not shown yet)."""
        if not self.isVisible():
            self._fit_pending, self._fit_readable = True, readable
            return
        self._fit_pending = False
        rect = self.scene().itemsBoundingRect()
        if rect.isEmpty():
            self.resetTransform()
            self.centerOn(0, 0)
            return
        rect.adjust(-FIT_MARGIN, -FIT_MARGIN, FIT_MARGIN, FIT_MARGIN)
        view = self.viewport().rect()
        across = view.width() / rect.width()
        whole = min(across, view.height() / rect.height())
        if whole >= READABLE_ZOOM or not readable:
            zoom = min(1.0, max(MIN_ZOOM, whole))
            centre = rect.center()
        else:  # the top, and the left end of a graph wider than the view
            zoom = min(1.0, max(READABLE_ZOOM, across))
            x = rect.center().x() if zoom <= across else rect.left() + view.width() / zoom / 2
            centre = QPointF(x, rect.top() + view.height() / zoom / 2)
        self.resetTransform()
        self.scale(zoom, zoom)
        self.centerOn(centre)

    def center_on_node(self, node_id: str) -> None:
        """Bring a node into the middle of the view and select it."""
        item = self.scene().node_item(node_id)
        if item is not None:
            self.centerOn(item)
            self.document.select([node_id])

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._fit_pending:
            self._fit(self._fit_readable)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120
            self._zoom_by(ZOOM_STEP**steps, QGraphicsView.ViewportAnchor.AnchorUnderMouse)
            event.accept()
        else:
            super().wheelEvent(event)

    # --- pan ------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
        else:
            super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        """Double-clicking a block's instance opens the block."""
        for item in self.items(event.position().toPoint()):
            node_id = getattr(item, "node_id", None)
            node = self.document.graph.nodes.get(node_id) if node_id else None
            if node is not None and node.block is not None and isinstance(item, NodeItem):
                self.node_opened.emit(node_id)
                event.accept()
                return
        super().mouseDoubleClickEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is None:
            super().mouseMoveEvent(event)
            return
        point = event.position().toPoint()
        delta, self._pan_from = point - self._pan_from, point
        bars = self.horizontalScrollBar(), self.verticalScrollBar()
        bars[0].setValue(bars[0].value() - delta.x())
        bars[1].setValue(bars[1].value() - delta.y())
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.MiddleButton and self._pan_from is not None:
            self._pan_from = None
            self.viewport().unsetCursor()
        else:
            super().mouseReleaseEvent(event)
        event.accept()  # the end of a click, drag or rubber band on the canvas: handled here

    # --- keys -----------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
            self.setInteractive(False)
        elif key in DELETE_KEYS and (selected := self.scene().selected_ids()):
            self.document.push(remove_nodes(selected))
        elif key == Qt.Key.Key_Escape and self.scene().cancel_interaction():
            pass
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
            self.setInteractive(True)
            event.accept()
        else:
            super().keyReleaseEvent(event)

    # --- drops from the palette -----------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        """Add the dropped layer with its header centred under the cursor."""
        if not event.mimeData().hasFormat(LAYER_MIME):
            super().dropEvent(event)
            return
        layer_type = bytes(event.mimeData().data(LAYER_MIME)).decode("utf-8", "replace").strip()
        point = self.mapToScene(event.position().toPoint())
        pos = (
            float(round(point.x() - style.NODE_WIDTH / 2)),
            float(round(point.y() - style.HEADER_HEIGHT / 2)),
        )
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        node_id = self.document.add_layer(layer_type, pos)
        if node_id is not None:
            self.document.select([node_id])
            self.setFocus()

    # --- background -----------------------------------------------------------------------

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, style.BACKGROUND)
        if self.zoom() < 0.5:
            return
        painter.setPen(QPen(style.GRID, 0))
        left = math.floor(rect.left() / GRID_STEP) * GRID_STEP
        top = math.floor(rect.top() / GRID_STEP) * GRID_STEP
        x = left
        while x < rect.right():
            painter.drawLine(x, rect.top(), x, rect.bottom())
            x += GRID_STEP
        y = top
        while y < rect.bottom():
            painter.drawLine(rect.left(), y, rect.right(), y)
            y += GRID_STEP

    def _hint_changed(self, *_) -> None:
        """Repaint the whole viewport when the how-to-begin text appears or goes."""
        empty = not self.document.graph.nodes
        if empty != self._was_empty:
            self._was_empty = empty
            self.viewport().update()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        """On an empty canvas, say how to begin."""
        if self.document.graph.nodes:
            return
        painter.save()
        painter.resetTransform()
        painter.setPen(style.HINT)
        painter.drawText(
            self.viewport().rect(),
            Qt.AlignmentFlag.AlignCenter,
            "Drag layers here from the Layers panel,\n"
            "or start from an example: File > New from Preset.",
        )
        painter.restore()
