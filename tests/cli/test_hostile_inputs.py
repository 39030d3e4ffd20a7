"""Careless or hostile inputs to the command line: each gets one clear line naming what
and where, the right exit status, no traceback, no hang and nothing half-written."""

import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

from engine.document.files import STALE_TEMP_S, atomic_write_text, json_text
from engine.document.graph import Graph
from tests.cli.test_check_cli import cli
from tests.paths import PRESETS, ROOT

QUICK_S = 60  # a command that would block on its input is killed after this, and fails


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The one line on stderr, checked to be an error and no traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def preset_with(tmp_path, name: str, **data) -> str:
    project = json.loads((PRESETS / f"{name}.json").read_text())
    project["data"].update(data)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(project))
    return str(path)


def test_a_csv_value_too_large_for_float32_is_named_and_nothing_is_written(tmp_path):
    table = tmp_path / "big.csv"
    table.write_text("x,y\n" + "".join(f"{i},{i}\n" for i in range(20)) + "1e39,3\n")
    project = preset_with(tmp_path, "linear_regression", kind="csv", path=str(table), target="y")
    out = tmp_path / "run"
    result = cli("train", project, "--epochs", "1", "--out", str(out), timeout=QUICK_S)
    assert result.returncode == 1
    line = one_error_line(result)
    assert "big.csv line 22, column 'x'" in line and "too large for float32" in line
    assert not out.exists()


def test_an_npz_value_too_large_for_float32_is_refused(tmp_path):
    archive = tmp_path / "big.npz"
    np.savez(archive, x=np.full((30, 1), 1e39), y=np.zeros((30, 1)))
    project = preset_with(tmp_path, "linear_regression", kind="npz", path=str(archive))
    result = cli("train", project, "--epochs", "1", "--out", str(tmp_path / "run"))
    assert result.returncode == 1
    assert "big.npz: x holds NaN, infinite or too large values" in one_error_line(result)


def test_json_files_hold_null_where_a_number_is_not_finite():
    text = json_text({"loss": float("inf"), "rows": [1.0, float("nan")], "epochs": 2})
    assert json.loads(text) == {"loss": None, "rows": [1.0, None], "epochs": 2}


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return str(path)


@pytest.mark.parametrize(
    "args",
    [
        ["export", str(PRESETS / "digits_mlp.json"), "--out", "{out}", "--weights", "{fifo}"],
        ["train", str(PRESETS / "digits_mlp.json"), "--out", "{out}", "--resume", "{fifo}"],
        ["train", str(PRESETS / "digits_mlp.json"), "--out", "{out}", "--data", "{fifo}"],
    ],
    ids=["export --weights", "train --resume", "train --data"],
)
def test_a_named_pipe_given_as_a_file_is_refused_without_waiting(tmp_path, fifo, args):
    out = tmp_path / "out"
    args = [a.format(out=out, fifo=fifo) for a in args]
    argv = args if args[0] == "export" else [*args, "--epochs", "1"]
    result = cli(*argv, timeout=QUICK_S)
    assert result.returncode == 1
    assert f"{fifo}" in result.stderr and "named pipe (FIFO)" in one_error_line(result)


def test_labels_python_reads_alike_are_refused_naming_both(tmp_path):
    project = json.loads((PRESETS / "digits_mlp.json").read_text())
    nodes = project["nodes"]
    first, second = nodes[1], nodes[2]
    first["label"], second["label"] = "fc", "ｆｃ"  # fullwidth: the same name to Python
    path = tmp_path / "alike.json"
    path.write_text(json.dumps(project, ensure_ascii=False), encoding="utf-8")
    result = cli("check", str(path))
    assert result.returncode == 1
    assert "'ｆｃ' is the same Python name as node" in result.stdout
    assert f"{first['id']!r}'s label 'fc'" in result.stdout


def test_a_label_typed_as_its_fullwidth_twin_becomes_the_next_free_name():
    graph = Graph()
    node = graph.make_node("Linear", label="fc")
    graph.insert_node(node)
    assert graph.unique_label("ｆｃ") == "fc1"
    assert graph.unique_label("ﬁ") == "fi"  # the ligature is two letters to Python


SYS_EXIT = "super().__init__()\n        import sys\n        sys.exit(0)"


@pytest.mark.parametrize("command", ["train", "export"])
def test_sys_exit_in_a_custom_layer_is_an_error_naming_the_layer(tmp_path, command):
    project = json.loads((PRESETS / "custom_layer.json").read_text())
    (custom,) = [n for n in project["nodes"] if n["type"] == "Custom"]
    custom["params"]["source"] = custom["params"]["source"].replace("super().__init__()", SYS_EXIT)
    path = tmp_path / "exits.json"
    path.write_text(json.dumps(project))
    out = tmp_path / "out"
    result = cli(command, str(path), "--allow-custom-code", "--out", str(out))
    assert result.returncode == 1
    line = one_error_line(result)
    assert f"'{custom['label']}'" in line and "called sys.exit(0)" in line
    assert not (out / "model.py").exists()


@pytest.mark.parametrize("after_s", [0.3, 0.6])
def test_ctrl_c_before_training_starts_exits_130_with_one_line(tmp_path, after_s):
    """Ctrl+C in the first second: while torch loads, or the (slow to read) table."""
    table = tmp_path / "long.csv"
    np.savetxt(table, np.random.default_rng(0).random((300_000, 2)), delimiter=",",
               header="x,y", comments="")  # fmt: skip
    project = preset_with(tmp_path, "linear_regression", kind="csv", path=str(table), target="y")
    out = tmp_path / "run"
    child = subprocess.Popen(
        [sys.executable, "main.py", "train", project, "--out", str(out)],
        cwd=ROOT,
        # As from a terminal: a background job (CI's, say) would start it with Ctrl+C ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(after_s)
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=QUICK_S)
    assert child.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert stderr.strip() == "interrupted before training started; nothing was written"
    assert stdout == "" and not out.exists()


def test_a_mistyped_command_lists_the_commands_and_opens_no_window():
    result = cli("chekc", str(PRESETS / "digits_mlp.json"), timeout=QUICK_S)
    assert result.returncode == 2
    assert "invalid choice: 'chekc'" in result.stderr
    assert "'check'" in result.stderr and "'train'" in result.stderr


def test_a_project_nested_too_deeply_is_refused_on_load(tmp_path):
    project = json.loads((PRESETS / "digits_mlp.json").read_text())
    text = json.dumps(project)[:-1] + ', "ui": ' + "[" * 600 + "]" * 600 + "}"
    path = tmp_path / "deep.json"
    path.write_text(text)
    result = cli("check", str(path))
    assert result.returncode == 1
    assert "nested over 64 levels deep" in result.stdout


def test_an_out_that_is_a_file_is_refused_before_training(tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("mine")
    result = cli("train", str(PRESETS / "digits_mlp.json"), "--out", str(taken))
    assert result.returncode == 1
    assert f"--out: {taken} is a file" in one_error_line(result)
    assert result.stdout == "" and taken.read_text() == "mine"


def test_resuming_a_run_with_nothing_left_to_train_says_so(tmp_path):
    out = tmp_path / "run"
    preset = str(PRESETS / "digits_mlp.json")
    assert cli("train", preset, "--epochs", "2", "--out", str(out)).returncode == 0
    checkpoint = str(out / "checkpoint.pt")
    result = cli("train", preset, "--epochs", "2", "--resume", checkpoint, "--out", str(out))
    assert result.returncode == 0 and result.stderr == ""
    last = result.stdout.splitlines()[-1]
    assert last.startswith(f"nothing was left to train: {checkpoint} holds 2 epochs and the")
    assert "run asks for 2 (give more with --epochs)" in last


def test_a_nul_in_the_project_name_is_refused_by_check(tmp_path):
    project = json.loads((PRESETS / "digits_mlp.json").read_text())
    project["name"] = "digits\x00mlp"
    path = tmp_path / "nul.json"
    path.write_text(json.dumps(project))
    result = cli("check", str(path))
    assert result.returncode == 1
    assert "name: must not hold a NUL character" in result.stdout


def npz_with_lying_header(path, shape: tuple[int, ...], stored: int) -> None:
    """x.npy's header declares float64 `shape`; `stored` bytes follow it."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    targets = io.BytesIO()
    np.save(targets, np.zeros(4))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x.npy", header.getvalue() + b"\0" * stored)
        archive.writestr("y.npy", targets.getvalue())


@pytest.mark.parametrize(
    ("shape", "stored", "said"),
    [
        ((10**12,), 1024, "declares shape (1000000000000,) of float64 (8 TB), but the archive"),
        ((4, 2), 40, "declares shape (4, 2) of float64 (64 bytes), but the archive holds 40"),
    ],
    ids=["a terabyte claimed", "shorter than declared"],
)
def test_an_npz_member_declaring_more_than_it_holds_is_refused_unread(
    tmp_path, shape, stored, said
):
    archive = tmp_path / "lies.npz"
    npz_with_lying_header(archive, shape, stored)
    project = preset_with(tmp_path, "linear_regression", kind="npz", path=str(archive))
    result = cli("train", project, "--epochs", "1", "--out", str(tmp_path / "run"))
    assert result.returncode == 1
    assert f"lies.npz: x {said}" in one_error_line(result)


def test_a_save_removes_the_temporary_files_a_killed_save_left(tmp_path):
    target = tmp_path / "project.json"
    stale, fresh = tmp_path / ".project.json.k1ll3d.tmp", tmp_path / ".project.json.w0rk.tmp"
    other = tmp_path / ".other.json.k1ll3d.tmp"
    for temp in (stale, fresh, other):
        temp.write_text("half")
    old = time.time() - STALE_TEMP_S - 60
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    atomic_write_text(target, "{}")
    assert target.read_text() == "{}"
    assert not stale.exists()
    assert fresh.exists()  # it may be another write, still going
    assert other.exists()  # another file's
