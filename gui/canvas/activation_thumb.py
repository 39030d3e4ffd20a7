"""Drawing a layer's activation thumbnail (engine.training.activation_preview.Thumbnail)
into a node: feature maps as a grid of grey tiles, a vector as bars around zero, a
[T, D] output as a heat map. Pictures are made when a node is first painted with its
thumbnail, so only nodes in view cost anything."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen

from gui.canvas import style
from gui.colour_scale import heat_colours

if TYPE_CHECKING:
    from engine.training.activation_preview import Thumbnail

HEIGHT = 58.0  # of the picture inside a node
GAP = QColor("#1f2430")  # between tiles, and where a value is not finite
POSITIVE, NEGATIVE = QColor("#2f6fb3"), QColor("#c2553a")


def thumbnail_image(thumb: Thumbnail) -> QImage | None:
    """The picture of a "maps" or "heat" thumbnail (None for bars and numbers)."""
    if thumb.kind == "maps":
        rows, cols, height, width = thumb.values.shape
        canvas = np.full((rows * (height + 1) - 1, cols * (width + 1) - 1), np.nan, np.float32)
        for r in range(rows):
            for c in range(cols):
                top, left = r * (height + 1), c * (width + 1)
                canvas[top : top + height, left : left + width] = thumb.values[r, c]
        grey = np.clip(canvas * 255, 0, 255)
        rgb = np.repeat(np.nan_to_num(grey)[..., None], 3, axis=2)
        return _image(rgb, np.isfinite(canvas))
    if thumb.kind == "heat":
        return _image(heat_colours(thumb.values), np.isfinite(thumb.values))
    return None


def draw_thumbnail(painter: QPainter, rect: QRectF, thumb: Thumbnail, image: QImage | None) -> None:
    """Draw `thumb` (its `image`, from `thumbnail_image`) centred in `rect`."""
    if image is not None:
        size = image.size().scaled(
            int(rect.width()), int(rect.height()), Qt.AspectRatioMode.KeepAspectRatio
        )
        target = QRectF(0, 0, size.width(), size.height())
        target.moveCenter(rect.center())
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(target, image)  # nearest pixels: each cell stays a cell
        painter.restore()
    elif thumb.kind == "bars":
        _draw_bars(painter, rect, thumb.values)


def _draw_bars(painter: QPainter, rect: QRectF, values: np.ndarray) -> None:
    finite = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    top = float(np.abs(finite).max()) or 1.0
    negative = bool((finite < 0).any())
    zero = rect.center().y() if negative else rect.bottom()
    half = rect.height() / 2 if negative else rect.height()
    width = rect.width() / len(finite)
    painter.setPen(Qt.PenStyle.NoPen)
    for i, value in enumerate(finite):
        height = half * value / top
        painter.setBrush(POSITIVE if value >= 0 else NEGATIVE)
        painter.drawRect(QRectF(rect.left() + i * width, zero - max(height, 0), width, abs(height)))
    painter.setPen(QPen(style.MUTED, 0.5))
    painter.drawLine(QPointF(rect.left(), zero), QPointF(rect.right(), zero))


def _image(rgb: np.ndarray, finite: np.ndarray) -> QImage:
    height, width = finite.shape
    pixels = np.empty((height, width, 4), np.uint8)
    pixels[..., :3] = np.clip(rgb, 0, 255).astype(np.uint8)
    pixels[..., 3] = 255
    pixels[~finite, :3] = (GAP.red(), GAP.green(), GAP.blue())
    image = QImage(pixels.data, width, height, 4 * width, QImage.Format.Format_RGBA8888)
    return image.copy()  # its own pixels: the array goes when this returns
