"""The user's own layers as Custom nodes: the class's source, built with no arguments.

The code generator writes a Custom layer as `ClassName()`. When the instance was built
with arguments, the node's source adds a small subclass with those arguments baked in
(`class Scale1(Scale): def __init__(self): super().__init__(2.0)`), so the weights keep
their names and shapes.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import symtable
import textwrap
from typing import Any

from torch import nn

from engine.importing.loading import Call
from engine.layers.custom import RESERVED
from engine.layers.params import show
from engine.model.runtime import base_namespace

_AVAILABLE = set(dir(builtins)) | set(base_namespace())


class Unsupported(Exception):
    """The layer cannot become a Custom node; the message says why."""


class CustomLayers:
    """Custom node parameters for instances of the user's classes, one subclass name per
    distinct set of constructor arguments. `taken`: names the subclasses must avoid."""

    def __init__(self, taken: set[str]):
        self.taken = taken | RESERVED
        self.subclasses: dict[tuple[type, str], str] = {}

    def params(self, instance: nn.Module, call: Call) -> dict[str, str]:
        cls = type(instance)
        source = class_source(cls)
        args, kwargs = call
        if not args and not kwargs:
            return {"class_name": cls.__name__, "source": source}
        keywords = (f"{k}={_literal(v)}" for k, v in kwargs.items())
        written = ", ".join([*map(_literal, args), *keywords])
        name = self._subclass_name(cls, written)
        return {"class_name": name, "source": source + _baked(name, cls.__name__, written)}

    def _subclass_name(self, cls: type, written: str) -> str:
        key = (cls, written)
        if key not in self.subclasses:
            number = 1
            while f"{cls.__name__}{number}" in self.taken:
                number += 1
            self.subclasses[key] = f"{cls.__name__}{number}"
            self.taken.add(self.subclasses[key])
        return self.subclasses[key]


def class_source(cls: type) -> str:
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        raise Unsupported(f"the source of class {cls.__name__} cannot be found") from None
    if cls.__name__ in RESERVED:
        raise Unsupported(f"class {cls.__name__} has the name of an import; rename it")
    missing = sorted(free_names(source) - _AVAILABLE - {cls.__name__})
    if missing:
        raise Unsupported(
            f"class {cls.__name__} uses {', '.join(missing)} from outside the class; the code "
            "of a Custom layer can only use torch, nn, F and math"
        )
    return source


def free_names(source: str) -> set[str]:
    """Global names the code reads but does not define itself."""
    found: set[str] = set()
    tables = [symtable.symtable(source, "<custom layer>", "exec")]
    while tables:
        table = tables.pop()
        top = table.get_type() == "module"
        for symbol in table.get_symbols():
            defined = symbol.is_assigned() or symbol.is_imported()
            if symbol.is_referenced() and (symbol.is_global() or top) and not defined:
                found.add(symbol.get_name())
        tables.extend(table.get_children())
    return found


def _literal(value: Any) -> str:
    text = repr(value)
    try:
        same = ast.literal_eval(text) == value
    except Exception:
        same = False
    if not same:
        raise Unsupported(
            f"it is built with the argument {show(value)}, which cannot be written into "
            "the generated code (only numbers, text, True/False/None, and lists, tuples "
            "and dicts of them can)"
        )
    return text


def _baked(name: str, base: str, written: str) -> str:
    return (
        f"\n\nclass {name}({base}):\n"
        f"    # {base}({written}), built without arguments.\n"
        "    def __init__(self):\n"
        f"        super().__init__({written})\n"
    )
