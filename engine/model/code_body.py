"""The `__init__` and `forward` lines of one generated class, written from a graph.

The model's class and each block's class are written the same way, one node at a time in
topological order; what differs is where a node's parameter values come from (the
inferred values themselves, or a block's constructor arguments) and whether a line can
carry the shape it computes. `BodyWriter` holds the common walk; the model and the
blocks give it those through its hooks.
"""

from __future__ import annotations

from typing import Any

from engine.document.graph import Graph, Node
from engine.model.naming import Namespace

INDENT = "    "
LINE_ROOM = 92  # characters of a forward() line after its indent, for 100 in all


def docstring_text(title: str) -> str:
    """Text made safe inside a generated file's docstring (a project's name, a block's
    summary)."""
    return title.replace("\\", "/").replace('"', "'")


LINE_LENGTH = 100


def wrapped(code: str, indent: int) -> str:
    """A line of generated code that would run past LINE_LENGTH at `indent`, with its
    last call's arguments on the lines below (on one when they fit, else one a line)."""
    room = LINE_LENGTH - len(INDENT) * indent
    if len(code) <= room or not code.endswith((")", "):", "),")):
        return code
    end = code.rindex(")")
    start = _opening(code, end)
    parts = _top_level_parts(code[start + 1 : end])
    if start < 0 or not parts:
        return code
    inner = INDENT * (indent + 1)
    one = ", ".join(parts)
    if len(inner) + len(one) <= LINE_LENGTH:
        middle = f"{INDENT}{one}"
    else:
        middle = "\n".join(f"{INDENT}{part}," for part in parts)
    return f"{code[: start + 1]}\n{middle}\n{code[end:]}"


def _unquoted(text: str):
    """(index, character) of each character of `text` outside its string literals."""
    quote = ""
    for i, char in enumerate(text):
        if quote:
            if char == quote and text[i - 1] != "\\":
                quote = ""
        elif char in "'\"":
            quote = char
        else:
            yield i, char


def _opening(code: str, end: int) -> int:
    """The index of the bracket that the one at `end` closes, or -1."""
    opened: list[int] = []
    for i, char in _unquoted(code):
        if char in "([{":
            opened.append(i)
        elif char in ")]}" and opened:
            start = opened.pop()
            if i == end:
                return start
    return -1


def _top_level_parts(text: str) -> list[str]:
    """`a, (b, c), 'd,e'` -> ['a', '(b, c)', "'d,e'"]."""
    cuts, depth = [], 0
    for i, char in _unquoted(text):
        depth += (char in "([{") - (char in ")]}")
        if char == "," and depth == 0:
            cuts.append(i)
    bounds = zip([-1, *cuts], [*cuts, len(text)], strict=True)
    return [part for a, b in bounds if (part := text[a + 1 : b].strip())]


class Lines:
    """Lines of source, and the node each one was written for."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.nodes: dict[int, str] = {}  # line number, from 1 -> node id

    def add(self, code: str = "", node_id: str | None = None, indent: int = 0) -> None:
        for line in code.split("\n"):
            self.text.append(INDENT * indent + line if line else "")
            if node_id is not None:
                self.nodes[len(self.text)] = node_id

    def extend(self, other: Lines) -> None:
        offset = len(self.text)
        self.text += other.text
        self.nodes.update({offset + n: node_id for n, node_id in other.nodes.items()})


class BodyWriter:
    """Walks `order` (the nodes that lead to `outputs`) and writes, per node, its
    submodule line in `init` and its computation in `forward`.

    taken: names the class's attributes and variables must not take (class names)."""

    def __init__(self, graph: Graph, order: list[str], outputs: list[str], taken: set[str]):
        self.graph = graph
        self.order = order
        self.outputs = outputs
        self.attributes = Namespace(taken, attribute=True)
        self.variables = Namespace(taken)
        self.init: list[tuple[str, str | None]] = []
        self.forward: list[tuple[str, str | None]] = []
        self.vars: dict[str, str] = {}
        self.attrs: dict[str, str] = {}
        self.uses: set[str] = set()  # names of imports the code written so far needs

    # --- hooks ------------------------------------------------------------------------

    def values(self, node_id: str) -> dict[str, Any]:
        """The node's parameter values as `__init__` writes them."""
        raise NotImplementedError

    def forward_values(self, node_id: str) -> dict[str, Any]:
        """The node's parameter values as `forward` writes them."""
        return self.values(node_id)

    def constructor(self, node: Node, values: dict[str, Any]) -> str | None:
        return node.spec.constructor(values)

    def shape(self, node_id: str) -> str | None:
        """The shape the node's line computes, for a comment; None: no comment."""
        raise NotImplementedError

    # --- the walk ---------------------------------------------------------------------

    def write(self) -> None:
        for node_id in self.order:
            node = self.graph.nodes[node_id]
            if node.is_input:
                self.vars[node_id] = self.variables.take(node.label)
                continue
            args = [self.vars[e.src] for e in self.graph.inputs_of(node_id)]
            if node.is_output:
                continue
            values = self.values(node_id)
            self.uses |= node.spec.imports(values, len(args))
            target = None
            constructor = self.constructor(node, values)
            if constructor is not None:
                target = "self." + self.attributes.take(node.label)
                self.attrs[node_id] = target[5:]
                self.init.append((f"{target} = {constructor}", node_id))
            expression = node.spec.forward(target, args, self.forward_values(node_id))
            self._line(node_id, f"{self._result_name(node_id)} = {expression}")
        returned = [self.vars[self.graph.inputs_of(o)[0].src] for o in self.outputs]
        self.forward.append((f"return {', '.join(returned)}", None))

    def _line(self, node_id: str, line: str) -> None:
        shape = self.shape(node_id)
        if shape is None:
            self.forward.append((line, node_id))
        elif len(line) + len(shape) + 4 > LINE_ROOM:  # the shape goes on a line above
            self.forward.append((f"# {shape}", node_id))
            self.forward.append((line, node_id))
        else:
            self.forward.append((f"{line}  # {shape}", node_id))

    def _result_name(self, node_id: str) -> str:
        """Reuse the input's variable along a plain chain (x = self.fc1(x)); name the
        value after its layer where the graph branches or merges."""
        first = self.graph.inputs_of(node_id)[0].src
        if len(self.graph.outputs_of(first)) == 1 and len(self.graph.outputs_of(node_id)) <= 1:
            self.vars[node_id] = self.vars[first]
        else:
            self.vars[node_id] = self.variables.take(self.graph.nodes[node_id].label)
        return self.vars[node_id]

    def write_methods(
        self, lines: Lines, inputs: list[str], arguments: list[str], before: list[str]
    ) -> None:
        """`__init__(self, *arguments)` (its `before` lines first) and
        `forward(self, <inputs' variables>)`, into `lines` at one indent."""
        lines.add(wrapped(f"def __init__({', '.join(['self', *arguments])}):", 1), indent=1)
        lines.add("super().__init__()", indent=2)
        for code in before:
            lines.add(code, indent=2)
        for code, node_id in self.init:
            lines.add(wrapped(code, 2), node_id, indent=2)
        names = [self.vars[n] for n in inputs]
        lines.add()
        lines.add(f"def forward({', '.join(['self', *names])}):", indent=1)
        for code, node_id in self.forward:
            lines.add(code, node_id, indent=2)
