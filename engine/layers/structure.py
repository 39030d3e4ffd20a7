"""Operations that change a tensor's layout or join several tensors."""

from engine.layers.params import Param
from engine.layers.rules import check_dim, numel
from engine.layers.spec import LayerSpec, ShapeError, TensorInfo


def _flatten_rule(params, inputs):
    x = inputs[0]
    start = check_dim("Flatten", params["start_dim"], x)
    end = check_dim("Flatten", params["end_dim"], x)
    if end < start:
        raise ShapeError(f"Flatten's end_dim ({params['end_dim']}) comes before its start_dim.")
    merged = numel(x.shape[start : end + 1])
    return TensorInfo((*x.shape[:start], merged, *x.shape[end + 1 :]), x.dtype)


def _flatten_forward(target, args, values):
    extra = "" if values["end_dim"] == -1 else f", {values['end_dim']}"
    return f"torch.flatten({args[0]}, {values['start_dim']}{extra})"


FLATTEN = LayerSpec(
    type="Flatten",
    category="Shape",
    summary="Merges dimensions into one: [N, C, H, W] -> [N, C*H*W].",
    params=(
        Param("start_dim", "int", 1, "First dimension to merge (1: keep the batch).", min=1, max=8),
        Param("end_dim", "int", -1, "Last dimension to merge (-1: the last).", min=-8, max=8),
    ),
    forward=_flatten_forward,
    shape=_flatten_rule,
    label="flatten",
    uses=("torch",),
    as_module=lambda values: f"nn.Flatten({values['start_dim']}, {values['end_dim']})",
)


def _reshape_rule(params, inputs):
    x = inputs[0]
    target = list(params["shape"])
    have = numel(x.shape[1:])
    known = numel([d for d in target if d != -1])
    if -1 in target:
        if have % known:
            raise ShapeError(
                f"Reshape cannot fit {have} values per sample into {target}: "
                f"{have} is not a multiple of {known}.",
                port=0,
            )
        target[target.index(-1)] = have // known
    elif known != have:
        raise ShapeError(
            f"Reshape to {target} needs {known} values per sample, but the input "
            f"{x.describe()} has {have}.",
            port=0,
        )
    return TensorInfo((x.shape[0], *target), x.dtype)


RESHAPE = LayerSpec(
    type="Reshape",
    category="Shape",
    summary="Gives each sample a new shape with the same number of values.",
    params=(Param("shape", "reshape", [-1], "New shape of one sample; one entry may be -1."),),
    forward=lambda target, args, values: (
        f"{args[0]}.reshape({args[0]}.size(0), " + ", ".join(map(str, values["shape"])) + ")"
    ),
    shape=_reshape_rule,
    label="reshape",
)


def broadcast_rule(name: str):
    def rule(params, inputs):
        shape = inputs[0].shape
        for port, x in enumerate(inputs[1:], start=1):
            if x.dtype != inputs[0].dtype:
                raise ShapeError(f"{name} got float and integer inputs; use one kind.", port)
            try:
                shape = _broadcast(shape, x.shape)
            except ValueError:
                listed = ", ".join(f"{t.describe()}" for t in inputs)
                raise ShapeError(
                    f"{name} needs inputs of the same shape (or broadcastable), "
                    f"but receives {listed}.",
                    port,
                ) from None
        return TensorInfo(shape, inputs[0].dtype)

    return rule


def _broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """Per-sample broadcasting: the batch dimensions must line up, so the ranks must match."""
    if len(a) != len(b):
        raise ValueError
    out = [a[0]]
    for x, y in zip(a[1:], b[1:], strict=True):
        if x != y and 1 not in (x, y):
            raise ValueError
        out.append(max(x, y))
    return tuple(out)


def _merge(name: str, op: str, summary: str) -> LayerSpec:
    return LayerSpec(
        type=name,
        category="Merge",
        summary=summary,
        min_inputs=2,
        max_inputs=None,
        forward=lambda target, args, values: f" {op} ".join(args),
        shape=broadcast_rule(name),
        label=name.lower(),
    )


def _concat_rule(params, inputs):
    first = inputs[0]
    dim = check_dim("Concat", params["dim"], first)
    for port, x in enumerate(inputs[1:], start=1):
        if x.dtype != first.dtype:
            raise ShapeError("Concat got float and integer inputs; use one kind.", port)
        others = [i for i in range(len(first.shape)) if i not in (0, dim)]
        if len(x.shape) != len(first.shape) or any(x.shape[i] != first.shape[i] for i in others):
            listed = ", ".join(t.describe() for t in inputs)
            raise ShapeError(
                f"Concat along dim {params['dim']} needs inputs that match in every other "
                f"dimension, but receives {listed}.",
                port,
            )
    total = sum(x.shape[dim] for x in inputs)
    return TensorInfo((*first.shape[:dim], total, *first.shape[dim + 1 :]), first.dtype)


CONCAT = LayerSpec(
    type="Concat",
    category="Merge",
    summary="Joins its inputs along one dimension (torch.cat).",
    params=(
        Param("dim", "int", 1, "Dimension to join along (1: features/channels).", min=-8, max=8),
    ),
    min_inputs=2,
    max_inputs=None,
    forward=lambda target, args, values: f"torch.cat([{', '.join(args)}], dim={values['dim']})",
    shape=_concat_rule,
    label="concat",
    uses=("torch",),
)

SPECS = (
    FLATTEN,
    RESHAPE,
    _merge("Add", "+", "Adds its inputs element-wise (a residual connection)."),
    _merge("Multiply", "*", "Multiplies its inputs element-wise (gating)."),
    CONCAT,
)
