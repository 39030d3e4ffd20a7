"""Image folders: decoding once into the cache against decoding every epoch, same run.

Run by hand:  python bench/data_images.py [--images 2000] [--size 128] [--grow 2]

A folder of N generated JPEGs (shapes at random places, 3 classes, `--size` px square,
saved at 1.5x that size so that each is resized) is read two ways:

  (a) reference: a `Dataset` that opens, decodes and resizes each image with PIL per
      sample, in a `DataLoader(num_workers=<cores>)`, as a hand-written script would;
  (b) cache: `engine.data.image_folder.load_image_folder`, which decodes the folder once
      into the cache (a thread per core) and maps it again afterwards.

Both train the same small CNN (a 4x average pool, two conv blocks and a Linear: the
bench weighs reading the data, not the model) for four epochs, batch 64, timing the last
three (median; the loader's workers kept between epochs), and report: (a)'s epoch, (b)'s
cache build, (b)'s load from the built cache and its epoch. Then both again with
augmentation (a crop of 60-100% of the area, a left-right flip, a turn of up to 15
degrees, brightness, contrast and saturation jitter of 0.2, random erasing with chance
0.25): (a) with the same changes made per sample with PIL and numpy in the workers, as a
hand-written script would; (b) with `engine.data.augment.Augmenter` on each gathered
batch. (d): streaming, `engine.data.streamed`, its DataLoader workers decoding every
epoch. For "in-memory speed", (c): every image as one float32 tensor in memory, the same
epochs without and with the Augmenter (after (b)'s memory is measured). Memory is the
peak private memory (anonymous pages, summed over the process and its children, sampled
every 20 ms; a memory-mapped file's pages are the page cache's, not counted), for N
images and for `--grow` times N, to see whether it grows with the folder. Aims: cached
epochs at least 5x the reference's, a build at most 1.2x one reference epoch, memory
flat in N.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageEnhance
from torch import nn
from torch.utils.data import DataLoader, Dataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.data.augment import Augmenter
from engine.data.image_cache import CACHE_ENV
from engine.data.image_files import list_images
from engine.data.streamed import Loading
from engine.document.settings import AUGMENT_SCHEMA

BATCH = 64
LATER = 3  # later epochs timed, after a first one
CLASSES = ("circle", "square", "cross")
AUGMENT = {
    **{p.name: p.default for p in AUGMENT_SCHEMA},
    "augment_crop": True,
    "augment_crop_scale": [0.6, 1.0],
    "augment_hflip": True,
    "augment_rotation": 15.0,
    "augment_brightness": 0.2,
    "augment_contrast": 0.2,
    "augment_saturation": 0.2,
    "augment_erasing": 0.25,
}


def make_folder(folder: Path, count: int, size: int) -> None:
    rng = np.random.default_rng(0)
    side = int(size * 1.5)
    for i in range(count):
        kind = CLASSES[i % len(CLASSES)]
        image = Image.new("RGB", (side, side), tuple(int(v) for v in rng.integers(0, 120, 3)))
        draw = ImageDraw.Draw(image)
        x, y = (int(v) for v in rng.integers(0, side // 2, 2))
        r = int(rng.integers(side // 8, side // 3))
        color = tuple(int(v) for v in rng.integers(130, 256, 3))
        if kind == "circle":
            draw.ellipse((x, y, x + r, y + r), fill=color)
        elif kind == "square":
            draw.rectangle((x, y, x + r, y + r), fill=color)
        else:
            draw.line((x, y, x + r, y + r), fill=color, width=max(2, r // 6))
            draw.line((x + r, y, x, y + r), fill=color, width=max(2, r // 6))
        (folder / kind).mkdir(parents=True, exist_ok=True)
        image.save(folder / kind / f"{i:06}.jpg", quality=90)


class Decoding(Dataset):
    """(a): each sample opened, decoded and resized when asked for."""

    def __init__(self, folder: Path, size: int, augment: bool = False):
        listing = list_images(folder)
        self.files, self.labels, self.size = listing.files, listing.labels, size
        self.augment = augment

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int):
        with Image.open(self.files[index]) as image:
            image = image.convert("RGB").resize((self.size, self.size), Image.Resampling.BILINEAR)
            if self.augment:
                image = augmented(image, np.random.default_rng())
            pixels = np.asarray(image, dtype=np.float32) / 255
        if self.augment and np.random.random() < AUGMENT["augment_erasing"]:
            erase(pixels, np.random.default_rng())
        return torch.from_numpy(pixels.transpose(2, 0, 1).copy()), self.labels[index]


def augmented(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """(a)'s augmentation of one image with PIL: crop, flip, turn, colour."""
    side = image.size[0]
    area = rng.uniform(*AUGMENT["augment_crop_scale"]) * side * side
    ratio = np.exp(rng.uniform(*np.log(AUGMENT["augment_crop_ratio"])))
    w = min(side, round((area * ratio) ** 0.5))
    h = min(side, round((area / ratio) ** 0.5))
    left, top = int(rng.integers(0, side - w + 1)), int(rng.integers(0, side - h + 1))
    image = image.resize((side, side), Image.Resampling.BILINEAR, (left, top, left + w, top + h))
    if rng.random() < 0.5:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    turn = AUGMENT["augment_rotation"]
    image = image.rotate(rng.uniform(-turn, turn), Image.Resampling.BILINEAR)
    for enhance, key in (
        (ImageEnhance.Brightness, "augment_brightness"),
        (ImageEnhance.Contrast, "augment_contrast"),
        (ImageEnhance.Color, "augment_saturation"),
    ):
        image = enhance(image).enhance(1 + rng.uniform(-AUGMENT[key], AUGMENT[key]))
    return image


def erase(pixels: np.ndarray, rng: np.random.Generator) -> None:
    """(a)'s random erasing of one image [H, W, C] in place."""
    height, width = pixels.shape[:2]
    area = rng.uniform(0.02, 0.33) * height * width
    ratio = np.exp(rng.uniform(np.log(0.3), np.log(3.3)))
    h = min(height, round((area * ratio) ** 0.5))
    w = min(width, round((area / ratio) ** 0.5))
    top, left = int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1))
    pixels[top : top + h, left : left + w] = 0


def make_model(size: int) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.AvgPool2d(4),  # small: the bench weighs the data, not the convolutions
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * (size // 16) ** 2, len(CLASSES)),
    )  # fmt: skip


def later_epoch(size: int, batches) -> float:
    """The median seconds of epochs 2 to 1 + LATER over `batches()` (later epochs: the
    first also starts the loader's workers and warms the model's kernels)."""
    model = make_model(size)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    seconds = []
    for _ in range(1 + LATER):
        start = time.perf_counter()
        for x, y in batches():
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds[1:])


def reference_batches(dataset: Decoding, cores: int):
    """(a)'s batches, an epoch at a time, from one loader whose workers stay between
    epochs; after the last, the workers are stopped (they would hold memory and cores
    while (b) is measured)."""
    loader = DataLoader(
        dataset, batch_size=BATCH, shuffle=True, num_workers=cores, persistent_workers=True
    )
    epochs = [0]

    def epoch():
        epochs[0] += 1
        yield from loader
        if epochs[0] == 1 + LATER:
            loader._iterator._shutdown_workers()

    return epoch


def streamed_batches(x, y: torch.Tensor):
    """(d)'s batches: `StreamedRows` decoding them in DataLoader workers."""
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    batches = list(order.split(BATCH))
    yield from zip(x.batches_of(batches), (y.index_select(0, i) for i in batches), strict=True)


def tensor_batches(x: torch.Tensor, y: torch.Tensor, augment: Augmenter | None = None):
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    for index in order.split(BATCH):
        batch = x.index_select(0, index)
        yield (batch if augment is None else augment(batch)), y.index_select(0, index)


class PeakMemory:
    """The largest sum of anonymous memory over this process and its children, and the
    largest of this process alone (`own_peak`)."""

    def __init__(self) -> None:
        self.peak = self.own_peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._done.wait(0.02):
            own = _anonymous(os.getpid())
            self.own_peak = max(self.own_peak, own)
            others = sum(_anonymous(pid) for pid in _tree(os.getpid())[1:])
            self.peak = max(self.peak, own + others)


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        todo += [int(child) for child in children]
    return pids


def _anonymous(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Anonymous:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def measure(count: int, size: int, scratch: Path) -> dict[str, float]:
    from engine.data.image_folder import load_image_folder

    folder = scratch / f"images-{count}"
    make_folder(folder, count, size)
    os.environ[CACHE_ENV] = str(scratch / f"cache-{count}")
    cores = len(os.sched_getaffinity(0))
    with PeakMemory() as reference_memory:
        reference = later_epoch(size, reference_batches(Decoding(folder, size), cores))
    augmenting = Decoding(folder, size, augment=True)
    reference_augmented = later_epoch(size, reference_batches(augmenting, cores))
    with PeakMemory() as cache_memory:
        start = time.perf_counter()
        load_image_folder(folder, (size, size), grayscale=False)
        build = time.perf_counter() - start
        start = time.perf_counter()
        data, _ = load_image_folder(folder, (size, size), grayscale=False)
        load = time.perf_counter() - start
        cached = later_epoch(size, lambda: tensor_batches(data.x, data.y))
        image = (3, size, size)
        augment = Augmenter(AUGMENT, image, image, None, None).seeded(0, "cpu")
        cached_augmented = later_epoch(size, lambda: tensor_batches(data.x, data.y, augment))
    streamed, _ = load_image_folder(folder, (size, size), False, streaming=Loading())
    stream = later_epoch(size, lambda: streamed_batches(streamed.x, streamed.y))
    resident = data.x[:]  # (c): every image as one float32 tensor in memory
    in_memory = later_epoch(size, lambda: tensor_batches(resident, data.y))
    in_memory_augmented = later_epoch(size, lambda: tensor_batches(resident, data.y, augment))
    return {
        "stream": stream,
        "in_memory": in_memory,
        "in_memory_augmented": in_memory_augmented,
        "reference": reference,
        "reference_augmented": reference_augmented,
        "cached_augmented": cached_augmented,
        "build": build,
        "load": load,
        "cached": cached,
        "reference_memory": reference_memory.peak,
        "cache_memory": cache_memory.peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--grow", type=int, default=2, help="also measure this many times N")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="data-images-") as scratch:
        for count in (args.images, args.images * args.grow):
            m = measure(count, args.size, Path(scratch))
            mb = 1 / 2**20
            print(
                f"{count:,} JPEGs at 3x{args.size}x{args.size}: reference epoch "
                f"{m['reference']:.2f} s; cache build {m['build']:.2f} s, load from it "
                f"{m['load']:.2f} s, epoch {m['cached']:.2f} s"
            )
            print(
                f"  cached epoch / reference epoch: {m['reference'] / m['cached']:.1f}x faster; "
                f"build / reference epoch: {m['build'] / m['reference']:.2f}x"
            )
            print(
                f"  augmented: reference epoch {m['reference_augmented']:.2f} s, cached epoch "
                f"{m['cached_augmented']:.2f} s: "
                f"{m['reference_augmented'] / m['cached_augmented']:.1f}x faster; augmenting "
                f"costs the cached epoch {m['cached_augmented'] / m['cached']:.2f}x"
            )
            print(f"  streamed (DataLoader workers, every epoch decoded): {m['stream']:.2f} s")
            print(
                f"  from a float32 tensor in memory: epoch {m['in_memory']:.2f} s, augmented "
                f"{m['in_memory_augmented']:.2f} s; cached / in memory: "
                f"{m['cached'] / m['in_memory']:.2f}x, augmented "
                f"{m['cached_augmented'] / m['in_memory_augmented']:.2f}x"
            )
            print(
                f"  peak private memory: reference {m['reference_memory'] * mb:,.0f} MB, "
                f"cache {m['cache_memory'] * mb:,.0f} MB"
            )


if __name__ == "__main__":
    main()
