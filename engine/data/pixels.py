"""`PixelRows`: an image data set's x, kept as uint8 pixels and turned into model input
one batch at a time (`ImageRows` holds what it shares with the streamed kind,
engine.data.streamed).

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


class ImageRows:
    """What image data sets share, standing where a float32 tensor x would: the rows of
    the images they hold, the normalisation, the shape samples are given in and the
    device they are read onto. A subclass says how the uint8 pixels of some images are
    had (`_gather`), how big an image is (`image_shape`) and how a new view of the same
    images is made (`_with`)."""

    def __init__(
        self,
        rows: torch.Tensor,
        scale: tuple[torch.Tensor, torch.Tensor] | None,
        sample_shape: tuple[int, ...],
        device: torch.device | str,
    ):
        self.rows = rows.to(torch.int64).cpu()
        self.scale = scale
        self.sample_shape = tuple(sample_shape)
        self.device = torch.device(device)
        self._scale_on: tuple[torch.Tensor, torch.Tensor] | None = None

    image_shape: tuple[int, int, int]

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_scale_on": None}  # tensors of the device it was read on

    def _gather(self, rows: torch.Tensor) -> torch.Tensor:
        """uint8 [n, C, H, W] of the images `rows` (numbers of the whole, not of `rows`)."""
        raise NotImplementedError

    def _with(self, **changes) -> ImageRows:
        raise NotImplementedError

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
            raise ValueError(f"{type(self).__name__} selects samples (dim 0) only")
        return self._read(self.rows[index.cpu()])

    def batches_of(self, batches: list[torch.Tensor]) -> Iterator[torch.Tensor]:
        """The samples of each index batch in turn (the trainer's epoch)."""
        for index in batches:
            yield self.index_select(0, index)

    # --- new views of the same images -------------------------------------------------

    def subset(self, index: torch.Tensor) -> ImageRows:
        return self._with(rows=self.rows[index.cpu()])

    def normalized(self, mean: list[float], std: list[float]) -> ImageRows:
        channels = self.image_shape[0]
        mean_t, std_t = (torch.tensor(v, dtype=torch.float32).expand(channels) for v in (mean, std))
        return self._with(scale=(mean_t.clone(), std_t.clone()))

    def reshaped(self, shape: tuple[int, ...]) -> ImageRows:
        return self._with(sample_shape=tuple(shape))

    def to(self, device: torch.device | str) -> ImageRows:
        return self._with(device=device)

    def _views(self, **changes) -> dict:
        return {
            "rows": self.rows,
            "scale": self.scale,
            "sample_shape": self.sample_shape,
            "device": self.device,
            **changes,
        }

    # --- reading ----------------------------------------------------------------------

    def raw_chunks(self) -> Iterator[torch.Tensor]:
        """Every sample in [0, 1] as float32 [n, C, H, W], `stats_rows` at a time, not
        normalised: for the statistics normalisation is fitted with."""
        step = stats_rows(int(np.prod(self.image_shape)))
        for start in range(0, len(self.rows), step):
            yield self._gather(self.rows[start : start + step]).to(torch.float32).div_(255)

    def _read(self, rows: torch.Tensor) -> torch.Tensor:
        return self._converted(self._gather(rows))

    def _converted(self, pixels: torch.Tensor) -> torch.Tensor:
        """uint8 [n, C, H, W] as the model's input: on the device (as bytes), scaled to
        [0, 1], normalised, shaped."""
        batch = pixels.to(self.device, non_blocking=True).to(torch.float32).div_(255)
        if self.scale is not None:
            if self._scale_on is None:  # moved and shaped once, not every batch
                self._scale_on = tuple(v.to(self.device).reshape(1, -1, 1, 1) for v in self.scale)
            mean, std = self._scale_on
            batch = batch.sub_(mean).div_(std)
        return batch.reshape(len(pixels), *self.sample_shape)


class PixelRows(ImageRows):
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
        rows = torch.arange(len(pixels)) if rows is None else rows
        super().__init__(rows, scale, sample_shape or pixels.shape[1:], device)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.pixels.shape[1:])

    def _gather(self, rows: torch.Tensor) -> torch.Tensor:
        return self._source.index_select(0, rows)

    def _with(self, **changes) -> PixelRows:
        return PixelRows(self.pixels, **self._views(**changes))

    def __reduce__(self):
        path = getattr(self.pixels, "filename", None)
        pixels = (str(path), self.pixels.shape) if path else np.asarray(self.pixels)
        return (_reopened, (pixels, self.rows, self.scale, self.sample_shape, str(self.device)))


def _reopened(pixels, rows, scale, sample_shape, device) -> PixelRows:
    if isinstance(pixels, tuple):
        path, shape = pixels
        pixels = np.memmap(path, dtype=np.uint8, mode="r", shape=tuple(shape))
    return PixelRows(pixels, rows, scale, sample_shape, device)
