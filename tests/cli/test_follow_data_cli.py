"""The command line on a project whose Input and last Linear follow the data: check
reads no data and finds no fault, export and train take the values from the data."""

import json

import main
from engine.document.project import save
from tests.engine.test_data_shapes import auto_project


def test_the_command_line_checks_exports_and_trains_a_project_following_its_data(tmp_path, capsys):
    path = tmp_path / "first.json"
    save(auto_project("digits_mlp"), path)
    assert main.main(["check", str(path)]) == 0  # check reads no data: nothing to fault
    assert main.main(["export", str(path), "--out", str(tmp_path / "code")]) == 0
    source = (tmp_path / "code" / "model.py").read_text()
    assert 'input_shapes = {"x": (64,)}' in source and "nn.Linear(128, 10)" in source
    assert main.main(["train", str(path), "--out", str(tmp_path / "run")]) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert "nn.Linear(128, 10)" in (tmp_path / "run" / "model.py").read_text()
    capsys.readouterr()
