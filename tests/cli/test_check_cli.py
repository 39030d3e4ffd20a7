"""`python main.py check` and `export`, run as a user runs them."""

import os
import random
import subprocess
import sys

import pytest
import torch

import main
from engine.document.project import load
from engine.document.trust import ALLOWED
from engine.model.build import build_model, load_class
from engine.training.job import with_its_data
from tests.paths import PRESETS as PRESET_FOLDER
from tests.paths import ROOT

PRESETS = sorted(PRESET_FOLDER.glob("*.json"))


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_check_passes_every_preset():
    result = cli("check", *map(str, PRESETS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [f"{p}: ok" for p in PRESETS]
    assert result.stderr == ""


def test_check_reports_each_file_and_exits_with_the_worst_status(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(PRESETS[0].read_text().replace('"out_features": 5', '"out_features": -1'))
    missing = tmp_path / "missing.json"
    result = cli("check", str(PRESETS[0]), str(bad), str(missing))
    lines = result.stdout.splitlines()
    assert lines[0] == f"{PRESETS[0]}: ok"
    assert lines[1] == f"{bad}: nodes[1].params.out_features: must be a positive integer, got -1"
    assert lines[2] == f"{missing}: cannot read: no such file"
    assert result.returncode == 2
    assert cli("check", str(PRESETS[0]), str(bad)).returncode == 1


def test_check_names_shape_problems_by_node(tmp_path):
    wrong = tmp_path / "wrong.json"
    wrong.write_text(PRESETS[0].read_text().replace('"in_features": null', '"in_features": 7', 1))
    result = cli("check", str(wrong))
    assert result.returncode == 1
    assert (
        "nodes[1] 'fc1': in_features is set to 7, but the input [N, 10] needs 10" in result.stdout
    )


def test_check_never_hangs_on_a_fifo_or_a_folder(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    result = cli("check", str(fifo), str(tmp_path), timeout=60)
    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        f"{fifo}: cannot read: not a regular file",
        f"{tmp_path}: cannot read: not a regular file",
    ]


def test_check_survives_random_bytes_and_mangled_presets(tmp_path, capsys):
    rng = random.Random(1234)
    files = []
    for i in range(150):
        raw = bytearray(rng.choice(PRESETS).read_bytes())
        for _ in range(rng.randint(1, 8)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        if i % 5 == 0:
            raw = bytearray(rng.randbytes(rng.randint(0, 400)))
        path = tmp_path / f"f{i}.json"
        path.write_bytes(bytes(raw))
        files.append(str(path))
    status = main.main(["check", *files])
    out = capsys.readouterr()
    assert status in (0, 1)
    assert len(out.out.splitlines()) == len(files)
    assert "Traceback" not in out.out + out.err
    assert "could not be checked" not in out.out  # no internal error either


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.stem)
def test_export_writes_the_model_the_engine_trains(preset, tmp_path):
    result = cli("export", str(preset), "--out", str(tmp_path / "out"), "--allow-custom-code")
    assert result.returncode == 0, result.stderr
    source = (tmp_path / "out" / "model.py").read_text()
    project = with_its_data(load(preset), ALLOWED)  # an Input that follows the data: its shape
    built = build_model(project.graph, project.name, seed=0, trust=ALLOWED)
    assert source == built.code.source
    exported = load_class(source, "model.py")()
    exported.load_state_dict(built.module.state_dict(), strict=True)
    [params] = [n.params for n in project.graph.nodes.values() if n.type == "Input"]
    shape = (4, *params["shape"])
    x = torch.randint(1, 10, shape) if params["dtype"] == "int64" else torch.randn(shape)
    built.module.eval()
    exported.eval()
    with torch.no_grad():
        assert (
            torch.equal(built.module(x), exported(x))
            if len(built.code.outputs) == 1
            else all(torch.equal(a, b) for a, b in zip(built.module(x), exported(x), strict=True))
        )


def test_export_errors_are_one_line(tmp_path):
    result = cli("export", str(tmp_path / "nope.json"), "--out", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "cannot read" in result.stderr and "Traceback" not in result.stderr
    broken = tmp_path / "broken.json"
    broken.write_text(
        (PRESET_FOLDER / "custom_layer.json")
        .read_text()
        .replace("return x * self.scale + self.shift", "return x @ self.nothing")
    )
    result = cli("export", str(broken), "--out", str(tmp_path / "o"), "--allow-custom-code")
    assert result.returncode == 1
    assert "'Affine' object has no attribute 'nothing' (custom code, line 10)" in result.stderr
    assert not (tmp_path / "o" / "model.py").exists()
