"""Image folders decoded once: a uint8 array [N, C, H, W] on disk, read back mapped.

`decoded(files, size, grayscale)` returns the pixels of `files` at that size. The first
time, every image is decoded (`image_files.decode_image`), by a thread per core when
there are many, straight into a memory-mapped file in the cache folder; later calls
with the same files (paths, sizes and modification times) and the same settings map
that file again and decode nothing. Its name is a hash of all of these, so a changed,
added or removed file, or another image size, is a new entry: the folder is decoded
again.

The cache folder is `$TORCHWRIGHT_CACHE_DIR`, else the platform's (~/.cache/torchwright
on Linux, ~/Library/Caches/torchwright on macOS, %LOCALAPPDATA%\\torchwright\\cache on
Windows), in `images/`. An entry is complete once its `.json` is there, written last and
atomically; a build that is interrupted leaves its `.partial` file and a record of the
chunks done, and the next build with the same key decodes only the rest. The file's
bytes are taken on disk before a pixel is written, so a full disk is an error then, not
a crash of the mapped writes later. When the cache folder cannot be written (or has no
room) the images are decoded into memory instead, where they fit in `MEMORY_SHARE` of
it, and the data says so (`Decoded.note`); a folder too big for that is refused, saying
how to give the cache room.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.data.image_files import decode_image
from engine.document.files import atomic_write_text
from engine.errors import DataError

CACHE_ENV = "TORCHWRIGHT_CACHE_DIR"
FORMAT = 1  # of an entry: a new one when what is stored, or how it is decoded, changes
CHUNK = 64  # images a worker decodes per task; the unit an interrupted build resumes by
PARALLEL_FROM = 512  # fewer images decode in the calling thread alone
MEMORY_SHARE = 0.25  # of the machine's memory, the most decoded into it without a cache
Progress = Callable[[int, int], None]  # (images decoded, of how many)


@dataclass
class Decoded:
    """`pixels`: uint8 [N, C, H, W], mapped from the cache file when there is one.
    `failed`: index -> why that image could not be read (its pixels are zeros).
    `note`: what the user should know about how it was read ("" when nothing)."""

    pixels: np.ndarray
    failed: dict[int, str]
    note: str = ""


def cache_root() -> Path:
    """Torchwright's cache folder: `$TORCHWRIGHT_CACHE_DIR`, else the platform's."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "torchwright"
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", home)) / "torchwright" / "cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache") / "torchwright"


def cache_folder() -> Path:
    """Where decoded image folders are kept (see the module docstring)."""
    return cache_root() / "images"


def cache_key(files: Sequence[Path], size: tuple[int, int], grayscale: bool) -> str:
    """A name for these files, as they are now, decoded at these settings."""
    digest = hashlib.sha256(json.dumps([FORMAT, list(size), grayscale]).encode())
    for path in files:
        stat = path.stat()
        digest.update(f"{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:32]


def decoded(
    files: Sequence[Path],
    size: tuple[int, int],
    grayscale: bool,
    progress: Progress | None = None,
    workers: int | None = None,
) -> Decoded:
    """The pixels of `files` decoded at `size` (height, width); see the module docstring.
    `workers`: threads to decode in (default: one per core)."""
    files = list(files)
    shape = (len(files), 1 if grayscale else 3, *size)
    try:
        key = cache_key(files, size, grayscale)
    except OSError as exc:
        raise DataError(f"{exc.filename}: cannot be read ({exc.strerror})") from None
    folder = cache_folder()
    entry = Entry(folder / key, shape)
    found = entry.load()
    if found is not None:
        return found
    try:
        folder.mkdir(parents=True, exist_ok=True)
        pixels = entry.open_partial()
    except OSError as exc:
        entry.discard()
        why = f"the cache folder {folder} cannot be written ({exc.strerror})"
        pixels = _in_memory(shape, why)
        every = range(_chunks(len(files)))
        failed = _collect(
            _in_process(files, size, grayscale, pixels, every), len(files), every, progress
        )
        return Decoded(pixels, failed, f"decoded into memory: {why}")
    todo = [chunk for chunk in range(_chunks(len(files))) if not entry.chunk_done(chunk)]
    if len(files) < PARALLEL_FROM or workers == 1:
        results = _in_process(files, size, grayscale, pixels, todo)
    else:
        results = _in_threads(files, size, grayscale, pixels, todo, workers)
    failed = _collect(results, len(files), todo, progress, entry)
    failed.update(entry.failed_before())
    return entry.complete(failed)


def _chunks(count: int) -> int:
    return -(-count // CHUNK)


class Entry:
    """One cache entry: `<key>.u8` (the pixels), `<key>.json` (written last: complete),
    and while it builds `<key>.partial` with `<key>.chunks` (one byte per chunk: done)
    and `<key>.failed` (a line per image that could not be read)."""

    def __init__(self, stem: Path, shape: tuple[int, ...]):
        self.stem = stem
        self.shape = shape
        self.data, self.meta = stem.with_suffix(".u8"), stem.with_suffix(".json")
        self.partial = stem.with_suffix(".partial")
        self.chunks = stem.with_suffix(".chunks")
        self.failures = stem.with_suffix(".failed")

    def load(self) -> Decoded | None:
        """The complete entry, or None."""
        try:
            meta = json.loads(self.meta.read_text())
            if tuple(meta["shape"]) != self.shape or self.data.stat().st_size != _bytes(self.shape):
                return None
            pixels = np.memmap(self.data, dtype=np.uint8, mode="r", shape=self.shape)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return Decoded(pixels, {int(k): v for k, v in meta.get("failed", {}).items()})

    def open_partial(self) -> np.ndarray:
        """The partial file mapped for writing, as big as the whole; a partial file of
        another size, or without its record of chunks, is started again."""
        chunks = _chunks(self.shape[0])
        fresh = not (
            self.partial.is_file()
            and self.partial.stat().st_size == _bytes(self.shape)
            and self.chunks.is_file()
            and self.chunks.stat().st_size == chunks
        )
        if fresh:
            with self.partial.open("wb") as handle:
                _reserve(handle, _bytes(self.shape))
            self.chunks.write_bytes(bytes(chunks))
            self.failures.write_text("")
        return np.memmap(self.partial, dtype=np.uint8, mode="r+", shape=self.shape)

    def discard(self) -> None:
        """Remove what a build that cannot go on left (a full disk, say)."""
        for path in (self.partial, self.chunks, self.failures):
            with contextlib.suppress(OSError):  # no folder, or not one: nothing was left
                path.unlink(missing_ok=True)

    def chunk_done(self, chunk: int) -> bool:
        with self.chunks.open("rb") as handle:
            handle.seek(chunk)
            return handle.read(1) == b"\x01"

    def mark_done(self, chunk: int, failed: dict[int, str]) -> None:
        """After the chunk's pixels are on disk: its failures, then its byte."""
        if failed:
            with self.failures.open("a", encoding="utf-8") as handle:
                handle.writelines(f"{index}\t{why}\n" for index, why in failed.items())
        with self.chunks.open("r+b") as handle:
            handle.seek(chunk)
            handle.write(b"\x01")

    def failed_before(self) -> dict[int, str]:
        """The failures recorded by the chunks done so far (by this build or one before)."""
        lines = self.failures.read_text(encoding="utf-8").splitlines()
        return {int(index): why for index, _, why in (line.partition("\t") for line in lines)}

    def complete(self, failed: dict[int, str]) -> Decoded:
        os.replace(self.partial, self.data)
        meta = {"format": FORMAT, "shape": list(self.shape), "failed": failed}
        atomic_write_text(self.meta, json.dumps(meta))
        for path in (self.chunks, self.failures):
            path.unlink(missing_ok=True)
        pixels = np.memmap(self.data, dtype=np.uint8, mode="r", shape=self.shape)
        return Decoded(pixels, failed)


def _reserve(handle, size: int) -> None:
    """Take the file's bytes on disk now: a full disk then fails here (ENOSPC), and not
    later, as a crash (SIGBUS), when a page of the map finds no room to be written."""
    if hasattr(os, "posix_fallocate"):
        os.posix_fallocate(handle.fileno(), 0, size)
    else:
        handle.truncate(size)


def _in_memory(shape: tuple[int, ...], why: str) -> np.ndarray:
    """Room for the pixels in memory, when the cache cannot hold them: refused (why,
    and what to do) when they would take more than `MEMORY_SHARE` of the machine's."""
    needed = _bytes(shape)
    pages = os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else 0
    physical = pages * os.sysconf("SC_PAGE_SIZE") if pages > 0 else needed / MEMORY_SHARE
    if needed > MEMORY_SHARE * physical:
        raise DataError(
            f"{why}, and the decoded images ({needed / 1e9:.1f} GB) are too many to hold in "
            f"memory instead: make room there, or set {CACHE_ENV} to a folder with room"
        )
    return np.zeros(shape, dtype=np.uint8)


def _bytes(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape, dtype=np.int64))


def _collect(
    results: Iterable[tuple[int, dict[int, str]]],
    total: int,
    chunks: Sequence[int],
    progress: Progress | None,
    entry: Entry | None = None,
) -> dict[int, str]:
    """The failures of the chunks in `results` as they come (each marked done in
    `entry`, when there is one), reporting progress."""
    failed: dict[int, str] = {}
    done = (_chunks(total) - len(chunks)) * CHUNK
    for chunk, found in results:
        if entry is not None:
            entry.mark_done(chunk, found)
        failed.update(found)
        done += CHUNK
        if progress is not None:
            progress(min(done, total), total)
    return failed


def _in_process(
    files: list[Path], size: tuple[int, int], grayscale: bool, pixels: np.ndarray, chunks
) -> Iterator[tuple[int, dict[int, str]]]:
    for chunk in chunks:
        found = _decode_chunk(files, size, grayscale, pixels, chunk)
        if isinstance(pixels, np.memmap):
            pixels.flush()  # on disk before the chunk is marked done
        yield chunk, found


def _decode_chunk(
    files: list[Path], size: tuple[int, int], grayscale: bool, pixels: np.ndarray, chunk: int
) -> dict[int, str]:
    failed: dict[int, str] = {}
    for index in range(chunk * CHUNK, min(len(files), (chunk + 1) * CHUNK)):
        try:
            pixels[index] = decode_image(files[index], size, grayscale)
        except DataError as exc:
            pixels[index] = 0
            failed[index] = str(exc)
    return failed


def _in_threads(
    files: list[Path],
    size: tuple[int, int],
    grayscale: bool,
    pixels: np.ndarray,
    chunks: Sequence[int],
    workers: int | None,
) -> Iterator[tuple[int, dict[int, str]]]:
    """Chunks decoded by a thread per core: Pillow lets go of Python's lock while it
    decodes and resizes, so threads decode in parallel, in any process (the app's
    training process may not start processes of its own)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

    def chunk_of(chunk: int) -> tuple[int, dict[int, str]]:
        return chunk, _decode_chunk(files, size, grayscale, pixels, chunk)

    pool = ThreadPoolExecutor(workers or cores or 1, thread_name_prefix="decode")
    try:
        for chunk, found in pool.map(chunk_of, chunks):
            if isinstance(pixels, np.memmap):
                pixels.flush()  # on disk before the chunk is marked done
            yield chunk, found
    finally:  # Ctrl+C, or an error: the chunks not started yet are dropped, not decoded
        pool.shutdown(wait=True, cancel_futures=True)
