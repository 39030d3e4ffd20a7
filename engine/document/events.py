"""What a graph says when it changes, and the listeners it says it to.

Each change is its own event type, so listeners dispatch with `isinstance` or `match`
rather than on strings. A listener that is a bound method is held weakly: a view that is
dropped stops listening without having to unsubscribe (a Qt view's Python side may go
before its last event). Plain functions and methods of objects that cannot be weakly
referenced are held strongly, until their unsubscribe function is called.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.document.graph import Edge


@dataclass(frozen=True)
class NodeEvent:
    node_id: str


class NodeAdded(NodeEvent):
    pass


class NodeRemoved(NodeEvent):
    pass


class NodeChanged(NodeEvent):
    """Its parameters or its label changed."""


class NodeMoved(NodeEvent):
    """Only its position changed."""


@dataclass(frozen=True)
class EdgeEvent:
    edge: Edge

    @property
    def node_id(self) -> str:
        """The node whose inputs changed."""
        return self.edge.dst


class EdgeAdded(EdgeEvent):
    pass


class EdgeRemoved(EdgeEvent):
    pass


GraphEvent = NodeEvent | EdgeEvent
Listener = Callable[[GraphEvent], None]


class Listeners:
    """The listeners of one graph, in the order they subscribed."""

    def __init__(self) -> None:
        self._refs: list[Callable[[], Listener | None]] = []

    def add(self, listener: Listener) -> Callable[[], None]:
        """Subscribe `listener`; returns the function that unsubscribes it."""
        ref = _reference(listener)
        self._refs.append(ref)

        def unsubscribe() -> None:
            if ref in self._refs:
                self._refs.remove(ref)

        return unsubscribe

    def send(self, event: GraphEvent) -> None:
        for ref in list(self._refs):
            listener = ref()
            if listener is None:
                self._refs.remove(ref)
            else:
                listener(event)

    def __len__(self) -> int:
        return sum(ref() is not None for ref in self._refs)


def _reference(listener: Listener) -> Callable[[], Listener | None]:
    if hasattr(listener, "__self__") and hasattr(listener, "__func__"):
        try:
            return weakref.WeakMethod(listener)
        except TypeError:  # its object cannot be weakly referenced
            pass
    return lambda: listener
