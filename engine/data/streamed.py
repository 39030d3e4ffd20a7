"""Streaming: image files decoded every time they are read, never kept.

`StreamedRows` stands where an image data set's x does (like the cache's `PixelRows`)
but holds only the files' paths: a sample read is decoded then and there
(engine.data.image_files.decode_image, so exactly the cache's pixels). For the trainer's
epochs (`batches_of`), a torch `DataLoader` decodes the batches in `num_workers` worker
processes, `prefetch_factor` batches ahead each, into page-locked memory when the
batches go to a CUDA GPU (`pin_memory`): the seeds' DataLoader, with the trainer's own
shuffled order as its batch sampler, so an epoch's batches are the cached run's, batch
for batch. Other reads (validation, evaluation, statistics) decode in threads.

What it costs: no disk and no decoding before the first batch, but every epoch decodes
every image again, so an epoch takes as long as the decoding (the cache decodes once and
then reads bytes). For a disk too small for the cache, or folders read once or twice.

An image that cannot be decoded when a batch is read (its header was checked when the
data was loaded, its body was not) stops the run, naming the file.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from engine.data.image_files import decode_image
from engine.data.pixels import ImageRows
from engine.errors import DataError


@dataclass(frozen=True)
class Loading:
    """How the DataLoader of a streamed epoch works: `workers` processes (None: one per
    core; 0: in the training process), `prefetch` batches ahead each, `pin` memory when
    the batches go to a CUDA GPU."""

    workers: int | None = None
    prefetch: int = 2
    pin: bool = True

    def worker_count(self) -> int:
        if self.workers is not None:
            return self.workers
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


class StreamedRows(ImageRows):
    def __init__(
        self,
        files: list[Path],
        size: tuple[int, int],
        grayscale: bool,
        loading: Loading | None = None,
        rows: torch.Tensor | None = None,
        scale: tuple[torch.Tensor, torch.Tensor] | None = None,
        sample_shape: tuple[int, ...] | None = None,
        device: torch.device | str = "cpu",
    ):
        self.files = list(files)
        self.size = (int(size[0]), int(size[1]))
        self.grayscale = grayscale
        self.loading = loading or Loading()
        rows = torch.arange(len(self.files)) if rows is None else rows
        super().__init__(rows, scale, sample_shape or self.image_shape, device)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (1 if self.grayscale else 3, *self.size)

    def _with(self, **changes) -> StreamedRows:
        views = self._views(**changes)
        return StreamedRows(self.files, self.size, self.grayscale, self.loading, **views)

    def _gather(self, rows: torch.Tensor) -> torch.Tensor:
        if not len(rows):
            return torch.empty((0, *self.image_shape), dtype=torch.uint8)
        decoding = _Decoding(self.files, self.size, self.grayscale)
        threads = self.loading.worker_count() or 1
        with ThreadPoolExecutor(threads, thread_name_prefix="decode") as pool:
            return _pixels(_stacked(list(pool.map(decoding.__getitem__, rows.tolist()))))

    def batches_of(self, batches: list[torch.Tensor]) -> Iterator[torch.Tensor]:
        """Each index batch's samples, decoded by the DataLoader's workers."""
        workers = self.loading.worker_count()
        if workers:
            _may_have_children()
        loader = DataLoader(
            _Decoding(self.files, self.size, self.grayscale),
            batch_sampler=[self.rows[index.cpu()].tolist() for index in batches],
            num_workers=workers,
            prefetch_factor=self.loading.prefetch if workers else None,
            pin_memory=self.loading.pin and self.device.type == "cuda",
            collate_fn=_stacked,
            # Its own generator for the workers' seeds: starting an epoch would otherwise
            # draw from the global one, and shift every dropout mask after it.
            generator=torch.Generator(),
        )
        for batch in loader:
            yield self._converted(_pixels(batch))


class _Decoding(Dataset):
    """Image `i` decoded as uint8 [C, H, W], with "" or why it cannot be."""

    def __init__(self, files: list[Path], size: tuple[int, int], grayscale: bool):
        self.files, self.size, self.grayscale = files, size, grayscale

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[np.ndarray | None, str]:
        try:
            return decode_image(self.files[index], self.size, self.grayscale), ""
        except DataError as exc:
            return None, str(exc)


def _stacked(items: list[tuple[np.ndarray | None, str]]) -> tuple[torch.Tensor | None, str]:
    """A batch as uint8 [n, C, H, W], or None and why its first image that failed could
    not be decoded (raised in the training process, where the run can say it plainly)."""
    for pixels, why in items:
        if pixels is None:
            return None, why
    return torch.from_numpy(np.stack([pixels for pixels, _ in items])), ""


def _pixels(batch: tuple[torch.Tensor | None, str]) -> torch.Tensor:
    pixels, why = batch
    if pixels is None:
        raise DataError(why)
    return pixels


def _may_have_children() -> None:
    """Let this process start the DataLoader's workers when it is itself a daemonic
    child (the app's training process is one, so that it never outlives the app):
    multiprocessing refuses children to daemons. The workers watch this process and end
    with it."""
    process = multiprocessing.current_process()
    if process.daemon:
        process._config["daemon"] = False
