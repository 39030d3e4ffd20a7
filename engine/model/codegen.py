"""Graph -> Python source of one `nn.Module` class: the single definition of the model.

The app trains an instance of exactly this source (see `engine.model.build`) and exports the
same text, so the trained model and the exported code cannot drift apart. The function
is pure: same graph, same text.

Each node's code is written with what it uses: the names of the file's imports (its
spec's `imports`, as torch.fx's codegen records each global it emits), so the file imports
exactly those; and the node it belongs to, so `GeneratedCode.lines` can tell which node
a line of the file was written for (an error raised there is that node's).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.document.graph import Graph
from engine.errors import UserError
from engine.model.naming import Namespace, class_name_for
from engine.model.shapes import ShapeInference, infer_all

INDENT = "    "
# What generated code may use: (name, the line importing it), in groups as the file lists them.
LINE_ROOM = 92  # characters of a forward() line after its indent, for 100 in all
IMPORTS = (
    (("math", "import math"),),
    (
        ("torch", "import torch"),
        ("F", "import torch.nn.functional as F"),
        ("nn", "from torch import nn"),
    ),
)


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
    # line number (from 1) -> the node it was written for: the node's line in __init__
    # and in forward, and its class's lines for a Custom layer (unless several share it)
    lines: dict[int, str] = field(default_factory=dict)


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
    """The model's source, as text: nothing is executed here. Shapes come from
    `inference`; without one, from an inference that runs no Custom layer's code, so a
    graph with Custom layers then needs an inference made with the user's permission
    (`infer_all(graph, trust)`)."""
    inference = inference or infer_all(graph)
    problems = check_model(graph, inference)
    if problems:
        raise CodegenError(problems, graph)
    return _Writer(graph, inference, class_name_for(title), title).write()


class _Lines:
    """Lines of source, and the node each one was written for."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.nodes: dict[int, str] = {}  # line number, from 1 -> node id

    def add(self, code: str = "", node_id: str | None = None, indent: int = 0) -> None:
        for line in code.split("\n"):
            self.text.append(INDENT * indent + line if line else "")
            if node_id is not None:
                self.nodes[len(self.text)] = node_id

    def extend(self, other: _Lines) -> None:
        offset = len(self.text)
        self.text += other.text
        self.nodes.update({offset + n: node_id for n, node_id in other.nodes.items()})


class _Writer:
    def __init__(self, graph: Graph, inference: ShapeInference, class_name: str, title: str):
        self.graph = graph
        self.inference = inference
        self.class_name = class_name
        self.title = title
        self.inputs, self.outputs, self.order = model_nodes(graph)
        self.custom: dict[str, tuple[str, list[str]]] = {}  # class name -> (source, node ids)
        self.attrs: dict[str, str] = {}
        self.vars: dict[str, str] = {}
        self.uses: set[str] = set()  # names of imports the code written so far needs

    def write(self) -> GeneratedCode:
        customs = self._custom_classes()
        init, forward = self._body(customs)
        body = _Lines()
        for source, node_ids in self.custom.values():
            body.add()
            body.add(source.strip("\n"), node_ids[0] if len(node_ids) == 1 else None)
            body.add()
        body.add()
        self._class(body, init, forward)
        lines = self._head()
        lines.extend(body)
        return GeneratedCode(
            source="\n".join(lines.text) + "\n",
            class_name=self.class_name,
            inputs=self.inputs,
            outputs=self.outputs,
            attributes=dict(self.attrs),
            lines=lines.nodes,
        )

    def _head(self) -> _Lines:
        """The docstring and the imports the code below it uses."""
        head = _Lines()
        title = docstring_text(self.title)
        head.add(f'"""{title}: a model generated by Torchwright.')
        head.add()
        for node_id in self.inputs:
            shape = self.inference.results[node_id].output.describe()
            head.add(f"Input  {self.vars[node_id]}: {shape}")
        for node_id in self.outputs:
            shape = self.inference.results[node_id].output.describe()
            head.add(f"Output {self.graph.nodes[node_id].label}: {shape}")
        total = self.inference.total_params(set(self.order))
        head.add(f"Parameters: {total:,}")
        head.add('"""')
        head.add()
        for group in IMPORTS:
            used = [line for name, line in group if name in self.uses]
            if used:
                head.add("\n".join(used))
                head.add()
        head.add(f'__all__ = ["{self.class_name}"]')
        head.add()
        return head

    def _custom_classes(self) -> set[str]:
        for node_id in self.order:
            node = self.graph.nodes[node_id]
            if not node.runs_user_code:
                continue
            name, source = node.params["class_name"], node.params["source"]
            seen = self.custom.setdefault(name, (source, []))
            if seen[0] != source:
                raise CodegenError(
                    [
                        (
                            node_id,
                            f"another Custom layer defines a different class {name}; rename one.",
                        )
                    ],
                    self.graph,
                )
            seen[1].append(node_id)
        if self.class_name in self.custom:
            self.class_name = f"{self.class_name}Model"
        return set(self.custom)

    def _body(
        self, customs: set[str]
    ) -> tuple[list[tuple[str, str]], list[tuple[str, str | None]]]:
        """The lines of __init__ and of forward, each with the node it is for."""
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
            self.uses |= node.spec.imports(result.params, len(args))
            target = None
            constructor = node.spec.constructor(result.params)
            if constructor is not None:
                target = "self." + attributes.take(node.label)
                self.attrs[node_id] = target[5:]
                init.append((f"{target} = {constructor}", node_id))
            expression = node.spec.forward(target, args, result.params)
            name = self._result_name(node_id, variables)
            line = f"{name} = {expression}"
            shape = f"# {result.output.describe()}"
            if len(line) + len(shape) + 2 > LINE_ROOM:  # the shape goes on a line above
                forward.append((shape, node_id))
                forward.append((line, node_id))
            else:
                forward.append((f"{line}  {shape}", node_id))
        returned = [self.vars[self.graph.inputs_of(o)[0].src] for o in self.outputs]
        forward.append((f"return {', '.join(returned)}", None))
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

    def _class(
        self,
        lines: _Lines,
        init: list[tuple[str, str]],
        forward: list[tuple[str, str | None]],
    ) -> None:
        self.uses.add("nn")
        shapes = ", ".join(
            f'"{self.vars[n]}": {self.inference.results[n].output.shape[1:]!r}' for n in self.inputs
        )
        ids = [n for n in self.inputs if self.graph.nodes[n].params["dtype"] == "int64"]
        lines.add(f"class {self.class_name}(nn.Module):")
        lines.add("# Shape of each forward() argument, without the batch dimension.", indent=1)
        lines.add(f"input_shapes = {{{shapes}}}", indent=1)
        if ids:
            self.uses.add("torch")
            pairs = ", ".join(f'"{self.vars[n]}": torch.int64' for n in ids)
            lines.add(f"input_dtypes = {{{pairs}}}", indent=1)
        lines.add()
        lines.add("def __init__(self):", indent=1)
        lines.add("super().__init__()", indent=2)
        for code, node_id in init:
            lines.add(code, node_id, indent=2)
        args = ", ".join(["self", *(self.vars[n] for n in self.inputs)])
        lines.add()
        lines.add(f"def forward({args}):", indent=1)
        for code, node_id in forward:
            lines.add(code, node_id, indent=2)
