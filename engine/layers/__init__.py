"""The layer catalog: every layer type the app offers, as data (`LayerSpec`)."""

from engine.layers import (
    activation,
    attention,
    conv,
    custom,
    dense,
    io,
    norm,
    recurrent,
    resize,
    sequence,
    structure,
    tensor_ops,
)
from engine.layers.params import Param, ParamError
from engine.layers.spec import LayerSpec, Role, ShapeError, TensorInfo

CATALOG: dict[str, LayerSpec] = {
    spec.type: spec
    for module in (
        io,
        dense,
        conv,
        resize,
        norm,
        activation,
        recurrent,
        sequence,
        attention,
        structure,
        tensor_ops,
        custom,
    )
    for spec in module.SPECS
}


def get_spec(layer_type: str) -> LayerSpec:
    try:
        return CATALOG[layer_type]
    except KeyError:
        raise KeyError(f"unknown layer type {layer_type!r}") from None


def categories() -> dict[str, list[LayerSpec]]:
    """Specs grouped by category, in catalog order (for the palette)."""
    grouped: dict[str, list[LayerSpec]] = {}
    for spec in CATALOG.values():
        grouped.setdefault(spec.category, []).append(spec)
    return grouped


__all__ = [
    "CATALOG",
    "LayerSpec",
    "Param",
    "ParamError",
    "Role",
    "ShapeError",
    "TensorInfo",
    "categories",
    "get_spec",
]
