"""Every layer's output, seen as the model computes it: the generated forward with a tap
after each layer's line.

The model's `forward` is the generated source's. `Taps` compiles that same function
again with one call added after each statement written for a node,
`__tap__("<node id>", <what it assigned>)`, under the model's own file name, so a
traceback still shows the generated lines and still names the layer
(engine.model.failures). Only the `def` is executed: nothing of the user's runs that
building the model did not already run.

`Taps.attach(module, tap)` puts the tapped forward on the module (as an instance
attribute, which `nn.Module.__call__` prefers) and `detach` takes it off again
(`forward_with` does both around a block), so a model that is not being watched runs
its own code and pays nothing.
`tap(node_id, value)` receives each layer's output tensor (the first tensor of a layer
whose line assigns several, such as an LSTM's output and state).
"""

from __future__ import annotations

import ast
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from engine.model.build import BuiltModel
from engine.model.failures import model_filename

Tap = Callable[[str, torch.Tensor], None]
TAP_NAME = "__tap__"


class Taps:
    """The tapped forward of a built model, and which nodes it taps, in forward order."""

    def __init__(self, built: BuiltModel):
        self.code = built.code
        self._function, self.node_ids = _tapped_function(built)

    def attach(self, module: nn.Module, tap: Tap) -> None:
        """From now on calls of `module` run the tapped forward, calling `tap`."""
        function = types.FunctionType(
            self._function.__code__,
            {**self._function.__globals__, TAP_NAME: _first_tensor(tap)},
            self._function.__name__,
            self._function.__defaults__,
        )
        module.forward = types.MethodType(function, module)

    @staticmethod
    def detach(module: nn.Module) -> None:
        """`module` runs its own forward again (nothing happens when it already does)."""
        module.__dict__.pop("forward", None)

    @contextmanager
    def forward_with(self, module: nn.Module, tap: Tap) -> Iterator[None]:
        """Calls of `module` inside this block run the tapped forward, calling `tap`."""
        self.attach(module, tap)
        try:
            yield
        finally:
            self.detach(module)

    def outputs(self, module: nn.Module, *inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        """Each tapped node's output for `inputs` (no gradients), in forward order."""
        seen: dict[str, torch.Tensor] = {}
        with torch.no_grad(), self.forward_with(module, seen.__setitem__):
            module(*inputs)
        return seen


def _first_tensor(tap: Tap) -> Callable[[str, Any], None]:
    def call(node_id: str, value: Any) -> None:
        while isinstance(value, (tuple, list)) and value:
            value = value[0]
        if isinstance(value, torch.Tensor):
            tap(node_id, value)

    return call


def _tapped_function(built: BuiltModel) -> tuple[types.FunctionType, list[str]]:
    code = built.code
    tree = ast.parse(code.source)
    forward = _forward_def(tree, code.class_name)
    body, node_ids = [], []
    for statement in forward.body:
        body.append(statement)
        node_id = _node_of(statement, code.lines)
        if node_id is not None and isinstance(statement, ast.Assign):
            body.append(_tap_call(node_id, statement))
            node_ids.append(node_id)
    forward.body = body
    ast.fix_missing_locations(forward)
    compiled = compile(ast.Module([forward], []), model_filename(code.source), "exec")
    namespace = dict(type(built.module).forward.__globals__)
    exec(compiled, namespace)  # only defines the function
    return namespace["forward"], node_ids


def _forward_def(tree: ast.Module, class_name: str) -> ast.FunctionDef:
    for item in tree.body:
        if isinstance(item, ast.ClassDef) and item.name == class_name:
            for member in item.body:
                if isinstance(member, ast.FunctionDef) and member.name == "forward":
                    return member
    raise ValueError(f"the generated source has no {class_name}.forward")


def _node_of(statement: ast.stmt, lines: dict[int, str]) -> str | None:
    for line in range(statement.lineno, (statement.end_lineno or statement.lineno) + 1):
        if line in lines:
            return lines[line]
    return None


def _tap_call(node_id: str, statement: ast.Assign) -> ast.stmt:
    target = _as_load(statement.targets[0])
    call = ast.Call(ast.Name(TAP_NAME, ast.Load()), [ast.Constant(node_id), target], [])
    return ast.copy_location(ast.Expr(call), statement)


def _as_load(target: ast.expr) -> ast.expr:
    if isinstance(target, ast.Tuple):
        return ast.Tuple([_as_load(e) for e in target.elts], ast.Load())
    if isinstance(target, ast.Name):
        return ast.Name(target.id, ast.Load())
    raise ValueError(f"a forward line assigns to {ast.dump(target)}")
