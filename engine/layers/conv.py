"""Convolution and pooling layers over sequences (1d) and images (2d)."""

from engine.layers.params import Param
from engine.layers.rules import (
    check_pool_padding,
    expand,
    numel,
    require_float,
    require_rank,
    sliding_window,
)
from engine.layers.spec import LayerSpec, ShapeError, TensorInfo

MAX_CHANNELS = 100_000
AXES_TEXT = {1: "length", 2: "height and width"}
FLATTEN_HINT = " A Flatten or Linear before it has already dropped the spatial layout."


def _conv_params(dims: int, default_out: int) -> tuple[Param, ...]:
    return (
        Param(
            "in_channels",
            "int",
            None,
            "Channels of the input; auto fills it in from the wire.",
            min=1,
            max=MAX_CHANNELS,
            inferred=True,
            positional=True,
        ),
        Param(
            "out_channels",
            "int",
            default_out,
            "Number of filters (output channels).",
            min=1,
            max=MAX_CHANNELS,
            positional=True,
        ),
        Param("kernel_size", "size", 3, "Size of each filter.", min=1, dims=dims, positional=True),
        Param("stride", "size", 1, "Step between filter positions.", min=1, dims=dims),
        Param("padding", "size", 0, "Zeros added on each side.", min=0, dims=dims),
        Param("dilation", "size", 1, "Spacing between filter taps.", min=1, dims=dims),
        Param("bias", "bool", True, "Learn an additive bias per output channel."),
    )


GROUPS = Param(
    "groups",
    "int",
    1,
    "Channel groups, each filtered apart; auto: one per input channel (depthwise, as in "
    "MobileNets). in_channels and out_channels must both divide by it.",
    min=1,
    max=MAX_CHANNELS,
    inferred=True,
    matches_input=False,
)


def _check_groups(layer: str, params: dict, channels: int) -> None:
    groups = params["groups"]
    for name, count in (("in_channels", channels), ("out_channels", params["out_channels"])):
        if count % groups:
            raise ShapeError(
                f"{layer}'s {name} ({count}) does not divide into its {groups} groups: "
                "set groups to a divisor of both channel counts, or to auto (depthwise).",
                port=0 if name == "in_channels" else None,
            )


def _conv_rule(layer: str, dims: int):
    def rule(params, inputs):
        x = inputs[0]
        require_rank(layer, x, (dims + 2,), FLATTEN_HINT)
        require_float(layer, x)
        _check_groups(layer, params, x.shape[1])
        sizes = sliding_window(
            layer,
            x,
            dims,
            params["kernel_size"],
            params["stride"],
            params["padding"],
            params["dilation"],
        )
        return TensorInfo((x.shape[0], params["out_channels"], *sizes))

    return rule


def _transposed_rule(params, inputs):
    x = inputs[0]
    layer = "ConvTranspose2d"
    require_rank(layer, x, (4,), FLATTEN_HINT)
    require_float(layer, x)
    sizes = []
    for size, k, s, p, d, op in zip(
        x.shape[2:],
        *(expand(params[n], 2) for n in ("kernel_size", "stride", "padding", "dilation")),
        expand(params["output_padding"], 2),
        strict=True,
    ):
        if op >= max(s, d):
            raise ShapeError(f"{layer}'s output_padding ({op}) must be smaller than its stride.")
        out = (size - 1) * s - 2 * p + d * (k - 1) + op + 1
        if out < 1:
            raise ShapeError(f"{layer}'s padding ({p}) removes the whole output; reduce it.")
        sizes.append(out)
    return TensorInfo((x.shape[0], params["out_channels"], *sizes))


def _conv(dims: int) -> LayerSpec:
    name = f"Conv{dims}d"
    return LayerSpec(
        type=name,
        category="Convolution",
        summary=f"{dims}-d convolution: learned filters slid along the input's {AXES_TEXT[dims]}.",
        params=(*_conv_params(dims, 16), GROUPS),
        macs=lambda params, inputs, out: (
            numel(out.shape)
            * params["in_channels"]
            // params["groups"]
            * numel(expand(params["kernel_size"], dims))
        ),
        module=f"nn.{name}",
        shape=_conv_rule(name, dims),
        infer=lambda inputs: {"in_channels": inputs[0].shape[1], "groups": inputs[0].shape[1]},
        label="conv",
    )


CONV_TRANSPOSE2D = LayerSpec(
    type="ConvTranspose2d",
    category="Convolution",
    summary="Transposed 2-d convolution (learned upsampling).",
    params=(
        *_conv_params(2, 16)[:5],
        Param("output_padding", "size", 0, "Extra rows/columns added on one side.", min=0, dims=2),
        *_conv_params(2, 16)[5:],
    ),
    module="nn.ConvTranspose2d",
    shape=_transposed_rule,
    macs=lambda params, inputs, out: (  # each input value meets every filter tap once
        numel(inputs[0].shape) * params["out_channels"] * numel(expand(params["kernel_size"], 2))
    ),
    infer=lambda inputs: {"in_channels": inputs[0].shape[1]},
    label="deconv",
)


def _pool_rule(layer: str, dims: int):
    def rule(params, inputs):
        x = inputs[0]
        require_rank(layer, x, (dims + 2,), FLATTEN_HINT)
        require_float(layer, x)
        kernel, padding = params["kernel_size"], params["padding"]
        stride = params["stride"] if params["stride"] is not None else kernel
        check_pool_padding(layer, kernel, padding, dims)
        sizes = sliding_window(
            layer, x, dims, kernel, stride, padding, ceil_mode=params["ceil_mode"]
        )
        return TensorInfo((*x.shape[:2], *sizes))

    return rule


def _pool(kind: str, dims: int) -> LayerSpec:
    name = f"{kind}Pool{dims}d"
    what = "maximum" if kind == "Max" else "average"
    return LayerSpec(
        type=name,
        category="Pooling",
        summary=f"Takes the {what} over each window, shrinking the input.",
        params=(
            Param(
                "kernel_size", "size", 2, "Size of each window.", min=1, dims=dims, positional=True
            ),
            Param(
                "stride",
                "size",
                None,
                "Step between windows (default: kernel_size).",
                min=1,
                dims=dims,
                optional=True,
            ),
            Param(
                "padding",
                "size",
                0,
                "Padding on each side (at most half the window).",
                min=0,
                dims=dims,
            ),
            Param("ceil_mode", "bool", False, "Round the output size up instead of down."),
        ),
        module=f"nn.{name}",
        shape=_pool_rule(name, dims),
        label="pool",
    )


def _adaptive(kind: str, summary: str, label: str) -> LayerSpec:
    name = f"Adaptive{kind}Pool2d"

    def rule(params, inputs):
        x = inputs[0]
        require_rank(name, x, (4,), FLATTEN_HINT)
        return TensorInfo((*x.shape[:2], *expand(params["output_size"], 2)))

    return LayerSpec(
        type=name,
        category="Pooling",
        summary=summary,
        params=(
            Param(
                "output_size",
                "size",
                1,
                "Height and width of the output.",
                min=1,
                dims=2,
                positional=True,
            ),
        ),
        module=f"nn.{name}",
        shape=rule,
        label=label,
    )


SPECS = (
    _conv(1),
    _conv(2),
    CONV_TRANSPOSE2D,
    _pool("Max", 1),
    _pool("Max", 2),
    _pool("Avg", 1),
    _pool("Avg", 2),
    _adaptive(
        "Avg", "Averages each channel down to a fixed output size, whatever the input size.", "gap"
    ),
    _adaptive("Max", "The maximum of each channel over a grid of a fixed output size.", "gmp"),
)
