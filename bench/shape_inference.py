"""How fast live shape inference is on a 300-node graph.

Run by hand: python bench/shape_inference.py
Prints milliseconds for a full inference (cold and warm module cache) and for the
incremental update after one edit, and the ratio of each to the full inference measured
in this same run (machines here are noisy; compare ratios, not absolute times).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.document.commands import AddNode, Connect, SetParams
from engine.document.graph import Edge, Graph
from engine.model.shapes import ShapeInference, build_meta


def residual_cnn(target_nodes: int = 300) -> tuple[Graph, list[str]]:
    """A ResNet-like CNN: blocks of conv-bn-relu-conv-bn-add-relu, pooling now and then."""
    graph = Graph()

    def node(layer_type: str, src: list[str], **params) -> str:
        new = graph.make_node(layer_type, params)
        AddNode(new).do(graph)
        for port, s in enumerate(src):
            Connect(Edge(s, new.id, port)).do(graph)
        return new.id

    x = node("Input", [], shape=[3, 64, 64])
    x = node("Conv2d", [x], out_channels=16, kernel_size=3, padding=1)
    block = 0
    while len(graph.nodes) < target_nodes - 12:
        width = 16 * 2 ** min(block // 8, 3)
        skip = x
        if block % 8 == 0 and block:
            skip = x = node("Conv2d", [x], out_channels=width, kernel_size=1)
        y = node("Conv2d", [x], out_channels=width, kernel_size=3, padding=1)
        y = node("BatchNorm2d", [y])
        y = node("ReLU", [y])
        y = node("Conv2d", [y], out_channels=width, kernel_size=3, padding=1)
        y = node("BatchNorm2d", [y])
        y = node("Add", [y, skip])
        x = node("ReLU", [y])
        if block % 8 == 7:
            x = node("MaxPool2d", [x], kernel_size=2)
        block += 1
    x = node("AdaptiveAvgPool2d", [x])
    x = node("Flatten", [x])
    x = node("Linear", [x], out_features=10)
    node("Output", [x])
    return graph, list(graph.nodes)


def timed(function, repeat: int = 7) -> float:
    """Median milliseconds of `function()`."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def full_inference(graph: Graph) -> None:
    inference = ShapeInference(graph)
    inference.update()
    inference.close()


def main() -> None:
    graph, ids = residual_cnn()
    build_meta.cache_clear()
    start = time.perf_counter()
    full_inference(graph)
    cold = (time.perf_counter() - start) * 1000
    warm = timed(lambda: full_inference(graph))

    live = ShapeInference(graph)
    live.update()
    convs = [n for n in ids if graph.nodes[n].type == "Conv2d"]
    edits = {"first conv": convs[0], "middle conv": convs[len(convs) // 2], "last linear": ids[-2]}
    print(f"graph: {len(graph.nodes)} nodes, {len(graph.edges)} wires")
    print(f"full inference, cold module cache: {cold:7.1f} ms")
    print(f"full inference, warm module cache: {warm:7.1f} ms  (baseline)")
    for name, node_id in edits.items():
        flips = iter([False, True] * 20)

        def edit(node_id=node_id, flips=flips):
            SetParams(node_id, {"bias": next(flips)}).do(graph)
            live.update()

        ms = timed(edit, repeat=10)
        print(
            f"edit {name:12s} -> {live.recomputed:3d} nodes re-inferred: {ms:7.1f} ms "
            f"({ms / warm:.2f}x the full inference)"
        )
    live.close()


if __name__ == "__main__":
    main()
