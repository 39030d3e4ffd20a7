"""Exceptions as one line for the user.

Errors raised by the engine (or the file system) say what went wrong where (DESIGN.md,
"Bad input"); anything else is a bug somewhere, and is named by its type.
"""

from __future__ import annotations


def one_line(exc: BaseException) -> str:
    """The message for the user, on one line."""
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.filename or ''}: {exc.strerror}".lstrip(": ")
    elif speaks_for_itself(exc):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}"
    return one_line_text(text) or type(exc).__name__


def one_line_text(text: str) -> str:
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def speaks_for_itself(exc: BaseException) -> bool:
    """Exceptions defined in `engine` carry messages written for the user, as do the
    file system's."""
    return isinstance(exc, OSError) or type(exc).__module__.split(".")[0] == "engine"
