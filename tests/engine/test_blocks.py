"""Blocks: sub-graphs used as layer types, through shapes, codegen and project files."""

import json

import pytest
import torch

from engine.document.blocks import BlockParam, BlockType, check_block
from engine.document.project import Project, ProjectError, from_dict, to_dict
from engine.document.zoo.builder import Builder, block
from engine.model.build import build_model
from engine.model.codegen import generate
from engine.model.shapes import infer_all


def mlp_block() -> BlockType:
    """Linear, ReLU; the Linear's width exposed as `width`."""

    def body(b):
        b("Linear", "fc", out_features=8)
        b("ReLU", "act")

    return block("Dense", body, {"width": (8, ["fc.out_features"])}, summary="A dense layer.")


def two_instances(dense: BlockType, widths=(16, 4)) -> Builder:
    b = Builder()
    b("Input", "x", inputs=[], shape=[5])
    for i, width in enumerate(widths):
        b(dense, f"dense{i + 1}", width=width)
    b("Linear", "head", out_features=3)
    b("Output", "out")
    return b


def test_an_instance_has_its_body_shapes_and_parameter_count():
    graph = two_instances(mlp_block()).done()
    inference = infer_all(graph)
    first, second = (inference.results[n] for n in graph.nodes if n in ("n2", "n3"))
    assert first.output.shape == (2, 16) and first.num_params == 5 * 16 + 16
    assert second.output.shape == (2, 4) and second.num_params == 16 * 4 + 4
    assert inference.total_params() == 96 + 68 + 4 * 3 + 3


def test_a_value_that_differs_between_instances_becomes_an_argument():
    source = generate(two_instances(mlp_block()).done(), "net").source
    assert "class Dense(nn.Module):" in source
    assert "def __init__(self, in_features, width=8):" in source
    assert "self.fc = nn.Linear(in_features, width)" in source
    assert "self.dense1 = Dense(5, 16)" in source  # out_features is positional in nn.Linear
    assert "self.dense2 = Dense(16, 4)" in source


def test_a_value_the_same_in_every_instance_is_written_as_it_is():
    source = generate(two_instances(mlp_block(), widths=(6,)).done(), "net").source
    assert "self.fc = nn.Linear(5, width)" in source
    assert "def __init__(self, width=8):" in source


def test_the_generated_blocks_train_and_keep_their_keys():
    built = build_model(two_instances(mlp_block()).done(), "net", seed=0)
    model = built.module
    assert list(model.state_dict()) == [
        "dense1.fc.weight",
        "dense1.fc.bias",
        "dense2.fc.weight",
        "dense2.fc.bias",
        "head.weight",
        "head.bias",
    ]
    loss = model(torch.randn(4, 5)).sum()
    loss.backward()
    assert model.dense1.fc.weight.grad is not None


def test_an_argument_read_in_forward_is_kept_on_the_module():
    def body(b):
        b("Softmax", "soft", dim=1)

    soft = block("Soft", body, {"axis": (1, ["soft.dim"])})
    b = Builder()
    b("Input", "x", inputs=[], shape=[3, 4])
    b(soft, "a", axis=1)
    b(soft, "b", axis=2)
    b("Output", "out")
    built = build_model(b.done(), "net")
    assert "self.axis = axis" in built.code.source
    assert "torch.softmax(x, dim=self.axis)" in built.code.source
    out = built.module(torch.randn(2, 3, 4))
    assert torch.allclose(out.sum(2), torch.ones(2, 3))


def test_a_problem_inside_a_block_is_told_on_the_instance():
    def body(b):
        b("Conv2d", "conv", out_channels=4)

    conv = block("ConvBlock", body)
    b = Builder()
    b("Input", "x", inputs=[], shape=[6])
    node = b(conv, "c")
    b("Output", "out")
    result = infer_all(b.done()).results[node]
    assert result.status == "error"
    assert result.message.startswith("Inside ConvBlock, 'conv': Conv2d expects input shaped")
    assert result.edge is not None  # the wire into the instance is the one at fault


def test_a_sequential_block_is_a_chain_of_modules():
    def branching(b):
        first = b("Linear", "a")
        b("Linear", "b", inputs=[first])
        b("Add", "add", inputs=[first, b.last])

    with pytest.raises(ValueError, match="branches or merges"):
        block("Branchy", branching, sequential=True)

    def chain(b):
        b("Linear", "a", out_features=4)
        b("Transpose", "t")

    with pytest.raises(ValueError, match=r"'t' \(Transpose\) cannot be a step"):
        block("Steps", chain, sequential=True)


def test_a_sequential_block_numbers_its_steps():
    def body(b):
        b("Linear", "fc", out_features=4)
        b("GELU", "gelu")
        b("Dropout", "drop", p=0.1)

    steps = block("Steps", body, sequential=True)
    b = Builder()
    b("Input", "x", inputs=[], shape=[3])
    b(steps, "steps")
    b("Output", "out")
    built = build_model(b.done(), "net")
    assert "nn.GELU()," in built.code.source
    assert list(built.module.state_dict()) == ["steps.0.weight", "steps.0.bias"]


def test_block_parameters_are_checked():
    dense = mlp_block()
    bad = BlockType("Dense", dense.graph, (BlockParam("width", 0, (("n2", "out_features"),)),))
    assert check_block(bad, {}) == ["parameter 'width''s default must be a positive integer, got 0"]
    missing = BlockType("Dense", dense.graph, (BlockParam("width", 4, (("n9", "units"),)),))
    assert "which does not exist" in check_block(missing, {})[0]
    assert "class name" in check_block(BlockType("dense", dense.graph), {})[0]


def project_doc() -> dict:
    project = Project(graph=two_instances(mlp_block()).done())
    return json.loads(json.dumps(to_dict(project)))


def test_a_project_keeps_its_blocks():
    doc = project_doc()
    assert [b["name"] for b in doc["blocks"]] == ["Dense"]
    project = from_dict(doc)
    assert to_dict(project) == doc
    assert generate(project.graph).source == generate(two_instances(mlp_block()).done()).source


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (lambda d: d["nodes"][1].update(type="Dens"), "nodes[1].type", "unknown layer type"),
        (lambda d: d["blocks"][0].update(name="Linear"), "blocks[0].name", "is a layer"),
        (
            lambda d: d["blocks"][0]["params"][0].update(default=-1),
            "blocks[0]",
            "default must be a positive integer",
        ),
        (
            lambda d: d["blocks"][0]["params"][0].update(targets=[["n2"]]),
            "blocks[0].params[0]",
            "must be an object with a name",
        ),
        (
            lambda d: d["blocks"][0]["nodes"][1]["params"].update(out_features="x"),
            "blocks[0].nodes[1].params.out_features",
            "must be a positive integer",
        ),
        (lambda d: d["blocks"][0].update(colour=1), "blocks[0].colour", "not a known field"),
        (lambda d: d["nodes"][1]["params"].update(width=0), "nodes[1].params.width", "positive"),
    ],
)
def test_a_bad_block_in_a_file_is_told_where(change, where, message):
    doc = project_doc()
    change(doc)
    with pytest.raises(ProjectError) as caught:
        from_dict(doc)
    assert any(w == where and message in m for w, m in caught.value.problems), caught.value.problems


def test_a_block_may_use_only_blocks_defined_before_it():
    doc = project_doc()
    inner = doc["blocks"][0]
    outer = {
        "name": "Outer",
        "summary": "",
        "sequential": False,
        "params": [],
        "nodes": [
            {"id": "n1", "type": "Input", "label": "x", "params": {}, "pos": [0, 0]},
            {"id": "n2", "type": "Dense", "label": "d", "params": {}, "pos": [0, 0]},
            {"id": "n3", "type": "Output", "label": "out", "params": {}, "pos": [0, 0]},
        ],
        "edges": [{"src": "n1", "dst": "n2", "port": 0}, {"src": "n2", "dst": "n3", "port": 0}],
    }
    doc["blocks"] = [outer, inner]
    with pytest.raises(ProjectError, match=r"blocks\[0\].nodes\[1\].type: unknown layer type"):
        from_dict(doc)
    doc["blocks"] = [inner, outer]
    assert [b.name for b in from_dict(doc).blocks.values()] == ["Dense", "Outer"]


def test_blocks_nested_too_deep_are_refused_where_they_are():
    doc = project_doc()
    inner = doc["blocks"][0]
    blocks = [inner]
    for level in range(40):
        below = blocks[-1]["name"]
        blocks.append(
            {
                "name": f"Level{level}",
                "params": [],
                "nodes": [
                    {"id": "n1", "type": "Input", "label": "x", "params": {}, "pos": [0, 0]},
                    {"id": "n2", "type": below, "label": "inner", "params": {}, "pos": [0, 0]},
                    {"id": "n3", "type": "Output", "label": "out", "params": {}, "pos": [0, 0]},
                ],
                "edges": [
                    {"src": "n1", "dst": "n2", "port": 0},
                    {"src": "n2", "dst": "n3", "port": 0},
                ],
            }
        )
    doc["blocks"] = blocks
    with pytest.raises(ProjectError, match=r"blocks\[32\]: blocks nest more than 32 levels"):
        from_dict(doc)


def test_an_argument_and_a_layer_of_the_same_name_do_not_clash():
    def body(b):
        b("Linear", "axis", out_features=4)
        b("Softmax", "soft", dim=1)

    soft = block("Soft", body, {"axis": (1, ["soft.dim"])})
    b = Builder()
    b("Input", "x", inputs=[], shape=[3, 4])
    b(soft, "a", axis=1)
    b(soft, "b", axis=2)
    b("Output", "out")
    built = build_model(b.done(), "net")
    assert built.module(torch.randn(2, 3, 4)).shape == (2, 3, 4)


def test_a_block_inside_a_body_off_the_way_to_its_output_writes_no_class():
    inner = block("Inner", lambda b: b("Linear", "fc", out_features=4))

    def body(b):
        b("Linear", "fc", out_features=4)
        b(inner, "unused", inputs=[b.ids["x"]])
        b.last = b.ids["fc"]

    outer = block("Outer", body)
    b = Builder()
    b("Input", "x", inputs=[], shape=[4])
    b(outer, "outer")
    b("Output", "out")
    source = generate(b.done(), "net").source
    assert "class Outer(nn.Module):" in source and "class Inner" not in source
