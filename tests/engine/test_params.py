"""Every parameter of every layer refuses values out of its schema, with its name."""

import pytest

from engine.document.graph import Graph, GraphError
from engine.layers import CATALOG

BAD_VALUES = {
    "int": ["3", 2.5, True, None, [1]],
    "float": ["0.1", float("nan"), float("inf"), True, [0.1]],
    "bool": [1, "true", None],
    "choice": ["not-a-choice", 3, None],
    "text": [3, ["a"], None],
    "identifier": ["1abc", "with space", "class", 3, ""],
    "size": [0, -1, "3", 2.5, [2, "x"]],
    "shape": [[], [0], [-1], "10", [2.5], [True], 10, [1] * 9, [2_000_000]],
    "reshape": [[], [-1, -1], [0], [-2], "10"],
    "ints": [[], [0], "3", [1.5]],
}


def cases():
    for spec in CATALOG.values():
        for param in spec.params:
            values = list(BAD_VALUES[param.kind])
            if param.inferred or param.from_data or param.optional:
                values = [v for v in values if v is not None]
            if param.min is not None and param.kind in ("int", "float"):
                values.append(param.min - 1)
            if param.max is not None and param.kind in ("int", "float"):
                values.append(param.max + 1)
            if param.kind == "size":
                values = [v for v in values if v != 0 or param.min != 0]
                values.append([3] * (param.dims + 1))  # one entry too many
                if param.dims > 1:
                    values.append([3])
            for value in values:
                name = f"{spec.type}.{param.name}={value!r}"
                yield pytest.param(spec.type, param.name, value, id=name)


@pytest.mark.parametrize(("layer_type", "name", "value"), list(cases()))
def test_out_of_schema_values_are_refused_by_name(layer_type, name, value):
    graph = Graph()
    with pytest.raises(GraphError) as caught:
        graph.make_node(layer_type, {name: value})
    message = str(caught.value)
    assert message.startswith(f"{name}: ")
    assert "must" in message or "is " in message
    assert graph.nodes == {}


def test_bound_messages_read_like_sentences():
    graph = Graph()
    with pytest.raises(GraphError, match=r"out_features: must be a positive integer, got -1"):
        graph.make_node("Linear", {"out_features": -1})
    with pytest.raises(GraphError, match=r"p: must be a number between 0 and 1, got 1.5"):
        graph.make_node("Dropout", {"p": 1.5})
    with pytest.raises(GraphError, match=r"Linear has no parameter 'units'"):
        graph.make_node("Linear", {"units": 3})
    with pytest.raises(GraphError, match=r"unknown layer type 'Dense'"):
        graph.make_node("Dense")


def test_every_default_is_valid():
    for spec in CATALOG.values():
        for param in spec.params:
            assert param.validate(param.default) == param.default, (spec.type, param.name)
            assert param.help, f"{spec.type}.{param.name} has no help text"
        assert spec.summary and spec.category
