"""Weights files: safetensors, or a `.pt` holding a plain state_dict of tensors.

Reading never unpickles code: safetensors holds only tensors, and a `.pt` is opened with
`torch.load(weights_only=True)`. Every file is written atomically.

engine.runs.store names its mismatches with `weights_mismatch`, and the GUI lists runs before
torch has loaded, so this module imports torch only inside the functions that need it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.document.files import atomic_write
from engine.errors import UserError
from engine.model.weights_file import WeightsError, read_weights

if TYPE_CHECKING:
    from torch import Tensor, nn


class DeployError(UserError):
    """A model or weights file that cannot be written, verified or read; the message
    names the format or the file."""


def save_safetensors(module: nn.Module, path: str | os.PathLike) -> Path:
    """Write the module's weights as safetensors, the class name in the metadata."""
    data = safetensors_bytes(module)
    return atomic_write(path, lambda handle: handle.write(data))


def safetensors_bytes(module: nn.Module) -> bytes:
    """The module's weights as a safetensors file's bytes."""
    from safetensors.torch import save

    return save(_tensors(module), metadata={"model_class": type(module).__name__})


def save_state_dict(module: nn.Module, path: str | os.PathLike) -> Path:
    """Write the module's weights with `torch.save`: a dict of tensors and nothing else,
    so that `torch.load(weights_only=True)` reads it."""
    import torch

    tensors = _tensors(module)
    return atomic_write(path, lambda handle: torch.save(tensors, handle))


def _tensors(module: nn.Module) -> dict[str, Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}


def load_weights(path: str | os.PathLike, module: nn.Module) -> list[str]:
    """Load a file written by `save_safetensors` or `save_state_dict` (or any safetensors
    file or `.pt` state_dict) into `module`, strictly: every name and shape must match,
    and every value be finite (NaN weights would export a model that checks "equal" to
    itself and predicts nothing). Returns notes for the user: tensors of another dtype,
    which loading casts."""
    source = Path(path)
    try:
        weights = read_weights(source)
    except WeightsError as exc:
        raise DeployError(str(exc)) from None
    expected = module.state_dict()
    mismatch = weights_mismatch(weights, expected, "the file")
    if mismatch:
        raise DeployError(f"the weights in {str(source)!r} do not fit the model: {mismatch}")
    for key, tensor in weights.items():
        if (tensor.is_floating_point() or tensor.is_complex()) and not tensor.isfinite().all():
            raise DeployError(f"the weights in {str(source)!r} are not all finite: {key!r}")
    cast = [key for key, tensor in weights.items() if tensor.dtype != expected[key].dtype]
    module.load_state_dict(weights, strict=True)
    if not cast:
        return []
    first = cast[0]
    return [
        f"{first!r}{_more(cast)} is {_dtype(weights[first])} in {str(source)!r}, loaded "
        f"as the model's {_dtype(expected[first])}"
    ]


def _dtype(tensor: Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")


def weights_mismatch(saved: dict[str, Any], expected: dict[str, Any], where: str) -> str:
    """The first difference between saved tensors and the model's, in words ("" when
    every name and shape agrees); `where` names the saved side, e.g. "the run"."""
    missing = [key for key in expected if key not in saved]
    if missing:
        return f"{where} has no {missing[0]!r}" + _more(missing)
    extra = [key for key in saved if key not in expected]
    if extra:
        return f"the model has no {extra[0]!r}" + _more(extra)
    for key, tensor in expected.items():
        if tuple(saved[key].shape) != tuple(tensor.shape):
            return (
                f"{key!r} is {list(saved[key].shape)} in {where} "
                f"but {list(tensor.shape)} in the model"
            )
    return ""


def _more(keys: list[str]) -> str:
    return f" (and {len(keys) - 1} more)" if len(keys) > 1 else ""
