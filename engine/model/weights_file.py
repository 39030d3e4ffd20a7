"""Reading a weights file: safetensors, or a `.pt` holding a plain state_dict of tensors.

Reading never unpickles code: safetensors holds only tensors, and a `.pt` is opened with
`torch.load(weights_only=True)`. torch is imported only inside the functions, as the
GUI lists runs (and names their files' problems) before torch has loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.document.files import not_a_file
from engine.errors import UserError

# Where training checkpoints keep the model's state_dict beside the optimizer's.
CHECKPOINT_KEYS = ("state_dict", "model_state_dict", "model")


class WeightsError(UserError):
    """A weights file that cannot be read, or does not fit; the message names the file."""


def read_weights(source: Path) -> dict[str, Any]:
    """The tensors of a safetensors file or of a `.pt` state_dict, on the CPU."""
    if source.exists() and (why := not_a_file(source)):
        raise WeightsError(f"cannot read weights {str(source)!r}: {why}")
    return _read_safetensors(source) if _is_safetensors(source) else _read_pt(source)


def _is_safetensors(source: Path) -> bool:
    """A safetensors file starts with its header's length (8 bytes) and then the JSON
    header; a torch.save file starts with a zip or a pickle signature."""
    try:
        with source.open("rb") as handle:
            return handle.read(9)[8:] == b"{"
    except FileNotFoundError:
        raise WeightsError(f"weights file {str(source)!r} does not exist") from None
    except OSError as exc:
        raise WeightsError(f"cannot read weights file {str(source)!r}: {exc.strerror}") from None


def _read_safetensors(source: Path) -> dict[str, Any]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(source)
    except (OSError, SafetensorError) as exc:
        raise WeightsError(f"cannot read weights file {str(source)!r}: {exc}") from None


def _read_pt(source: Path) -> dict[str, Any]:
    import torch

    try:
        weights = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch's own message runs to many lines about pickling
        raise WeightsError(
            f"{str(source)!r} cannot be read as plain tensors: it is damaged, or not a "
            f"weights file, or would need code run to load it ({type(exc).__name__})"
        ) from None
    if isinstance(weights, dict):  # a checkpoint that holds the state_dict beside other things
        inner = next(
            (weights[k] for k in CHECKPOINT_KEYS if isinstance(weights.get(k), dict)), None
        )
        weights = weights if inner is None else inner
    if not isinstance(weights, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in weights.items()
    ):
        raise WeightsError(
            f"{str(source)!r} holds {type(weights).__name__}, not a state_dict of tensors"
        )
    return weights
