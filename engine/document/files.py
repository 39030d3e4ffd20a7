"""Writing files so that a failure never leaves a half-written one behind, and telling a
file that can be read whole from one that would block (`not_a_file`)."""

from __future__ import annotations

import glob
import json
import math
import os
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO


def _read_umask() -> int:
    # os.umask can only be read by setting it; done once, at import, before any thread.
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()
STALE_TEMP_S = 600  # a temporary file this old was left by a write that was killed

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def not_a_file(path: str | os.PathLike) -> str:
    """Why `path` cannot be read as a file ("" when it can): "no such file", or "is a
    named pipe (FIFO), not a regular file"... Reading a pipe or a device would wait for
    a writer, or never end."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:
        return exc.strerror or str(exc)
    if stat.S_ISREG(mode):
        return ""
    kind = next((kind for test, kind in _KINDS if test(mode)), "something else")
    return f"is {kind}, not a regular file"


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Call `write(handle)` on a temporary file beside `path`, then move it into place.

    If anything fails the temporary file is removed and `path` keeps its old content; an
    OSError names `path` (not the temporary file), a full disk too.
    """
    return write_together({Path(path): write})[0]


def write_together(writes: dict[Path, Callable[[BinaryIO], None]]) -> list[Path]:
    """Write several files as one (a project and its weights, say): each to a temporary
    file beside it, and only once every one is written do they move into place. If any
    write fails, none of the files is touched."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, write in writes.items():
            staged.append((_staged(Path(path), write), Path(path)))
        for temp, path in staged:
            os.replace(temp, path)
    except BaseException:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
        raise
    return [path for _, path in staged]


def _staged(path: Path, write: Callable[[BinaryIO], None]) -> Path:
    """`write` done to a new temporary file beside `path`, flushed to disk."""
    mode = _mode_for(path)
    _remove_stale_temps(path)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno is not None:
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise
    return temp


def _remove_stale_temps(path: Path) -> None:
    """Remove the temporary files an earlier write of `path` left when it was killed
    (`.NAME.<random>.tmp`, as `atomic_write` names them), once they are older than any
    write still going could be."""
    now = time.time()
    for temp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        try:
            if now - temp.stat().st_mtime > STALE_TEMP_S:
                temp.unlink()
        except OSError:
            pass  # gone already, or not ours to remove: the write goes on regardless


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
    confusion-matrix rows); ends with a newline. A NaN or infinite number, which JSON
    cannot hold, is written as null."""
    return _json(_finite(value), "") + "\n"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def _json(value: Any, indent: str) -> str:
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k)}: {_json(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        items = [f"{inner}{_json(v, inner)}" for v in value]
        return "[\n" + ",\n".join(items) + f"\n{indent}]"
    return json.dumps(value, allow_nan=False)
