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
from engine.data.image_cache import Progress, cache_root, decoded
from engine.data.image_files import check_image, list_images
from engine.data.paths import resolve_path
from engine.data.pixels import ImageRows, PixelRows
from engine.data.shapes import SHAPES_VERSION, draw_shapes
from engine.data.streamed import Loading, StreamedRows

NAMED_FAILURES = 3  # of the images skipped, the ones the warning names


def image_folder_path(settings: dict, base_dir: Path | None) -> Path:
    """The folder the data settings name: `path`; with no path and `generate` saying
    what to draw (engine.data.shapes), the cache folder's `generated/` one, drawn the
    first time. A path is never drawn into: a mistyped one is "no such folder", not a
    folder of shapes."""
    generate = settings["generate"]
    if generate == "none" or settings["path"]:
        return resolve_path(settings["path"], base_dir)
    folder = cache_root() / "generated" / f"{generate}-{SHAPES_VERSION}"
    if not folder.exists():
        draw_shapes(folder)
    return folder


def load_image_folder(
    folder: Path,
    image_size: tuple[int, int] | list[int],
    grayscale: bool,
    bad_images: str = "skip",
    progress: Progress | None = None,
    streaming: Loading | None = None,
) -> tuple[TensorData, TensorData | None]:
    """(train, validation): validation when the folder holds its own (else None). With
    `streaming`, the images are decoded whenever they are read (engine.data.streamed)."""
    listing = list_images(folder)
    files = listing.all_files()
    size = (int(image_size[0]), int(image_size[1]))
    pixels, kept, warnings = image_rows(files, size, grayscale, bad_images, progress, streaming)
    labels = torch.tensor(listing.labels + (listing.val_labels or []), dtype=torch.int64)
    info = {"source": f"image folder {folder.name}", "warnings": warnings}
    parts = [kept[kept < len(listing.files)]]
    if listing.val_files is not None:
        parts.append(kept[kept >= len(listing.files)])
    data = [
        TensorData(pixels.subset(rows), labels[rows], CLASSIFICATION, listing.classes, info=info)
        for rows in parts
    ]
    return data[0], data[1] if len(data) > 1 else None


def image_rows(
    files: list[Path],
    size: tuple[int, int],
    grayscale: bool,
    bad_images: str,
    progress: Progress | None = None,
    streaming: Loading | None = None,
    missing: dict[int, str] | None = None,
) -> tuple[ImageRows, torch.Tensor, list[str]]:
    """`files` as a data set's x (through the cache; streamed with `streaming`), the rows
    of those that can be read, and what to warn of (`decoded_rows`)."""
    if streaming is None:
        return decoded_rows(files, size, grayscale, bad_images, progress, missing)
    return streamed_rows(files, size, grayscale, bad_images, streaming, progress, missing)


def streamed_rows(
    files: list[Path],
    size: tuple[int, int],
    grayscale: bool,
    bad_images: str,
    loading: Loading,
    progress: Progress | None = None,
    missing: dict[int, str] | None = None,
) -> tuple[StreamedRows, torch.Tensor, list[str]]:
    """As `decoded_rows`, for streaming: each file's header is read (a file that is not
    an image is skipped or refused then), nothing is decoded."""
    failed: dict[int, str] = {}
    for index, file in enumerate(files):
        try:
            check_image(file)
        except DataError as exc:
            failed[index] = str(exc)
        if progress is not None and ((index + 1) % 256 == 0 or index + 1 == len(files)):
            progress(index + 1, len(files))
    kept, warnings = _kept(failed, len(files), bad_images, missing)
    return StreamedRows(files, size, grayscale, loading), kept, warnings


def decoded_rows(
    files: list[Path],
    size: tuple[int, int],
    grayscale: bool,
    bad_images: str,
    progress: Progress | None = None,
    missing: dict[int, str] | None = None,
) -> tuple[PixelRows, torch.Tensor, list[str]]:
    """`files` decoded (through the cache): their pixels, the rows of those that decoded,
    and what to warn of (images skipped, counting `missing`, listed images that are not
    there; the cache's note). With `bad_images` "refuse", an image that cannot be read
    raises DataError naming it."""
    found = decoded(files, size, grayscale, progress)
    kept, warnings = _kept(found.failed, len(files), bad_images, missing)
    return PixelRows(found.pixels), kept, warnings + ([found.note] if found.note else [])


def _kept(
    failed: dict[int, str], total: int, bad_images: str, missing: dict[int, str] | None
) -> tuple[torch.Tensor, list[str]]:
    """The rows of the `total` files that can be read, and the warning of those that
    cannot (with `missing` too); DataError naming the first with bad_images "refuse"."""
    if failed and bad_images == "refuse":
        first = min(failed)
        more = len(failed) - 1
        raise DataError(failed[first] + (f" (and {more} more images)" if more else ""))
    kept = torch.tensor([i for i in range(total) if i not in failed], dtype=torch.int64)
    missing = missing or {}
    said = [missing[i] for i in sorted(missing)] + [failed[i] for i in sorted(failed)]
    skipped = _skipped(said, total + len(missing))
    return kept, [skipped] if skipped else []


def _skipped(failed: list[str], total: int) -> str:
    if not failed:
        return ""
    named = "; ".join(failed[:NAMED_FAILURES])
    return f"skipped {len(failed):,} of {total:,} images that cannot be read: {named}" + (
        "; ..." if len(failed) > NAMED_FAILURES else ""
    )
