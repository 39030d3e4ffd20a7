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
from engine.model.block_code import signatures, write_block
from engine.model.code_body import BodyWriter, Lines, docstring_text, wrapped
from engine.model.naming import class_name_for
from engine.model.shapes import ShapeInference, infer_all

# What generated code may use: (name, the line importing it), in groups as the file lists them.
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


class _ModelBody(BodyWriter):
    """The model's own class: values as inferred, block instances by their signatures."""

    def __init__(self, writer: _Writer, taken: set[str]):
        super().__init__(writer.graph, writer.order, writer.outputs, taken)
        self.results = writer.inference.results
        self.signed = writer.signed

    def values(self, node_id: str) -> dict:
        return self.results[node_id].params

    def constructor(self, node, values: dict) -> str | None:
        if node.block is not None:
            sig = self.signed[node.block.name]
            return sig.call(sig.of(self.results[node.id]))
        return super().constructor(node, values)

    def shape(self, node_id: str) -> str:
        return self.results[node_id].output.describe()


class _Writer:
    def __init__(self, graph: Graph, inference: ShapeInference, class_name: str, title: str):
        self.graph = graph
        self.inference = inference
        self.class_name = class_name
        self.title = title
        self.inputs, self.outputs, self.order = model_nodes(graph)
        self.custom: dict[str, tuple[str, list[str]]] = {}  # class name -> (source, node ids)
        self.signed = signatures(graph, inference.results, self.order)
        self.uses: set[str] = set()  # names of imports the code written so far needs

    def write(self) -> GeneratedCode:
        classes = self._custom_classes() | set(self.signed)
        if self.class_name in classes:
            self.class_name = f"{self.class_name}Model"
        classes.add(self.class_name)
        body = Lines()
        for source, node_ids in self.custom.values():
            body.add()
            body.add(source.strip("\n"), node_ids[0] if len(node_ids) == 1 else None)
            body.add()
        for sig in self.signed.values():
            body.add()
            lines, uses = write_block(sig, self.signed, classes)
            body.extend(lines)
            self.uses |= uses
            body.add()
        model = _ModelBody(self, classes)
        model.write()
        self.uses |= model.uses
        body.add()
        self._class(body, model)
        lines = self._head(model)
        lines.extend(body)
        return GeneratedCode(
            source="\n".join(lines.text) + "\n",
            class_name=self.class_name,
            inputs=self.inputs,
            outputs=self.outputs,
            attributes=dict(model.attrs),
            lines=lines.nodes,
        )

    def _head(self, model: _ModelBody) -> Lines:
        """The docstring and the imports the code below it uses."""
        head = Lines()
        title = docstring_text(self.title)
        head.add(f'"""{title}: a model generated by Torchwright.')
        head.add()
        for node_id in self.inputs:
            shape = self.inference.results[node_id].output.describe()
            head.add(f"Input  {model.vars[node_id]}: {shape}")
        for node_id in self.outputs:
            shape = self.inference.results[node_id].output.describe()
            head.add(f"Output {self.graph.nodes[node_id].label}: {shape}")
        total = self.inference.total_params(set(self.order))
        head.add(f"Parameters: {total:,}")
        macs = self.inference.total_macs(set(self.order))
        if macs:
            head.add(f"Multiply-accumulates per sample: {macs:,}")
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
            if seen[0] != source or name in self.signed:
                raise CodegenError(
                    [
                        (
                            node_id,
                            f"another Custom layer or a block defines a different class {name}; "
                            "rename one.",
                        )
                    ],
                    self.graph,
                )
            seen[1].append(node_id)
        return set(self.custom)

    def _class(self, lines: Lines, model: _ModelBody) -> None:
        self.uses.add("nn")
        shapes = ", ".join(
            f'"{model.vars[n]}": {self.inference.results[n].output.shape[1:]!r}'
            for n in self.inputs
        )
        ids = [n for n in self.inputs if self.graph.nodes[n].params["dtype"] == "int64"]
        lines.add(f"class {self.class_name}(nn.Module):")
        lines.add("# Shape of each forward() argument, without the batch dimension.", indent=1)
        lines.add(f"input_shapes = {{{shapes}}}", indent=1)
        if ids:
            self.uses.add("torch")
            pairs = ", ".join(f'"{model.vars[n]}": torch.int64' for n in ids)
            lines.add(f"input_dtypes = {{{pairs}}}", indent=1)
        self._tuning(lines, model)
        lines.add()
        model.write_methods(lines, self.inputs, [], [])

    def _tuning(self, lines: Lines, model: _ModelBody) -> None:
        """What a training loop reads to fine-tune: the frozen submodules and the
        learning-rate multipliers (only the layers that hold weights)."""
        nodes = [(self.graph.nodes[n], model.attrs[n]) for n in self.order if n in model.attrs]
        frozen = [name for node, name in nodes if node.frozen]
        scales = {name: node.lr_scale for node, name in nodes if node.lr_scale != 1.0}
        if not frozen and not scales:
            return
        lines.add("# For fine-tuning: submodules whose weights stay as they are, and", indent=1)
        lines.add("# learning-rate multipliers by submodule (read by the training loop).", indent=1)
        if frozen:
            names = ", ".join(f'"{name}"' for name in frozen) + ("," if len(frozen) == 1 else "")
            lines.add(wrapped(f"frozen = ({names})", 1), indent=1)
        if scales:
            pairs = ", ".join(f'"{name}": {scale!r}' for name, scale in scales.items())
            lines.add(wrapped(f"lr_multipliers = {{{pairs}}}", 1), indent=1)
