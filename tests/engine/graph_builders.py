"""Small builders for graphs used across the engine tests."""

from engine.document.commands import AddNode, Connect
from engine.document.graph import Edge, Graph


def add(graph: Graph, layer_type: str, label: str | None = None, **params) -> str:
    node = graph.make_node(layer_type, params, label=label)
    AddNode(node).do(graph)
    return node.id


def wire(graph: Graph, src: str, dst: str, port: int = 0) -> None:
    Connect(Edge(src, dst, port)).do(graph)


def chain(graph: Graph, *layers, start: str | None = None) -> list[str]:
    """Add layers given as (type, params) or type names, wired one after another."""
    ids = []
    prev = start
    for layer in layers:
        layer_type, params = (layer, {}) if isinstance(layer, str) else layer
        node_id = add(graph, layer_type, **params)
        if prev is not None:
            wire(graph, prev, node_id)
        ids.append(node_id)
        prev = node_id
    return ids


def lenet() -> tuple[Graph, list[str]]:
    """The classic LeNet on 3x32x32 images, every size left to inference."""
    graph = Graph()
    ids = chain(
        graph,
        ("Input", {"shape": [3, 32, 32]}),
        ("Conv2d", {"out_channels": 6, "kernel_size": 5}),
        "ReLU",
        ("MaxPool2d", {"kernel_size": 2}),
        ("Conv2d", {"out_channels": 16, "kernel_size": 5}),
        "ReLU",
        ("MaxPool2d", {"kernel_size": 2}),
        "Flatten",
        ("Linear", {"out_features": 120}),
        "ReLU",
        ("Linear", {"out_features": 84}),
        "ReLU",
        ("Linear", {"out_features": 10}),
        "Output",
    )
    return graph, ids
