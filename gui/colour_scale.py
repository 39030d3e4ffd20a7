"""Numbers as colours: the app's two colour scales.

`scale_colours`: from blue (low) through pale yellow to red (high), for every view that
colours layers by a number: the Layers heat map of the Training tab and the canvas nodes
coloured by gradient. A value outside the range takes the colour of the end it passed;
a missing value (NaN) is transparent.

`heat_colours`: one-directional heat, dark purple (0) through red and orange to pale
yellow (1), for maps of how strongly each place acts: Try It's saliency and Grad-CAM, and
the activation thumbnails of [T, D] outputs on the canvas.
"""

from __future__ import annotations

import numpy as np

STOPS = np.array(
    [(44, 123, 182), (171, 217, 233), (255, 255, 191), (253, 174, 97), (215, 25, 28)],
    dtype=float,
)
NO_GRADIENT = (158, 158, 158, 255)  # grey: a layer no gradient reaches (frozen, or off the path)


def scale_colours(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """RGBA (uint8) of each of `values` placed between `low` and `high`: an array of the
    values' shape and 4 more, for an image or a single colour."""
    values = np.asarray(values, dtype=float)
    span = high - low if high > low else 1.0
    where = np.clip((values - low) / span, 0.0, 1.0) * (len(STOPS) - 1)
    missing = np.isnan(where)
    where = np.where(missing, 0.0, where)
    below = np.minimum(where.astype(int), len(STOPS) - 2)
    share = (where - below)[..., None]
    rgb = STOPS[below] * (1 - share) + STOPS[below + 1] * share
    alpha = np.where(missing, 0.0, 255.0)[..., None]
    return np.concatenate([rgb, alpha], axis=-1).round().astype(np.uint8)


HEAT_STOPS = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
HEAT_COLOURS = np.array(
    [[20, 11, 52], [120, 28, 109], [200, 60, 70], [247, 146, 23], [252, 252, 170]], dtype=float
)


def heat_colours(heat: np.ndarray) -> np.ndarray:
    """Heat (0..1, any shape; NaN counts as 0) as colours of that shape and 3 more (RGB,
    0..255 as floats)."""
    flat = np.clip(np.nan_to_num(np.asarray(heat, dtype=float)), 0, 1).reshape(-1)
    channels = [np.interp(flat, HEAT_STOPS, HEAT_COLOURS[:, c]) for c in range(3)]
    return np.stack(channels, axis=-1).reshape(*np.shape(heat), 3)
