"""Checks of generated code against the graph it was generated from."""

import ast
import re

from engine.document.graph import Graph
from engine.model.codegen import GeneratedCode, model_nodes

IMPORTED = {"torch", "nn", "F", "math"}


def assert_lines_belong_to_their_nodes(graph: Graph, code: GeneratedCode) -> None:
    """Every statement of __init__ and forward (but super().__init__() and return) is on
    a line of its node, and every line of a Custom layer's class is that layer's, unless
    other nodes share the class."""
    tree = ast.parse(code.source)
    model = next(c for c in tree.body if isinstance(c, ast.ClassDef) and c.name == code.class_name)
    methods = {f.name: f for f in model.body if isinstance(f, ast.FunctionDef)}
    attribute = {name: node_id for node_id, name in code.attributes.items()}
    for statement in methods["__init__"].body[1:]:
        node_id = attribute[statement.targets[0].attr]
        assert code.lines[statement.lineno] == node_id
    for statement in methods["forward"].body[:-1]:
        node_id = code.lines[statement.lineno]
        if node_id in code.attributes:  # it calls its module, or reads its weight (ClassToken)
            used = re.search(rf"self\.{code.attributes[node_id]}[(.]", ast.unparse(statement.value))
            assert used is not None
    _, _, order = model_nodes(graph)
    users: dict[str, list[str]] = {}
    for node_id in order:
        if graph.nodes[node_id].runs_user_code:
            users.setdefault(graph.nodes[node_id].params["class_name"], []).append(node_id)
    for cls in (c for c in tree.body if isinstance(c, ast.ClassDef) and c.name in users):
        owners = {code.lines.get(line) for line in range(cls.lineno, cls.end_lineno + 1)}
        only = users[cls.name][0] if len(users[cls.name]) == 1 else None
        assert owners == {only}  # a class several nodes share is none of theirs
    for unowned in (methods["__init__"].body[0], methods["forward"].body[-1]):
        assert unowned.lineno not in code.lines  # super().__init__() and return


def assert_imports_are_what_the_code_uses(graph: Graph, source: str) -> None:
    """The file imports exactly the names its code uses; with a Custom layer, all that
    its source was promised."""
    tree = ast.parse(source)
    imported = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    _, _, order = model_nodes(graph)
    if any(graph.nodes[n].runs_user_code for n in order):
        assert imported == IMPORTED
    else:
        assert imported == used & IMPORTED
