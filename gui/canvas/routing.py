"""Where a wire runs: a curve from port to port, or, when the curve would cross a layer
(a wire down to the next wrapped row, a wire that goes back left), a route around the
layers: out to the right of its source, along the first free horizontal lane below it
(above it for a wire that goes up), and into its target from the left."""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainterPath, QPainterPathStroker

OFFSET = 10.0  # how far beside the layers it leaves and enters a route turns
CLEARANCE = 8.0  # the least free height a lane needs
LANE_DEPTH = 40.0  # how far past the layers it clears a lane runs, at most
LANE_SPLIT = 8.0  # rightward lanes run nearer the source, leftward ones farther
CORNER = 8.0
MAX_STEPS = 16  # lanes tried past layers in the way, before giving up on a clear one

Obstacles = Callable[[QRectF], list[QRectF]]  # the layers' boxes that meet a rectangle


def wire_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A cubic curve leaving `start` rightwards and reaching `end` from the left."""
    reach = max(40.0, abs(end.x() - start.x()) / 2, abs(end.y() - start.y()) / 4)
    path = QPainterPath(start)
    path.cubicTo(start + QPointF(reach, 0), end - QPointF(reach, 0), end)
    return path


def route(
    start: QPointF, end: QPointF, ends: tuple[QRectF, QRectF], obstacles: Obstacles
) -> tuple[QPainterPath, bool]:
    """The path of a wire between two layers (`ends`: the source's and the target's
    boxes), and whether it had to go around other layers."""
    curve = wire_path(start, end)
    if ends[0].intersects(ends[1]):  # one layer on the other: there is no way around
        return curve, False
    if end.x() >= start.x() + 2 * OFFSET and not _crosses(curve, ends, obstacles):
        return curve, False
    lane = _lane(start, end, ends[0], obstacles)
    right, left = start.x() + OFFSET, end.x() - OFFSET
    corners = [QPointF(right, start.y()), QPointF(right, lane), QPointF(left, lane)]
    return _rounded([start, *corners, QPointF(left, end.y()), end]), True


def _crosses(curve: QPainterPath, ends: tuple[QRectF, QRectF], obstacles: Obstacles) -> bool:
    others = [box for box in obstacles(curve.boundingRect()) if box not in ends]
    if not others:
        return False
    stroker = QPainterPathStroker()
    stroker.setWidth(2)
    stroke = stroker.createStroke(curve)
    return any(stroke.intersects(box) for box in others)


def _lane(start: QPointF, end: QPointF, source: QRectF, obstacles: Obstacles) -> float:
    """The height of the first strip past the source, between the two ends, that no
    layer crosses: about the middle of the free space there, at most LANE_DEPTH in; a
    wire down to the next row and a skip wire across the same gap take two lanes."""
    down = end.y() >= start.y()
    left = min(start.x(), end.x()) - OFFSET
    width = max(start.x(), end.x()) + OFFSET - left

    def boxes(edge: float, height: float) -> list[QRectF]:
        top = edge if down else edge - height
        return obstacles(QRectF(left, top, width, height))

    edge = source.bottom() if down else source.top()
    for _ in range(MAX_STEPS):
        blocking = boxes(edge, CLEARANCE)
        if not blocking:
            break
        edge = max(b.bottom() for b in blocking) if down else min(b.top() for b in blocking)
    ahead = boxes(edge, 2 * LANE_DEPTH)
    room = min((abs((b.top() if down else b.bottom()) - edge) for b in ahead), default=math.inf)
    split = min(LANE_SPLIT, room / 4)
    depth = min(LANE_DEPTH, room / 2) + (split if end.x() < start.x() else -split)
    return edge + depth if down else edge - depth


def _rounded(points: list[QPointF]) -> QPainterPath:
    """Straight segments through `points`, each corner rounded."""
    path = QPainterPath(points[0])
    for before, corner, after in zip(points, points[1:], points[2:], strict=False):
        radius = min(CORNER, _length(corner - before) / 2, _length(after - corner) / 2)
        path.lineTo(_towards(corner, before, radius))
        path.quadTo(corner, _towards(corner, after, radius))
    path.lineTo(points[-1])
    return path


def _length(vector: QPointF) -> float:
    return math.hypot(vector.x(), vector.y())


def _towards(point: QPointF, other: QPointF, distance: float) -> QPointF:
    length = _length(other - point)
    return point if length == 0 else point + (other - point) * (distance / length)
