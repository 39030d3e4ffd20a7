"""Generated source -> live `nn.Module`, by executing that very source."""

from __future__ import annotations

import linecache
import types
from dataclasses import dataclass

import torch
from torch import nn

from engine.document.graph import Graph
from engine.document.trust import NOT_ALLOWED, Trust
from engine.errors import USER_CODE_ERRORS, UserError
from engine.model.codegen import GeneratedCode, generate
from engine.model.failures import Layer, failure, model_filename, remember
from engine.model.shapes import infer_all


class BuildError(UserError):
    """The generated code could not be run; the message names the cause."""


@dataclass
class BuiltModel:
    module: nn.Module
    code: GeneratedCode


def load_class(source: str, filename: str | None = None) -> type[nn.Module]:
    """Execute model source and return the class named by its `__all__`.

    The source is registered with linecache so tracebacks show the generated lines; it
    runs under `model_filename(source)` unless `filename` is given.
    """
    filename = filename or model_filename(source)
    module = types.ModuleType("torchwright_model")
    module.__file__ = filename
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), module.__dict__)
    names = module.__dict__.get("__all__") or []
    if len(names) != 1 or not isinstance(module.__dict__.get(names[0]), type):
        raise BuildError('model source must set __all__ = ["<ModelClass>"]')
    return module.__dict__[names[0]]


def load_generated(code: GeneratedCode, graph: Graph) -> type[nn.Module]:
    """`load_class` of the code generated from `graph`, remembering the layer of each of
    its lines: an error one of them raises then names its layer (engine.model.failures)."""
    layers = {node_id: Layer(node_id, n.label, n.type) for node_id, n in graph.nodes.items()}
    remember(code.source, {line: layers[node_id] for line, node_id in code.lines.items()})
    return load_class(code.source)


def build_model(
    graph: Graph,
    title: str = "Net",
    seed: int | None = None,
    trust: Trust = NOT_ALLOWED,
) -> BuiltModel:
    """Generate the model's source and instantiate it (seeded, when `seed` is given).

    Raises CustomCodeNotAllowed, before anything runs, when `trust` does not let each
    of the model's Custom layers run."""
    trust.require(graph)
    code = generate(graph, title, infer_all(graph, trust))
    try:
        cls = load_generated(code, graph)
        if seed is not None:
            torch.manual_seed(seed)
        model = cls()
    except USER_CODE_ERRORS as exc:
        raise failure(exc).error(BuildError, "the model could not be built") from exc
    return BuiltModel(model, code)
