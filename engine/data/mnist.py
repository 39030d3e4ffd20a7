"""MNIST: load it from a folder of IDX files, downloading the missing ones when asked.

Each file is fetched from the first mirror that delivers it with the right MD5 checksum,
streamed into a temporary file beside its final name and renamed into place, so a failed
or corrupt download leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from engine.data.dataset import DataError, TensorData
from engine.data.idx import IDX_FILES, find_idx_file, load_idx_folder

MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
CHUNK = 1 << 16

Progress = Callable[[str, int, int | None], None]
"""Called as progress(file_name, bytes_so_far, total_bytes_or_None) while downloading."""


class _FetchFailed(Exception):
    """One mirror could not deliver one file; the next mirror is tried."""


def missing_mnist_files(folder: Path) -> list[str]:
    """The .gz names of the MNIST files that are in `folder` neither plain nor gzipped."""
    return [f"{name}.gz" for name in IDX_FILES.values() if find_idx_file(folder, name) is None]


def load_mnist(
    folder: Path,
    download: bool,
    mirrors: Sequence[str] = MNIST_MIRRORS,
    checksums: Mapping[str, str] = MNIST_MD5,
    timeout: float = 30.0,
    progress: Progress | None = None,
) -> tuple[TensorData, TensorData | None]:
    """(train, validation = the t10k test set), as `load_idx_folder` gives them."""
    missing = missing_mnist_files(folder)
    if missing and not download:
        raise DataError(
            f"{folder}: the MNIST files {', '.join(missing)} are missing; "
            "turn on data.download to fetch them"
        )
    if missing:
        download_mnist(folder, mirrors, checksums, timeout, progress)
    return load_idx_folder(folder)


def download_mnist(
    folder: Path,
    mirrors: Sequence[str] = MNIST_MIRRORS,
    checksums: Mapping[str, str] = MNIST_MD5,
    timeout: float = 30.0,
    progress: Progress | None = None,
) -> None:
    """Fetch the MNIST files missing from `folder`, each checked against `checksums`."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{folder}: cannot create the folder ({exc.strerror})") from None
    for name in missing_mnist_files(folder):
        _download(folder / name, mirrors, checksums[name], timeout, progress)


def _download(
    target: Path, mirrors: Sequence[str], md5: str, timeout: float, progress: Progress | None
) -> None:
    problems = []
    for base in mirrors:
        url = f"{base.rstrip('/')}/{target.name}"
        try:
            _fetch(url, target, md5, timeout, progress)
            return
        except _FetchFailed as exc:
            problems.append(f"{url}: {exc}")
    reasons = "; ".join(problems) or "no mirror is configured"
    raise DataError(f"could not download {target.name} into {target.parent}: {reasons}")


def _fetch(url: str, target: Path, md5: str, timeout: float, progress: Progress | None) -> None:
    """Stream `url` into a temporary file; rename it to `target` only if the MD5 matches."""
    try:
        handle, temp = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".part"
        )
    except OSError as exc:
        raise DataError(f"{target.parent}: cannot write there ({exc.strerror})") from None
    try:
        with os.fdopen(handle, "wb") as file:
            digest = _copy(url, file, timeout, target.name, progress)
        if digest != md5:
            raise _FetchFailed(f"checksum mismatch (MD5 {digest}, expected {md5})")
        os.replace(temp, target)
    finally:
        Path(temp).unlink(missing_ok=True)


def _copy(url: str, file, timeout: float, name: str, progress: Progress | None) -> str:
    """Write the body of `url` to `file`; returns its MD5 hex digest."""
    digest = hashlib.md5(usedforsecurity=False)
    done = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            total = response.length
            while chunk := response.read(CHUNK):
                file.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(name, done, total)
    except urllib.error.HTTPError as exc:
        raise _FetchFailed(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise _FetchFailed(str(exc.reason)) from None
    except (OSError, http.client.HTTPException) as exc:
        raise _FetchFailed(str(exc) or type(exc).__name__) from None
    return digest.hexdigest()
