"""Writing files so that a failure never leaves a half-written one behind."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO


def _read_umask() -> int:
    # os.umask can only be read by setting it; done once, at import, before any thread.
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Call `write(handle)` on a temporary file beside `path`, then move it into place.

    If anything fails the temporary file is removed and `path` keeps its old content.
    """
    path = Path(path)
    mode = _mode_for(path)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def _mode_for(path: Path) -> int:
    """The permissions the file keeps (or, when new, gets by the umask like any other
    file); mkstemp alone would make every saved file private (0600)."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_UMASK


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    data = text.encode("utf-8")
    return atomic_write(path, lambda handle: handle.write(data))


def json_text(value: Any) -> str:
    """JSON with two-space indents that keeps lists of plain values on one line (shapes,
    confusion-matrix rows); ends with a newline."""
    return _json(value, "") + "\n"


def _json(value: Any, indent: str) -> str:
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k)}: {_json(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        items = [f"{inner}{_json(v, inner)}" for v in value]
        return "[\n" + ",\n".join(items) + f"\n{indent}]"
    return json.dumps(value, allow_nan=False)
