"""Training runs in a child process: the app's side of it.

A run started from the app trains in a process of its own (`engine.process.child`), so the
trainer's Python never competes with the window's for one interpreter lock, and a crash
in the run (a Custom layer calling `os._exit`, the kernel killing it for memory) ends the
run, not the app.

`TrainingProcess` starts the child and trains one `RunRequest` at a time in it, calling
a listener back with what the child reports (the plan, bursts of batch losses, epoch
rows, pause and resume) and returning the run's `RunOutcome`. Stop, pause and resume
may be sent from any thread while `follow` waits. A child serves run after run: `take`
hands out an idle one (starting one if none is idle) and `give_back` keeps it for the
next run, so only the first run waits for the child to import torch.

Messages travel pickled over two one-way pipes; tensors travel as copies.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import pickle
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from engine.errors import TrainingError

if TYPE_CHECKING:
    from engine.document.project import Project
    from engine.runs.evaluation import TrainedModel
    from engine.runs.store import RunRecord

CONTEXT = multiprocessing.get_context("spawn")  # never fork a process that runs Qt
CONTROLS = ("stop", "pause", "resume")
KEEP_IDLE = 1  # children kept for the next run


@dataclass
class RunRequest:
    """One run: the project as a dict (engine.document.project.to_dict), its file (for relative
    data paths), the folder that keeps the run (engine.runs.store), and the stopped run it
    continues, with that run's own settings."""

    document: dict[str, Any]
    path: Path | None = None
    run_folder: Path | None = None
    resume: RunRecord | None = None


@dataclass
class RunOutcome:
    """What a run that trained (however it ended) sends back.

    summary: TrainResult.summary(), plus "run_error" when the run could not be kept.
    record: the saved run, when it was. trained: the model with its validation data,
    its module left out (`weights` carries the state_dict; see `trained_model`).
    evaluation: engine.runs.evaluation.evaluate of it.
    """

    summary: dict[str, Any]
    record: RunRecord | None = None
    trained: TrainedModel | None = None
    weights: dict[str, Any] | None = None
    evaluation: list | None = None


class RunListener(Protocol):
    """What `TrainingProcess.follow` calls, in the thread that called it."""

    def on_started(self, plan: dict[str, Any]) -> None: ...

    def on_batches(self, losses: list[tuple[int, int, float]], progress: dict) -> None: ...

    def on_epoch(self, row: dict[str, Any]) -> None: ...

    def on_paused(self) -> None: ...

    def on_resumed(self) -> None: ...


class TrainingProcess:
    """A child process that trains the runs it is given, one at a time."""

    def __init__(self) -> None:
        from engine.process.child import serve

        control_end, self._control = CONTEXT.Pipe(duplex=False)
        self._events, events_end = CONTEXT.Pipe(duplex=False)
        self._process = CONTEXT.Process(
            target=serve, args=(control_end, events_end), name="torchwright-training", daemon=True
        )
        self._process.start()
        control_end.close()  # the child's ends: once it has gone, reads here end
        events_end.close()
        self._lock = threading.Lock()

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    def begin(self, request: RunRequest) -> None:
        """Send the child `request` to train; stop, pause and resume go to that run
        from then on, and `follow` hears it out."""
        self._send(("run", request))

    def follow(self, listener: RunListener) -> RunOutcome:
        """Report the run begun to `listener` until it ends. Raises TrainingError with
        the run's one-line message (and the node it is on, if any) when it could not
        train, or when the child ended."""
        while True:
            kind, *args = self._receive()
            if kind == "done":
                return args[0]
            if kind == "failed":
                message, node_id = args
                raise TrainingError(message, node_id=node_id)
            getattr(listener, f"on_{kind}")(*args)

    def control(self, command: str) -> None:
        """ "stop", "pause" or "resume" the run, from any thread."""
        if command not in CONTROLS:
            raise ValueError(f"unknown command {command!r}")
        self._send((command,))

    def kill(self) -> None:
        """End the child at once (a run then fails with a message)."""
        self._process.kill()

    def close(self, timeout: float = 5.0) -> None:
        """Let the child finish and go; kill it if it does not within `timeout` s."""
        self._send(("quit",))
        self._process.join(timeout)
        if self._process.is_alive():
            self.kill()
            self._process.join()
        self._control.close()
        self._events.close()

    def _send(self, message: tuple) -> None:
        data = pickle.dumps(message)
        # OSError: the child has gone, and `follow` says so
        with self._lock, contextlib.suppress(OSError):
            self._control.send_bytes(data)

    def _receive(self) -> tuple:
        try:
            return pickle.loads(self._events.recv_bytes())
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


def trained_model(outcome: RunOutcome, project: Project) -> TrainedModel | None:
    """The run's trained model in this process: `project`'s graph (the one the run
    trained) built here, with the run's weights."""
    if outcome.trained is None or outcome.weights is None:
        return None
    from engine.model.build import build_model

    module = build_model(project.graph, project.name).module
    module.load_state_dict(outcome.weights)
    return replace(outcome.trained, module=module)
