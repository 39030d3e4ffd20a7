"""Deployment formats: TorchScript and ONNX files checked against the model, weights files
that load back and never run code."""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import onnxruntime
import pytest
import torch
from torch import nn

from engine.document.graph import Graph
from engine.document.project import load
from engine.export.deploy import (
    FILES,
    TOLERANCE,
    DeployError,
    export_formats,
    export_onnx,
    export_torchscript,
)
from engine.export.weights import load_weights, save_state_dict
from engine.model.build import build_model
from tests.engine.graph_builders import add, chain, wire
from tests.paths import PRESETS, ROOT

JIT_DEPRECATED = "ignore:`torch.jit:DeprecationWarning"


def recurrent() -> Graph:
    """Token ids through an Embedding, a two-layer LSTM and a bidirectional GRU."""
    graph = Graph()
    chain(
        graph,
        ("Input", {"shape": [7], "dtype": "int64"}),
        ("Embedding", {"num_embeddings": 20, "embedding_dim": 8}),
        ("LSTM", {"hidden_size": 12, "num_layers": 2}),
        ("GRU", {"hidden_size": 6, "bidirectional": True, "output": "last"}),
        ("Linear", {"out_features": 3}),
        "Output",
    )
    return graph


def two_inputs() -> Graph:
    """An image through Conv2d, BatchNorm2d and AdaptiveAvgPool2d, added to a vector."""
    graph = Graph()
    image = add(graph, "Input", "image", shape=[1, 9, 9])
    features = chain(
        graph,
        ("Conv2d", {"out_channels": 4, "kernel_size": 3}),
        ("BatchNorm2d", {}),
        "ReLU",
        ("AdaptiveAvgPool2d", {"output_size": 2}),
        "Flatten",
        start=image,
    )
    extra = add(graph, "Input", "extra", shape=[16])
    total = add(graph, "Add")
    wire(graph, features[-1], total)
    wire(graph, extra, total, 1)
    chain(graph, "LayerNorm", ("Linear", {"out_features": 3}), "Output", start=total)
    return graph


def preset(name: str) -> tuple[Graph, str, list[str]]:
    project = load(PRESETS / f"{name}.json")
    return project.graph, project.name, project.output_labels()


def mlp() -> nn.Module:
    return build_model(*preset("digits_mlp")[:2], seed=0).module


MODELS = {
    "mlp": lambda: preset("digits_mlp"),
    "cnn": lambda: preset("digits_cnn"),
    "two_outputs": lambda: preset("multitask"),
    "recurrent": lambda: (recurrent(), "Tokens", ["out"]),
    "two_inputs": lambda: (two_inputs(), "Mixed", ["out"]),
}


@dataclass
class Exported:
    graph: Graph
    title: str
    module: nn.Module
    labels: list[str]
    folder: Path
    results: dict


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, Exported]:
    """Every model, exported once in every format."""
    done = {}
    for name, make in MODELS.items():
        graph, title, labels = make()
        module = build_model(graph, title, seed=0).module
        for buffer in module.buffers():  # BatchNorm statistics that change the outputs
            if buffer.is_floating_point():
                buffer.uniform_(0.5, 1.5)
        folder = tmp_path_factory.mktemp(name)
        results = export_formats(module, folder, set(FILES), labels)
        done[name] = Exported(graph, title, module, labels, folder, results)
    return done


def fresh_inputs(module: nn.Module, batch: int) -> tuple[torch.Tensor, ...]:
    """A new batch with ids spread over the whole vocabulary, not just the zeros the
    export was checked with."""
    dtypes = getattr(module, "input_dtypes", {})
    vocabulary = min(
        (m.num_embeddings for m in module.modules() if isinstance(m, nn.Embedding)), default=1
    )
    inputs = []
    for name, shape in module.input_shapes.items():
        if name in dtypes:
            inputs.append(torch.randint(vocabulary, (batch, *shape)))
        else:
            inputs.append(torch.randn(batch, *shape))
    return tuple(inputs)


def outputs_of(module: nn.Module, inputs) -> list[np.ndarray]:
    with torch.no_grad():
        out = module.eval()(*inputs)
    return [t.numpy() for t in (out if isinstance(out, tuple) else (out,))]


def assert_close(got: list[np.ndarray], want: list[np.ndarray], tolerance=TOLERANCE) -> None:
    assert len(got) == len(want)
    for got_one, want_one in zip(got, want, strict=True):
        np.testing.assert_allclose(got_one, want_one, atol=tolerance, rtol=0)


@pytest.mark.parametrize("name", MODELS)
def test_every_format_is_written_and_verified(exported, name):
    folder, results = exported[name].folder, exported[name].results
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES.values())
    for kind in ("onnx", "torchscript"):
        check = results[kind]
        assert check.path == folder / FILES[kind]
        assert check.batch_size == 3  # exported with 2: the batch axis is not fixed
        assert 0 <= check.max_difference <= TOLERANCE
    assert results["safetensors"] == folder / "weights.safetensors"
    assert results["state_dict"] == folder / "weights.pt"


@pytest.mark.parametrize("name", MODELS)
def test_the_onnx_file_names_its_ends_and_runs_on_any_batch(exported, name):
    module = exported[name].module
    session = onnxruntime.InferenceSession(str(exported[name].folder / "model.onnx"))
    assert [i.name for i in session.get_inputs()] == list(module.input_shapes)
    assert [o.name for o in session.get_outputs()] == exported[name].labels
    for end in session.get_inputs() + session.get_outputs():
        assert end.shape[0] == "batch"
    inputs = fresh_inputs(module, 5)
    feed = {i.name: x.numpy() for i, x in zip(session.get_inputs(), inputs, strict=True)}
    assert_close(session.run(None, feed), outputs_of(module, inputs))


@pytest.mark.filterwarnings(JIT_DEPRECATED)
@pytest.mark.parametrize("name", MODELS)
def test_the_torchscript_file_runs_on_any_batch(exported, name):
    module = exported[name].module
    loaded = torch.jit.load(exported[name].folder / "model.torchscript.pt")
    inputs = fresh_inputs(module, 5)
    assert_close(outputs_of(loaded, inputs), outputs_of(module, inputs))


@pytest.mark.parametrize("file", ["weights.safetensors", "weights.pt"])
@pytest.mark.parametrize("name", MODELS)
def test_weights_load_into_a_new_instance(exported, name, file):
    model = exported[name]
    other = build_model(model.graph, model.title, seed=1).module
    load_weights(model.folder / file, other)
    inputs = fresh_inputs(model.module, 4)
    assert_close(outputs_of(other, inputs), outputs_of(model.module, inputs), tolerance=0)


class Noisy(nn.Module):
    """Adds new noise on every call: no exported file can give the same outputs."""

    input_shapes: ClassVar = {"x": (3,)}

    def forward(self, x):
        return x + torch.rand_like(x)


class FixedBatch(nn.Module):
    """Runs on any batch, but turns the batch size into a Python number on the way."""

    input_shapes: ClassVar = {"x": (3,)}

    def forward(self, x):
        return x + torch.zeros(int(x.shape[0]), 3)


EXPORTERS = {"TorchScript": export_torchscript, "ONNX": export_onnx}


@pytest.mark.parametrize("kind", EXPORTERS)
def test_an_export_that_differs_leaves_the_old_file_alone(tmp_path, kind):
    target = tmp_path / "model.out"
    target.write_text("old")
    with pytest.raises(DeployError) as error:
        EXPORTERS[kind](Noisy(), (torch.randn(2, 3),), target)
    message = str(error.value)
    assert kind in message and "differs from the PyTorch model by up to" in message
    assert str(target) in message
    assert list(tmp_path.iterdir()) == [target] and target.read_text() == "old"


@pytest.mark.parametrize("kind", EXPORTERS)
def test_a_model_fixed_to_one_batch_size_is_refused(tmp_path, kind):
    with pytest.raises(DeployError, match=kind):
        EXPORTERS[kind](FixedBatch(), (torch.randn(2, 3),), tmp_path / "model.out")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("package", ["onnx", "onnxscript", "onnxruntime"])
def test_missing_onnx_packages_are_named_with_the_install_command(tmp_path, monkeypatch, package):
    monkeypatch.setitem(sys.modules, package, None)
    module = mlp()
    with pytest.raises(DeployError) as error:
        export_formats(module, tmp_path / "out", {"onnx", "safetensors"})
    assert f"needs the {package} package" in str(error.value)
    assert 'pip install "torchwright[onnx]"' in str(error.value)
    assert not (tmp_path / "out").exists()  # not even the weights


def test_importing_deploy_loads_no_onnx_package():
    code = (
        "import sys, engine.export.deploy; "
        "print([m for m in ('onnx', 'onnxscript', 'onnxruntime') if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_exporting_leaves_the_module_in_training_mode(tmp_path):
    module = mlp().train()
    export_torchscript(module, (torch.randn(2, 64),), tmp_path / "model.pt")
    assert module.training and all(m.training for m in module.modules())


def test_an_unknown_format_is_named(tmp_path):
    module = mlp()
    with pytest.raises(DeployError, match="unknown export format 'tflite'"):
        export_formats(module, tmp_path, {"tflite", "onnx"})


class Marker:
    """Unpickling it creates a folder."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return os.mkdir, (str(self.path),)


def test_a_pt_that_would_run_code_is_refused_without_running_it(tmp_path):
    module = mlp()
    marker, path = tmp_path / "marker", tmp_path / "weights.pt"
    torch.save({**module.state_dict(), "payload": Marker(marker)}, path)
    with pytest.raises(DeployError, match="cannot be read as plain tensors"):
        load_weights(path, module)
    assert not marker.exists()
    torch.load(path, weights_only=False)  # the file really would have run code
    assert marker.exists()


def edit(weights: dict, change: str) -> dict:
    if change == "missing":
        weights.pop("fc2.bias")
    elif change == "unexpected":
        weights["fc3.weight"] = torch.zeros(1)
    else:
        weights["fc1.weight"] = torch.zeros(5, 64)
    return weights


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("missing", "the file has no 'fc2.bias'"),
        ("unexpected", "the model has no 'fc3.weight'"),
        ("shape", "'fc1.weight' is [5, 64] in the file but [128, 64] in the model"),
    ],
)
def test_weights_that_do_not_fit_are_named(tmp_path, change, words):
    module = mlp()
    path = tmp_path / "weights.pt"
    torch.save(edit(dict(module.state_dict()), change), path)
    with pytest.raises(DeployError, match="do not fit the model") as error:
        load_weights(path, module)
    assert words in str(error.value)


def test_files_that_hold_no_weights_are_named(tmp_path):
    module = mlp()
    with pytest.raises(DeployError, match="does not exist"):
        load_weights(tmp_path / "none.safetensors", module)
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(DeployError, match="holds list, not a state_dict of tensors"):
        load_weights(tmp_path / "list.pt", module)
    save_state_dict(module, tmp_path / "ok.pt")
    load_weights(tmp_path / "ok.pt", module)
