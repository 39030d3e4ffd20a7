"""Exceptions raised inside a generated model, traced back to the layer whose line raised
them, so that the message can name the layer and the app can show its node.

Generated source runs under a file name made from its text (`model_filename`): the same
text gets the same name wherever it is loaded, a run's model.py included. `remember`
keeps, for that name, the layer each line was written for (`GeneratedCode.lines`). Of an
exception's traceback, the innermost frame whose line has a layer names it: a Custom
layer's own line first, else the model's line that called the layer. A Custom class that
several nodes share belongs to none of them, and the model's line tells which one it was.

Nothing here needs torch.
"""

from __future__ import annotations

import hashlib
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from engine.errors import UserError, exit_text

E = TypeVar("E", bound=UserError)


class ModelRuntimeError(UserError):
    """The model raised an error while it ran, where no other error fits (on one sample
    the user tries it on, say); the message names the layer, `node_id` is its node."""


@dataclass(frozen=True)
class Layer:
    """A node as an error message names it."""

    node_id: str
    label: str
    type: str

    def __str__(self) -> str:
        return f"layer {self.label!r} ({self.type})"


@dataclass(frozen=True)
class Failure:
    """An exception as the user reads it: `text`, led by the layer that raised it when a
    generated model's line did, and that layer's node."""

    text: str
    node_id: str | None = None

    def error(self, kind: type[E], context: str) -> E:
        """A `kind` error saying "<context>: <text>", on this failure's node."""
        return kind(f"{context}: {self.text}", node_id=self.node_id)


_layers: dict[str, dict[int, Layer]] = {}  # file name -> line number -> layer


def model_filename(source: str) -> str:
    """The file name model source is compiled under, e.g. "<model 3f9a0c21d4e7>"."""
    digest = hashlib.sha1(source.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"<model {digest}>"


def remember(source: str, layers: dict[int, Layer]) -> None:
    """Keep the layer of each line (from 1) of `source`, for `failing_layer`."""
    _layers[model_filename(source)] = layers


def failing_layer(exc: BaseException | None) -> Layer | None:
    """The layer whose line raised `exc`, or an exception it was raised from or while
    handling; None when no line of a remembered model did (or `exc` is None)."""
    found = _raised_in_layer(exc)
    return found[0] if found else None


def failure(exc: BaseException, describe: Callable[[BaseException], str] | None = None) -> Failure:
    """`exc` for the user: `describe(exc)` (by default "Type: message"), or, when a line of
    a generated model raised it (or an exception it comes from), "in layer 'fc1' (Linear): "
    and `describe` of the exception that line raised."""
    describe = describe or _type_and_message
    found = _raised_in_layer(exc)
    if found is None:
        return Failure(describe(exc))
    layer, error = found
    return Failure(f"in {layer}: {describe(error)}", layer.node_id)


def _type_and_message(exc: BaseException) -> str:
    """Our own errors say what is wrong in a sentence; others are named by their type."""
    if isinstance(exc, SystemExit):
        return exit_text(exc)
    if isinstance(exc, UserError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _raised_in_layer(exc: BaseException | None) -> tuple[Layer, BaseException] | None:
    """The innermost layer's line in the tracebacks of `exc` and the exceptions it comes
    from, and the exception raised through it."""
    for error in _chain(exc):
        for frame, line in reversed(list(traceback.walk_tb(error.__traceback__))):
            layer = _layers.get(frame.f_code.co_filename, {}).get(line)
            if layer is not None:
                return layer, error
    return None


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    current = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__
