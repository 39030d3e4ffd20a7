"""Where training runs, and in which precision.

Mixed precision is used only on CUDA. On the CPU (and MPS) the setting is ignored
without a message: float32 is what those devices train fastest and most reliably in,
and a project saved on a GPU machine should still train unchanged on a laptop.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager

import torch

from engine.errors import TrainingError


def resolve_device(name: str) -> torch.device:
    """'auto' picks cuda, then mps, then cpu; an explicit device must exist."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda":
        _check_cuda(name, device.index)
    elif device.type == "mps" and not _mps_available():
        raise TrainingError("device 'mps' is not available here; choose auto or cpu")
    return device


def _check_cuda(name: str, index: int | None) -> None:
    if not torch.cuda.is_available():
        raise TrainingError(
            f"device {name!r} is not available: PyTorch sees no CUDA GPU here; choose auto or cpu"
        )
    count = torch.cuda.device_count()
    if index is not None and index >= count:
        raise TrainingError(
            f"device {name!r} is not available: this machine has {count} CUDA GPU(s), "
            f"cuda:0 to cuda:{count - 1}"
        )


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


class Precision:
    """Autocast and gradient scaling for one run; a no-op unless CUDA and requested.

    bfloat16 is preferred where the GPU supports it (no loss scaling needed);
    otherwise float16 with a GradScaler.
    """

    def __init__(self, device: torch.device, requested: bool):
        self.enabled = bool(requested) and device.type == "cuda"
        self.dtype = torch.float32
        self.scaler: torch.amp.GradScaler | None = None
        if self.enabled:
            self.dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
            if self.dtype == torch.float16:
                self.scaler = torch.amp.GradScaler("cuda")
        self.autocast: Callable[[], AbstractContextManager] = (
            self._cuda_autocast if self.enabled else contextlib.nullcontext
        )

    def _cuda_autocast(self) -> AbstractContextManager:
        return torch.autocast("cuda", dtype=self.dtype)

    def float_outputs(self, outputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        """Outputs for the losses: float32 under mixed precision, as autocast would cast
        them, but outside autocast so BCELoss (which autocast refuses) works too."""
        return tuple(o.float() for o in outputs) if self.enabled else outputs


def available_devices() -> list[tuple[str, str]]:
    """(setting, description) for every device this machine can train on, "auto" first:
    the CPU, each CUDA GPU with its name and memory, and MPS."""
    choices = [("auto", _auto_description()), ("cpu", "CPU")]
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            memory = props.total_memory / 2**30
            choices.append((f"cuda:{index}", f"GPU {index}: {props.name} ({memory:.0f} GiB)"))
    if _mps_available():
        choices.append(("mps", "Apple GPU (MPS)"))
    return choices


def _auto_description() -> str:
    picked = resolve_device("auto").type
    return {"cuda": "Auto (CUDA GPU)", "mps": "Auto (Apple GPU)"}.get(picked, "Auto (CPU)")
