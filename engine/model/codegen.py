"""Graph -> Python source of one `nn.Module` class: the single definition of the model.

The app trains an instance of exactly this source (see `engine.model.build`) and exports the
same text, so the trained model and the exported code cannot drift apart. The function
is pure: same graph, same text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.document.graph import Graph
from engine.errors import UserError
from engine.model.naming import Namespace, class_name_for
from engine.model.shapes import ShapeInference, infer_all

INDENT = "    "


class CodegenError(UserError):
    """The graph cannot become a model yet; `problems` lists (node id or None, message)."""

    def __init__(self, problems: list[tuple[str | None, str]], graph: Graph):
        self.problems = problems
        lines = []
        for node_id, message in problems:
            where = f"'{graph.nodes[node_id].label}': " if node_id in graph.nodes else ""
            lines.append(where + message)
        super().__init__("; ".join(lines))


@dataclass(frozen=True)
class GeneratedCode:
    source: str
    class_name: str
    inputs: list[str] = field(default_factory=list)  # Input node ids, forward() order
    outputs: list[str] = field(default_factory=list)  # Output node ids, return order
    attributes: dict[str, str] = field(default_factory=dict)  # node id -> self.<name>


def docstring_text(title: str) -> str:
    """A project's name made safe inside a generated file's docstring."""
    return title.replace("\\", "/").replace('"', "'")


def model_nodes(graph: Graph) -> tuple[list[str], list[str], list[str]]:
    """(inputs, outputs, all nodes) that make up the model: what leads to an Output."""
    outputs = [n.id for n in graph.nodes.values() if n.is_output]
    needed = set(outputs)
    for node_id in outputs:
        needed |= graph.ancestors(node_id)
    order = graph.topological_order(needed)
    inputs = [n for n in order if graph.nodes[n].is_input]
    inputs.sort(key=list(graph.nodes).index)
    return inputs, outputs, order


def check_model(graph: Graph, inference: ShapeInference) -> list[tuple[str | None, str]]:
    """Everything that keeps the graph from becoming a model."""
    inputs, outputs, order = model_nodes(graph)
    problems: list[tuple[str | None, str]] = []
    if not outputs:
        problems.append(
            (None, "The network has no Output node: add one and wire the last layer into it.")
        )
    elif not inputs:
        problems.append((None, "No Input node leads to an Output: add an Input and wire it in."))
    for node_id in order:
        result = inference.results[node_id]
        if result.status == "error" or (
            result.status == "waiting"
            and all(inference.results[a].ok for a in graph.ancestors(node_id))
        ):
            problems.append((node_id, result.message))
    return problems


def generate(
    graph: Graph,
    title: str = "Net",
    inference: ShapeInference | None = None,
) -> GeneratedCode:
    """The model's source. Runs Custom layers' code on meta tensors if `inference` is not
    given (that is what building a model means)."""
    inference = inference or infer_all(graph, run_custom=True)
    problems = check_model(graph, inference)
    if problems:
        raise CodegenError(problems, graph)
    return _Writer(graph, inference, class_name_for(title), title).write()


class _Writer:
    def __init__(self, graph: Graph, inference: ShapeInference, class_name: str, title: str):
        self.graph = graph
        self.inference = inference
        self.class_name = class_name
        self.title = title
        self.inputs, self.outputs, self.order = model_nodes(graph)
        self.custom: dict[str, tuple[str, str]] = {}  # class name -> (node id, source)
        self.attrs: dict[str, str] = {}
        self.vars: dict[str, str] = {}

    def write(self) -> GeneratedCode:
        customs = self._custom_classes()
        init, forward = self._body(customs)
        # Custom layers were written against all of runtime.base_namespace's names.
        uses_f = bool(self.custom) or any("F." in line for line in forward)
        parts = [self._header()]
        if self.custom:
            parts.append("import math")
            parts.append("")
        parts.append("import torch")
        if uses_f:
            parts.append("import torch.nn.functional as F")
        parts += ["from torch import nn", "", f'__all__ = ["{self.class_name}"]', ""]
        for _, source in self.custom.values():
            parts += ["", source.strip("\n"), ""]
        parts += ["", *self._class(init, forward)]
        return GeneratedCode(
            source="\n".join(parts) + "\n",
            class_name=self.class_name,
            inputs=self.inputs,
            outputs=self.outputs,
            attributes=dict(self.attrs),
        )

    def _header(self) -> str:
        title = docstring_text(self.title)
        lines = [f'"""{title}: a model generated by Torchwright.', ""]
        for node_id in self.inputs:
            shape = self.inference.results[node_id].output.describe()
            lines.append(f"Input  {self.vars[node_id]}: {shape}")
        for node_id in self.outputs:
            shape = self.inference.results[node_id].output.describe()
            lines.append(f"Output {self.graph.nodes[node_id].label}: {shape}")
        total = self.inference.total_params(set(self.order))
        lines += [f"Parameters: {total:,}", '"""', ""]
        return "\n".join(lines)

    def _custom_classes(self) -> set[str]:
        for node_id in self.order:
            node = self.graph.nodes[node_id]
            if not node.runs_user_code:
                continue
            name, source = node.params["class_name"], node.params["source"]
            seen = self.custom.get(name)
            if seen and seen[1] != source:
                raise CodegenError(
                    [
                        (
                            node_id,
                            f"another Custom layer defines a different class {name}; rename one.",
                        )
                    ],
                    self.graph,
                )
            self.custom[name] = (node_id, source)
        if self.class_name in self.custom:
            self.class_name = f"{self.class_name}Model"
        return set(self.custom)

    def _body(self, customs: set[str]) -> tuple[list[str], list[str]]:
        attributes = Namespace(customs | {self.class_name}, attribute=True)
        variables = Namespace(customs | {self.class_name})
        init, forward = [], []
        for node_id in self.order:
            node = self.graph.nodes[node_id]
            result = self.inference.results[node_id]
            if node.is_input:
                self.vars[node_id] = variables.take(node.label)
                continue
            args = [self.vars[e.src] for e in self.graph.inputs_of(node_id)]
            if node.is_output:
                continue
            target = None
            constructor = node.spec.constructor(result.params)
            if constructor is not None:
                target = "self." + attributes.take(node.label)
                self.attrs[node_id] = target[5:]
                init.append(f"{target} = {constructor}")
            expression = node.spec.forward(target, args, result.params)
            name = self._result_name(node_id, variables)
            forward.append(f"{name} = {expression}  # {result.output.describe()}")
        returned = [self.vars[self.graph.inputs_of(o)[0].src] for o in self.outputs]
        forward.append(f"return {', '.join(returned)}")
        return init, forward

    def _result_name(self, node_id: str, variables: Namespace) -> str:
        """Reuse the input's variable along a plain chain (x = self.fc1(x)); name the
        value after its layer where the graph branches or merges."""
        first = self.graph.inputs_of(node_id)[0].src
        if len(self.graph.outputs_of(first)) == 1 and len(self.graph.outputs_of(node_id)) <= 1:
            self.vars[node_id] = self.vars[first]
        else:
            self.vars[node_id] = variables.take(self.graph.nodes[node_id].label)
        return self.vars[node_id]

    def _class(self, init: list[str], forward: list[str]) -> list[str]:
        shapes = ", ".join(
            f'"{self.vars[n]}": {tuple(self.graph.nodes[n].params["shape"])!r}' for n in self.inputs
        )
        ids = [n for n in self.inputs if self.graph.nodes[n].params["dtype"] == "int64"]
        lines = [
            f"class {self.class_name}(nn.Module):",
            f"{INDENT}# Shape of each forward() argument, without the batch dimension.",
            f"{INDENT}input_shapes = {{{shapes}}}",
        ]
        if ids:
            pairs = ", ".join(f'"{self.vars[n]}": torch.int64' for n in ids)
            lines.append(f"{INDENT}input_dtypes = {{{pairs}}}")
        lines += ["", f"{INDENT}def __init__(self):", f"{INDENT * 2}super().__init__()"]
        lines += [INDENT * 2 + line for line in init]
        args = ", ".join(["self", *(self.vars[n] for n in self.inputs)])
        lines += ["", f"{INDENT}def forward({args}):"]
        lines += [INDENT * 2 + line for line in forward]
        return lines
