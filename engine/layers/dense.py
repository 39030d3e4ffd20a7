"""Fully connected and element-preserving layers: Linear, Embedding, Dropout(2d), Identity."""

from engine.layers.params import Param
from engine.layers.rules import numel, require_float, require_rank, same_shape
from engine.layers.spec import LayerSpec, ShapeError, TensorInfo

MAX_FEATURES = 1_000_000


def _linear_shape(params, inputs):
    x = inputs[0]
    require_rank("Linear", x, tuple(range(2, 9)))
    require_float("Linear", x)
    return TensorInfo((*x.shape[:-1], params["out_features"]))


def _embedding_shape(params, inputs):
    x = inputs[0]
    if x.dtype != "long":
        raise ShapeError(
            f"Embedding takes integer ids, but receives floats {x.describe()}. "
            "Set the Input's dtype to int64.",
            port=0,
        )
    return TensorInfo((*x.shape, params["embedding_dim"]))


LINEAR = LayerSpec(
    type="Linear",
    category="Core",
    summary="y = x W^T + b over the last dimension (a fully connected layer).",
    params=(
        Param(
            "in_features",
            "int",
            None,
            "Size of the input's last dimension; auto fills it in from the wire.",
            min=1,
            max=MAX_FEATURES,
            inferred=True,
            positional=True,
        ),
        Param(
            "out_features",
            "int",
            64,
            "Size of the output; auto, for a Linear that feeds an Output: what the data "
            "asks for (the class count, or the number of targets).",
            min=1,
            max=MAX_FEATURES,
            positional=True,
            from_data=True,
        ),
        Param("bias", "bool", True, "Learn an additive bias."),
    ),
    module="nn.Linear",
    shape=_linear_shape,
    infer=lambda inputs: {"in_features": inputs[0].shape[-1]},
    label="fc",
    macs=lambda params, inputs, out: numel(out.shape) * params["in_features"],
)

EMBEDDING = LayerSpec(
    type="Embedding",
    category="Core",
    summary="A lookup table turning integer ids into learned vectors.",
    params=(
        Param(
            "num_embeddings",
            "int",
            1000,
            "Number of distinct ids (vocabulary size).",
            min=1,
            max=MAX_FEATURES,
            positional=True,
        ),
        Param(
            "embedding_dim",
            "int",
            64,
            "Length of each vector.",
            min=1,
            max=MAX_FEATURES,
            positional=True,
        ),
        Param(
            "padding_idx",
            "int",
            None,
            "An id whose vector stays zero (optional).",
            min=0,
            optional=True,
        ),
    ),
    module="nn.Embedding",
    shape=_embedding_shape,
    label="embed",
)

DROPOUT = LayerSpec(
    type="Dropout",
    category="Core",
    summary="Zeroes random elements with probability p while training.",
    params=(Param("p", "float", 0.5, "Probability of zeroing an element.", min=0.0, max=1.0),),
    module="nn.Dropout",
    shape=same_shape,
    label="dropout",
)


def _dropout2d_rule(params, inputs):
    require_rank("Dropout2d", inputs[0], (4,))
    return inputs[0]


DROPOUT2D = LayerSpec(
    type="Dropout2d",
    category="Core",
    summary="Zeroes whole channels of a feature map with probability p while training.",
    params=(Param("p", "float", 0.5, "Probability of zeroing a channel.", min=0.0, max=1.0),),
    module="nn.Dropout2d",
    shape=_dropout2d_rule,
    label="dropout",
)

IDENTITY = LayerSpec(
    type="Identity",
    category="Core",
    summary="Passes its input through unchanged (a placeholder).",
    module="nn.Identity",
    shape=same_shape,
    label="identity",
)

SPECS = (LINEAR, EMBEDDING, DROPOUT, DROPOUT2D, IDENTITY)
