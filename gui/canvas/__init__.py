"""The node canvas: a QGraphicsView/Scene over the document's graph."""

from gui.canvas.scene import CanvasScene
from gui.canvas.view import CanvasView

__all__ = ["CanvasScene", "CanvasView"]
