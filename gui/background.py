"""Work off the GUI thread, with the result handed back to it.

`in_background(work, done, tag)` calls `work()` in a thread of its own and then
`done(tag, result, error)` in the GUI thread: `error` is the exception `work` raised (and
`result` None), or None. `done` must be a slot of a QObject living in the GUI thread:
the call is queued to it, and dropped if that object is gone by then.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal


class _Delivery(QObject):
    done = Signal(object, object, object)  # tag, result, error


def in_background(
    work: Callable[[], Any], done: Callable[[Any, Any, Exception | None], None], tag: Any = None
) -> None:
    delivery = _Delivery()
    delivery.done.connect(done)
    threading.Thread(
        target=_run, args=(work, delivery, tag), name="torchwright-background", daemon=True
    ).start()


def _run(work: Callable[[], Any], delivery: _Delivery, tag: Any) -> None:
    try:
        result = work()
    except Exception as exc:  # handed to `done`, which says what went wrong
        delivery.done.emit(tag, None, exc)
    else:
        delivery.done.emit(tag, result, None)
