"""`python main.py import FILE.py:CLASS --input-shape ... --out PROJECT.json`."""

from pathlib import Path

import pytest

import main
from engine.document.project import load
from engine.export.weights import load_weights
from engine.model.build import load_class
from engine.model.codegen import generate
from engine.model.shapes import infer_all

CORPUS = Path(__file__).resolve().parents[1] / "engine" / "import_corpus"


def run_import(target: str, *options: str) -> int:
    return main.main(["import", target, *options])


def test_import_writes_a_project_that_loads_and_generates(tmp_path, capsys):
    out = tmp_path / "net.json"
    status = run_import(
        f"{CORPUS / 'sequential.py'}:SequentialNet", "--input-shape", "1,3,12,12", "--out", str(out)
    )
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert captured.err == ""
    lines = captured.out.splitlines()
    assert lines[0] == f"wrote {out}: SequentialNet as 4 nodes, 2,956 parameters"
    assert not any("new names" in line for line in lines)  # its Sequentials are blocks
    flat = tmp_path / "flat.json"
    target = f"{CORPUS / 'sequential.py'}:SequentialNet"
    assert run_import(target, "--input-shape", "1,3,12,12", "--out", str(flat), "--flat") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"wrote {flat}: SequentialNet as 14 nodes, 2,956 parameters"
    assert lines[1] == (
        "note: 13 state_dict keys have new names in the generated model "
        "(e.g. features.0.weight -> features_0.weight)"
    )
    project = load(out)
    assert project.name == "SequentialNet"
    assert infer_all(project.graph).problems() == []
    assert "class SequentialNet(nn.Module):" in generate(project.graph, project.name).source


def test_one_shape_and_dtype_per_input(tmp_path, capsys):
    out = tmp_path / "two.json"
    status = run_import(
        f"{CORPUS / 'two_inputs.py'}:TwoInputs",
        "--input-shape",
        "1,1,8,8",
        "--input-shape",
        "1,5",
        "--input-dtype",
        "float32",
        "--input-dtype",
        "float32",
        "--out",
        str(out),
    )
    assert status == 0, capsys.readouterr().err
    inputs = [n for n in load(out).graph.nodes.values() if n.type == "Input"]
    assert [n.label for n in inputs] == ["image", "extra"]
    tokens = tmp_path / "tokens.json"
    status = run_import(
        f"{CORPUS / 'rnn.py'}:LSTMClassifier",
        "--input-shape",
        "1,7",
        "--input-dtype",
        "int64",
        "--out",
        str(tokens),
    )
    assert status == 0
    (tokens_input,) = [n for n in load(tokens).graph.nodes.values() if n.type == "Input"]
    assert tokens_input.params == {"shape": [7], "dtype": "int64"}


@pytest.mark.parametrize(
    ("target", "shape", "expected"),
    [
        ("errors.py:Unsupported", "1,4", "errors.py line 16: `torch.einsum` has no Torchwright"),
        ("errors.py:NeedsArgs", "1,4", "NeedsArgs() needs the arguments width, depth"),
        ("errors.py", "1,4", "give the model as FILE.py:CLASS"),
        ("mlp.py:MLP", "1,x", "--input-shape takes whole numbers separated by commas"),
        ("mlp.py:MLP", "1,100", "mlp.py line 18: MLP fails on inputs of shape (1, 100)"),
        ("missing.py:Net", "1,4", "missing.py: no such file"),
    ],
)
def test_errors_are_one_line_and_write_nothing(tmp_path, capsys, target, shape, expected):
    out = tmp_path / "out.json"
    status = run_import(f"{CORPUS / target}", "--input-shape", shape, "--out", str(out))
    captured = capsys.readouterr()
    assert status == 1
    assert captured.out == ""
    assert captured.err.startswith("error: ")
    assert expected in captured.err
    assert captured.err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_target_is_reported(tmp_path, capsys):
    out = tmp_path / "no" / "such" / "folder" / "net.json"
    status = run_import(f"{CORPUS / 'mlp.py'}:MLP", "--input-shape", "1,784", "--out", str(out))
    assert status == 1
    assert "cannot write" in capsys.readouterr().err


def test_the_imported_weights_load_into_the_generated_class(tmp_path, capsys):
    out, weights = tmp_path / "net.json", tmp_path / "net.safetensors"
    target = f"{CORPUS / 'sequential.py'}:SequentialNet"
    argv = ["--input-shape", "1,3,12,12", "--out", str(out), "--weights", str(weights)]
    assert run_import(target, *argv) == 0
    assert f"wrote {weights}: the weights" in capsys.readouterr().out
    project = load(out)
    model = load_class(generate(project.graph, project.name).source)()
    load_weights(weights, model)  # strict: every generated name is there
    assert "features.0.weight" in model.state_dict()  # the original's own key
