"""Tensor operations without weights: reordering and reducing dimensions, picking a chunk,
and arithmetic between tensors (subtract, matrix product) or with a constant (scale)."""

from engine.layers.params import Param
from engine.layers.rules import check_dim, numel, require_float
from engine.layers.spec import LayerSpec, ShapeError, TensorInfo
from engine.layers.structure import broadcast_rule

DIM = dict(min=-8, max=8)


def _permute_rule(params, inputs):
    x = inputs[0]
    order = params["dims"]
    if sorted(order) != list(range(1, len(x.shape))):
        raise ShapeError(
            f"Permute's dims {order} must list each of the input {x.describe()}'s sample "
            f"dimensions 1 to {len(x.shape) - 1} once (the batch stays first).",
            port=0,
        )
    return TensorInfo((x.shape[0], *(x.shape[d] for d in order)), x.dtype)


PERMUTE = LayerSpec(
    type="Permute",
    category="Shape",
    summary="Reorders a sample's dimensions, e.g. [N, H, W, C] -> [N, C, H, W] with dims "
    "3, 1, 2 (torch.permute; the batch stays first).",
    params=(Param("dims", "ints", [2, 1], "The new order of dimensions 1, 2, ..."),),
    forward=lambda target, args, values: (
        f"{args[0]}.permute(0, {', '.join(map(str, values['dims']))})"
    ),
    shape=_permute_rule,
    label="permute",
)


def _reduce(name: str, method: str, summary: str) -> LayerSpec:
    def rule(params, inputs):
        x = inputs[0]
        if name != "Max":
            require_float(name, x)
        dims = sorted({check_dim(name, d, x) for d in params["dims"]})
        if len(dims) != len(params["dims"]):
            raise ShapeError(f"{name}'s dims {params['dims']} name a dimension twice.")
        if params["keepdim"]:
            return TensorInfo(tuple(1 if i in dims else s for i, s in enumerate(x.shape)), x.dtype)
        return TensorInfo(tuple(s for i, s in enumerate(x.shape) if i not in dims), x.dtype)

    def forward(target, args, values):
        dims = values["dims"]
        dim = str(dims[0]) if len(dims) == 1 else f"({', '.join(map(str, dims))})"
        keep = ", keepdim=True" if values["keepdim"] else ""
        return f"{args[0]}.{method}({dim}{keep})"

    return LayerSpec(
        type=name,
        category="Shape",
        summary=summary,
        params=(
            Param("dims", "ints", [1], "The dimensions to reduce (never 0, the batch)."),
            Param("keepdim", "bool", False, "Keep them, with size 1."),
        ),
        forward=forward,
        shape=rule,
        label=name.lower(),
    )


def _squeeze_rule(params, inputs):
    x = inputs[0]
    dim = check_dim("Squeeze", params["dim"], x)
    if x.shape[dim] != 1:
        raise ShapeError(
            f"Squeeze removes a dimension of size 1, but dim {params['dim']} of "
            f"{x.describe()} has size {x.shape[dim]}.",
            port=0,
        )
    return TensorInfo(x.shape[:dim] + x.shape[dim + 1 :], x.dtype)


def _unsqueeze_rule(params, inputs):
    x = inputs[0]
    rank = len(x.shape) + 1
    dim = params["dim"] + rank if params["dim"] < 0 else params["dim"]
    if not 1 <= dim < rank:
        raise ShapeError(
            f"Unsqueeze's dim {params['dim']} must lie between 1 and {rank - 1} for "
            f"{x.describe()} (the batch stays first)."
        )
    return TensorInfo((*x.shape[:dim], 1, *x.shape[dim:]), x.dtype)


def _dim_op(name: str, method: str, summary: str, rule) -> LayerSpec:
    return LayerSpec(
        type=name,
        category="Shape",
        summary=summary,
        params=(Param("dim", "int", 1, "The dimension (never 0, the batch).", **DIM),),
        forward=lambda target, args, values: f"{args[0]}.{method}({values['dim']})",
        shape=rule,
        label=name.lower(),
    )


def _chunk_rule(params, inputs):
    x = inputs[0]
    dim = check_dim("Chunk", params["dim"], x)
    length, chunks = x.shape[dim], params["chunks"]
    size = -(-length // chunks)
    made = -(-length // size)
    if params["index"] >= made:
        raise ShapeError(
            f"Chunk cuts {length} into {made} chunk(s) of up to {size}, so there is no "
            f"chunk {params['index']} (they count from 0)."
        )
    part = min(size, length - params["index"] * size)
    return TensorInfo((*x.shape[:dim], part, *x.shape[dim + 1 :]), x.dtype)


CHUNK = LayerSpec(
    type="Chunk",
    category="Shape",
    summary="One of the pieces torch.chunk cuts a tensor into along a dimension (e.g. a "
    "gate's half of a doubled projection).",
    params=(
        Param("chunks", "int", 2, "How many pieces.", min=1, max=100_000),
        Param("dim", "int", 1, "The dimension to cut (never 0, the batch).", **DIM),
        Param("index", "int", 0, "Which piece, from 0.", min=0, max=100_000),
    ),
    forward=lambda target, args, values: (
        f"{args[0]}.chunk({values['chunks']}, {values['dim']})[{values['index']}]"
    ),
    shape=_chunk_rule,
    label="chunk",
)


def _matmul_rule(params, inputs):
    a, b = inputs
    for port, x in enumerate(inputs):
        require_float("MatMul", x, port)
        if len(x.shape) < 3:
            raise ShapeError(
                f"MatMul multiplies a matrix per sample: input {port} needs [N, rows, "
                f"columns], but receives {x.describe()}.",
                port,
            )
    if len(a.shape) != len(b.shape) or a.shape[-1] != b.shape[-2]:
        raise ShapeError(
            f"MatMul needs [N, ..., n, k] @ [N, ..., k, m], but receives {a.describe()} and "
            f"{b.describe()}.",
            port=1,
        )
    batch = broadcast_rule("MatMul")({}, [TensorInfo(a.shape[:-2]), TensorInfo(b.shape[:-2])])
    return TensorInfo((*batch.shape, a.shape[-2], b.shape[-1]))


MATMUL = LayerSpec(
    type="MatMul",
    category="Merge",
    summary="The matrix product of its two inputs, sample by sample (a @ b), e.g. attention "
    "scores from queries and keys.",
    min_inputs=2,
    max_inputs=2,
    forward=lambda target, args, values: f"{args[0]} @ {args[1]}",
    shape=_matmul_rule,
    label="matmul",
    macs=lambda params, inputs, out: numel(out.shape) * inputs[0].shape[-1],
)

SUBTRACT = LayerSpec(
    type="Subtract",
    category="Merge",
    summary="Its first input minus its second, element-wise (broadcasting sizes of 1).",
    min_inputs=2,
    max_inputs=2,
    forward=lambda target, args, values: f"{args[0]} - {args[1]}",
    shape=broadcast_rule("Subtract"),
    label="subtract",
)


def _scale_rule(params, inputs):
    require_float("Scale", inputs[0])
    return inputs[0]


SCALE = LayerSpec(
    type="Scale",
    category="Shape",
    summary="Multiplies by a constant (e.g. 1 / sqrt(d) before a softmax).",
    params=(Param("factor", "float", 1.0, "The constant.", min=-1e9, max=1e9),),
    forward=lambda target, args, values: f"{args[0]} * {values['factor']!r}",
    shape=_scale_rule,
    label="scale",
)

SPECS = (
    PERMUTE,
    _reduce("Mean", "mean", "The mean over some dimensions, e.g. over time: x.mean(dim=1)."),
    _reduce("Sum", "sum", "The sum over some dimensions."),
    _reduce("Max", "amax", "The maximum over some dimensions (torch.amax)."),
    _dim_op("Squeeze", "squeeze", "Removes a dimension of size 1.", _squeeze_rule),
    _dim_op("Unsqueeze", "unsqueeze", "Inserts a dimension of size 1.", _unsqueeze_rule),
    CHUNK,
    SUBTRACT,
    MATMUL,
    SCALE,
)
