"""Image folder import: one sub-folder per class (or train/ and val/ sub-folders holding
them), each image resized to `image_size` (height, width), x [N, C, H, W] in [0, 1],
C = 1 in grayscale, else 3 (RGB), read from the cache's uint8 pixels a batch at a time
(`PixelRows`): the data set takes no memory of its own however large the folder. See
`image_files` for the layouts and how an image is decoded, and `image_cache` for how a
folder is decoded only once.

An image that cannot be read (damaged, truncated, not an image after all) is skipped
and the data says so, with how many and the first few (`bad_images` "skip"), or stops
the load naming it (`bad_images` "refuse").
"""

from __future__ import annotations

from pathlib import Path

import torch

from engine.data.dataset import CLASSIFICATION, DataError, TensorData
from engine.data.image_cache import Progress, decoded
from engine.data.image_files import list_images
from engine.data.pixels import PixelRows

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
    kept = torch.tensor([i for i in range(len(files)) if i not in found.failed], dtype=torch.int64)
    pixels = PixelRows(found.pixels)
    labels = torch.tensor(listing.labels + (listing.val_labels or []), dtype=torch.int64)
    info = {
        "source": f"image folder {folder.name}",
        "warnings": [w for w in (_skipped(found.failed, len(files)), found.note) if w],
    }
    parts = [kept[kept < len(listing.files)]]
    if listing.val_files is not None:
        parts.append(kept[kept >= len(listing.files)])
    data = [
        TensorData(pixels.subset(rows), labels[rows], CLASSIFICATION, listing.classes, info=info)
        for rows in parts
    ]
    return data[0], data[1] if len(data) > 1 else None


def _skipped(failed: dict[int, str], total: int) -> str:
    if not failed:
        return ""
    named = "; ".join(failed[i] for i in sorted(failed)[:NAMED_FAILURES])
    return f"skipped {len(failed):,} of {total:,} images that cannot be read: {named}" + (
        "; ..." if len(failed) > NAMED_FAILURES else ""
    )
