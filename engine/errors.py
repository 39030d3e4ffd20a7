"""The errors the user reads, and exceptions put on one line for them.

Every problem the engine can explain (a bad parameter, a file that cannot be read, data
that does not fit the model) is raised as a `UserError`: its message says what is wrong
and where, in a sentence. The app and the command line catch `UserError` and show its
message as it is; anything else is a bug somewhere, and is shown with its type.
"""

from __future__ import annotations


class UserError(ValueError):
    """A problem explained to the user; the message is written for them.

    `node_id`: the graph node the problem is on, when it is on one, for the app to show
    it there (the layer whose line raised an error inside the model, say).

    A ValueError too, so that code which caught ValueError before keeps working.
    """

    def __init__(self, *args: object, node_id: str | None = None):
        super().__init__(*args)
        self.node_id = node_id


class DataError(UserError):
    """Data that cannot be used; the message names the file (or setting) and the place."""


class TrainingError(UserError):
    """A problem found before (or while) training; the message is one sentence for the user."""


def node_of(exc: BaseException) -> str | None:
    """The node a user error is on, when it is on one."""
    return exc.node_id if isinstance(exc, UserError) else None


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
    """User errors carry messages written for the user, as do the file system's."""
    return isinstance(exc, UserError | OSError)


# What code from a user (a Custom layer, an imported file, a generated model) may raise
# that is its own failure, to be reported, not the program's end: any exception, and
# SystemExit from a sys.exit() in it. Ctrl+C (KeyboardInterrupt) stays the user's.
USER_CODE_ERRORS = (Exception, SystemExit)


def exit_text(exc: SystemExit) -> str:
    """A sys.exit() in user code, as the user reads it."""
    return f"its code called sys.exit({exc.code!r}), which a layer may not do"
