"""`export`, `train` and `import` on the command line: a project's Custom layer code runs
only with --allow-custom-code; `check` never runs it; `import` runs the .py file it is
given (that is what it does), and the project it writes is then like any other."""

import main
from tests.custom_marker import saved_marked_project, traces

FLAG = "--allow-custom-code"


def refused(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert "'affine' holds code that came with the project file" in err and FLAG in err
    return err


def test_export_runs_custom_code_only_with_the_flag(tmp_path, capsys):
    path, marker = saved_marked_project(tmp_path)
    out = tmp_path / "out"
    for extra in ([], ["--torchscript"]):
        assert main.main(["export", str(path), "--out", str(out), *extra]) == 1
        assert refused(capsys).startswith(f"error: {path}: ")
        assert not marker.exists() and not out.exists()
    assert main.main(["export", str(path), "--out", str(out), "--torchscript", FLAG]) == 0
    assert "class" in traces(marker)
    assert {"model.py", "train.py", "model.torchscript.pt"} <= {p.name for p in out.iterdir()}


def test_train_runs_custom_code_only_with_the_flag(tmp_path, capsys):
    path, marker = saved_marked_project(tmp_path)
    out = tmp_path / "run"
    assert main.main(["train", str(path), "--out", str(out)]) == 1
    refused(capsys)
    assert not marker.exists() and not out.exists()
    assert main.main(["train", str(path), "--out", str(out), FLAG]) == 0
    assert traces(marker)[0] == "class" and "forward" in traces(marker)
    assert (out / "weights.safetensors").is_file()


def test_check_never_runs_custom_code(tmp_path, capsys):
    path, marker = saved_marked_project(tmp_path)
    assert main.main(["check", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: ok\n"
    assert not marker.exists()


MODEL = """
import torch
from torch import nn


class Shift(nn.Module):
    open({marker!r}, "a").write("class\\n")

    def forward(self, x):
        return x + 1


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.shift = Shift()

    def forward(self, x):
        return self.shift(self.fc(x))
"""


def test_import_runs_the_file_it_is_given_and_what_it_writes_needs_the_flag(tmp_path, capsys):
    marker = tmp_path / "marker.txt"
    model = tmp_path / "net.py"
    model.write_text(MODEL.format(marker=str(marker)))
    project = tmp_path / "net.json"
    status = main.main(["import", f"{model}:Net", "--input-shape", "1,4", "--out", str(project)])
    assert status == 0, capsys.readouterr().err
    assert "class" in traces(marker)  # the user's file, run on purpose
    capsys.readouterr()
    marker.unlink()
    assert main.main(["export", str(project), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "Custom layer 'shift' holds code that came with the project file" in err
    assert FLAG in err and not marker.exists()
    assert main.main(["export", str(project), "--out", str(tmp_path / "out"), FLAG]) == 0
    assert "class" in traces(marker)
