"""Normalisation layers."""

from engine.layers.params import Param
from engine.layers.rules import LAYOUTS, require_float, require_rank
from engine.layers.spec import LayerSpec, ShapeError

EPS = Param("eps", "float", 1e-5, "Added to the variance for stability.", min=0.0)


def _channels(name: str, text: str = "Channels; auto fills it in.") -> Param:
    return Param(name, "int", None, text, min=1, max=1_000_000, inferred=True, positional=True)


def _batchnorm(dims: int) -> LayerSpec:
    name = f"BatchNorm{dims}d"
    ranks = (2, 3) if dims == 1 else (4,)
    layouts = " or ".join(LAYOUTS[r] for r in ranks)

    def rule(params, inputs):
        x = inputs[0]
        require_rank(name, x, ranks)
        require_float(name, x)
        return x

    return LayerSpec(
        type=name,
        category="Normalization",
        summary=f"Normalises each channel over the batch; input {layouts}.",
        params=(
            _channels("num_features", "Channels (or features); auto fills it in."),
            EPS,
            Param(
                "momentum",
                "float",
                0.1,
                "Weight of the newest batch in running stats.",
                min=0.0,
                max=1.0,
            ),
            Param("affine", "bool", True, "Learn a scale and shift per channel."),
        ),
        module=f"nn.{name}",
        shape=rule,
        infer=lambda inputs: {"num_features": inputs[0].shape[1]},
        label="bn",
    )


def _layernorm_rule(params, inputs):
    x = inputs[0]
    require_float("LayerNorm", x)
    wanted = tuple(params["normalized_shape"])
    if len(wanted) >= len(x.shape) or x.shape[-len(wanted) :] != wanted:
        raise ShapeError(
            f"LayerNorm normalises the trailing dimensions {list(wanted)}, but its input is "
            f"{x.describe()}. Set normalized_shape to auto or to the input's last dimensions.",
            port=0,
        )
    return x


LAYERNORM = LayerSpec(
    type="LayerNorm",
    category="Normalization",
    summary="Normalises each sample over its last dimension(s).",
    params=(
        Param(
            "normalized_shape",
            "ints",
            None,
            "Trailing dimensions to normalise; auto: the last one.",
            inferred=True,
            positional=True,
        ),
        EPS,
        Param("elementwise_affine", "bool", True, "Learn a scale and shift per element."),
    ),
    module="nn.LayerNorm",
    shape=_layernorm_rule,
    infer=lambda inputs: {"normalized_shape": [inputs[0].shape[-1]]},
    label="ln",
)


def _groupnorm_rule(params, inputs):
    x = inputs[0]
    require_rank("GroupNorm", x, (2, 3, 4))
    require_float("GroupNorm", x)
    if x.shape[1] % params["num_groups"]:
        raise ShapeError(
            f"GroupNorm splits the {x.shape[1]} channels of {x.describe()} into "
            f"{params['num_groups']} groups, which does not divide them.",
            port=0,
        )
    return x


GROUPNORM = LayerSpec(
    type="GroupNorm",
    category="Normalization",
    summary="Normalises each sample over groups of channels (independent of the batch size).",
    params=(
        Param("num_groups", "int", 8, "Groups of channels.", min=1, positional=True),
        _channels("num_channels"),
        EPS,
        Param("affine", "bool", True, "Learn a scale and shift per channel."),
    ),
    module="nn.GroupNorm",
    shape=_groupnorm_rule,
    infer=lambda inputs: {"num_channels": inputs[0].shape[1]},
    label="gn",
)


def _instancenorm_rule(params, inputs):
    x = inputs[0]
    require_rank("InstanceNorm2d", x, (4,))
    require_float("InstanceNorm2d", x)
    if x.shape[2] * x.shape[3] == 1:
        raise ShapeError(
            f"InstanceNorm2d normalises each channel over its height and width, but "
            f"{x.describe()} has one value per channel.",
            port=0,
        )
    return x


INSTANCENORM = LayerSpec(
    type="InstanceNorm2d",
    category="Normalization",
    summary="Normalises each channel of each sample over its height and width (style "
    "transfer, generators).",
    params=(
        _channels("num_features"),
        EPS,
        Param("affine", "bool", False, "Learn a scale and shift per channel."),
    ),
    module="nn.InstanceNorm2d",
    shape=_instancenorm_rule,
    infer=lambda inputs: {"num_features": inputs[0].shape[1]},
    label="inorm",
)

SPECS = (_batchnorm(1), _batchnorm(2), LAYERNORM, GROUPNORM, INSTANCENORM)
