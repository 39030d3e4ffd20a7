"""Layers for sequences [N, time, features]: pooling over time that ignores padding, and
swapping two dimensions (for a Conv1d over embeddings, which wants [N, channels, time])."""

from engine.layers.params import Param
from engine.layers.rules import check_dim, require_float, require_rank
from engine.layers.spec import LayerSpec, ShapeError, TensorInfo


def _pool_rule(params, inputs):
    x = inputs[0]
    require_rank("SequencePool", x, (3,), layout="[N, time, features]")
    require_float("SequencePool", x)
    if len(inputs) == 2:
        ids = inputs[1]
        if ids.dtype != "long" or ids.shape != x.shape[:2]:
            raise ShapeError(
                f"SequencePool's second input is the token ids [N, time] whose padding (id 0) "
                f"it leaves out; it receives {ids.describe()} beside {x.describe()}. Wire the "
                "Input of token ids to it.",
                port=1,
            )
    return TensorInfo((x.shape[0], x.shape[2]))


def _pool_forward(target, args, values):
    x = args[0]
    if len(args) == 1:
        return f"{x}.mean(1)" if values["mode"] == "mean" else f"{x}.amax(1)"
    pad = f"({args[1]} == 0)"
    if values["mode"] == "mean":  # weights 1 / (real steps) at real steps, 0 at padding
        weights = f"F.normalize(({args[1]} > 0).float(), p=1, dim=1)"
        return f"({weights}[:, None] @ {x})[:, 0]"
    return (
        f"{x}.masked_fill({pad}.unsqueeze(-1), float('-inf')).amax(1)"
        f".masked_fill({pad}.all(1, keepdim=True), 0.0)"
    )


SEQUENCE_POOL = LayerSpec(
    type="SequencePool",
    category="Recurrent",
    summary="Mean or max over time of a sequence [N, time, features], leaving out the steps "
    "where the token ids (a second input) are padding.",
    params=(
        Param(
            "mode",
            "choice",
            "mean",
            "mean or max over the time steps (an all-padding text gives zeros).",
            choices=("mean", "max"),
            arg=False,
        ),
    ),
    min_inputs=1,
    max_inputs=2,
    forward=_pool_forward,
    uses=lambda params, inputs: ("F",) if inputs == 2 and params["mode"] == "mean" else (),
    shape=_pool_rule,
    label="pool",
    # the padding-aware mean is a product of the step weights with the sequence
    macs=lambda params, inputs, out: (
        inputs[0].shape[0] * inputs[0].shape[1] * inputs[0].shape[2]
        if len(inputs) == 2 and params["mode"] == "mean"
        else 0
    ),
)


def _transpose_rule(params, inputs):
    x = inputs[0]
    first = check_dim("Transpose", params["dim0"], x)
    second = check_dim("Transpose", params["dim1"], x)
    shape = list(x.shape)
    shape[first], shape[second] = shape[second], shape[first]
    return TensorInfo(tuple(shape), x.dtype)


TRANSPOSE = LayerSpec(
    type="Transpose",
    category="Shape",
    summary="Swaps two dimensions, e.g. a sequence [N, time, features] to [N, channels, "
    "length] (torch.transpose).",
    params=(
        Param(
            "dim0",
            "int",
            1,
            "One dimension to swap (never 0, the batch); 1 and 2 turn embeddings into the "
            "channels a Conv1d reads.",
            min=-8,
            max=8,
        ),
        Param("dim1", "int", 2, "The other dimension to swap.", min=-8, max=8),
    ),
    forward=lambda target, args, values: f"{args[0]}.transpose({values['dim0']}, {values['dim1']})",
    shape=_transpose_rule,
    label="transpose",
)

SPECS = (SEQUENCE_POOL, TRANSPOSE)
