"""What a torch.fx node stands for while forward() becomes a graph: a tensor on a wire,
or one of the things that are not a tensor yet (what an LSTM returns, a shape, the batch
size), or a value no layer can take (`BAD`, already reported)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.layers.params import show


@dataclass(frozen=True)
class Wire:
    node_id: str


@dataclass(frozen=True)
class Recurrent:
    """What an LSTM or GRU returns: (output, state)."""

    node_id: str


@dataclass(frozen=True)
class Sequence:
    """The output of an LSTM or GRU: used whole, or by its last step `out[:, -1]`."""

    node_id: str


@dataclass(frozen=True)
class Paired:
    """What nn.MultiheadAttention returns: (output, attention weights)."""

    node_id: str


@dataclass(frozen=True)
class Chunks:
    """The pieces x.chunk(chunks, dim) cuts `source` into, before one is picked."""

    source: Any
    chunks: int
    dim: int


@dataclass(frozen=True)
class Shape:
    dims: tuple  # the first is BATCH


class Marker:
    """A value that is not a tensor and not a plain Python value."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


BATCH = Marker("the batch size")
BAD = Marker("an unsupported value")
TENSORS = (Wire, Sequence, Recurrent, Paired, Chunks)
LAST_STEP = ((slice(None), -1), (slice(None), -1, slice(None)))


def contains(value: Any, *kinds: Any) -> bool:
    """Whether a (nested) argument holds a value of one of `kinds` (types or markers)."""
    if isinstance(value, tuple | list):
        return any(contains(v, *kinds) for v in value)
    if isinstance(value, dict):
        return any(contains(v, *kinds) for v in value.values())
    if isinstance(value, slice):
        return contains((value.start, value.stop, value.step), *kinds)
    return any(value is k or (isinstance(k, type) and isinstance(value, k)) for k in kinds)


def index_text(index: Any) -> str:
    items = index if isinstance(index, tuple) else (index,)

    def one(item: Any) -> str:
        if isinstance(item, slice):
            parts = ["" if v is None else str(v) for v in (item.start, item.stop, item.step)]
            return ":".join(parts[:2] if item.step is None else parts)
        return show(item)

    return ", ".join(one(i) for i in items)


def describe_value(value: Any) -> str:
    if isinstance(value, Recurrent):
        return "the (output, state) pair an LSTM or GRU returns (take its output: out, _ = ...)"
    if isinstance(value, Paired):
        return "the (output, weights) pair attention returns (take its output: out, _ = ...)"
    if isinstance(value, Chunks):
        return "the pieces of a chunk() (take one of them)"
    if isinstance(value, Shape):
        return "a tensor's shape"
    return repr(value) if isinstance(value, Marker) else show(value)
