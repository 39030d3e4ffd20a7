"""`PixelRows`: an image data set's x, kept as uint8 pixels and turned into model input
one batch at a time.

The pixels are the image cache's memory map [N, C, H, W] (engine.data.image_cache), so
the data set takes no private memory however many images it has: the page cache holds
what fits. A `PixelRows` stands where a float32 tensor x would, for the code that trains
and evaluates: `len`, `shape`, `x[i]`, `x[a:b]`, `x.index_select(0, index)` give float32
samples, scaled to [0, 1], normalised and shaped for the model's input, converted on the
device they are for (a GPU gets the uint8 bytes, four times less than floats). Taking
rows (`subset`), normalising (`normalized`), reshaping (`reshaped`) and moving (`to`)
make a new `PixelRows` over the same pixels and copy none of them. Pickled (across the
training process's pipe), it carries the cache file's path, not its pixels.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
import torch

STATS_VALUES = 1 << 22  # values read at a time for the statistics of the whole


def stats_rows(sample_values: int) -> int:
    """Samples per chunk of the statistics: `STATS_VALUES` values, at least one sample."""
    return max(1, STATS_VALUES // max(1, sample_values))


class PixelRows:
    def __init__(
        self,
        pixels: np.ndarray,
        rows: torch.Tensor | None = None,
        scale: tuple[torch.Tensor, torch.Tensor] | None = None,
        sample_shape: tuple[int, ...] | None = None,
        device: torch.device | str = "cpu",
    ):
        """`pixels`: uint8 [N, C, H, W] (a memory map or an array); `rows`: the rows of it
        this data set holds, in order (None: all); `scale`: (mean, std) per channel, the
        normalisation; `sample_shape`: the shape a sample is given in (the model's input)."""
        self.pixels = pixels
        with warnings.catch_warnings():  # a read-only map: nothing here writes to it
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            self._source = torch.from_numpy(pixels)
        self.rows = torch.arange(len(pixels)) if rows is None else rows.to(torch.int64).cpu()
        self.scale = scale
        self.sample_shape = tuple(sample_shape or pixels.shape[1:])
        self.device = torch.device(device)

    # --- what a tensor x offers -------------------------------------------------------

    dtype = torch.float32

    @property
    def shape(self) -> torch.Size:
        return torch.Size((len(self.rows), *self.sample_shape))

    def __len__(self) -> int:
        return len(self.rows)

    def dim(self) -> int:
        return 1 + len(self.sample_shape)

    def is_floating_point(self) -> bool:
        return True

    def __getitem__(self, key: int | slice | torch.Tensor | tuple) -> torch.Tensor:
        if isinstance(key, tuple):  # x[i, c]: the sample's channel, say
            return self[key[0]][key[1:]]
        if isinstance(key, int):
            return self._read(self.rows[key].reshape(1))[0]
        return self._read(self.rows[key])

    def index_select(self, dim: int, index: torch.Tensor) -> torch.Tensor:
        if dim != 0:
            raise ValueError("PixelRows selects samples (dim 0) only")
        return self._read(self.rows[index.cpu()])

    # --- new views of the same pixels -------------------------------------------------

    def subset(self, index: torch.Tensor) -> PixelRows:
        return self._with(rows=self.rows[index.cpu()])

    def normalized(self, mean: list[float], std: list[float]) -> PixelRows:
        channels = self.pixels.shape[1]
        mean_t, std_t = (torch.tensor(v, dtype=torch.float32).expand(channels) for v in (mean, std))
        return self._with(scale=(mean_t.clone(), std_t.clone()))

    def reshaped(self, shape: tuple[int, ...]) -> PixelRows:
        return self._with(sample_shape=tuple(shape))

    def to(self, device: torch.device | str) -> PixelRows:
        return self._with(device=device)

    def _with(self, **changes) -> PixelRows:
        values = {
            "rows": self.rows,
            "scale": self.scale,
            "sample_shape": self.sample_shape,
            "device": self.device,
            **changes,
        }
        return PixelRows(self.pixels, **values)

    # --- reading ----------------------------------------------------------------------

    def raw_chunks(self) -> Iterator[torch.Tensor]:
        """Every sample in [0, 1] as float32 [n, C, H, W], `stats_rows` at a time, not
        normalised: for the statistics normalisation is fitted with."""
        step = stats_rows(int(np.prod(self.pixels.shape[1:])))
        for start in range(0, len(self.rows), step):
            rows = self.rows[start : start + step]
            yield self._source.index_select(0, rows).to(torch.float32).div_(255)

    def _read(self, rows: torch.Tensor) -> torch.Tensor:
        batch = self._source.index_select(0, rows).to(self.device, non_blocking=True)
        batch = batch.to(torch.float32).div_(255)
        if self.scale is not None:
            mean, std = (v.to(self.device).reshape(1, -1, 1, 1) for v in self.scale)
            batch = batch.sub_(mean).div_(std)
        return batch.reshape(len(rows), *self.sample_shape)

    def __reduce__(self):
        path = getattr(self.pixels, "filename", None)
        pixels = (str(path), self.pixels.shape) if path else np.asarray(self.pixels)
        return (_reopened, (pixels, self.rows, self.scale, self.sample_shape, str(self.device)))


def _reopened(pixels, rows, scale, sample_shape, device) -> PixelRows:
    if isinstance(pixels, tuple):
        path, shape = pixels
        pixels = np.memmap(path, dtype=np.uint8, mode="r", shape=tuple(shape))
    return PixelRows(pixels, rows, scale, sample_shape, device)
