"""Where data files are: resolving a setting's path and checking that it is there."""

from __future__ import annotations

from pathlib import Path

from engine.data.dataset import DataError


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
