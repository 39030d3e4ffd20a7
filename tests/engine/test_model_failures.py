"""Codegen's map from line to node, the imports it writes, and errors raised inside the
generated model pinned to the node whose line raised them: while building, training,
trying a sample and exporting. Real models, real runs of one epoch."""

import inspect
import traceback

import pytest
import torch

from engine.document.graph import Graph
from engine.document.project import load
from engine.document.trust import ALLOWED
from engine.errors import TrainingError
from engine.export.code import export_code
from engine.export.deploy import export_formats
from engine.export.weights import DeployError
from engine.layers import Role
from engine.model.build import BuildError, build_model, load_class
from engine.model.codegen import generate, model_nodes
from engine.model.failures import ModelRuntimeError, failure
from engine.runs.evaluation import TrainedModel
from engine.training.job import prepare_job, with_its_data
from tests.engine.code_checks import (
    assert_imports_are_what_the_code_uses,
    assert_lines_belong_to_their_nodes,
)
from tests.engine.graph_builders import chain
from tests.paths import PRESETS
from tests.run_helpers import allowed_code, custom_layer_failing

BOOM = "in layer 'affine' (Custom): ValueError: boom"


@pytest.mark.parametrize("path", sorted(PRESETS.glob("*.json")), ids=lambda p: p.stem)
def test_the_line_map_covers_every_node_of_every_preset(path):
    project = with_its_data(load(path), ALLOWED)  # an Input that follows the data: its shape
    graph = project.graph
    code = allowed_code(project)
    _, _, order = model_nodes(graph)
    layers = {n for n in order if graph.nodes[n].spec.role is Role.LAYER}
    assert set(code.lines.values()) == layers  # Inputs and Outputs write no line of their own
    assert_lines_belong_to_their_nodes(graph, code)
    assert_imports_are_what_the_code_uses(graph, code.source)


def test_imports_follow_what_the_layers_use():
    graph = Graph()
    chain(graph, ("Input", {"shape": [4]}), "Linear", "Output")
    source = generate(graph).source
    assert "import torch\n" not in source and "from torch import nn" in source
    graph = Graph()
    chain(graph, ("Input", {"shape": [4]}), "Linear", "GELU", "Output")
    source = generate(graph).source
    assert "import torch.nn.functional as F" in source and "import torch\n" not in source
    graph = Graph()
    chain(graph, ("Input", {"shape": [5], "dtype": "int64"}), "Embedding", "Output")
    assert "import torch\n" in generate(graph).source  # input_dtypes names torch.int64


def test_a_class_several_custom_nodes_share_maps_to_none_and_the_call_names_each():
    source = (
        "class Check(nn.Module):\n"
        "    def forward(self, x):\n"
        "        if not x.is_meta and x.shape[1] == 5:\n"
        "            raise ValueError('five')\n"
        "        return x\n"
    )
    graph = Graph()
    custom = {"class_name": "Check", "source": source}
    _, first, fc, second, _ = chain(
        graph,
        ("Input", {"shape": [4]}),
        ("Custom", custom),
        ("Linear", {"out_features": 5}),
        ("Custom", custom),
        "Output",
    )
    built = build_model(graph, trust=ALLOWED)
    assert set(built.code.lines.values()) == {first, fc, second}
    assert_lines_belong_to_their_nodes(graph, built.code)
    with pytest.raises(ValueError) as raised:
        built.module(torch.randn(2, 4))
    found = failure(raised.value)
    assert found.node_id == second
    assert found.text == "in layer 'custom2' (Custom): ValueError: five"


def test_a_layer_that_fails_on_the_data_is_named_before_training():
    project, custom = custom_layer_failing("not x.is_meta")
    job = prepare_job(project, trust=ALLOWED)
    with pytest.raises(TrainingError) as raised:
        job.run()
    assert str(raised.value) == (
        f"the model cannot run on the data (one sample has shape [4]): {BOOM}"
    )
    assert raised.value.node_id == custom


def test_a_layer_that_fails_in_a_training_batch_fails_the_run_on_its_node():
    project, custom = custom_layer_failing("self.training and not x.is_meta")
    result = prepare_job(project, trust=ALLOWED).run()
    assert result.status == "failed"
    assert result.message == f"training failed at epoch 1, batch 1: {BOOM}"
    assert result.node_id == custom and result.summary()["node_id"] == custom
    assert isinstance(result.error, ValueError)


def test_a_wrong_shape_is_pinned_on_the_layer_it_reaches():
    project, _ = custom_layer_failing("not x.is_meta", line="return x[:, :3]")
    fc2 = next(n.id for n in project.graph.nodes.values() if n.label == "fc2")
    with pytest.raises(TrainingError) as raised:
        prepare_job(project, trust=ALLOWED).run()
    assert "in layer 'fc2' (Linear): RuntimeError: mat1 and mat2 shapes cannot be multiplied" in (
        str(raised.value)
    )
    assert raised.value.node_id == fc2


def test_a_layer_that_cannot_be_built_is_named(tmp_path):
    when = "not torch.empty(0).is_meta"  # shapes are found with the layer built on meta
    project, custom = custom_layer_failing(when, method="__init__")
    with pytest.raises(BuildError) as raised:
        prepare_job(project, trust=ALLOWED)
    assert str(raised.value) == f"the model could not be built: {BOOM}"
    assert raised.value.node_id == custom
    with pytest.raises(BuildError) as raised:
        export_code(project, tmp_path, ALLOWED)
    assert str(raised.value) == f"the model's code fails to run: {BOOM}"
    assert raised.value.node_id == custom and not any(tmp_path.iterdir())


def test_a_sample_the_model_fails_on_names_the_layer():
    project, custom = custom_layer_failing("not x.is_meta and x.shape[0] == 1")
    job = prepare_job(project, trust=ALLOWED)
    assert job.run().status == "completed"
    trained = TrainedModel.from_job(job)
    with pytest.raises(ModelRuntimeError) as raised:
        trained.predict_one(trained.data.x[:1])
    assert str(raised.value) == f"the model fails on this sample: {BOOM}"
    assert raised.value.node_id == custom


@pytest.mark.parametrize(
    ("fmt", "when", "doing"),
    [
        ("torchscript", "torch.jit.is_tracing()", "traced to TorchScript"),
        ("onnx", "torch.compiler.is_exporting()", "exported to ONNX"),
    ],
)
def test_an_export_that_fails_in_a_layer_names_it(tmp_path, fmt, when, doing):
    if fmt == "onnx":
        pytest.importorskip("onnxscript")
    project, custom = custom_layer_failing(when)
    module = build_model(project.graph, project.name, trust=ALLOWED).module
    with pytest.raises(DeployError) as raised:
        export_formats(module, tmp_path, [fmt])
    assert str(raised.value) == f"the model cannot be {doing}: {BOOM}"
    assert raised.value.node_id == custom and not any(tmp_path.iterdir())


def test_the_same_source_loaded_again_still_names_its_layers_and_shows_its_lines():
    project, custom = custom_layer_failing("not x.is_meta")
    code = build_model(project.graph, project.name, trust=ALLOWED).code
    model = load_class(code.source)()  # as a run's model.py is loaded for export
    with pytest.raises(ValueError) as raised:
        model(torch.randn(2, 4))
    assert failure(raised.value).node_id == custom
    shown = "".join(traceback.format_exception(raised.value))
    assert "raise ValueError('boom')" in shown  # linecache has the generated lines
    assert "x = self.affine(x)" in inspect.getsource(type(model).forward)


def test_errors_outside_a_generated_model_name_no_layer():
    try:
        raise RuntimeError("not in a model")
    except RuntimeError as exc:
        found = failure(exc)
    assert (found.text, found.node_id) == ("RuntimeError: not in a model", None)
