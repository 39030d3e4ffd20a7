"""The overview: a small picture of the whole graph in the canvas's corner, with the part
the canvas shows outlined. A click or a drag in it brings the canvas there. It shows only
while the graph does not fit in the canvas.

The picture, each layer a block of its colour (red where it has a problem), is drawn
into a pixmap a moment after the scene last changed, so it costs nothing per frame; the
outline follows the canvas's scroll bars, which move on every pan and zoom.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from gui.canvas import style

if TYPE_CHECKING:
    from gui.canvas.view import CanvasView

MOST = QSize(180, 240)  # the largest the overview gets, for a tall wrapped graph
LEAST = 40  # its shortest side, for a graph in one long row
MARGIN = 12  # from the canvas's corner, and around the graph in the picture
REDRAW_MS = 150
SHOWN_FILL = QColor(26, 115, 232, 40)


class Overview(QWidget):
    def __init__(self, canvas: CanvasView):
        super().__init__(canvas)
        self.setObjectName("overview")
        self.setToolTip("The whole graph: click or drag to move the canvas there")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.canvas = canvas
        self._picture = QPixmap()
        self._source = QRectF()  # the part of the scene the picture shows
        self._redraw = QTimer(self, singleShot=True, interval=REDRAW_MS)
        self._redraw.timeout.connect(self.redraw)
        canvas.scene().changed.connect(self._scene_changed)
        for bar in (canvas.horizontalScrollBar(), canvas.verticalScrollBar()):
            bar.valueChanged.connect(self._follow)
            bar.rangeChanged.connect(self._follow)
        canvas.installEventFilter(self)
        self.hide()

    def _scene_changed(self, _regions) -> None:
        self._redraw.start()

    def redraw(self) -> None:
        """Render the scene again, and show or hide the overview to suit."""
        rect = self.canvas.scene().itemsBoundingRect()
        if rect.isEmpty():
            self._source, self._picture = QRectF(), QPixmap()
            self._follow()
            return
        self._source = rect.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
        scale = min(MOST.width() / self._source.width(), MOST.height() / self._source.height())
        size = QSize(
            max(LEAST, round(self._source.width() * scale)),
            max(LEAST, round(self._source.height() * scale)),
        )
        self._picture = QPixmap(size)
        self._picture.fill(style.NODE_FILL)
        painter = QPainter(self._picture)
        for item in self.canvas.scene().node_items():
            color = style.ERROR if item.status == "error" else item.accent
            painter.fillRect(self.to_picture(item.box()), color)
        painter.end()
        self.resize(size)
        self._follow()

    def shown_rect(self) -> QRectF:
        """The part of the scene the canvas shows, in scene coordinates."""
        return self.canvas.mapToScene(self.canvas.viewport().rect()).boundingRect()

    def to_scene(self, point: QPointF) -> QPointF:
        target = self._target()
        return QPointF(
            self._source.left() + (point.x() - target.left()) / self._scale(),
            self._source.top() + (point.y() - target.top()) / self._scale(),
        )

    def to_picture(self, rect: QRectF) -> QRectF:
        target, scale = self._target(), self._scale()
        return QRectF(
            target.left() + (rect.left() - self._source.left()) * scale,
            target.top() + (rect.top() - self._source.top()) * scale,
            rect.width() * scale,
            rect.height() * scale,
        )

    def _scale(self) -> float:
        size = self._picture.size()
        return min(size.width() / self._source.width(), size.height() / self._source.height())

    def _target(self) -> QRectF:
        """Where the scene's `_source` lands in the picture: centred, aspect kept."""
        size, scale = self._picture.size(), self._scale()
        width, height = self._source.width() * scale, self._source.height() * scale
        return QRectF((size.width() - width) / 2, (size.height() - height) / 2, width, height)

    def _follow(self, *_) -> None:
        """Shown while part of the graph is out of the canvas's view; in its corner."""
        wanted = not self._picture.isNull() and not self.shown_rect().contains(
            self.canvas.scene().itemsBoundingRect()
        )
        if wanted != self.isVisible():
            self.setVisible(wanted)
        corner = self.canvas.viewport().geometry().bottomRight()
        self.move(corner.x() - self.width() - MARGIN, corner.y() - self.height() - MARGIN)
        self.update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.canvas and event.type() == QEvent.Type.Resize:
            self._follow()
        return False

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._picture)
        painter.setPen(QPen(style.SELECTION, 1.5))
        painter.setBrush(SHOWN_FILL)
        painter.drawRect(self.to_picture(self.shown_rect()).intersected(QRectF(self.rect())))
        painter.setPen(QPen(style.BORDER, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.canvas.centerOn(self.to_scene(event.position()))
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.canvas.centerOn(self.to_scene(event.position()))
        event.accept()
