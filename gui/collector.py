"""Python's cycle collector, run in the GUI thread and kept short.

pyqtgraph's `GarbageCollector` turns automatic collection off and collects on a timer in
the GUI thread: a collection in the training thread could destroy Qt objects there,
which deadlocks. A full collection still walks every object that can hold references:
with torch, scipy and Qt loaded, a third of a second with the window frozen, about once
a minute while a run goes. What a module defines lives as long as the program, so
whenever modules have been imported, everything alive is set aside first (`gc.freeze`):
collections then walk only what came later. Frozen objects are still freed when their
last reference goes; only a cycle among them waits for `release`, when the window
closes.
"""

from __future__ import annotations

import atexit
import gc
import sys

from pyqtgraph.util.garbage_collector import GarbageCollector

INTERVAL_S = 0.5

# A window that never closed leaves its objects set aside; at exit they must be among
# those Python collects while Qt is still there, as without `gc.freeze`.
atexit.register(gc.unfreeze)


class Collector(GarbageCollector):
    def __init__(self) -> None:
        self._modules = 0  # how many were imported at the last `settle`
        super().__init__(interval=INTERVAL_S)

    def check(self) -> None:
        """On the timer: set aside what is new and long-lived, then collect."""
        self.settle()
        super().check()

    def settle(self) -> None:
        """Set aside what is alive now, if modules were imported since the last time."""
        if len(sys.modules) != self._modules:
            self._modules = len(sys.modules)
            gc.freeze()

    def release(self) -> None:
        """Stop, and let collections walk everything again (the window is closing).
        Collection stays off, as pyqtgraph leaves it: a collection that comes at any
        moment may destroy Qt objects at a moment Qt does not expect."""
        self.timer.stop()
        gc.unfreeze()
