"""The one vocabulary between the app and its training process: every message, typed.

Controls go down, from the parent (`engine.process.parent`) to the child
(`engine.process.child`): `Train` a run, `Stop`, `Pause` or `Resume` it, `Quit`. Events
come up: how `Decoding` an image folder goes, the run `Started` (its plan), `Batches` of
losses, each `Epoch`'s row, `Paused`, `Resumed`, and last `Done` (what the run made) or
`Failed` (why it could not train).

Messages are frozen dataclasses of plain data (dicts, lists, numbers, tensors), so they
pickle across the spawn pipe (`encode`, `decode`). Each end handles a message by its type
(`dispatch`, or a `match` on the class), never by a name built from a string.

`PendingControls` is the one rule for a stop, pause or resume wished before its receiver
is ready (the child before its trainer exists, the app's worker before its process does).

The parent and the child both import this module and neither imports the other: the
parent names the child's module as a string and imports it only in the new process (see
`engine.process.parent.CHILD`), so importing the parent never loads torch.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.document.trust import NOT_ALLOWED, Trust

if TYPE_CHECKING:
    from engine.runs.evaluation import TrainedModel
    from engine.runs.evaluation_results import OutputEvaluation
    from engine.runs.store import RunRecord

BatchLoss = tuple[int, int, float]  # (epoch, batch, loss), both numbers counted from 1


class ProtocolError(RuntimeError):
    """A message the receiving end does not handle: a bug in the app, not the user's."""


# --- controls: parent -> child -------------------------------------------------------------


@dataclass(frozen=True)
class Train:
    """Train one run: the project as a dict (engine.document.project.to_dict), its file
    (for relative data paths), the folder that keeps the run (engine.runs.store), the
    stopped run it continues, with that run's own settings, and which Custom layers'
    code may run (engine.document.trust)."""

    document: dict[str, Any]
    path: Path | None = None
    run_folder: Path | None = None
    resume: RunRecord | None = None
    trust: Trust = NOT_ALLOWED


@dataclass(frozen=True)
class Stop:
    """End the run after the current batch, keeping what it trained; wakes a paused run."""


@dataclass(frozen=True)
class Pause:
    """Hold the run after the current batch until resumed or stopped."""


@dataclass(frozen=True)
class Resume:
    """Go on with a paused run, or withdraw a pause not yet taken."""


@dataclass(frozen=True)
class Quit:
    """The child finishes what it is doing and ends."""


Steer = Stop | Pause | Resume  # the controls that steer a run under way
Control = Train | Steer | Quit


# --- events: child -> parent ---------------------------------------------------------------


@dataclass(frozen=True)
class Decoding:
    """Before the run starts: images of an image folder decoded into the cache so far,
    of how many (engine.data.image_cache); only the first time a folder is read."""

    done: int
    total: int


@dataclass(frozen=True)
class Started:
    """plan: the trainer's plan (epochs, start_epoch, batches_per_epoch, train_samples,
    val_samples, device) with the batch_size."""

    plan: dict[str, Any]


@dataclass(frozen=True)
class Batches:
    """The batch losses trained since the last `Batches`, oldest first, and the newest
    progress estimate (engine.training.progress.ProgressMeter.batch); the layer records
    made since (engine.training.diagnosis.Record), and, when there are any, what they
    say now: node id -> warnings (`Diagnosis.warnings`)."""

    losses: tuple[BatchLoss, ...]
    progress: dict[str, Any]
    layers: tuple[dict[str, Any], ...] = ()
    warnings: dict[str, list[str]] | None = None


@dataclass(frozen=True)
class Epoch:
    """An epoch ended; row: its history entry."""

    row: dict[str, Any]


@dataclass(frozen=True)
class Paused:
    """The run is held until resumed or stopped."""


@dataclass(frozen=True)
class Resumed:
    """The run goes on after a pause."""


@dataclass(frozen=True)
class Done:
    """The run trained, however it ended; the last event of a run that did.

    summary: TrainResult.summary(), plus "run_error" when the run could not be kept.
    record: the saved run, when it was. trained: the model with its validation data, its
    module left out (`weights` carries the state_dict; engine.process.parent.trained_model
    puts them together). evaluation: engine.runs.evaluation.evaluate of it. document:
    the project as it trained (engine.document.project.to_dict), its graph taking from
    the data what follows it (an Input's shape): the graph to build the trained model of.
    """

    summary: dict[str, Any]
    record: RunRecord | None = None
    trained: TrainedModel | None = None
    weights: dict[str, Any] | None = None
    evaluation: list[OutputEvaluation] | None = None
    document: dict[str, Any] | None = None


@dataclass(frozen=True)
class Failed:
    """The run could not train; message: one line for the user; node_id: the layer the
    error was raised in, when it was raised in the model. The last event of a run."""

    message: str
    node_id: str | None = None


Event = Decoding | Started | Batches | Epoch | Paused | Resumed | Done | Failed
Message = Control | Event


# --- on the pipe ---------------------------------------------------------------------------


def encode(message: Message) -> bytes:
    return pickle.dumps(message)


def decode(data: bytes) -> Message:
    return pickle.loads(data)


Handlers = Mapping[type, Callable[[Any], object]]  # a message's type -> what handles it


def dispatch(message: Message, handlers: Handlers) -> object:
    """Call the handler of `message`'s type with it; ProtocolError when there is none."""
    handler = handlers.get(type(message))
    if handler is None:
        known = ", ".join(sorted(kind.__name__ for kind in handlers))
        raise ProtocolError(f"no handler for {type(message).__name__} (this end handles {known})")
    return handler(message)


# --- wishes made before the receiver is ready ----------------------------------------------


class PendingControls:
    """Stop, pause and resume wished before their receiver is ready, kept as what they add
    up to: a stop wins over everything (it wakes a paused run too), a resume cancels a
    pause wished before it, and a pause wished after a resume holds.

    Not locked: its owner keeps it under the lock that guards the receiver.
    """

    def __init__(self) -> None:
        self._stop = False
        self._pause = False

    def add(self, control: Steer) -> None:
        match control:
            case Stop():
                self._stop = True
            case Pause():
                self._pause = True
            case Resume():
                self._pause = False
            case _:
                raise ProtocolError(f"{type(control).__name__} is not a wish to keep")

    def take(self) -> Stop | Pause | None:
        """The one control the wishes add up to (None: nothing to do), and forget them."""
        wish = Stop() if self._stop else Pause() if self._pause else None
        self.clear()
        return wish

    def clear(self) -> None:
        self._stop = self._pause = False
