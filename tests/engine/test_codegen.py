"""Code generation: readable source, and the model the engine builds is the exported one."""

import ast

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.document.commands import RemoveNode, SetParams
from engine.document.graph import Graph
from engine.document.trust import ALLOWED
from engine.model.build import build_model, load_class
from engine.model.codegen import CodegenError, generate
from engine.model.shapes import infer_all
from tests.engine.code_checks import (
    assert_imports_are_what_the_code_uses,
    assert_lines_belong_to_their_nodes,
)
from tests.engine.graph_builders import add, chain, lenet, wire

SCALE = """class Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.gain = nn.Parameter(torch.full((1,), 0.5))

    def forward(self, x):
        return x * self.gain
"""


def test_lenet_reads_like_hand_written_code():
    graph, _ = lenet()
    source = generate(graph, "lenet").source
    ast.parse(source)
    assert '__all__ = ["Lenet"]' in source
    assert "class Lenet(nn.Module):" in source
    for line in (
        "self.conv1 = nn.Conv2d(3, 6, 5)",
        "self.pool1 = nn.MaxPool2d(2)",
        "self.fc1 = nn.Linear(400, 120)",
        "def forward(self, x):",
        "x = self.conv1(x)  # [N, 6, 28, 28]",
        "x = torch.relu(x)  # [N, 6, 28, 28]",
        "x = torch.flatten(x, 1)  # [N, 400]",
        "return x",
        'input_shapes = {"x": (3, 32, 32)}',
        "Parameters: 62,006",
    ):
        assert line in source, line
    assert "import torch.nn.functional" not in source  # only imported when used


def test_branches_get_named_values_and_several_outputs_return_a_tuple():
    graph = Graph()
    x = add(graph, "Input", shape=[8])
    trunk = add(graph, "Linear", label="trunk", out_features=16)
    wire(graph, x, trunk)
    head_a = chain(graph, ("Linear", {"out_features": 1}), ("Output", {}), start=trunk)
    head_b = chain(graph, ("LeakyReLU", {"negative_slope": 0.2}), ("Output", {}), start=trunk)
    SetParams(head_a[1], label="score").do(graph)
    SetParams(head_b[1], label="features").do(graph)
    code = generate(graph, "two heads")
    assert code.class_name == "TwoHeads"
    assert "trunk = self.trunk(x)  # [N, 16]" in code.source
    assert "fc1 = self.fc1(trunk)" in code.source
    assert "leakyrelu1 = F.leaky_relu(trunk, negative_slope=0.2)" in code.source
    assert "import torch.nn.functional as F" in code.source
    assert "return fc1, leakyrelu1" in code.source
    outputs = load_class(code.source)()(torch.randn(3, 8))
    assert [tuple(o.shape) for o in outputs] == [(3, 1), (3, 16)]


def test_labels_never_shadow_python_or_module_names():
    graph = Graph()
    ids = chain(graph, ("Input", {"shape": [10]}), "Linear", "ReLU", "Linear", "Output")
    for node_id, label in zip(ids, ["input", "forward", "list", "training", "out"], strict=True):
        SetParams(node_id, label=label).do(graph)
    source = generate(graph).source
    assert "def forward(self, input_1):" in source
    assert "self.forward_1 = nn.Linear" in source
    assert "self.training_1 = nn.Linear" in source
    model = load_class(source)()
    assert model.training is True
    assert model(torch.randn(2, 10)).shape == (2, 64)


def test_custom_classes_are_emitted_once_above_the_model():
    graph = Graph()
    x = add(graph, "Input", shape=[4])
    one = add(graph, "Custom", class_name="Scale", source=SCALE)
    two = add(graph, "Custom", class_name="Scale", source=SCALE)
    wire(graph, x, one)
    wire(graph, one, two)
    out = add(graph, "Output")
    wire(graph, two, out)
    source = generate(graph, "scaled", infer_all(graph, ALLOWED)).source
    assert source.count("class Scale(nn.Module):") == 1
    assert source.index("class Scale") < source.index("class Scaled")
    model = load_class(source)()
    assert torch.allclose(model(torch.ones(1, 4)), torch.full((1, 4), 0.25))
    SetParams(two, {"source": SCALE.replace("0.5", "2.0")}).do(graph)
    with pytest.raises(CodegenError, match="defines a different class Scale"):
        generate(graph, "scaled", infer_all(graph, ALLOWED))


def test_a_graph_that_is_not_a_model_says_why():
    graph = Graph()
    x, fc = chain(graph, ("Input", {"shape": [10]}), "Linear")
    with pytest.raises(CodegenError, match="no Output node"):
        generate(graph)
    out = add(graph, "Output")
    with pytest.raises(CodegenError, match="'out': Output needs 1 input wire; it has 0"):
        generate(graph)
    wire(graph, fc, out)
    SetParams(fc, {"in_features": 3}).do(graph)
    with pytest.raises(CodegenError, match="'fc1': in_features is set to 3"):
        generate(graph)
    RemoveNode(x).do(graph)
    with pytest.raises(CodegenError, match="No Input node leads to an Output"):
        generate(graph)


def test_layers_that_lead_nowhere_are_left_out():
    graph = Graph()
    x, *_ = chain(graph, ("Input", {"shape": [10]}), "Linear", "Output")
    stray = add(graph, "Linear", label="stray")
    wire(graph, x, stray)
    assert "stray" not in generate(graph).source


# --- property: the engine's model is exactly the exported class ---------------------------

INPUTS = {
    "vector": {"shape": [6]},
    "image": {"shape": [2, 8, 8]},
    "sequence": {"shape": [5, 3]},
    "tokens": {"shape": [5], "dtype": "int64"},
}
OPS = [
    ("Linear", {"out_features": st.integers(1, 8)}),
    ("ReLU", {}),
    ("Tanh", {}),
    ("GELU", {}),
    ("LeakyReLU", {"negative_slope": st.sampled_from([0.01, 0.2])}),
    ("Dropout", {"p": st.sampled_from([0.0, 0.5])}),
    ("BatchNorm1d", {}),
    ("BatchNorm2d", {}),
    ("LayerNorm", {}),
    ("Conv2d", {"out_channels": st.integers(1, 4), "kernel_size": st.sampled_from([1, 3])}),
    ("Conv1d", {"out_channels": st.integers(1, 4), "kernel_size": st.sampled_from([1, 2])}),
    ("MaxPool2d", {"kernel_size": st.just(2)}),
    ("AvgPool1d", {"kernel_size": st.just(2)}),
    ("AdaptiveAvgPool2d", {"output_size": st.integers(1, 2)}),
    ("ConvTranspose2d", {"out_channels": st.integers(1, 3), "stride": st.sampled_from([1, 2])}),
    ("Flatten", {}),
    ("LSTM", {"hidden_size": st.integers(1, 5), "output": st.sampled_from(["sequence", "last"])}),
    ("GRU", {"hidden_size": st.integers(1, 5), "bidirectional": st.booleans()}),
    ("Softmax", {"dim": st.just(-1)}),
    ("Identity", {}),
    ("Embedding", {"num_embeddings": st.just(10), "embedding_dim": st.integers(1, 4)}),
    ("Reshape", {"shape": st.sampled_from([[-1], [2, -1], [-1, 1]])}),
    ("Custom", {"class_name": st.just("Scale"), "source": st.just(SCALE)}),
]
MERGES = ["Add", "Multiply", "Concat"]


@st.composite
def random_graph(draw):
    """A valid graph grown step by step: a proposed layer that does not fit is taken back."""
    graph = Graph()
    kinds = draw(st.lists(st.sampled_from(sorted(INPUTS)), min_size=1, max_size=2))
    tensors = [add(graph, "Input", **INPUTS[kind]) for kind in kinds]
    for _ in range(draw(st.integers(2, 14))):
        if len(tensors) > 1 and draw(st.integers(0, 4)) == 0:
            merge = add(graph, draw(st.sampled_from(MERGES)))
            pair = draw(st.lists(st.sampled_from(tensors), min_size=2, max_size=2, unique=True))
            for port, src in enumerate(pair):
                wire(graph, src, merge, port)
            new = merge
        else:
            layer_type, strategies = draw(st.sampled_from(OPS))
            # Ids straight from an Input only: ids added or multiplied could reach past
            # num_embeddings, which no data would then fit.
            sources = [t for t in tensors if graph.nodes[t].is_input or layer_type != "Embedding"]
            if not sources:
                continue
            params = {name: draw(strategy) for name, strategy in strategies.items()}
            new = add(graph, layer_type, **params)
            wire(graph, draw(st.sampled_from(sources)), new)
        if infer_all(graph, ALLOWED).results[new].ok:
            tensors.append(new)
        else:
            RemoveNode(new).do(graph)
    ends = draw(st.lists(st.sampled_from(tensors), min_size=1, max_size=3, unique=True))
    for end in [tensors[-1], *ends]:
        if not any(graph.nodes[e.dst].type == "Output" for e in graph.outputs_of(end)):
            wire(graph, end, add(graph, "Output"))
    return graph


@settings(max_examples=40)
@given(graph=random_graph(), seed=st.integers(0, 2**16))
def test_exported_class_loads_the_engines_weights_strictly_and_matches_bit_for_bit(graph, seed):
    built = build_model(graph, "random", seed=seed, trust=ALLOWED)
    code = built.code
    compile(code.source, "model.py", "exec")
    exported = load_class(code.source, "model.py")()  # as a user running the exported file
    exported.load_state_dict(built.module.state_dict(), strict=True)
    generator = torch.Generator().manual_seed(seed)
    inputs = []
    for node_id in code.inputs:
        shape = (3, *graph.nodes[node_id].params["shape"])
        if graph.nodes[node_id].params["dtype"] == "int64":
            inputs.append(torch.randint(0, 10, shape, generator=generator))
        else:
            inputs.append(torch.randn(shape, generator=generator))
    built.module.eval()
    exported.eval()
    with torch.no_grad():
        ours, theirs = built.module(*inputs), exported(*inputs)
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    assert len(ours) == len(code.outputs)
    for a, b in zip(ours, theirs, strict=True):
        assert torch.equal(a, b)
    again = generate(graph, "random", infer_all(graph, ALLOWED))
    assert again.source == code.source  # pure: same graph, same text
    assert_lines_belong_to_their_nodes(graph, code)
    assert_imports_are_what_the_code_uses(graph, code.source)


def test_custom_layers_can_use_every_name_the_editor_promises():
    source = (
        "class Gelu2(nn.Module):\n"
        "    def forward(self, x):\n"
        "        return F.relu(x) * math.sqrt(2.0) + torch.zeros_like(x)\n"
    )
    graph = Graph()
    chain(
        graph,
        ("Input", {"shape": [4]}),
        ("Custom", {"class_name": "Gelu2", "source": source}),
        "Output",
    )
    model = load_class(generate(graph, inference=infer_all(graph, ALLOWED)).source)()
    assert torch.allclose(model(torch.ones(2, 4)), torch.full((2, 4), 2.0**0.5))


@pytest.mark.parametrize("title", ["C:\\Users\\me\\nets", 'say """hi"""', "line\nbreak", "x\\"])
def test_any_project_name_gives_valid_source(title):
    graph = Graph()
    chain(graph, ("Input", {"shape": [10]}), "Linear", "Output")
    code = generate(graph, title)
    load_class(code.source)()
