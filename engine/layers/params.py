"""Parameter schema of a layer: one `Param` per constructor argument or option.

A `Param` knows its type, default, bounds and choices, checks a value a user (or a
project file) gives it, and says what is wrong in a sentence that names the value.
Values are kept JSON-native (int, float, bool, str, list) so that the document, the
project file and the inspector all hold the same thing.
"""

from __future__ import annotations

import keyword
import math
from dataclasses import dataclass
from typing import Any

from engine.errors import UserError


class ParamError(UserError):
    """A parameter value that does not fit its schema; the message is for the user."""


def show(value: Any, limit: int = 40) -> str:
    """A short, safe rendering of a user value for error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _num(value: float) -> str:
    """1000000 -> '1,000,000'; 0.5 -> '0.5'."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class Param:
    """One parameter of a layer.

    kind is one of:
      int, float, bool, choice, text, identifier,
      size   - an int, or a list of `dims` ints (kernel_size=3 or [3, 5]),
      shape  - a list of positive ints (an Input's shape, without the batch dimension),
      reshape - like shape, but one entry may be -1,
      ints   - a list of positive ints of any length (LayerNorm's normalized_shape),
      floats - a list of finite numbers (a normalisation's per-channel mean).
      range - two numbers, low <= high, both within min..max (a crop's scale range).
    inferred: None means "fill in from the input shape" (shown as "auto").
    matches_input: for an inferred param, whether a value set by hand must be the one the
      input implies (in_channels), or may be any (a convolution's groups).
    from_data: None means "take it from the data" (shown as "auto (from data)"): an
      Input's shape, the units of a Linear that feeds an Output.
    optional: None means "not set" (e.g. an optional clipping value).
    arg: whether the value is passed to the layer's constructor in generated code;
    positional: whether it is written positionally there (else only when not default).
    """

    name: str
    kind: str
    default: Any = None
    help: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple = ()
    dims: int = 1
    inferred: bool = False
    matches_input: bool = True
    from_data: bool = False
    optional: bool = False
    arg: bool = True
    positional: bool = False
    max_length: int = 200_000

    def validate(self, value: Any) -> Any:
        """Return the value (normalised) or raise ParamError saying what is wrong."""
        if value is None:
            if self.inferred or self.from_data or self.optional:
                return None
            raise ParamError("is required, got nothing")
        return getattr(self, f"_check_{self.kind}")(value)

    # --- one checker per kind -------------------------------------------------------

    def _bounds_text(self, what: str, value: float | None) -> str:
        """The rule a number broke, worded for the side it broke."""
        lo, hi = self.min, self.max
        if lo is not None and hi is not None and hi - lo <= 1000:
            return f"must be {what} between {_num(lo)} and {_num(hi)}"
        if value is not None and hi is not None and value > hi:
            return f"must be at most {_num(hi)}"
        if lo == 1 and what == "an integer":
            return "must be a positive integer"
        if lo == 0 and what == "an integer":
            return "must be a non-negative integer"
        return f"must be {what}" + (f" >= {_num(lo)}" if lo is not None else "")

    def _in_bounds(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def _check_int(self, value: Any) -> int:
        if not _is_int(value):
            raise ParamError(f"{self._bounds_text('an integer', None)}, got {show(value)}")
        if not self._in_bounds(value):
            raise ParamError(f"{self._bounds_text('an integer', value)}, got {show(value)}")
        return value

    def _check_float(self, value: Any) -> float:
        if not (_is_number(value) and math.isfinite(value)):
            raise ParamError(f"{self._bounds_text('a number', None)}, got {show(value)}")
        if not self._in_bounds(value):
            raise ParamError(f"{self._bounds_text('a number', value)}, got {show(value)}")
        return float(value)

    def _check_bool(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ParamError(f"must be true or false, got {show(value)}")
        return value

    def _check_choice(self, value: Any) -> Any:
        if value not in self.choices or isinstance(value, bool) != isinstance(
            self.choices[0], bool
        ):
            options = ", ".join(repr(c) for c in self.choices)
            raise ParamError(f"must be one of {options}, got {show(value)}")
        return value

    def _check_text(self, value: Any) -> str:
        if not isinstance(value, str):
            raise ParamError(f"must be text, got {show(value)}")
        if len(value) > self.max_length:
            raise ParamError(f"is too long ({len(value)} characters, at most {self.max_length})")
        return value

    def _check_identifier(self, value: Any) -> str:
        if not isinstance(value, str) or not value.isidentifier() or keyword.iskeyword(value):
            raise ParamError(f"must be a Python name (letters, digits, _), got {show(value)}")
        return value

    def _check_size(self, value: Any) -> int | list[int]:
        lo = 1 if self.min is None else self.min
        if _is_int(value) and value >= lo:
            return value
        if (
            isinstance(value, list | tuple)
            and len(value) == self.dims
            and all(_is_int(v) and v >= lo for v in value)
        ):
            return list(value)
        what = "positive" if lo == 1 else "non-negative"
        raise ParamError(
            f"must be a {what} integer or a list of {self.dims} {what} integers, got {show(value)}"
        )

    def _int_list(self, value: Any, allow_minus_one: bool) -> list[int]:
        if not isinstance(value, list | tuple) or not 1 <= len(value) <= 8:
            raise ParamError(f"must be a list of 1 to 8 positive integers, got {show(value)}")
        items = list(value)
        bad = [v for v in items if not _is_int(v) or (v < 1 and not (allow_minus_one and v == -1))]
        if bad or (allow_minus_one and items.count(-1) > 1):
            hint = " (one entry may be -1)" if allow_minus_one else ""
            raise ParamError(f"must be a list of positive integers{hint}, got {show(value)}")
        if any(v > 1_000_000 for v in items):
            raise ParamError(f"must have dimensions of at most 1,000,000, got {show(value)}")
        return items

    def _check_shape(self, value: Any) -> list[int]:
        return self._int_list(value, allow_minus_one=False)

    def _check_ints(self, value: Any) -> list[int]:
        return self._int_list(value, allow_minus_one=False)

    def _check_floats(self, value: Any) -> list[float]:
        ok = isinstance(value, list | tuple) and 1 <= len(value) <= 64
        if not ok or not all(_is_number(v) and math.isfinite(v) for v in value):
            raise ParamError(f"must be a list of 1 to 64 numbers, got {show(value)}")
        if self.min is not None and any(v < self.min for v in value):
            raise ParamError(f"must hold numbers >= {self.min:g}, got {show(value)}")
        return [float(v) for v in value]

    def _check_range(self, value: Any) -> list[float]:
        ok = isinstance(value, list | tuple) and len(value) == 2
        if not ok or not all(_is_number(v) and math.isfinite(v) for v in value):
            raise ParamError(f"must be two numbers, low and high, got {show(value)}")
        low, high = (float(v) for v in value)
        if low > high:
            raise ParamError(f"must be low then high (low <= high), got {show(value)}")
        if not (self._in_bounds(low) and self._in_bounds(high)):
            raise ParamError(f"{self._bounds_text('numbers', None)}, got {show(value)}")
        return [low, high]

    def _check_reshape(self, value: Any) -> list[int]:
        return self._int_list(value, allow_minus_one=True)
