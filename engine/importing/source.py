"""The user's model file: how it is named in messages, and which of its lines an
operation, an error or a `return` comes from."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
import traceback
from pathlib import Path
from types import TracebackType

from torch import fx

from engine.errors import UserError
from engine.layers.params import show
from engine.model.shapes import explain

_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')


# What running the user's code may raise: SystemExit too (argparse or sys.exit at the top
# of a script), which must become a message, not end the app. KeyboardInterrupt passes.
USER_CODE_ERRORS = (Exception, SystemExit)


class ModelImportError(UserError):
    """The model cannot be imported. The message is for the user; `problems` holds one
    sentence per thing that stops the import, each naming the file and line at fault."""

    def __init__(self, problems: str | list[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class SourceFile:
    """The file as the user named it (`shown`) and as Python runs it (`path`)."""

    def __init__(self, path: str | Path):
        self.shown = str(path)
        self.path = Path(path).resolve()

    def where(self, line: int | None) -> str:
        return f"{self.shown} line {line}" if line else self.shown

    def error(self, line: int | None, message: str) -> ModelImportError:
        return ModelImportError(f"{self.where(line)}: {message}")

    def failure(self, doing: str, exc: BaseException) -> ModelImportError:
        """An error the user's code raised while `doing` something, at its line."""
        return self.error(self.traceback_line(exc.__traceback__), f"{doing}: {explain(exc)}")

    def traceback_line(self, tb: TracebackType | None) -> int | None:
        """The innermost line of this file in a traceback."""
        lines = [f.lineno for f in traceback.extract_tb(tb) if f.filename == str(self.path)]
        return lines[-1] if lines else None

    def node_line(self, node: fx.Node) -> int | None:
        """The line of forward() (or of a function it calls in this file) that made `node`."""
        found = [
            int(m["line"])
            for m in _FRAME.finditer(node.stack_trace or "")
            if m["file"] == str(self.path)
        ]
        return found[-1] if found else None

    def definition_line(self, function: object) -> int | None:
        """The `def` line of a function of this file (None for one from elsewhere)."""
        code = getattr(function, "__code__", None)
        if code is None or code.co_filename != str(self.path):
            return None
        return code.co_firstlineno

    def return_statement(self, cls: type) -> tuple[int | None, list[str | None]]:
        """Line of the `return` of cls.forward (written in this file) and the names it
        returns (None for an item that is not a plain name), when there is one `return`."""
        if self.definition_line(cls.forward) is None:
            return None, []
        try:
            lines, start = inspect.getsourcelines(cls.forward)
            tree = ast.parse(textwrap.dedent("".join(lines)))
        except (OSError, TypeError, SyntaxError):
            return None, []
        returns = [n for n in ast.walk(tree) if isinstance(n, ast.Return) and n.value is not None]
        if len(returns) != 1:
            return None, []
        value = returns[0].value
        items = value.elts if isinstance(value, ast.Tuple) else [value]
        names = [item.id if isinstance(item, ast.Name) else None for item in items]
        return start + returns[0].lineno - 1, names


def shapes_text(shapes: list[tuple[int, ...]]) -> str:
    return " and ".join(show(tuple(s)) for s in shapes)
