"""Image folder import: one sub-folder per class, named after the class, holding images.

Class names are the sub-folder names in sorted order (hidden folders are skipped); every
image is resized to `image_size` (height, width) and becomes x float32 [N, C, H, W] in
[0, 1], C = 1 in grayscale, else 3 (RGB). Files of other types are ignored.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from engine.data.dataset import DataError, TensorData
from engine.data.paths import require_dir

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
MAX_PIXELS = 8192 * 8192  # a 48-megapixel photo passes; a 12000x12000 claim does not


def load_image_folder(
    folder: Path, image_size: tuple[int, int] | list[int], grayscale: bool
) -> TensorData:
    files, labels, classes = _list_images(require_dir(folder))
    height, width = image_size
    channels = 1 if grayscale else 3
    x = np.empty((len(files), channels, height, width), dtype=np.float32)
    for i, path in enumerate(files):
        x[i] = _read_image(path, (width, height), grayscale)
    return TensorData.classification(
        x, np.array(labels), classes, source=f"image folder {folder.name}"
    )


def _list_images(folder: Path) -> tuple[list[Path], list[int], list[str]]:
    class_dirs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise DataError(f"{folder}: no class sub-folders; put each class's images in its own")
    files, labels = [], []
    for label, class_dir in enumerate(class_dirs):
        images = sorted(
            p for p in class_dir.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not images:
            kinds = ", ".join(s[1:] for s in IMAGE_SUFFIXES)
            raise DataError(f"{class_dir}: class folder holds no images ({kinds})")
        files += images
        labels += [label] * len(images)
    return files, labels, [d.name for d in class_dirs]


def _read_image(path: Path, size: tuple[int, int], grayscale: bool) -> np.ndarray:
    """[C, H, W] in [0, 1]; the first frame of an animated image. An image whose header
    declares more than `MAX_PIXELS` is refused before a pixel is decoded: a few
    kilobytes of PNG can claim 12000x12000 (432 MB as RGB), which PIL would only warn
    about."""
    mode = "L" if grayscale else "RGB"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # checked below
            image = Image.open(path)
        with image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise DataError(
                    f"{path}: declares {width}x{height} pixels, more than the "
                    f"{MAX_PIXELS:,} an image may have here (a damaged or hostile file, or a "
                    "scan to shrink first)"
                )
            image.draft(mode, size)  # a JPEG decodes at a fraction of its size when it can
            image = image.convert(mode).resize(size, Image.Resampling.BILINEAR)
    except DataError:
        raise
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DataError(f"{path}: cannot be read as an image ({exc})") from None
    pixels = np.asarray(image, dtype=np.float32) / 255
    return pixels[None] if grayscale else pixels.transpose(2, 0, 1)
