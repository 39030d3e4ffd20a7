"""Short texts a node shows: its key parameters and its parameter count (no Qt)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from engine.layers import LayerSpec, Param


def param_summary(spec: LayerSpec, params: dict[str, Any], from_data: Collection[str] = ()) -> str:
    """The parameters worth a glance, generically: the positional ones (an inferred first
    one reads as `in -> out`), then those that differ from their default. Values named in
    `from_data` are marked as the data's.

    Linear: `64 → 128`; Conv2d: `1 → 16, 3x3, padding=1`; MaxPool2d: `2x2`; a Linear
    feeding an Output: `128 → 10 (from data)`.
    """

    def text(p: Param) -> str:
        value = value_text(p, params.get(p.name))
        return f"{value} (from data)" if p.name in from_data else value

    positional = [p for p in spec.params if p.positional]
    values = [text(p) for p in positional]
    parts = []
    if len(positional) >= 2 and positional[0].inferred:
        parts.append(f"{values[0]} → {values[1]}")
        values = values[2:]
    parts.extend(values)
    for p in spec.params:
        if not p.positional and p.kind != "text" and params.get(p.name, p.default) != p.default:
            parts.append(f"{p.name}={text(p)}")
    return ", ".join(parts)


def value_text(param: Param, value: Any) -> str:
    if value is None:
        return "auto" if param.inferred or param.from_data else "none"
    if param.kind == "size" and param.dims > 1 and (param.positional or isinstance(value, list)):
        sizes = value if isinstance(value, list) else [value] * param.dims
        return "x".join(map(str, sizes))
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def count_text(count: int, macs: int = 0) -> str:
    """`160 params`, `8.3k params`, `1.2M params · 0.6G MACs`; empty for a layer
    without weights or multiply-accumulates."""
    parts = []
    if count == 1:
        parts.append("1 param")
    elif count > 0:
        parts.append(f"{short_number(count)} params")
    if macs > 0:
        parts.append(f"{short_number(macs)} MACs")
    return " · ".join(parts)


def short_number(count: int) -> str:
    """160, 8.3k, 1.2M, 1.8G."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if count >= limit:
            return f"{count / limit:.1f}".removesuffix(".0") + suffix
    return str(count)
