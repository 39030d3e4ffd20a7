"""`import_model`: a model class from a Python file -> an editable Torchwright project.

The model is built with no arguments, run on example inputs of the given shapes, and its
forward() traced with torch.fx; each operation becomes a catalog layer (or a Custom layer
for the user's own submodules). Every import checks itself: the generated model, given the
original's weights, must return the original's outputs on the example inputs.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine.document.layout import lay_out
from engine.document.project import Project
from engine.document.trust import ALLOWED
from engine.importing.blocks import BlockMaker
from engine.importing.builder import BuiltGraph, GraphBuilder, TracedModel
from engine.importing.custom import CustomLayers
from engine.importing.loading import build_model, model_class, user_module
from engine.importing.source import USER_CODE_ERRORS, ModelImportError, SourceFile
from engine.importing.tracing import node_values, run_model, trace
from engine.layers.custom import RESERVED
from engine.model.build import load_class
from engine.model.codegen import CodegenError, GeneratedCode, generate
from engine.model.shapes import explain, infer_all

DTYPES = ("float32", "int64")
MAX_DIMS = 8  # an Input's shape holds at most 8 sizes besides the batch
MAX_SIZE = 1_000_000
MAX_ELEMENTS = 50_000_000  # of one example input


@dataclass
class ImportResult:
    """project: the imported graph, laid out; key_map: original state_dict key -> key in
    the generated model; state_dict: the original's weights under the generated keys;
    code: the generated model's source; notes: things the user should know."""

    project: Project
    key_map: dict[str, str]
    state_dict: dict[str, torch.Tensor]
    code: GeneratedCode
    num_params: int
    notes: list[str] = field(default_factory=list)

    @property
    def renamed(self) -> dict[str, str]:
        return {old: new for old, new in self.key_map.items() if old != new}


def import_model(
    path: str | Path,
    class_name: str,
    input_shapes: list[tuple[int, ...]],
    input_dtypes: list[str] | None = None,
    flat: bool = False,
) -> ImportResult:
    """Import `class_name` from the file at `path`, fed inputs of `input_shapes` (batch
    dimension first) and `input_dtypes` (float32 or int64; float32 by default). The
    submodules become blocks where they can (`flat`: never; nn.Sequential containers are
    then traced through, and the user's own submodules are Custom layers).

    Raises ModelImportError naming the file and line of everything that cannot be imported.
    """
    source = SourceFile(path)
    specs = _input_specs(input_shapes, input_dtypes)
    examples = [_example_input(shape, dtype) for shape, dtype in specs]
    model, expected, built = _read_model(source, class_name, specs, examples, flat)
    code = _generate(built, class_name, source)
    lay_out(built.graph)
    key_map = _key_map(model, built, code)
    state = {key_map[k]: v for k, v in model.state_dict().items() if k in key_map}
    num_params = _check_round_trip(code, state, examples, expected, source, class_name)
    left = [k for k in model.state_dict() if k not in key_map]
    project = Project(
        name=class_name,
        description=f"Imported from {source.path.name}:{class_name}.",
        graph=built.graph,
        blocks=built.blocks,
    )
    notes = [_left_out_note(left)] if left else []
    return ImportResult(project, key_map, state, code, num_params, notes)


def _read_model(
    source: SourceFile,
    class_name: str,
    specs: list[tuple[tuple[int, ...], str]],
    examples: list[torch.Tensor],
    flat: bool,
) -> tuple[nn.Module, Any, BuiltGraph]:
    """Run the file, build and run the model, and turn its forward() into a graph:
    (model, its outputs on `examples`, the graph)."""
    with user_module(source) as module:
        cls = model_class(module, class_name, source)
        model, recorder = build_model(cls, module, source)
        fixed = _optional_arguments(model, len(examples), source)
        expected = run_model(model, examples, source)
        line, names = source.return_statement(cls)
        for sequentials in (False,) if flat else (True, False):  # False: go through them
            traced = trace(model, source, fixed, sequentials)
            values = node_values(traced, examples, source)
            traced_model = TracedModel(traced, values, specs, cls, line, names)
            customs = CustomLayers(set(vars(module)))
            blocks = BlockMaker(RESERVED | {class_name}, sequentials, enabled=not flat)
            built = GraphBuilder(traced_model, source, recorder, customs, blocks).build()
            built.blocks = blocks.finish()
            if not built.problems:
                break
    return model, expected, built


def _input_specs(
    shapes: list[tuple[int, ...]], dtypes: list[str] | None
) -> list[tuple[tuple[int, ...], str]]:
    """(shape, dtype) of every input, checked; raises ModelImportError."""
    if not shapes:
        raise ModelImportError(
            "give the shape of every input of forward(), batch dimension first, e.g. 1,784"
        )
    dtypes = ["float32"] * len(shapes) if dtypes is None else list(dtypes)
    if len(dtypes) != len(shapes):
        raise ModelImportError(
            f"give one dtype per input: there are {len(shapes)} input shapes and "
            f"{len(dtypes)} dtypes"
        )
    for shape, dtype in zip(shapes, dtypes, strict=True):
        sizes = tuple(shape)
        if not (
            2 <= len(sizes) <= MAX_DIMS + 1
            and all(isinstance(s, int) and 1 <= s <= MAX_SIZE for s in sizes)
        ):
            raise ModelImportError(
                f"the input shape {sizes} needs a batch size and 1 to {MAX_DIMS} more sizes, "
                f"each a whole number from 1 to {MAX_SIZE:,}, e.g. (1, 784)"
            )
        if math.prod(sizes) > MAX_ELEMENTS:
            raise ModelImportError(
                f"the input shape {sizes} is too large for an example input; use batch size 1"
            )
        if dtype not in DTYPES:
            raise ModelImportError(f"the input dtype {dtype!r} is not float32 or int64")
    return [(tuple(s), d) for s, d in zip(shapes, dtypes, strict=True)]


def _example_input(shape: tuple[int, ...], dtype: str) -> torch.Tensor:
    """Random features, or id 0 everywhere (valid for any Embedding)."""
    if dtype == "int64":
        return torch.zeros(shape, dtype=torch.int64)
    return torch.randn(shape, generator=torch.Generator().manual_seed(0))


def _optional_arguments(model: nn.Module, count: int, source: SourceFile) -> dict[str, Any]:
    """forward()'s arguments after the given inputs, fixed at their defaults."""
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    params = [p for p in inspect.signature(model.forward).parameters.values() if p.kind in kinds]
    required = [p for p in params if p.default is p.empty]
    if not len(required) <= count <= len(params):
        takes = f"{len(required)}" + ("" if required == params else f" to {len(params)}")
        inputs = f"input{'' if takes == '1' else 's'} ({', '.join(p.name for p in params)})"
        given = f"{count} input shape{' is' if count == 1 else 's are'} given"
        raise source.error(
            source.definition_line(type(model).forward),
            f"{type(model).__name__}.forward takes {takes} {inputs}, but {given}",
        )
    return {p.name: p.default for p in params[count:]}


def _generate(built: BuiltGraph, class_name: str, source: SourceFile) -> GeneratedCode:
    """The model's code, or every problem found: the operations that could not be
    imported and the shape problems of those that could, by line. The Custom layers'
    code is the user's file, which the import has just run: it may run again here."""
    inference = infer_all(built.graph, ALLOWED)
    problems = built.problems + [
        (built.lines.get(node_id) or 0, message.rstrip("."))
        for node_id, message in inference.problems()
    ]
    if problems:
        ordered = sorted(dict.fromkeys(problems), key=lambda problem: problem[0])
        raise ModelImportError([f"{source.where(line)}: {text}" for line, text in ordered])
    try:
        return generate(built.graph, class_name, inference)
    except CodegenError as exc:
        raise ModelImportError(f"{source.shown}: {exc}") from None


def _key_map(model: nn.Module, built: BuiltGraph, code: GeneratedCode) -> dict[str, str]:
    key_map = {}
    for node_id, target in built.modules.items():
        attribute = code.attributes.get(node_id)
        if attribute is not None:
            for key in model.get_submodule(target).state_dict():
                key_map[f"{target}.{key}"] = f"{attribute}.{key}"
    return key_map


def _check_round_trip(
    code: GeneratedCode,
    state: dict[str, torch.Tensor],
    examples: list[torch.Tensor],
    expected: Any,
    source: SourceFile,
    class_name: str,
) -> int:
    """The generated model's parameter count, once it is known to match the original."""
    try:
        rebuilt = load_class(code.source)().eval()
        rebuilt.load_state_dict(state, strict=True)
        with torch.no_grad():
            got = rebuilt(*examples)
    except USER_CODE_ERRORS as exc:
        raise source.error(
            None, f"the imported model of {class_name} cannot run with its weights: {explain(exc)}"
        ) from None
    pairs = list(zip(_as_tuple(got), _as_tuple(expected), strict=False))
    same = len(pairs) == len(_as_tuple(expected)) and all(
        a.shape == b.shape and torch.allclose(a, b, rtol=1e-4, atol=1e-5) for a, b in pairs
    )
    if not same:
        raise source.error(
            None,
            f"the imported model gives other outputs than {class_name} on the same inputs; "
            "a Custom layer may depend on something set after it was built",
        )
    return sum(p.numel() for p in rebuilt.parameters())


def _as_tuple(value: Any) -> tuple:
    return tuple(value) if isinstance(value, tuple | list) else (value,)


def _left_out_note(keys: list[str]) -> str:
    shown = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
    return f"forward() does not use these weights, so they are left out: {shown}"
