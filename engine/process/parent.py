"""Training runs in a child process: the app's side of it.

A run started from the app trains in a process of its own (`engine.process.child`), so the
trainer's Python never competes with the window's for one interpreter lock, and a crash
in the run (a Custom layer calling `os._exit`, the kernel killing it for memory) ends the
run, not the app.

`TrainingProcess` starts the child and trains one run at a time in it: `send` it a
`Train`, then `follow` hands each event the child reports (the plan, bursts of batch
losses, epoch rows, pause and resume) to its handler by type and returns the run's `Done`.
Stop, pause and resume may be sent from any thread while `follow` waits. A child serves
run after run: `take` hands out an idle one (starting one if none is idle) and
`give_back` keeps it for the next run, so only the first run waits for the child to
import torch.

The two sides speak `engine.process.protocol` and neither imports the other. The new
process starts on `_child_main`, which imports the child's module by the name in `CHILD`:
so importing this module loads neither torch nor the trainer, and the child's module,
which needs both, needs nothing from this one.

Messages travel pickled over two one-way pipes; tensors travel as copies.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import threading
from dataclasses import replace
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING

from engine.document.trust import NOT_ALLOWED, Trust
from engine.errors import TrainingError
from engine.process.protocol import (
    Control,
    Done,
    Event,
    Failed,
    Handlers,
    ProtocolError,
    Quit,
    decode,
    dispatch,
    encode,
)

if TYPE_CHECKING:
    from engine.document.project import Project
    from engine.runs.evaluation import TrainedModel

CONTEXT = multiprocessing.get_context("spawn")  # never fork a process that runs Qt
CHILD = "engine.process.child"  # the module whose `serve` runs in the new process
KEEP_IDLE = 1  # children kept for the next run


def _child_main(control: Connection, events: Connection) -> None:
    """What the new process runs (it imports this module to find it)."""
    importlib.import_module(CHILD).serve(control, events)


class TrainingProcess:
    """A child process that trains the runs it is given, one at a time."""

    def __init__(self) -> None:
        control_end, self._control = CONTEXT.Pipe(duplex=False)
        self._events, events_end = CONTEXT.Pipe(duplex=False)
        self._process = CONTEXT.Process(
            target=_child_main,
            args=(control_end, events_end),
            name="torchwright-training",
            daemon=True,
        )
        self._process.start()
        control_end.close()  # the child's ends: once it has gone, reads here end
        events_end.close()
        self._lock = threading.Lock()

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    def send(self, control: Control) -> None:
        """Send the child a control, from any thread: `Train` a run (stop, pause and
        resume then go to that run, and `follow` hears it out), or steer it."""
        if not isinstance(control, Control):
            raise ProtocolError(f"{type(control).__name__} is not a control for the child")
        data = encode(control)
        # OSError: the child has gone, and `follow` says so
        with self._lock, contextlib.suppress(OSError):
            self._control.send_bytes(data)

    def follow(self, handlers: Handlers) -> Done:
        """Hand each event of the run begun to its handler in `handlers`, until the run
        ends. Raises TrainingError with the run's one-line message (and the node it is
        on, if any) when it could not train, or when the child ended; ProtocolError for
        an event with no handler.

        A handler that raises leaves the rest of the run unheard, so the child is killed
        then: it must not be given back with a run still going.
        """
        while True:
            event = self._receive()
            if isinstance(event, Done):
                return event
            if isinstance(event, Failed):
                raise TrainingError(event.message, node_id=event.node_id)
            try:
                dispatch(event, handlers)
            except BaseException:
                self.kill()
                raise

    def kill(self) -> None:
        """End the child at once (a run then fails with a message)."""
        self._process.kill()

    def close(self, timeout: float = 5.0) -> None:
        """Let the child finish and go; kill it if it does not within `timeout` s."""
        self.send(Quit())
        self._process.join(timeout)
        if self._process.is_alive():
            self.kill()
            self._process.join()
        self._control.close()
        self._events.close()

    def _receive(self) -> Event:
        try:
            return decode(self._events.recv_bytes())
        except (EOFError, OSError):
            self._process.join(5)
            raise TrainingError(ended_message(self._process.exitcode)) from None


def ended_message(exit_code: int | None) -> str:
    if exit_code is None:
        how = "it did not say why"
    elif exit_code < 0:
        how = f"killed by signal {-exit_code}"
    else:
        how = f"exit code {exit_code}"
    return (
        f"the training process ended unexpectedly ({how}); the app is fine and the next "
        "run starts a new one"
    )


# --- children kept between runs ----------------------------------------------------------

_idle: list[TrainingProcess] = []
_idle_lock = threading.Lock()


def take() -> TrainingProcess:
    """An idle child, or a new one."""
    with _idle_lock:
        while _idle:
            process = _idle.pop()
            if process.alive:
                return process
    return TrainingProcess()


def give_back(process: TrainingProcess) -> None:
    """Keep `process` for the next run (or close it, when enough are kept)."""
    with _idle_lock:
        if process.alive and len(_idle) < KEEP_IDLE:
            _idle.append(process)
            return
    process.close()


def warm() -> None:
    """Start a child now, so the next run does not wait for it to import torch."""
    with _idle_lock:
        if not any(process.alive for process in _idle):
            _idle.append(TrainingProcess())


def trained_model(done: Done, project: Project, trust: Trust = NOT_ALLOWED) -> TrainedModel | None:
    """The run's trained model in this process: `project`'s graph (the one the run
    trained) built here, under the run's `trust`, with the run's weights."""
    if done.trained is None or done.weights is None:
        return None
    from engine.model.build import build_model

    module = build_model(project.graph, project.name, trust=trust).module
    module.load_state_dict(done.weights)
    return replace(done.trained, module=module)
