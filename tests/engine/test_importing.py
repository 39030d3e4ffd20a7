"""Importing PyTorch model code: every model of tests/engine/import_corpus round-trips
(same parameter count, same outputs once the original's weights are loaded), and what
cannot be imported is reported with its file and line."""

import importlib.util
import textwrap
from pathlib import Path

import pytest
import torch

from engine.document.layout import layered_positions
from engine.document.project import from_dict, load, save, to_dict
from engine.document.trust import ALLOWED
from engine.importing import ModelImportError, import_model
from engine.model.build import load_class
from engine.model.codegen import generate
from engine.model.shapes import infer_all

CORPUS = Path(__file__).parent / "import_corpus"

# (file, class, input shapes, dtypes, whether submodules are plain attributes)
ROUND_TRIPS = [
    ("mlp.py", "MLP", [(2, 784)], None, True),
    ("cnn.py", "LeNet", [(2, 1, 28, 28)], None, True),
    ("cnn.py", "ViewMinusOne", [(2, 3, 8, 8)], None, True),
    ("cnn.py", "Upsampler", [(2, 4, 3, 3)], None, True),
    ("cnn.py", "Signal", [(2, 3, 16)], None, True),
    ("residual.py", "ResidualNet", [(2, 3, 8, 8)], None, True),
    ("concat.py", "Branches", [(2, 2, 16)], None, True),
    ("concat.py", "SameTensorTwice", [(2, 4)], None, True),
    ("rnn.py", "LSTMClassifier", [(2, 7)], ["int64"], True),
    ("rnn.py", "GRUClassifier", [(2, 5, 6)], None, True),
    ("rnn.py", "Tagger", [(2, 5, 6)], None, True),
    ("rnn.py", "TextConv", [(2, 9)], ["int64"], True),
    ("rnn.py", "ElmanMean", [(2, 5, 6)], None, True),
    ("custom_layer.py", "WithCustom", [(2, 10)], None, True),
    ("two_heads.py", "TwoHeads", [(2, 12)], None, True),
    ("two_inputs.py", "TwoInputs", [(2, 1, 8, 8), (2, 5)], None, True),
    ("two_inputs.py", "OptionalMask", [(2, 5)], None, True),
    ("sequential.py", "SequentialNet", [(2, 3, 12, 12)], None, True),
    ("sequential.py", "Stack", [(2, 6)], None, False),
    ("resnet34.py", "ResNet34", [(2, 3, 32, 32)], None, True),
    ("modern.py", "MobileBlock", [(2, 3, 8, 8)], None, True),
    ("modern.py", "Attention", [(2, 5, 8), (2, 7, 8)], None, True),
    ("modern.py", "Resizing", [(2, 3, 9, 9)], None, True),
    ("modern.py", "TensorOps", [(2, 5, 6)], None, True),
]


def original(file: str, class_name: str) -> torch.nn.Module:
    """A fresh instance of the corpus class, loaded apart from the importer."""
    spec = importlib.util.spec_from_file_location(f"corpus_{Path(file).stem}", CORPUS / file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.manual_seed(1)
    return getattr(module, class_name)().eval()


def fresh_inputs(shapes, dtypes) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(7)
    return [
        torch.randint(0, 50, shape, generator=generator)
        if dtype == "int64"
        else torch.randn(shape, generator=generator)
        for shape, dtype in zip(shapes, dtypes or ["float32"] * len(shapes), strict=True)
    ]


def as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


@pytest.mark.parametrize(
    ("file", "class_name", "shapes", "dtypes", "plain"),
    ROUND_TRIPS,
    ids=[case[1] for case in ROUND_TRIPS],
)
def test_corpus_round_trips(file, class_name, shapes, dtypes, plain):
    result = import_model(CORPUS / file, class_name, shapes, dtypes)
    graph = result.project.graph
    inference = infer_all(graph, ALLOWED)
    assert inference.problems() == []
    rebuilt = load_class(generate(graph, class_name, inference).source)().eval()
    model = original(file, class_name)
    count = sum(p.numel() for p in model.parameters())
    assert sum(p.numel() for p in rebuilt.parameters()) == count == result.num_params
    weights = model.state_dict()
    assert set(result.key_map) == set(weights)
    if plain:
        assert result.renamed == {}
        assert set(rebuilt.state_dict()) == set(weights)
    rebuilt.load_state_dict({result.key_map[k]: v for k, v in weights.items()}, strict=True)
    inputs = fresh_inputs(shapes, dtypes)
    with torch.no_grad():
        pairs = zip(as_tuple(rebuilt(*inputs)), as_tuple(model(*inputs)), strict=True)
        for got, want in pairs:
            torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    assert {n: n_.pos for n, n_ in graph.nodes.items()} == layered_positions(graph)


def test_an_imported_project_saves_and_loads_unchanged():
    result = import_model(CORPUS / "concat.py", "Branches", [(1, 2, 16)])
    doc = to_dict(result.project)
    assert to_dict(from_dict(doc)) == doc
    assert doc["name"] == "Branches"


def test_labels_follow_the_attributes_and_readable_names():
    graph = import_model(CORPUS / "mlp.py", "MLP", [(1, 784)]).project.graph
    assert [(n.label, n.type) for n in graph.nodes.values()] == [
        ("x", "Input"),
        ("fc1", "Linear"),
        ("act", "ReLU"),
        ("drop", "Dropout"),
        ("fc2", "Linear"),
        ("relu1", "ReLU"),
        ("relu2", "ReLU"),
        ("fc3", "Linear"),
        ("logsoftmax1", "LogSoftmax"),
        ("out", "Output"),
    ]
    params = {n.label: n.params for n in graph.nodes.values()}
    assert params["fc2"] == {"in_features": None, "out_features": 16, "bias": False}
    assert params["drop"] == {"p": 0.25}
    assert params["logsoftmax1"] == {"dim": 1}


def test_module_settings_are_read_from_the_instances():
    graph = import_model(CORPUS / "cnn.py", "LeNet", [(1, 1, 28, 28)]).project.graph
    params = {n.label: n.params for n in graph.nodes.values()}
    assert params["conv2"]["kernel_size"] == [5, 3]
    assert params["conv2"]["padding"] == [0, 1]
    assert params["bn1"] == {"num_features": None, "eps": 1e-3, "momentum": 0.05, "affine": True}
    assert params["pool2"] == {"kernel_size": 2, "stride": None, "padding": 0, "ceil_mode": False}
    assert params["reshape1"] == {"shape": [-1]}


def test_recurrent_layers_give_the_last_step_or_the_sequence():
    def output_of(class_name, shape, dtypes=None):
        graph = import_model(CORPUS / "rnn.py", class_name, [shape], dtypes).project.graph
        (node,) = [n for n in graph.nodes.values() if n.type in ("LSTM", "GRU")]
        return node.params["output"]

    assert output_of("LSTMClassifier", (1, 7), ["int64"]) == "last"
    assert output_of("GRUClassifier", (1, 5, 6)) == "last"
    assert output_of("Tagger", (1, 5, 6)) == "sequence"


def test_custom_layers_keep_their_source_and_constructor_arguments():
    graph = import_model(CORPUS / "custom_layer.py", "WithCustom", [(1, 10)]).project.graph
    custom = {n.label: n.params for n in graph.nodes.values() if n.type == "Custom"}
    assert set(custom) == {"scale", "scale2"}  # Swish is made of layers: a block
    assert custom["scale"]["source"].startswith("class Scale(nn.Module):")
    assert custom["scale"]["class_name"] == "Scale1"
    assert "super().__init__(2.0, features=16)" in custom["scale"]["source"]
    assert custom["scale2"]["class_name"] == "Scale2"


def test_several_inputs_and_outputs_keep_their_order_and_names():
    heads = import_model(CORPUS / "two_heads.py", "TwoHeads", [(1, 12)]).project
    assert heads.output_labels() == ["logits", "value"]
    graph = import_model(
        CORPUS / "two_inputs.py", "TwoInputs", [(1, 1, 8, 8), (1, 5)]
    ).project.graph
    inputs = [n for n in graph.nodes.values() if n.type == "Input"]
    assert [(n.label, n.params["shape"]) for n in inputs] == [("image", [1, 8, 8]), ("extra", [5])]


def test_sequential_containers_become_blocks_that_keep_their_keys():
    result = import_model(CORPUS / "sequential.py", "SequentialNet", [(1, 3, 12, 12)])
    assert result.renamed == {}
    assert result.key_map["features.3.1.running_mean"] == "features.3.1.running_mean"
    assert set(result.state_dict) == set(result.key_map.values())
    assert {b.name: b.sequential for b in result.project.blocks.values()}["Features"]


ERRORS = CORPUS / "errors.py"


def problems_of(class_name, shape, file=ERRORS):
    with pytest.raises(ModelImportError) as caught:
        import_model(file, class_name, [shape])
    return caught.value.problems


def at(code: str, file=ERRORS) -> str:
    """`FILE line N` of the first line holding `code`."""
    lines = file.read_text().splitlines()
    return f"{file} line {next(i for i, text in enumerate(lines, 1) if code in text)}"


def test_every_unsupported_operation_is_named_with_its_line():
    assert problems_of("Unsupported", (1, 4)) == [
        f"{at('torch.einsum')}: `torch.einsum` has no Torchwright layer",
        f"{at('self.fc(x) - 1')}: `-` between a tensor and a number has no Torchwright layer",
        f"{at('y.logsumexp(1)')}: `.logsumexp()` has no Torchwright layer",
        f"{at('y.logsumexp(1)')}: `nn.Hardtanh` (self.norm) has no Torchwright layer",
    ]


def test_settings_the_catalog_cannot_express_are_reported():
    assert problems_of("BadSettings", (1, 4, 8, 8)) == [
        f"{at('self.pool(self.conv(x))')}: `nn.Conv2d` (self.conv) uses "
        "padding_mode='reflect', which Torchwright's Conv2d cannot express",
        f"{at('self.pool(self.conv(x))')}: `nn.MaxPool2d` (self.pool) uses dilation=2, "
        "which Torchwright's MaxPool2d cannot express",
    ]


def test_misused_operations_and_shape_problems_are_reported_together():
    problems = problems_of("Misused", (2, 4))
    assert [p.split(": ", 1)[0] for p in problems] == [
        at("torch.relu_(x)"),
        at("dropout(self.fc(x), 0.5)"),
        at("x.size(0) * 2"),
        at("torch.cat([x, x], 0)"),
    ]
    assert "`torch.relu_` changes its input in place, and that input is used again" in problems[0]
    assert "`F.dropout` uses training=True (it drops values in eval mode too" in problems[1]
    assert "`*` on the batch size has no Torchwright layer" in problems[2]
    assert problems[3].endswith("Concat cannot work along dim 0: that is the batch dimension")


@pytest.mark.parametrize(
    ("class_name", "shape", "code", "expected"),
    [
        ("HiddenState", (1, 5, 3), "(h, c) = self.lstm", "the hidden state (the second item"),
        ("Shared", (1, 4), "self.fc(self.fc(x))", "`nn.Linear` (self.fc) is called more than"),
        ("UsesConstant", (1, 4), "self.widen(x)", "class Widen uses HIDDEN from outside"),
        ("UsesConstant", (1, 4), "self.widen(x)", "forward() uses self.scale directly"),
        ("Branching", (1, 4), "if x.sum() > 0", "forward() branches or loops on the values"),
        ("NeedsArgs", (1, 4), "def __init__(self, width", "NeedsArgs() needs the arguments width"),
    ],
)
def test_models_that_cannot_be_imported_say_why_and_where(class_name, shape, code, expected):
    problems = problems_of(class_name, shape)
    assert any(p.startswith(f"{at(code)}: ") and expected in p for p in problems), problems


def test_the_import_checks_its_outputs_against_the_original():
    (problem,) = problems_of("Tweaked", (1, 4))
    assert problem == (
        f"{ERRORS}: the imported model gives other outputs than Tweaked on the same inputs; "
        "a Custom layer may depend on something set after it was built"
    )


def test_a_shape_the_model_cannot_take_names_the_failing_line():
    mlp = CORPUS / "mlp.py"
    (problem,) = problems_of("MLP", (1, 100), file=mlp)
    assert problem.startswith(f"{at('self.fc1(x)', mlp)}: MLP fails on inputs of shape (1, 100)")


def test_bad_file_class_and_inputs_are_reported(tmp_path):
    with pytest.raises(ModelImportError, match=r"no such file"):
        import_model(tmp_path / "missing.py", "Net", [(1, 4)])
    with pytest.raises(ModelImportError, match=r"there is no class Net \(nn.Module classes: MLP\)"):
        import_model(CORPUS / "mlp.py", "Net", [(1, 784)])
    with pytest.raises(ModelImportError, match=r"needs a batch size and 1 to 8 more sizes"):
        import_model(CORPUS / "mlp.py", "MLP", [(784,)])
    with pytest.raises(ModelImportError, match=r"MLP.forward takes 1 input \(x\), but 2"):
        import_model(CORPUS / "mlp.py", "MLP", [(1, 784), (1, 2)])
    broken = tmp_path / "broken.py"
    broken.write_text("import torch\n\nclass Net(torch.nn.Module:\n    pass\n")
    with pytest.raises(ModelImportError, match=r"broken.py line 3: syntax error"):
        import_model(broken, "Net", [(1, 4)])


def test_a_model_file_runs_with_its_neighbours_importable(tmp_path):
    (tmp_path / "tw_neighbour_blocks.py").write_text(
        textwrap.dedent(
            """
            from torch import nn


            class Double(nn.Module):
                def forward(self, x):
                    return x + x
            """
        )
    )
    (tmp_path / "model.py").write_text(
        textwrap.dedent(
            """
            from torch import nn

            from tw_neighbour_blocks import Double


            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.twice = Double()
                    self.fc = nn.Linear(3, 2)

                def forward(self, x):
                    return self.fc(self.twice(x))
            """
        )
    )
    graph = import_model(tmp_path / "model.py", "Net", [(1, 3)]).project.graph
    assert [n.type for n in graph.nodes.values()] == ["Input", "Double", "Linear", "Output"]
    # After an edit of the neighbour, a second import sees the new code, not a cached one.
    (tmp_path / "tw_neighbour_blocks.py").write_text(
        "from torch import nn\n\n\nclass Double(nn.Linear):\n"
        "    def __init__(self):\n        super().__init__(3, 3)\n"
    )
    graph = import_model(tmp_path / "model.py", "Net", [(1, 3)]).project.graph
    assert [n.type for n in graph.nodes.values()] == ["Input", "Custom", "Linear", "Output"]
    custom = next(n for n in graph.nodes.values() if n.type == "Custom")
    assert "nn.Linear" in custom.params["source"]


@pytest.mark.parametrize("where", ["top", "init"])
def test_a_file_that_exits_is_an_error_not_the_end_of_the_program(tmp_path, where):
    exit_line = "raise SystemExit('usage: model.py DATA')"
    top, init = (exit_line, "pass") if where == "top" else ("", exit_line)
    (tmp_path / "script.py").write_text(
        f"from torch import nn\n{top}\n\n\nclass Net(nn.Module):\n"
        f"    def __init__(self):\n        super().__init__()\n        {init}\n"
    )
    with pytest.raises(ModelImportError, match=r"usage: model\.py DATA"):
        import_model(tmp_path / "script.py", "Net", [(1, 3)])


def test_a_resnet_with_a_basic_block_class_imports_as_editable_blocks(tmp_path):
    result = import_model(CORPUS / "resnet34.py", "ResNet34", [(1, 3, 32, 32)])
    project = result.project
    assert [n.type for n in project.graph.nodes.values()].count("Layers") == 1
    assert not any(n.type == "Custom" for n in project.graph.nodes.values())
    blocks = project.blocks
    assert set(blocks) == {"BasicBlock", "BasicBlock2", "Downsample", "Layers"}
    assert blocks["Layers"].sequential and blocks["Downsample"].sequential
    plain = blocks["BasicBlock"]  # the blocks without a downsample: channels exposed
    assert [p.name for p in plain.params] == ["out_channels"]
    assert {plain.graph.nodes[n].label for n, _ in plain.params[0].targets} == {"conv1", "conv2"}
    assert "class BasicBlock2(nn.Module):" in result.code.source
    assert "self.downsample = Downsample(in_channels, out_channels)" in result.code.source
    model = original("resnet34.py", "ResNet34")
    rebuilt = load_class(result.code.source)().eval()
    rebuilt.load_state_dict(model.state_dict(), strict=True)  # the original's keys
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(x), model(x), rtol=1e-5, atol=1e-6)
    save(project, tmp_path / "resnet.json")
    again = load(tmp_path / "resnet.json")
    assert generate(again.graph, again.name).source == result.code.source


def test_keyword_operands_and_a_chunk_of_the_batch(tmp_path):
    (tmp_path / "ops.py").write_text(
        textwrap.dedent(
            """
            import torch
            from torch import nn


            class Keywords(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 4)

                def forward(self, x):
                    return torch.sub(self.fc(x), other=x)


            class BatchChunk(nn.Module):
                def forward(self, x):
                    a, b = x.chunk(2, 0)
                    return a
            """
        )
    )
    graph = import_model(tmp_path / "ops.py", "Keywords", [(2, 4)]).project.graph
    assert "Subtract" in [n.type for n in graph.nodes.values()]
    with pytest.raises(ModelImportError) as caught:
        import_model(tmp_path / "ops.py", "BatchChunk", [(2, 4)])
    assert str(caught.value).count("cuts the batch") == 1
