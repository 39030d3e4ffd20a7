"""Whether Custom layers' code may run: one decision, owned by the open document and
handed to every engine function that could execute a Custom layer's source (shape
inference, building, training, exporting, a run's model).

Code that came with a file runs only once the user allowed it for that file
(`custom_code`). Code the user wrote in this session runs anyway: its text is in
`sources`. The decision is kept by source text rather than by node, so it travels
unchanged to the training process, applies to the copy of a layer's code in a run's
model.py, and an undo back to the file's code is the file's code again.

The safe default, `Trust()`, allows nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, replace

from engine.document.graph import Graph, Node
from engine.errors import UserError

HOW_TO_ALLOW = (
    "read it, then choose Edit > Run Custom Layer Code in the app, or pass "
    "--allow-custom-code on the command line"
)


class CustomCodeNotAllowed(UserError):
    """Custom layer code that may not run yet. `layers`: what holds it (the layers'
    labels, or the definitions found in a model file); `subject`: the sentence's start,
    naming them."""

    def __init__(self, layers: list[str], subject: str | None = None):
        self.layers = layers
        if subject is None:
            one = len(layers) == 1
            noun, verb = ("Custom layer", "holds") if one else ("Custom layers", "hold")
            subject = f"{noun} {joined(repr(label) for label in layers)} {verb} code"
        super().__init__(
            f"{subject} that came with the project file and has not been allowed to run: "
            f"{HOW_TO_ALLOW}."
        )


def joined(words: Iterable[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    words = list(words)
    return " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


@dataclass(frozen=True)
class Trust:
    """custom_code: every Custom layer may run (the user allowed the file's code).
    sources: Custom sources the user wrote or typed in this session; they may run."""

    custom_code: bool = False
    sources: frozenset[str] = frozenset()

    def allows(self, source: str) -> bool:
        return self.custom_code or source in self.sources

    def may_run(self, node: Node) -> bool:
        return not node.runs_user_code or self.allows(node.params["source"])

    def allowing(self, allowed: bool = True) -> Trust:
        return replace(self, custom_code=allowed)

    def with_source(self, source: str) -> Trust:
        return replace(self, sources=self.sources | {source})

    def refused(self, graph: Graph) -> list[str]:
        """Labels of the model's Custom layers (those that lead to an Output) that may
        not run."""
        return self.refused_among(custom_sources(model_custom_layers(graph)))

    def refused_among(self, layers: dict[str, str]) -> list[str]:
        """The labels of `layers` (label -> source) whose source may not run."""
        return [label for label, source in layers.items() if not self.allows(source)]

    def require(self, graph: Graph) -> None:
        """Raise CustomCodeNotAllowed unless every Custom layer of the model may run."""
        refused = self.refused(graph)
        if refused:
            raise CustomCodeNotAllowed(refused)

    def refused_in_source(self, model_source: str) -> list[str]:
        """What in a generated model's source (a run's model.py) may not run: the
        definitions above the model class, once the sources allowed are taken out.
        Found by parsing, never by running."""
        if self.custom_code:
            return []
        text = model_source
        for source in self.sources:
            text = text.replace(source.strip("\n"), "")
        return foreign_definitions(text)


NOT_ALLOWED = Trust()
ALLOWED = Trust(custom_code=True)

# What Torchwright writes around the model class in every model.py (engine.model.codegen).
GENERATED_IMPORTS = frozenset(
    ("import math", "import torch", "import torch.nn.functional as F", "from torch import nn")
)


def model_custom_layers(graph: Graph) -> list[Node]:
    """The Custom layers that lead to an Output: those the model's code holds."""
    outputs = [node_id for node_id, node in graph.nodes.items() if node.is_output]
    needed = set(outputs).union(*(graph.ancestors(node_id) for node_id in outputs))
    return [n for n in graph.nodes.values() if n.runs_user_code and n.id in needed]


def custom_sources(nodes: Iterable[Node]) -> dict[str, str]:
    """Label -> source of the Custom layers among `nodes`."""
    return {n.label: n.params["source"] for n in nodes if n.runs_user_code}


def foreign_definitions(model_source: str) -> list[str]:
    """The top-level statements of a model file besides the docstring, the generated
    imports, `__all__` and the class `__all__` names: a Custom layer's code (or anything
    else someone put there), each as "class Name", "def name" or "line N"."""
    try:
        tree = ast.parse(model_source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ["the whole file (it cannot be parsed)"]
    names = _exported(tree)
    found = []
    for number, statement in enumerate(tree.body):
        docstring = number == 0 and isinstance(statement, ast.Expr)
        docstring = docstring and isinstance(statement.value, ast.Constant)
        if docstring or ast.unparse(statement) in GENERATED_IMPORTS:
            continue
        if _is_all(statement) or (isinstance(statement, ast.ClassDef) and statement.name in names):
            continue
        found.append(_describe(statement))
    return found


def _exported(tree: ast.Module) -> list[str]:
    """The one model class `__all__` names, as `engine.model.build.load_class` takes it."""
    for statement in tree.body:
        if _is_all(statement):
            names = [element.value for element in statement.value.elts]
            return names if len(names) == 1 else []
    return []


def _is_all(statement: ast.stmt) -> bool:
    """`__all__ = ["Name", ...]`, a list of strings and nothing else."""
    return (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
        and statement.targets[0].id == "__all__"
        and isinstance(statement.value, ast.List)
        and all(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in statement.value.elts
        )
    )


def _describe(statement: ast.stmt) -> str:
    if isinstance(statement, ast.ClassDef):
        return f"class {statement.name}"
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
        return f"def {statement.name}"
    return f"line {statement.lineno}"
