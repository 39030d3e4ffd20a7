"""The Custom layer: an `nn.Module` subclass the user writes.

Its source is only parsed (never run) when a project is loaded or checked; it runs
when the user builds, trains or exports the model, or asks for live shapes through it.
"""

import ast

from engine.layers.params import Param
from engine.layers.spec import LayerSpec

TEMPLATE = '''class Affine(nn.Module):
    """A learnable scale and shift for every feature."""

    def __init__(self, features: int = 16):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(features))
        self.shift = nn.Parameter(torch.zeros(features))

    def forward(self, x):
        return x * self.scale + self.shift
'''

RESERVED = {"torch", "nn", "F", "math"}


def source_problem(params) -> str | None:
    """What keeps the source from defining the class, found without running it."""
    name, source = params["class_name"], params["source"]
    if name in RESERVED:
        return f"class_name {name!r} is taken by an import of the generated file; choose another."
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return f"the source has a syntax error on line {exc.lineno}: {exc.msg}."
    except (ValueError, RecursionError, MemoryError):
        return "the source cannot be parsed as Python."
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    if not any(c.name == name for c in classes):
        found = ", ".join(c.name for c in classes) or "none"
        return f"the source does not define class {name} (classes found: {found})."
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if not (docstring or isinstance(node, ast.ClassDef | ast.FunctionDef | ast.Assign)):
            return (
                f"line {node.lineno}: only imports, classes, functions and constants may be "
                "at the top level of the source."
            )
    return None


CUSTOM = LayerSpec(
    type="Custom",
    category="Custom",
    summary="Your own nn.Module: write __init__ and forward; it takes this node's inputs.",
    params=(
        Param(
            "class_name", "identifier", "Affine", "Name of the class the source defines.", arg=False
        ),
        Param(
            "source",
            "text",
            TEMPLATE,
            "Python source of the class (torch, nn, F available).",
            arg=False,
        ),
    ),
    max_inputs=None,
    module=lambda params: f"{params['class_name']}",
    check=source_problem,
    label="custom",
    runs_user_code=True,
    uses=tuple(sorted(RESERVED)),  # the source was written against all of them
)

SPECS = (CUSTOM,)
