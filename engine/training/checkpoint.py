"""Training checkpoints: written atomically, read without unpickling code.

A checkpoint is a dict of tensors and plain containers (see `run_state`),
saved with `torch.save` to a temporary file in the target folder and moved into place
with `os.replace`, so a crash never leaves half a file under the real name. Loading uses
`torch.load(weights_only=True)`: nothing in the file can run code.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine.document.files import atomic_write, not_a_file
from engine.errors import TrainingError
from engine.training.setup import Run

FORMAT = "torchwright-checkpoint"
VERSION = 1


class CheckpointError(TrainingError):
    """A checkpoint that cannot be written, read or used; the message names the file."""


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    target = Path(path)
    payload = {"format": FORMAT, "version": VERSION, **state}
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, lambda handle: torch.save(payload, handle))
    except OSError as exc:
        raise CheckpointError(f"cannot write checkpoint {str(target)!r}: {exc.strerror}") from exc


def snapshot(value: Any) -> Any:
    """A copy of checkpoint state that later training leaves alone: tensors cloned,
    dicts, lists and tuples rebuilt, plain values (numbers, strings, None) shared, since
    nothing changes them in place. A tenth of `copy.deepcopy`'s cost, which a run of
    thousands of one-batch epochs paid at every epoch, a quarter of its time."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return {key: snapshot(item) for key, item in value.items()}
    if isinstance(value, list):
        return [snapshot(item) for item in value]
    if isinstance(value, tuple):
        return tuple(snapshot(item) for item in value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return copy.deepcopy(value)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """The saved state, on the CPU; raises CheckpointError for a missing or foreign file."""
    source = Path(path)
    if source.exists() and (why := not_a_file(source)):
        raise CheckpointError(f"checkpoint {str(source)!r} {why}")
    try:
        state = torch.load(source, map_location="cpu", weights_only=True)
    except FileNotFoundError as exc:
        raise CheckpointError(f"checkpoint {str(source)!r} does not exist") from exc
    except Exception as exc:  # torch's own message runs to many lines about pickling
        raise CheckpointError(
            f"{str(source)!r} is not a Torchwright training checkpoint "
            f"(torch cannot read it: {type(exc).__name__})"
        ) from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{str(source)!r} is not a Torchwright training checkpoint")
    if state.get("version") != VERSION:
        raise CheckpointError(
            f"checkpoint {str(source)!r} has version {state.get('version')!r}; "
            f"this Torchwright reads version {VERSION}"
        )
    return state


def run_state(run: Run, model: nn.Module, settings: dict[str, Any], labels: list[str]) -> dict:
    """Everything needed to continue `run` exactly where it is (after a completed epoch)."""
    scaler = run.precision.scaler
    return {
        "epoch": run.epochs_done,
        "output_labels": list(labels),
        "optimizer_name": settings["optimizer"],
        "scheduler_name": settings["scheduler"],
        "model": model.state_dict(),
        "optimizer": run.optimizer.state_dict(),
        "scheduler": run.schedule.state_dict(),
        "scaler": None if scaler is None else scaler.state_dict(),
        "rng": _rng_state(run),
        "history": run.history,
        "early_stopping": run.early.state_dict(),
        "threads": run.threads,
    }


def restore_run(
    run: Run,
    model: nn.Module,
    state: dict[str, Any],
    settings: dict[str, Any],
    labels: list[str],
    source: str,
) -> None:
    """Put a saved state into a freshly prepared run (same model, settings and data)."""
    _check_compatible(state, settings, labels, source)
    try:
        model.load_state_dict(state["model"])
        run.optimizer.load_state_dict(state["optimizer"])
        run.schedule.load_state_dict(state["scheduler"])
        if run.precision.scaler is not None and state["scaler"] is not None:
            run.precision.scaler.load_state_dict(state["scaler"])
        _set_rng_state(run, state["rng"])
        run.early.load_state_dict(state["early_stopping"])
    except (KeyError, RuntimeError, ValueError, TypeError) as exc:
        raise CheckpointError(
            f"checkpoint {source!r} does not fit this model and settings: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    run.history = list(state["history"])
    run.epochs_done = int(state["epoch"])
    run.threads = int(state.get("threads", 0))  # 0 in checkpoints from before it was kept


def _check_compatible(
    state: dict[str, Any], settings: dict[str, Any], labels: list[str], source: str
) -> None:
    if state.get("output_labels") != list(labels):
        raise CheckpointError(
            f"checkpoint {source!r} was saved for outputs {state.get('output_labels')}, "
            f"not {list(labels)}"
        )
    for key, what in (("optimizer", "optimizer"), ("scheduler", "scheduler")):
        saved = state.get(f"{key}_name")
        if saved != settings[key]:
            raise CheckpointError(
                f"checkpoint {source!r} was saved with the {saved} {what}, "
                f"but the settings ask for {settings[key]}"
            )


def _rng_state(run: Run) -> dict[str, Any]:
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if run.device.type == "cuda" else [],
        "shuffle": run.shuffle.get_state(),
        "augment": None if run.augment is None else run.augment.generator.get_state(),
    }


def _set_rng_state(run: Run, rng: dict[str, Any]) -> None:
    torch.set_rng_state(rng["torch"])
    if run.device.type == "cuda" and rng["cuda"]:
        torch.cuda.set_rng_state_all(rng["cuda"])
    run.shuffle.set_state(rng["shuffle"])
    if run.augment is not None and rng.get("augment") is not None:
        run.augment.generator.set_state(rng["augment"])
