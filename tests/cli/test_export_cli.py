"""`python main.py export`: model.py and train.py, and with --weights / --torchscript /
--onnx the deployment files, each checked against the model."""

import onnxruntime
import pytest
import torch

from engine.document.project import save
from engine.export.weights import load_weights, save_safetensors
from engine.model.build import load_class
from engine.training.job import prepare_job
from main import main
from tests.run_helpers import PRESETS, custom_layer_failing, preset


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")
def test_export_with_trained_weights_writes_every_format_that_matches_them(tmp_path, capsys):
    job = prepare_job(preset("digits_mlp", 1))
    job.run()
    save_safetensors(job.built.module, tmp_path / "trained.safetensors")
    out = tmp_path / "out"
    argv = ["export", str(PRESETS / "digits_mlp.json"), "--out", str(out)]
    assert (
        main([*argv, "--weights", str(tmp_path / "trained.safetensors"), "--torchscript", "--onnx"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "checked on a batch of 3, largest difference" in printed
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "model.onnx",
        "model.py",
        "model.torchscript.pt",
        "train.py",
        "weights.pt",
        "weights.safetensors",
    ]
    model = load_class((out / "model.py").read_text())().eval()
    load_weights(out / "weights.pt", model)
    x = torch.randn(4, 64)
    with torch.no_grad():
        expected = job.built.module.eval()(x)
        assert torch.allclose(model(x), expected)
        assert torch.allclose(torch.jit.load(out / "model.torchscript.pt")(x), expected, atol=1e-5)
    session = onnxruntime.InferenceSession(str(out / "model.onnx"))
    (onnx_out,) = session.run(None, {"x": x.numpy()})
    assert torch.allclose(torch.from_numpy(onnx_out), expected, atol=1e-4)


def test_weights_that_do_not_fit_the_project_are_refused(tmp_path, capsys):
    job = prepare_job(preset("digits_cnn", 1))
    save_safetensors(job.built.module, tmp_path / "cnn.safetensors")
    argv = ["export", str(PRESETS / "digits_mlp.json"), "--out", str(tmp_path / "out")]
    assert main([*argv, "--weights", str(tmp_path / "cnn.safetensors")]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: the weights in") and "do not fit the model" in error
    assert not (tmp_path / "out" / "weights.pt").exists()


def test_a_layer_that_cannot_be_traced_is_named(tmp_path, capsys):
    project, _ = custom_layer_failing("torch.jit.is_tracing()")
    save(project, tmp_path / "failing.json")
    argv = ["export", str(tmp_path / "failing.json"), "--out", str(tmp_path / "out")]
    assert main([*argv, "--torchscript", "--allow-custom-code"]) == 1
    assert capsys.readouterr().err == (
        "error: the model cannot be traced to TorchScript: in layer 'affine' (Custom): "
        "ValueError: boom\n"
    )
    assert not (tmp_path / "out" / "model.torchscript.pt").exists()
