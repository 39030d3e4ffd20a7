"""Live shape inference: shapes, inferred parameters, counts and pinned problems."""

from engine.document.commands import Connect, Disconnect, SetParams
from engine.document.graph import Edge, Graph
from engine.document.trust import ALLOWED, Trust
from engine.layers.custom import TEMPLATE
from engine.model.shapes import ShapeInference, infer_all
from tests.engine.graph_builders import add, chain, lenet, wire


def shapes(graph, inference, ids):
    return [
        inference.results[i].output.describe() if inference.results[i].output else None for i in ids
    ]


def test_lenet_sizes_are_inferred_so_nobody_computes_16_5_5():
    graph, ids = lenet()
    inference = infer_all(graph)
    assert shapes(graph, inference, ids) == [
        "[N, 3, 32, 32]",
        "[N, 6, 28, 28]",
        "[N, 6, 28, 28]",
        "[N, 6, 14, 14]",
        "[N, 16, 10, 10]",
        "[N, 16, 10, 10]",
        "[N, 16, 5, 5]",
        "[N, 400]",
        "[N, 120]",
        "[N, 120]",
        "[N, 84]",
        "[N, 84]",
        "[N, 10]",
        "[N, 10]",
    ]
    assert inference.results[ids[1]].inferred == {"in_channels": 3}
    assert inference.results[ids[8]].inferred == {"in_features": 400}
    assert inference.results[ids[8]].num_params == 400 * 120 + 120
    assert inference.total_params() == 62006  # LeNet-5's well-known count
    assert inference.problems() == []


def test_a_wrong_explicit_size_is_pinned_to_the_node_and_wire():
    graph, ids = lenet()
    SetParams(ids[8], {"in_features": 256}).do(graph)
    result = infer_all(graph).results[ids[8]]
    assert result.status == "error"
    assert result.message == (
        "in_features is set to 256, but the input [N, 400] needs 400. "
        "Set in_features to auto to follow the input."
    )
    assert result.edge == Edge(ids[7], ids[8], 0)


def test_downstream_of_a_problem_waits_instead_of_piling_up_errors():
    graph, ids = lenet()
    SetParams(ids[4], {"kernel_size": 20}).do(graph)
    inference = infer_all(graph)
    problems = inference.problems()
    assert [node for node, _ in problems] == [ids[4]]
    assert "window of 20 does not fit the input's height of 14" in problems[0][1]
    assert all(inference.results[i].status == "waiting" for i in ids[5:])


def test_rank_mistakes_read_as_sentences():
    graph = Graph()
    *_, conv = chain(graph, ("Input", {"shape": [64]}), "Linear", "Conv2d")
    message = infer_all(graph).results[conv].message
    assert message.startswith(
        "Conv2d expects input shaped [N, channels, height, width], but receives [N, 64]."
    )


def test_embedding_needs_ids_and_linear_needs_floats():
    graph = Graph()
    tokens, embed, lstm = chain(
        graph,
        ("Input", {"shape": [12], "dtype": "int64"}),
        "Embedding",
        ("LSTM", {"output": "last"}),
    )
    fc = add(graph, "Linear")
    wire(graph, tokens, fc)
    inference = infer_all(graph)
    assert inference.results[embed].output.describe() == "[N, 12, 64]"
    assert inference.results[lstm].output.describe() == "[N, 64]"
    assert inference.results[lstm].inferred == {"input_size": 64}
    assert "needs floating-point input" in inference.results[fc].message
    floats = add(graph, "Input", shape=[5])
    embed2 = add(graph, "Embedding")
    wire(graph, floats, embed2)
    assert "Set the Input's dtype to int64" in infer_all(graph).results[embed2].message


def test_merges_explain_mismatched_inputs():
    graph = Graph()
    x = add(graph, "Input", shape=[8])
    a, b = add(graph, "Linear", out_features=4), add(graph, "Linear", out_features=6)
    wire(graph, x, a)
    wire(graph, x, b)
    plus, cat = add(graph, "Add"), add(graph, "Concat")
    for node in (plus, cat):
        wire(graph, a, node, 0)
        wire(graph, b, node, 1)
    inference = infer_all(graph)
    assert inference.results[cat].output.describe() == "[N, 10]"
    assert inference.results[plus].message == (
        "Add needs inputs of the same shape (or broadcastable), but receives [N, 4], [N, 6]."
    )
    assert inference.results[plus].edge == Edge(b, plus, 1)


def test_merges_broadcast_within_a_sample_but_never_across_the_batch():
    # With inference's batch of 2, [2, 5, 3] + [2, 2, 5, 3] would broadcast; a batch of 3 fails.
    graph = Graph()
    seq, image = add(graph, "Input", shape=[5, 3]), add(graph, "Input", shape=[2, 5, 3])
    ones = add(graph, "Input", shape=[1, 3])
    plus, times = add(graph, "Add"), add(graph, "Multiply")
    wire(graph, seq, plus, 0)
    wire(graph, image, plus, 1)
    wire(graph, seq, times, 0)
    wire(graph, ones, times, 1)
    inference = infer_all(graph)
    assert "receives [N, 5, 3], [N, 2, 5, 3]" in inference.results[plus].message
    assert inference.results[times].output.describe() == "[N, 5, 3]"


def test_unconnected_nodes_say_what_they_need():
    graph = Graph()
    plus = add(graph, "Add")
    fc = add(graph, "Linear")
    inference = infer_all(graph)
    assert inference.results[plus].message == "Add needs at least 2 input wires; it has 0."
    assert inference.results[fc].message == "Linear needs 1 input wire; it has 0."


def test_custom_code_runs_only_when_allowed():
    graph = Graph()
    *_, custom, out = chain(
        graph, ("Input", {"shape": [4]}), ("Linear", {"out_features": 16}), "Custom", "Output"
    )
    inference = ShapeInference(graph)
    inference.update()
    assert inference.results[custom].status == "waiting"
    assert inference.results[out].status == "waiting"
    inference.set_trust(ALLOWED)
    assert inference.update() == {custom, out}
    assert inference.results[out].output.describe() == "[N, 16]"
    assert inference.results[custom].num_params == 32
    inference.set_trust(Trust())
    assert inference.update() == {custom, out}
    assert inference.results[out].status == "waiting"


def test_a_custom_layers_source_the_user_wrote_runs_without_the_files_permission():
    graph = Graph()
    changed = ("Custom", {"source": TEMPLATE + "\n"})  # not the text the user wrote
    _, custom, other, _ = chain(graph, ("Input", {"shape": [16]}), "Custom", changed, "Output")
    inference = ShapeInference(graph, Trust(sources=frozenset({TEMPLATE})))
    inference.update()
    assert inference.results[custom].ok
    assert inference.results[other].status == "waiting"


def test_custom_code_errors_name_the_line():
    graph = Graph()
    broken = TEMPLATE.replace("return x * self.scale + self.shift", "return x @ self.missing")
    _, custom = chain(graph, ("Input", {"shape": [16]}), ("Custom", {"source": broken}))
    result = infer_all(graph, ALLOWED).results[custom]
    assert result.status == "error"
    assert "'Affine' object has no attribute 'missing' (custom code, line 10)" in result.message
    SetParams(custom, {"source": "class Affine(nn.Module):\n    def forward(self x):\n"}).do(graph)
    message = infer_all(graph, ALLOWED).results[custom].message
    assert message.startswith("The source has a syntax error on line 2")


def test_only_downstream_nodes_are_reinferred_after_an_edit():
    graph = Graph()
    x = add(graph, "Input", shape=[32])
    left = chain(graph, "Linear", "ReLU", "Linear", start=x)
    right = chain(graph, "Linear", "Tanh", "Linear", start=x)
    inference = ShapeInference(graph)
    assert len(inference.update()) == 7
    SetParams(right[0], {"out_features": 5}).do(graph)
    assert inference.update() == set(right)
    assert inference.results[right[2]].inferred == {"in_features": 5}
    Disconnect(Edge(left[0], left[1])).do(graph)
    assert inference.update() == {left[1], left[2]}
    assert inference.results[left[1]].status == "error"
    Connect(Edge(left[0], left[1])).do(graph)
    inference.update()
    assert inference.problems() == []
    assert inference.update() == set()
