"""Which samples are pictures, and of what size: for previews, evaluation and Try It."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MIN_IMAGE_SIDE = 8  # a flat vector of 4, 9... values is a few features, not a picture


@dataclass(frozen=True)
class ImageLayout:
    """How a sample's values make a picture: channels x height x width."""

    channels: int
    height: int
    width: int


def image_layout(shape: Sequence[int]) -> ImageLayout | None:
    """The picture a sample of this shape (without the batch dimension) shows, if any."""
    shape = tuple(shape)
    if len(shape) == 3 and shape[0] in (1, 3):
        layout = ImageLayout(*shape)
    elif len(shape) == 2:
        layout = ImageLayout(1, *shape)
    elif len(shape) == 1 and math.isqrt(shape[0]) ** 2 == shape[0]:
        side = math.isqrt(shape[0])
        layout = ImageLayout(1, side, side)
    else:
        return None
    return layout if min(layout.height, layout.width) >= MIN_IMAGE_SIDE else None
