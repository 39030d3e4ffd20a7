"""The names generated code and custom layers can use, and how their source is run."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

CUSTOM_FILENAME = "<custom layer>"


def base_namespace() -> dict[str, Any]:
    """Globals matching the imports at the top of every generated file."""
    return {"__builtins__": __builtins__, "torch": torch, "nn": nn, "F": F, "math": math}


def run_custom_source(source: str) -> dict[str, Any]:
    """Execute a Custom layer's source (only when the user builds or asks for shapes)."""
    namespace = base_namespace()
    exec(compile(source, CUSTOM_FILENAME, "exec"), namespace)
    return namespace
