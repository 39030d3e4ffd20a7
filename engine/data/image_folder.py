"""Image folder import: one sub-folder per class (or train/ and val/ sub-folders holding
them), each image resized to `image_size` (height, width), x float32 [N, C, H, W] in
[0, 1], C = 1 in grayscale, else 3 (RGB). See `image_files` for the layouts and how an
image is decoded, and `image_cache` for how a folder is decoded only once.

An image that cannot be read (damaged, truncated, not an image after all) is skipped
and the data says so, with how many and the first few (`bad_images` "skip"), or stops
the load naming it (`bad_images` "refuse").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.data.dataset import DataError, TensorData
from engine.data.image_cache import Progress, decoded
from engine.data.image_files import list_images

NAMED_FAILURES = 3  # of the images skipped, the ones the warning names


def load_image_folder(
    folder: Path,
    image_size: tuple[int, int] | list[int],
    grayscale: bool,
    bad_images: str = "skip",
    progress: Progress | None = None,
) -> tuple[TensorData, TensorData | None]:
    """(train, validation): validation when the folder holds its own (else None)."""
    listing = list_images(folder)
    files = listing.all_files()
    found = decoded(files, (int(image_size[0]), int(image_size[1])), grayscale, progress)
    if found.failed and bad_images == "refuse":
        first = min(found.failed)
        more = len(found.failed) - 1
        raise DataError(found.failed[first] + (f" (and {more} more images)" if more else ""))
    keep = np.array([i not in found.failed for i in range(len(files))], dtype=bool)
    x = found.pixels.astype(np.float32)  # one copy, scaled in place
    x /= 255
    labels = np.array(listing.labels + (listing.val_labels or []), dtype=np.int64)
    source = f"image folder {folder.name}"
    warnings = [w for w in (_skipped(found.failed, len(files)), found.note) if w]
    parts = [slice(0, len(listing.files))]
    if listing.val_files is not None:
        parts.append(slice(len(listing.files), len(files)))
    data = [
        TensorData.classification(
            _rows(x, part, keep), _rows(labels, part, keep), listing.classes, source=source
        )
        for part in parts
    ]
    data[0].info["warnings"] = warnings
    return data[0], data[1] if len(data) > 1 else None


def _rows(array: np.ndarray, part: slice, keep: np.ndarray) -> np.ndarray:
    """The rows of `part` that are kept: a view when all are (no copy of the pixels)."""
    rows, kept = array[part], keep[part]
    return rows if kept.all() else rows[kept]


def _skipped(failed: dict[int, str], total: int) -> str:
    if not failed:
        return ""
    named = "; ".join(failed[i] for i in sorted(failed)[:NAMED_FAILURES])
    return f"skipped {len(failed):,} of {total:,} images that cannot be read: {named}" + (
        "; ..." if len(failed) > NAMED_FAILURES else ""
    )
