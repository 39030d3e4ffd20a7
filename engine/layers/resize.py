"""Changing a feature map's size: resampling and zero padding."""

import math

from engine.layers.params import Param
from engine.layers.rules import expand, require_float, require_rank
from engine.layers.spec import LayerSpec, ShapeError, TensorInfo

MODES = ("nearest", "bilinear")


def _upsample_rule(params, inputs):
    x = inputs[0]
    require_rank("Upsample", x, (3, 4) if params["mode"] == "nearest" else (4,))
    require_float("Upsample", x)
    sizes = [math.floor(s * params["scale_factor"]) for s in x.shape[2:]]
    if min(sizes) < 1:
        raise ShapeError(f"Upsample by {params['scale_factor']} leaves nothing of {x.describe()}.")
    return TensorInfo((*x.shape[:2], *sizes))


def _upsample_options(values) -> str:
    corners = ", align_corners=False" if values["mode"] == "bilinear" else ""
    return f"scale_factor={values['scale_factor']!r}, mode={values['mode']!r}{corners}"


UPSAMPLE = LayerSpec(
    type="Upsample",
    category="Resizing",
    summary="Resizes a feature map by a factor (F.interpolate), e.g. 2x in a decoder.",
    params=(
        Param("scale_factor", "float", 2.0, "How much larger (below 1: smaller).", min=0.01),
        Param("mode", "choice", "nearest", "nearest, or bilinear (images).", choices=MODES),
    ),
    forward=lambda target, args, values: f"F.interpolate({args[0]}, {_upsample_options(values)})",
    as_module=lambda values: f"nn.Upsample({_upsample_options(values)})",
    shape=_upsample_rule,
    label="upsample",
    uses=("F",),
)


def _pad_rule(params, inputs):
    x = inputs[0]
    require_rank("ZeroPad2d", x, (4,))
    left, right, top, bottom = expand(params["padding"], 4)
    return TensorInfo((*x.shape[:2], x.shape[2] + top + bottom, x.shape[3] + left + right), x.dtype)


ZERO_PAD = LayerSpec(
    type="ZeroPad2d",
    category="Resizing",
    summary="Adds rows and columns of zeros around a feature map.",
    params=(
        Param(
            "padding",
            "size",
            1,
            "On every side, or [left, right, top, bottom].",
            min=0,
            dims=4,
            positional=True,
        ),
    ),
    forward=lambda target, args, values: (
        f"F.pad({args[0]}, {tuple(expand(values['padding'], 4))!r})"
    ),
    as_module=lambda values: f"nn.ZeroPad2d({tuple(expand(values['padding'], 4))!r})",
    shape=_pad_rule,
    label="pad",
    uses=("F",),
)


SPECS = (UPSAMPLE, ZERO_PAD)
