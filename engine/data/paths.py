"""Where data files are: resolving a setting's path and checking that it is there."""

from __future__ import annotations

from pathlib import Path

from engine.document.files import not_a_file
from engine.errors import DataError


def resolve_path(path: str, base_dir: Path | None) -> Path:
    """A relative path starts at `base_dir` (the project file's folder) when given."""
    resolved = Path(path).expanduser()
    if base_dir is not None and not resolved.is_absolute():
        resolved = Path(base_dir) / resolved
    return resolved


def require_file(path: Path) -> Path:
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if not path.is_file():
        raise DataError(f"{path}: is a folder, expected a file")
    return path


def require_dir(path: Path) -> Path:
    if not path.exists():
        raise DataError(f"{path}: no such folder")
    if not path.is_dir():
        raise DataError(f"{path}: is a file, expected a folder")
    return path


def kind_of_path(path: Path) -> str:
    """The data kind a file or folder holds, judged from its name and contents:
    csv, parquet, npz, idx (a folder of MNIST-format files) or image_folder (sub-folders)."""
    path = Path(path)
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix in (".csv", ".npz"):
            return suffix[1:]
        if suffix in (".parquet", ".pq"):
            return "parquet"
        raise DataError(
            f"{path}: cannot tell the format; use a .csv, .parquet or .npz file or a folder"
        )
    if path.is_dir():
        if any("-idx" in child.name for child in path.iterdir()):
            return "idx"
        if any(child.is_dir() for child in path.iterdir()):
            return "image_folder"
        raise DataError(
            f"{path}: the folder holds neither MNIST-format (IDX) files nor one sub-folder "
            "of images per class"
        )
    if path.exists():
        raise DataError(f"{path}: {not_a_file(path).replace('regular file', 'file or folder')}")
    raise DataError(f"{path}: no such file or folder")
