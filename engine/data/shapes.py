"""A generated image folder: shapes drawn at random, for a preset that needs no download.

`draw_shapes(folder)` writes SHAPES_COUNT PNG images of SHAPES_SIDE x SHAPES_SIDE RGB
pixels, one sub-folder per class (circle, square, triangle, cross), the image-folder
layout any photo collection has. Each picture is one shape of a random size, place,
turn and colour on a background of another random colour with a little noise, so that
telling the classes apart takes a convolutional network and gains from augmentation
(flips, small turns, crops and colour changes keep every class what it is).

The same seed draws the same folder. It is drawn into a temporary sibling folder and
renamed into place when complete: an interrupted drawing leaves no half folder.
"""

from __future__ import annotations

import math
import os
import shutil
import uuid
from pathlib import Path

import numpy as np

from engine.errors import DataError

SHAPE_CLASSES = ("circle", "square", "triangle", "cross")
SHAPES_COUNT = 3000
SHAPES_SIDE = 32
SHAPES_SEED = 0
SHAPES_VERSION = 1  # of the drawing: a new one is drawn into a folder of its own


def draw_shapes(
    folder: Path, count: int = SHAPES_COUNT, side: int = SHAPES_SIDE, seed: int = SHAPES_SEED
) -> Path:
    """Draw the folder (classes in turn, `count` images in all); returns `folder`."""
    from PIL import Image

    folder = Path(folder)
    staging = folder.with_name(f".{folder.name}.drawing-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    rng = np.random.default_rng(seed)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        for name in SHAPE_CLASSES:
            (staging / name).mkdir(parents=True, exist_ok=True)
        for index in range(count):
            name = SHAPE_CLASSES[index % len(SHAPE_CLASSES)]
            pixels = _picture(name, side, rng)
            Image.fromarray(pixels, "RGB").save(staging / name / f"{index:05d}.png")
        staging.rename(folder)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if folder.is_dir():  # another process drew it first
            return folder
        raise DataError(
            f"{folder}: the shapes cannot be drawn there ({exc.strerror or exc})"
        ) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def _picture(name: str, side: int, rng: np.random.Generator) -> np.ndarray:
    """One shape [side, side, 3] uint8 on a noisy background of a contrasting colour."""
    from PIL import Image, ImageDraw

    background = rng.integers(0, 256, 3)
    colour = (background + rng.integers(80, 176, 3)) % 256  # far from the background
    image = Image.new("RGB", (side, side), tuple(int(v) for v in background))
    size = rng.uniform(0.22, 0.4) * side  # the shape's radius
    centre = rng.uniform(size + 1, side - size - 1, 2)
    turn = rng.uniform(0, 2 * math.pi)
    draw = ImageDraw.Draw(image)
    fill = tuple(int(v) for v in colour)
    if name == "circle":
        x, y = centre
        draw.ellipse([x - size, y - size, x + size, y + size], fill=fill)
    elif name == "cross":
        width = size * 0.35
        for angle in (turn, turn + math.pi / 2):
            draw.polygon(_bar(centre, size, width, angle), fill=fill)
    else:
        corners = 4 if name == "square" else 3
        draw.polygon(_polygon(centre, size, corners, turn), fill=fill)
    noise = rng.normal(0, 12, (side, side, 3))
    return np.clip(np.asarray(image, dtype=np.float64) + noise, 0, 255).astype(np.uint8)


def _polygon(centre, radius, corners, turn) -> list[tuple[float, float]]:
    return [
        (
            centre[0] + radius * math.cos(turn + 2 * math.pi * k / corners),
            centre[1] + radius * math.sin(turn + 2 * math.pi * k / corners),
        )
        for k in range(corners)
    ]


def _bar(centre, length, width, angle) -> list[tuple[float, float]]:
    """The four corners of a bar `2 length` long and `2 width` wide, turned by `angle`."""
    along = (math.cos(angle), math.sin(angle))
    across = (-along[1], along[0])
    return [
        (
            centre[0] + a * length * along[0] + b * width * across[0],
            centre[1] + a * length * along[1] + b * width * across[1],
        )
        for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))
    ]
