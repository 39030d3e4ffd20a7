"""The tensor operations of forward() that need more than a signature to become a layer:
x.permute(0, 2, 1), a - b, a @ b, x * 0.5, x.chunk(2, -1)[i]."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from torch import fx

from engine.importing.functions import SUBTRACT, describe
from engine.importing.values import TENSORS, Chunks, Marker, Sequence, Wire, contains

if TYPE_CHECKING:
    from engine.importing.builder import GraphBuilder


def permute(b: GraphBuilder, node: fx.Node, args: tuple, kwargs: dict) -> Any:
    what = describe(node)
    dims = list(args[1:]) or [kwargs.get("dims")]
    if len(dims) == 1 and isinstance(dims[0], tuple | list):
        dims = list(dims[0])
    rank = len(dims)
    if not all(isinstance(d, int) for d in dims) or not dims or dims[0] % rank != 0:
        return b._report(f"{what} to {dims} moves the batch dimension, which stays first")
    order = [d % rank for d in dims[1:]]
    return b._layer("Permute", {"dims": order}, [args[0]], what, b._default_label("Permute"))


def two_tensors(b: GraphBuilder, node: fx.Node, args: tuple, kwargs: dict) -> Any:
    """a - b and a @ b."""
    layer = "Subtract" if node.target in SUBTRACT else "MatMul"
    what = describe(node)
    operands = [*args[:2], *(kwargs[k] for k in ("input", "other") if k in kwargs)][:2]
    if not contains(operands, *TENSORS):
        return b._other(node, args, kwargs)
    if not all(isinstance(v, Wire | Sequence) for v in operands):
        return b._report(f"{what} between a tensor and a number has no Torchwright layer")
    if kwargs.get("alpha", 1) != 1:
        return b._report(f"{what} uses alpha={kwargs['alpha']!r}, which Subtract cannot express")
    return b._layer(layer, {}, operands, what, b._default_label(layer))


def scale(b: GraphBuilder, node: fx.Node, operands: list) -> Any:
    """x * 0.5 or 0.5 * x: a Scale; None when it is not a tensor and a number."""
    tensors = [v for v in operands if isinstance(v, Wire | Sequence)]
    numbers = [v for v in operands if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(tensors) != 1 or len(numbers) != 1:
        return None
    what = describe(node)
    return b._layer(
        "Scale", {"factor": float(numbers[0])}, tensors, what, b._default_label("Scale")
    )


def chunk(b: GraphBuilder, node: fx.Node, args: tuple, kwargs: dict) -> Any:
    chunks = args[1] if len(args) > 1 else kwargs.get("chunks")
    dim = args[2] if len(args) > 2 else kwargs.get("dim", 0)
    if not isinstance(args[0], Wire | Sequence) or not isinstance(chunks, int):
        return b._other(node, args, kwargs)
    rank = b.model.values[node.args[0]].dim()
    if not isinstance(dim, int) or dim % rank == 0:
        return b._report("chunk() along dim 0 cuts the batch, which no layer does")
    return Chunks(args[0], chunks, dim)


def piece(b: GraphBuilder, node: fx.Node, chunks: Chunks, index: Any) -> Wire | Marker:
    """One piece of a chunk(): a Chunk layer."""
    if not isinstance(index, int) or index < 0:
        return b._report(f"a chunk() is indexed with {index!r}; take one piece, from 0")
    params = {"chunks": chunks.chunks, "dim": chunks.dim, "index": index}
    return b._layer("Chunk", params, [chunks.source], "`.chunk()`", b._default_label("Chunk"))
