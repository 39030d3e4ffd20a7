"""Unique Python names for generated code, never shadowing what the code relies on."""

from __future__ import annotations

import builtins
import keyword

from torch import nn

from engine.document.graph import clean_label

_MODULE_ATTRS = set(dir(nn.Module()))
RESERVED = (
    set(keyword.kwlist)
    | set(keyword.softkwlist)
    | set(dir(builtins))
    | {"self", "torch", "nn", "F", "math"}
)


class Namespace:
    """Hands out unique names; `attribute=True` also avoids nn.Module's own attributes."""

    def __init__(self, taken: set[str] | None = None, attribute: bool = False):
        self._taken = set(RESERVED) | (taken or set())
        if attribute:
            self._taken |= _MODULE_ATTRS

    def take(self, wish: str) -> str:
        base = clean_label(wish)
        name, i = base, 1
        while name in self._taken:
            name = f"{base}_{i}"
            i += 1
        self._taken.add(name)
        return name


def class_name_for(title: str) -> str:
    """`digits_mlp` -> `DigitsMlp`; falls back to `Net`."""
    words = clean_label(title).split("_")
    name = "".join(w[:1].upper() + w[1:] for w in words if w)
    if not name or not name.isidentifier() or name in RESERVED or name == "Layer":
        return "Net"
    return name
