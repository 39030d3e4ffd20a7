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
from pathlib import Path

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


def exiting_custom_layer(tmp_path, command: str, exit_call: str):
    """`command` run with --allow-custom-code on the custom_layer preset whose Custom
    layer's `__init__` ends with `exit_call`; (the result, the layer's label)."""
    project = json.loads((PRESETS / "custom_layer.json").read_text())
    (custom,) = [n for n in project["nodes"] if n["type"] == "Custom"]
    call = f"super().__init__()\n        import os, sys\n        {exit_call}"
    custom["params"]["source"] = custom["params"]["source"].replace("super().__init__()", call)
    path = tmp_path / "exits.json"
    path.write_text(json.dumps(project))
    result = cli(command, str(path), "--allow-custom-code", "--out", str(tmp_path / "out"))
    assert not (tmp_path / "out" / "model.py").exists()
    return result, custom["label"]


@pytest.mark.parametrize("command", ["train", "export"])
def test_sys_exit_in_a_custom_layer_is_an_error_naming_the_layer(tmp_path, command):
    result, label = exiting_custom_layer(tmp_path, command, "sys.exit(0)")
    assert result.returncode == 1
    line = one_error_line(result)
    assert f"'{label}'" in line and "called sys.exit(0)" in line


@pytest.mark.parametrize(("command", "status"), [("train", 7), ("export", 0)])
def test_os_exit_in_a_custom_layer_is_said_in_one_line(tmp_path, command, status):
    """os._exit ends a process at once: the command runs in a child, watched."""
    result, _ = exiting_custom_layer(tmp_path, command, f"os._exit({status})")
    assert result.returncode == 1
    assert one_error_line(result) == (
        f"error: the command's process ended without a word (exit status {status}): code it "
        "ran ended it at once (os._exit()), so nothing after that was done"
    )


def test_a_watched_command_killed_by_a_signal_says_so(tmp_path):
    """As the kernel kills a run for memory: SIGKILL to the process the command runs in."""
    net = model_file(tmp_path, "while True:\n    pass")
    watcher = subprocess.Popen(
        [sys.executable, "main.py", "import", f"{net}:Net", "--input-shape", "1,4", "--out",
         str(tmp_path / "net.json")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    children = Path(f"/proc/{watcher.pid}/task/{watcher.pid}/children")
    deadline = time.monotonic() + QUICK_S
    while not children.read_text().split() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(int(children.read_text().split()[0]), signal.SIGKILL)
    _, stderr = watcher.communicate(timeout=QUICK_S)
    assert watcher.returncode == 1
    assert stderr.strip() == (
        "error: the command's process was killed by SIGKILL (by the kernel for memory, most "
        "likely); its files may be missing"
    )


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


def model_file(tmp_path, body: str):
    """A model file whose module body runs `body` first."""
    path = tmp_path / "net.py"
    path.write_text(
        f"from torch import nn\n{body}\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.fc = nn.Linear(4, 2)\n\n"
        "    def forward(self, x):\n"
        "        return self.fc(x)\n"
    )
    return path


def test_an_imported_file_raising_keyboard_interrupt_ends_with_one_line(tmp_path):
    net = model_file(tmp_path, "raise KeyboardInterrupt")
    out = tmp_path / "net.json"
    result = cli("import", f"{net}:Net", "--input-shape", "1,4", "--out", str(out))
    assert result.returncode == 130
    assert (
        one_error_line(result)
        == f"error: interrupted while importing {net}:Net; nothing was written"
    )
    assert not out.exists()


def test_an_imported_file_that_never_ends_is_said_to_run_and_ctrl_c_stops_it(tmp_path):
    net = model_file(tmp_path, "while True:\n    pass")
    out = tmp_path / "net.json"
    child = subprocess.Popen(
        [
            sys.executable,
            "main.py",
            "import",
            f"{net}:Net",
            "--input-shape",
            "1,4",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        # As from a terminal: Ctrl+C on, and its own process group, which Ctrl+C reaches.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    notice = child.stderr.readline()  # blocks until the file has run for a while
    assert notice.strip() == (
        f"{net}: still importing after 10 s; the file's own code runs as Python would run "
        "it (Ctrl+C stops it)"
    )
    os.killpg(child.pid, signal.SIGINT)  # the command and the process it watches
    stdout, stderr = child.communicate(timeout=QUICK_S)
    assert child.returncode == 130
    assert stderr.strip() == f"error: interrupted while importing {net}:Net; nothing was written"
    assert stdout == "" and not out.exists()


def test_import_writes_the_project_and_its_weights_or_neither(tmp_path):
    net = model_file(tmp_path, "")
    out, nowhere = tmp_path / "net.json", tmp_path / "no such folder"
    weights = nowhere / "net.safetensors"
    args = ("import", f"{net}:Net", "--input-shape", "1,4")
    result = cli(*args, "--out", str(out), "--weights", str(weights))
    assert result.returncode == 1
    assert one_error_line(result) == f"error: {weights}: cannot write: No such file or directory"
    left = [path.name for path in tmp_path.iterdir() if path.name != "__pycache__"]
    assert left == [net.name]  # no project, no temporary file
    result = cli(*args, "--out", str(nowhere / "net.json"))
    assert result.returncode == 1
    assert one_error_line(result).startswith(f"error: {nowhere / 'net.json'}: cannot write")


def test_a_header_of_a_million_columns_is_read_in_linear_time(tmp_path):
    """1.3 million column names on one line (10 MB): the check for names given twice
    was quadratic (80k columns took 46 s); now a misnamed target says so at once."""
    from engine.data.dataset import DataError
    from engine.data.table_columns import load_table

    columns = 1_300_000
    table = tmp_path / "wide.csv"
    table.write_text(
        ",".join(f"c{i}" for i in range(columns)) + "\n" + ",".join(["1"] * columns) + "\n"
    )
    with pytest.raises(DataError) as error:
        load_table(table, target="price")
    message = str(error.value)
    assert message.startswith("wide.csv: no column named 'price' for the target (columns: c0, c1")
    assert message.endswith(f"... ({columns - 20:,} more))") and len(message) < 500
    twice = tmp_path / "twice.csv"
    twice.write_text(",".join(f"c{i}" for i in range(columns)) + ",c7\n")
    with pytest.raises(DataError, match="line 1: the column name 'c7' appears twice"):
        load_table(twice)


@pytest.mark.parametrize("kind", ["nan", "int32"])
def test_weights_that_are_not_finite_are_refused_and_cast_ones_are_said(tmp_path, capsys, kind):
    import torch

    from engine.training.job import prepare_job
    from main import main
    from tests.run_helpers import preset

    weights = dict(prepare_job(preset("digits_mlp", 1)).built.module.state_dict())
    first = next(iter(weights))
    if kind == "nan":
        weights[first] = torch.full_like(weights[first], float("nan"))
    else:
        weights = {key: (tensor * 100).to(torch.int32) for key, tensor in weights.items()}
    torch.save(weights, tmp_path / "w.pt")
    out = tmp_path / "out"
    argv = ["export", str(PRESETS / "digits_mlp.json"), "--out", str(out)]
    status = main([*argv, "--weights", str(tmp_path / "w.pt")])
    captured = capsys.readouterr()
    if kind == "nan":
        assert status == 1
        assert captured.err.strip() == (
            f"error: the weights in {str(tmp_path / 'w.pt')!r} are not all finite: {first!r}"
        )
        assert not (out / "weights.pt").exists()
    else:
        assert status == 0, captured.err
        count = len(weights) - 1
        assert f"note: {first!r} (and {count} more) is int32 in " in captured.out
        assert "loaded as the model's float32" in captured.out
        assert (out / "weights.safetensors").exists()


def test_a_table_of_one_class_trains_with_a_warning(tmp_path):
    table = tmp_path / "cats.csv"
    rng = np.random.default_rng(0)
    rows = [",".join(f"{v:.3f}" for v in rng.random(30)) + ",cat" for _ in range(40)]
    header = ",".join(f"f{i}" for i in range(30)) + ",label"
    table.write_text("\n".join([header, *rows]) + "\n")
    project = preset_with(
        tmp_path, "logistic_regression", kind="csv", path=str(table), target="label"
    )
    result = cli("train", project, "--epochs", "1", "--out", str(tmp_path / "run"), timeout=QUICK_S)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert (
        "warning: csv cats.csv: every sample is of class 'cat'; a classifier needs at least "
        "two classes to learn anything (is the target column the right one?)"
    ) in result.stderr.splitlines()
    assert (tmp_path / "run" / "summary.json").exists()


def peak_while(call) -> int:
    """The most memory (bytes) Python and numpy held at once while `call()` ran."""
    import tracemalloc

    tracemalloc.start()
    try:
        call()
    except Exception:
        pass  # the refusal is checked by the caller
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def test_an_npz_bomb_is_refused_by_its_headers_before_it_inflates(tmp_path):
    from engine.data.dataset import DataError
    from engine.data.npz_file import load_npz

    bomb = tmp_path / "bomb.npz"
    np.savez_compressed(bomb, x=np.zeros((1000, 16_384)), y=np.zeros(999))  # 131 MB of x
    assert bomb.stat().st_size < 2_000_000
    with pytest.raises(DataError, match=r"x has 1000 samples but y has shape \(999,\)"):
        load_npz(bomb)
    assert peak_while(lambda: load_npz(bomb)) < 10_000_000


def test_a_gzip_idx_bomb_inflates_no_further_than_its_header_declares(tmp_path):
    import gzip

    from engine.data.dataset import DataError
    from engine.data.idx import LABELS_MAGIC, read_idx

    labels = tmp_path / "train-labels-idx1-ubyte.gz"
    header = LABELS_MAGIC.to_bytes(4, "big") + (1000).to_bytes(4, "big")
    with gzip.open(labels, "wb", compresslevel=1) as file:
        file.write(header + bytes(1000))
        for _ in range(128):
            file.write(bytes(1 << 20))  # 128 MB more than the header declares
    assert labels.stat().st_size < 2_000_000
    with pytest.raises(DataError, match="too long, its header declares 1000 bytes of data"):
        read_idx(labels, LABELS_MAGIC)
    assert peak_while(lambda: read_idx(labels, LABELS_MAGIC)) < 10_000_000
    liar = tmp_path / "liar-idx1-ubyte"
    liar.write_bytes(
        LABELS_MAGIC.to_bytes(4, "big") + (4_000_000_000).to_bytes(4, "big") + bytes(10)
    )
    with pytest.raises(DataError, match="truncated, its header declares 4000000000 bytes"):
        read_idx(liar, LABELS_MAGIC)


def png_claiming(width: int, height: int) -> bytes:
    """A truncated PNG whose header (checksums right) declares width x height RGB."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = zlib.compress(bytes(3 * width + 1) * 4)  # four rows of thousands
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data)


def test_an_image_claiming_too_many_pixels_is_refused_before_decoding(tmp_path):
    import warnings

    from PIL import Image

    from engine.data.dataset import DataError
    from engine.data.image_folder import load_image_folder

    for name, color in (("cats", "orange"), ("dogs", "gray")):
        (tmp_path / name).mkdir()
        Image.new("RGB", (40, 30), color).save(tmp_path / name / "a.png")
    bomb = tmp_path / "dogs" / "b.png"
    bomb.write_bytes(png_claiming(12_000, 12_000))
    assert bomb.stat().st_size < 1000
    claim = f"{bomb}: declares 12000x12000 pixels, more than the 67,108,864"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PIL's DecompressionBombWarning would fail here
        with pytest.raises(DataError) as error:
            load_image_folder(tmp_path, (28, 28), grayscale=False, bad_images="refuse")
        assert str(error.value).startswith(claim)
        train, _ = load_image_folder(tmp_path / "", (28, 30), grayscale=False)  # skipped
    assert len(train) == 2 and claim in train.info["warnings"][0]
    assert peak_while(lambda: load_image_folder(tmp_path, (26, 28), grayscale=False)) < 10_000_000


def test_a_full_disk_names_the_file_and_why_the_run_ended(tmp_path, capsys, monkeypatch):
    """Every write fails as on a full disk: the checkpoint after epoch 1 first."""
    import errno

    from engine.document import files
    from main import main

    def full(path, write):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(files, "_staged", full)
    out = tmp_path / "run"
    status = main(["train", str(PRESETS / "digits_mlp.json"), "--epochs", "3", "--out", str(out)])
    captured = capsys.readouterr()
    assert status == 1
    assert "epoch 1/3" in captured.out and "epoch 2/3" not in captured.out
    (error,) = captured.err.strip().splitlines()
    assert error.startswith("error: training stopped after epoch 1 of 3: ")
    assert (
        f"cannot write checkpoint {str(out / 'checkpoint.pt')!r}: No space left on device" in error
    )
    assert error.endswith(f"could not be written: {out / 'model.py'}: No space left on device")
    assert not out.exists() or list(out.iterdir()) == []


def test_a_folder_given_to_import_is_said_to_be_a_folder(tmp_path, capsys):
    from main import main

    folder = tmp_path / "models.py"
    folder.mkdir()
    status = main(
        ["import", f"{folder}:Net", "--input-shape", "1,4", "--out", str(tmp_path / "n.json")]
    )
    assert status == 1
    assert capsys.readouterr().err.strip() == (f"error: {folder}: is a folder, not a regular file")
