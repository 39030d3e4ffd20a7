"""Image files on disk: which there are (`list_images`), and one decoded (`decode_image`).

Two layouts of a folder are read:
  FOLDER/CLASS/*.png                    one sub-folder per class, a split is held out;
  FOLDER/train/CLASS/*, FOLDER/val/CLASS/*   the data set's own validation images
                                        (`val`, `valid`, `validation` or `test`).
Class names are the class folders' names in sorted order (hidden folders are skipped);
files of other types are ignored. The listing reads no image: counts come from it alone.

An image decodes to uint8 [C, H, W] at the size asked for, C = 1 (grayscale) or 3 (RGB),
the same way wherever it is read (the cache, the preview, the exported train.py):
  - the EXIF orientation a camera recorded is applied, so a portrait photo stands up;
  - transparency is laid over white (RGBA, LA, palette images with a transparent colour);
  - 16-bit and 32-bit grey images are scaled to 8 bits (65535 is white), not clipped;
  - a JPEG is decoded at a reduced scale when that still covers the size asked for;
  - an image whose header claims more than `MAX_PIXELS` is refused before it decodes.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from engine.data.paths import require_dir
from engine.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
MAX_PIXELS = 8192 * 8192  # a 48-megapixel photo passes; a 12000x12000 claim does not
VALIDATION_FOLDERS = ("val", "valid", "validation", "test")
WIDE_GREY = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")


@dataclass
class ImageListing:
    """Image files and their class ids; `val_files` / `val_labels` when the folder holds
    its own validation images (else None)."""

    classes: list[str]
    files: list[Path]
    labels: list[int]
    val_files: list[Path] | None = None
    val_labels: list[int] | None = field(default=None)

    def all_files(self) -> list[Path]:
        return self.files + (self.val_files or [])


def list_images(folder: Path) -> ImageListing:
    """The images under `folder`, in either layout (see the module docstring)."""
    folder = require_dir(folder)
    parts = {p.name.lower(): p for p in _subfolders(folder)}
    val = next((parts[name] for name in VALIDATION_FOLDERS if name in parts), None)
    if "train" not in parts or val is None:
        classes = [p.name for p in _subfolders(folder)]
        files, labels = _images_by_class(folder, classes)
        return ImageListing(classes, files, labels)
    classes = [p.name for p in _subfolders(parts["train"])]
    unknown = sorted({p.name for p in _subfolders(val)} - set(classes))
    if unknown:
        raise DataError(
            f"{val}: class folder {unknown[0]!r} is not among the training classes in "
            f"{parts['train']}"
        )
    files, labels = _images_by_class(parts["train"], classes)
    val_classes = [name for name in classes if (val / name).is_dir()]
    val_files, val_labels = _images_by_class(val, val_classes)
    val_labels = [classes.index(val_classes[label]) for label in val_labels]
    return ImageListing(classes, files, labels, val_files, val_labels)


def _subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _images_by_class(folder: Path, classes: list[str]) -> tuple[list[Path], list[int]]:
    if not classes:
        raise DataError(f"{folder}: no class sub-folders; put each class's images in its own")
    files: list[Path] = []
    labels: list[int] = []
    for label, name in enumerate(classes):
        class_dir = folder / name
        images = sorted(
            p for p in class_dir.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not images:
            kinds = ", ".join(s[1:] for s in IMAGE_SUFFIXES)
            raise DataError(f"{class_dir}: class folder holds no images ({kinds})")
        files += images
        labels += [label] * len(images)
    return files, labels


def decode_image(path: Path, size: tuple[int, int], grayscale: bool) -> np.ndarray:
    """uint8 [C, H, W] of the image at `path` resized to `size` (height, width); the
    first frame of an animated image. Raises DataError naming the file."""
    height, width = size
    mode = "L" if grayscale else "RGB"
    try:
        with _opened(path) as image:
            # A JPEG decodes at a fraction of its size when that still covers the size
            # asked for, either way up (the EXIF orientation may turn it).
            image.draft(mode, (max(size), max(size)))
            image = _in_mode(ImageOps.exif_transpose(image), mode)
            image = image.resize((width, height), Image.Resampling.BILINEAR)
            pixels = np.asarray(image, dtype=np.uint8)
    except DataError:
        raise
    except Exception as exc:  # Pillow's decoders raise many kinds on a damaged file
        raise DataError(f"{path}: cannot be read as an image ({_why(exc)})") from None
    return pixels[None] if grayscale else pixels.transpose(2, 0, 1)


def check_image(path: Path) -> None:
    """Raise DataError naming the file when it is not an image Pillow reads or claims
    too many pixels; reads the header only (a damaged body shows when it decodes)."""
    try:
        with _opened(path):
            pass
    except DataError:
        raise
    except Exception as exc:  # Pillow's decoders raise many kinds on a damaged file
        raise DataError(f"{path}: cannot be read as an image ({_why(exc)})") from None


def _why(exc: Exception) -> str:
    """What a decoder said, its kind named when that is not plain OSError/ValueError."""
    if isinstance(exc, OSError | ValueError | SyntaxError) or not str(exc):
        return str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"


def _opened(path: Path) -> Image.Image:
    """The image at `path`, opened (its header read), refused when it claims more than
    MAX_PIXELS."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # checked below
        image = Image.open(path)
    claimed_width, claimed_height = image.size
    if claimed_width * claimed_height > MAX_PIXELS:
        image.close()
        raise DataError(
            f"{path}: declares {claimed_width}x{claimed_height} pixels, more than the "
            f"{MAX_PIXELS:,} an image may have here (a damaged or hostile file, or a "
            "scan to shrink first)"
        )
    return image


def _in_mode(image: Image.Image, mode: str) -> Image.Image:
    """`image` as "L" or "RGB", converted explicitly (see the module docstring)."""
    if image.mode in WIDE_GREY:
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode != "F" else max(1.0, float(values.max()))
        grey = np.clip(np.rint(values * (255.0 / top)), 0, 255).astype(np.uint8)
        image = Image.fromarray(grey, "L")
    elif image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return image.convert(mode)
