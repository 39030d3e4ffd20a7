"""Parameter values as the inspector's text fields show and read them.

`format_value` and `parse_value` are inverses for valid values: a size reads `3` or
`3, 5`, a shape `1, 28, 28`, a float `1e-05`. Parsing only turns text into a JSON-native
value; whether the value is allowed (bounds, positivity) is the schema's call
(`engine.document.graph.check_params`), so that the inspector and project files say the same.
"""

from __future__ import annotations

import re
from typing import Any

from engine.layers import Param

_SEPARATORS = re.compile(r"[\s,x×*]+")
_EXAMPLES = {
    "size": "3 or 3, 5",
    "shape": "1, 28, 28",
    "reshape": "-1, 7, 7",
    "ints": "64",
    "floats": "0.5, 0.5",
    "range": "0.5, 1",
}


class ParseError(ValueError):
    """Text that cannot be read as the parameter's kind; the message is for the user."""


def format_value(value: Any) -> str:
    """The text a field shows for a value (empty for None)."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def parse_value(param: Param, text: str) -> Any:
    """Read a field's text as a value of `param`'s kind (text, identifier, float, or one
    of the number-list kinds: size, shape, reshape, ints, floats, range). Empty text is None."""
    text = text.strip()
    if not text:
        return None
    if param.kind in ("text", "identifier"):
        return text
    if param.kind == "float":
        return _float(text)
    return _number_list(param, text)


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ParseError(f"Enter a number, like 0.5 or 1e-5 ({text!r} is not one).") from None


def _number_list(param: Param, text: str) -> Any:
    items = [t for t in _SEPARATORS.split(text.strip("()[] ")) if t]
    floating = param.kind in ("floats", "range")
    kind, what = (float, "numbers") if floating else (int, "whole numbers")
    try:
        values = [kind(item) for item in items]
    except ValueError:
        example = _EXAMPLES[param.kind]
        raise ParseError(f"Enter {what} separated by commas, like {example}.") from None
    if param.kind == "size" and len(values) == 1:
        return values[0]
    return values
