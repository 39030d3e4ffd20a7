"""The standalone train.py: its data matches the engine's, sample for sample; run on the
CPU it repeats `main.py train` epoch for epoch; it resumes; it trains under torchrun."""

import ast
import csv
import importlib.util
import math
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from engine.data import load_data
from engine.document.project import Project, load, save
from engine.document.trust import ALLOWED
from engine.errors import TrainingError
from engine.export.code import export_code
from engine.export.script import training_script
from engine.training.job import prepare_job, with_its_data
from main import main
from tests.data_files import save_image, write_mnist
from tests.engine.graph_builders import add, chain, wire
from tests.run_helpers import PRESETS, allowed_code, preset


def script_module(project: Project, folder, name="train"):
    """The script written for `project`, imported (its main() is not run)."""
    path = folder / f"{name}.py"
    path.write_text(training_script(project), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"exported_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def data_project(tmp_path, **data) -> Project:
    """A project whose Input takes one sample of `data` as it loads."""
    project = Project(name="data check", path=tmp_path / "project.json")
    project.data.update(data)
    sample = load_data(project.data, tmp_path).train.x.shape[1:]
    chain(
        project.graph,
        ("Input", {"shape": list(sample)}),
        "Flatten",
        ("Linear", {"out_features": 3}),
        "Output",
    )
    return project


def write_csv(path, header, rows):
    with path.open("w", newline="") as file:
        csv.writer(file).writerows([header, *rows])
    return path.name


def data_cases(tmp_path):
    rng = np.random.default_rng(1)
    texts = [[*rng.normal(size=3).round(3), ["cat", "dog", "emu"][i % 3]] for i in range(30)]
    numbers = [[*rng.normal(size=2).round(3), i % 4, round(rng.normal(), 3)] for i in range(30)]
    np.savez(
        tmp_path / "bytes.npz",
        x=rng.integers(0, 256, (20, 4, 4), dtype=np.uint8),
        y=rng.integers(0, 3, 20),
    )
    np.savez(tmp_path / "floats.npz", x=rng.normal(size=(20, 5)), y=rng.normal(size=(20, 2)))
    (tmp_path / "idx").mkdir()
    write_mnist(tmp_path / "idx", train=20, test=6)
    (tmp_path / "idx_train_only").mkdir()
    write_mnist(tmp_path / "idx_train_only", train=20, test=0)
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (tmp_path / "idx_train_only" / name).unlink()
    for i in range(4):
        save_image(tmp_path / "pictures" / "red" / f"{i}.png", (200 + i, 10, 10), size=(7, 5))
        save_image(tmp_path / "pictures" / "blue" / f"{i}.jpg", (0, 20 * i, 240))
    rows = [
        [f"pictures/{c}/{i}.{s}", c, i * 0.5]
        for i in range(4)
        for c, s in (("red", "png"), ("blue", "jpg"))
    ]
    write_csv(tmp_path / "pictures.csv", ["image", "colour", "size"], rows)
    mixed = [
        [
            "" if i % 7 == 3 else round(float(rng.normal()), 3),
            ["red", "green", "blue", ""][i % 4 if i % 5 else 3],
            f"c{i % 6}",
            ["yes", "no"][i % 2],
            i,
        ]
        for i in range(40)
    ]
    write_csv(tmp_path / "mixed.csv", ["age", "colour", "city", "label", "id"], mixed)
    pq.write_table(
        pa.table({"x": rng.normal(size=30), "kind": [["a", "b"][i % 2] for i in range(30)]}),
        tmp_path / "t.parquet",
    )
    series = [
        [f"2020-01-{d:02d}", round(float(v), 3), round(float(w), 3)]
        for d, v, w in zip(range(1, 31), rng.normal(size=30), rng.normal(size=30), strict=True)
    ]
    write_csv(tmp_path / "series.csv", ["day", "value", "other"], series)
    ucr = [[["a", "b"][i % 2], *rng.normal(size=12).round(3)] for i in range(20)]
    write_csv(tmp_path / "ucr.csv", ["label", *(f"t{i}" for i in range(12))], ucr)
    reviews = [
        [f"the {w} is {'not ' * (i % 3 == 0)}good {i % 5}", ["pos", "neg"][i % 2]]
        for i, w in enumerate(["film", "book", "song", "play"] * 8)
    ]
    write_csv(tmp_path / "reviews.csv", ["text", "label"], reviews)
    return {
        "texts": {
            "kind": "text",
            "path": "reviews.csv",
            "target": "label",
            "min_freq": 1,
            "max_length": 6,
        },
        "series forecast": {
            "kind": "time_series",
            "path": "series.csv",
            "target": "value",
            "window": 5,
            "horizon": 2,
            "stride": 2,
        },
        "series forecast minmax": {
            "kind": "time_series",
            "path": "series.csv",
            "window": 3,
            "normalize": "minmax",
            "ignore": "value",
        },
        "series classes": {
            "kind": "time_series",
            "path": "ucr.csv",
            "target": "label",
            "series_task": "classify",
        },
        "iris": {"kind": "builtin", "name": "iris"},
        "image table labels": {
            "kind": "image_csv",
            "path": "pictures.csv",
            "target": "colour",
            "image_size": [5, 4],
            "grayscale": False,
        },
        "image table numbers": {"kind": "image_csv", "path": "pictures.csv", "target": "size"},
        "image table with a missing image": {
            "kind": "image_csv",
            "path": write_csv(
                tmp_path / "gaps.csv",
                ["image", "colour"],
                [*([r[0], r[1]] for r in rows), ["pictures/ant.png", "ant"]],
            ),
            "target": "colour",
        },
        "diabetes minmax": {"kind": "builtin", "name": "diabetes", "normalize": "minmax"},
        "wine fixed": {
            "kind": "builtin",
            "name": "wine",
            "normalize": "fixed",
            "mean": [1.0],
            "std": [2.0],
        },
        **{
            name: {"kind": "synthetic", "name": name, "samples": 60, "features": 5, "classes": 3}
            for name in ("blobs", "moons", "circles", "classification", "linear", "multi_target")
        },
        "csv labels": {"kind": "csv", "path": write_csv(tmp_path / "a.csv", "abcd", texts)},
        "csv integers unstratified": {
            "kind": "csv",
            "path": write_csv(tmp_path / "b.csv", "abcd", numbers),
            "target": "c",
            "stratify": False,
        },
        "csv two targets": {"kind": "csv", "path": "b.csv", "target": "c, d"},
        "csv categories and gaps filled": {
            "kind": "csv",
            "path": "mixed.csv",
            "target": "label",
            "categorical": "city:ids",
            "ignore": "id",
            "missing": "mean",
        },
        "csv gaps as the most frequent": {
            "kind": "csv",
            "path": "mixed.csv",
            "target": "label",
            "missing": "most_frequent",
            "normalize": "minmax",
        },
        "parquet": {"kind": "parquet", "path": "t.parquet", "target": "kind"},
        "npz bytes": {"kind": "npz", "path": "bytes.npz", "normalize": "none"},
        "npz floats": {"kind": "npz", "path": "floats.npz"},
        "idx with test files": {"kind": "idx", "path": "idx"},
        "idx alone": {"kind": "idx", "path": "idx_train_only", "val_fraction": 0.25},
        "mnist": {
            "kind": "mnist",
            "path": "idx",
            "normalize": "fixed",
            "mean": [0.13],
            "std": [0.31],
        },
        "pictures rgb": {
            "kind": "image_folder",
            "path": "pictures",
            "image_size": [6, 3],
            "grayscale": False,
        },
        "pictures gray": {"kind": "image_folder", "path": "pictures"},
    }


def test_the_script_loads_splits_and_scales_data_exactly_as_the_engine(tmp_path):
    for number, (case, data) in enumerate(data_cases(tmp_path).items()):
        project = data_project(tmp_path, **data)
        module = script_module(project, tmp_path, name=f"train{number}")
        engine = load_data(project.data, tmp_path, tuple(project.graph.nodes["n1"].params["shape"]))
        script = module.prepare_data(module.DATA)[:2]
        for (x, y), expected in zip(script, (engine.train, engine.val), strict=True):
            assert x.dtype == expected.x.dtype and y.dtype == expected.y.dtype, case
            assert torch.equal(x, expected.x[:]), case  # an image folder's read here
            assert torch.equal(y, expected.y), case


@pytest.mark.parametrize("name", sorted(p.stem for p in PRESETS.glob("*.json")))
def test_every_presets_script_passes_the_linter(tmp_path, name):
    project = with_its_data(load(PRESETS / f"{name}.json"), ALLOWED)
    assert_lints_clean(tmp_path / "train.py", training_script(project, allowed_code(project)))


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_tables_script_passes_the_linter(tmp_path, kind):
    cases = data_cases(tmp_path)
    data = cases["parquet" if kind == "parquet" else "csv categories and gaps filled"]
    assert_lints_clean(tmp_path / "train.py", training_script(data_project(tmp_path, **data)))


def assert_lints_clean(path, source):
    path.write_text(source)
    lint = subprocess.run(
        [
            *(sys.executable, "-m", "ruff", "check", "--no-cache", "--line-length", "100"),
            *("--select", "E,F,W,B,UP,SIM,I", str(path)),
        ],
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout


def test_the_script_holds_only_what_its_data_needs():
    source = training_script(load(PRESETS / "digits_cnn.json"))
    assert "Torchwright" not in source.split('"""', 2)[2]  # no import of ours
    assert "import re" not in source and "urllib" not in source
    assert "load_digits()" in source and "class DigitsCnn(nn.Module)" in source
    assert "class Augmenter" not in source  # nothing switched on


def test_a_custom_layer_name_the_script_uses_is_refused_by_name(tmp_path):
    project = load(PRESETS / "custom_layer.json")
    project.name = 'back\\slash """ name'
    ast.parse(training_script(project, allowed_code(project)))  # the name is safe in the docstring
    custom = next(n for n in project.graph.nodes.values() if n.type == "Custom")
    custom.params["source"] += "\n\ndef split(x):\n    return x\n"
    with pytest.raises(TrainingError, match="defines 'split', a name the training script"):
        training_script(project, allowed_code(project))
    exported = export_code(project, tmp_path, ALLOWED)
    assert "train.py was not written" in exported.no_script
    assert [p.name for p in exported.written] == ["model.py"]


def run_script(path, *args, cwd=None) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, str(path), *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def read_history(path) -> list[dict]:
    with path.open(newline="") as file:
        return [
            {k: float(v) if v else None for k, v in row.items()} for row in csv.DictReader(file)
        ]


def assert_same_epochs(script_rows, engine_rows):
    assert len(script_rows) == len(engine_rows)
    for mine, theirs in zip(script_rows, engine_rows, strict=True):
        shared = [k for k in mine if k not in ("seconds",) and theirs.get(k) is not None]
        assert {"train_loss", "val_loss"} <= set(shared)
        for key in shared:
            assert mine[key] == pytest.approx(theirs[key], rel=1e-5, abs=1e-7), key


VARIANTS = {
    "digits_mlp": {"epochs": 2},
    "multitask": {"epochs": 2},
    "binary_classifier": {"epochs": 3},
    "custom_layer": {
        "epochs": 3,
        "optimizer": "AdamW",
        "weight_decay": 0.01,
        "scheduler": "one_cycle",
        "grad_clip": 0.5,
    },
    "linear_regression": {
        "epochs": 6,
        "optimizer": "RMSprop",
        "momentum": 0.5,
        "scheduler": "plateau",
        "gamma": 0.5,
        "patience": 0,
        "early_stopping": 2,
        "lr": 0.05,
    },
}


@pytest.mark.parametrize("name", VARIANTS)
def test_the_script_repeats_the_engines_run_epoch_for_epoch(tmp_path, name):
    project = preset(name, 1)
    project.training.update(VARIANTS[name])
    project.path = tmp_path / f"{name}.json"
    engine = prepare_job(project, trust=ALLOWED).run()
    script = tmp_path / "train.py"
    script.write_text(training_script(project, allowed_code(project)))
    run_script(script, "--device", "cpu", "--out", str(tmp_path / "out"))
    assert_same_epochs(read_history(tmp_path / "out" / "history.csv"), engine.history)


def test_the_script_augments_as_the_engine_batch_for_batch(tmp_path):
    """The shapes preset (an image folder drawn on first use, augmented with crops,
    flips, turns and colour jitter) with random erasing too: the same losses."""
    project = preset("shapes_cnn", 2)
    project.data["augment_erasing"] = 0.3
    project.path = tmp_path / "shapes.json"
    engine = prepare_job(project).run()
    script = tmp_path / "train.py"
    script.write_text(training_script(project))
    assert "class Augmenter" in script.read_text()
    run_script(script, "--device", "cpu", "--out", str(tmp_path / "out"))
    assert_same_epochs(read_history(tmp_path / "out" / "history.csv"), engine.history)


def test_a_resumed_script_run_continues_where_it_stopped(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(training_script(preset("digits_mlp", 3)))
    run_script(script, "--epochs", "3", "--out", "straight", cwd=tmp_path)
    run_script(script, "--epochs", "1", "--out", "resumed", cwd=tmp_path)
    run_script(script, "--resume", "resumed/checkpoint.pt", "--out", "resumed", cwd=tmp_path)
    assert_same_epochs(
        read_history(tmp_path / "resumed" / "history.csv"),
        read_history(tmp_path / "straight" / "history.csv"),
    )


def test_the_script_writes_a_tensorboard_log_that_tensorboard_reads(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    script = tmp_path / "train.py"
    script.write_text(training_script(preset("digits_cnn", 2)))
    run_script(script, "--out", "out", "--tensorboard", "logs", cwd=tmp_path)
    events = EventAccumulator(str(tmp_path / "logs"), size_guidance={"histograms": 0})
    events.Reload()
    tags = events.Tags()
    scalars = set(tags["scalars"])
    assert {"loss/train", "loss/val", "lr", "val/accuracy", "grad_norm/conv1"} <= scalars
    assert "final/val_accuracy" in scalars and "weight_norm/fc2" in scalars
    history = read_history(tmp_path / "out" / "history.csv")
    assert [e.value for e in events.Scalars("loss/val")] == pytest.approx(
        [row["val_loss"] for row in history]
    )
    assert len(events.Histograms("gradients/conv1")) == 2 and tags["graph"]


def test_the_script_trains_under_torchrun_with_two_cpu_processes(tmp_path):
    project = preset("multitask", 2)  # two regression outputs
    project.data.update(samples=200, val_fraction=0.005)  # 1 validation row: rank 1 has none
    script = tmp_path / "train.py"
    script.write_text(training_script(project))
    done = subprocess.run(
        [
            *(sys.executable, "-m", "torch.distributed.run", "--standalone"),
            *("--nproc_per_node=2", str(script), "--device", "cpu", "--out", "ddp"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "training on cpu x 2" in done.stdout
    assert done.stdout.count("epoch 1/2") == 1  # only rank 0 reports
    history = read_history(tmp_path / "ddp" / "history.csv")
    assert [row["epoch"] for row in history] == [1, 2]
    assert history[1]["train_loss"] < history[0]["train_loss"]
    assert all(math.isfinite(history[1][k]) for k in ("train_task_a_r2", "val_task_b_loss"))
    weights = torch.load(tmp_path / "ddp" / "weights.pt", weights_only=True)
    model = prepare_job(project).built.module
    model.load_state_dict(weights)  # the bare model's keys, not DistributedDataParallel's


def test_a_schedule_of_another_length_is_not_resumed(tmp_path):
    project = preset("custom_layer", 1)
    project.training.update(scheduler="one_cycle")
    script = tmp_path / "train.py"
    script.write_text(training_script(project, allowed_code(project)))
    run_script(script, "--out", "a", cwd=tmp_path)
    done = subprocess.run(
        [sys.executable, str(script), "--resume", "a/checkpoint.pt", "--epochs", "3"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert "saved by a run of 1 epochs" in done.stderr and "--epochs 1" in done.stderr


def test_export_writes_the_model_and_its_training_script(tmp_path, capsys):
    assert main(["export", str(PRESETS / "multitask.json"), "--out", str(tmp_path)]) == 0
    assert "model.py and" in capsys.readouterr().out
    source = (tmp_path / "train.py").read_text()
    assert '"target": 1}' in source and "sklearn" not in source  # numpy makes multi_target


def test_a_model_with_two_inputs_exports_without_a_training_script(tmp_path, capsys):
    project = Project(name="two inputs")
    graph = project.graph
    merge = add(graph, "Add")
    chain(graph, ("Linear", {"out_features": 2}), "Output", start=merge)
    for port in (0, 1):
        wire(graph, add(graph, "Input", shape=[3]), merge, port)
    save(project, tmp_path / "two.json")
    assert main(["export", str(tmp_path / "two.json"), "--out", str(tmp_path / "out")]) == 0
    assert "train.py was not written: the model has 2 Input nodes" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["model.py"]


def test_data_that_does_not_fit_the_model_is_a_sentence_not_a_traceback(tmp_path):
    project = load(PRESETS / "digits_mlp.json")
    next(n for n in project.graph.nodes.values() if n.type == "Input").params["shape"] = [784]
    module = script_module(project, tmp_path)
    with pytest.raises(SystemExit, match=r"has shape \(64,\), but the model takes \(784,\)"):
        module.prepare_data(module.DATA)
    csv_project = data_project(
        tmp_path, kind="csv", path=write_csv(tmp_path / "a.csv", "ab", [[1, 0], [2, 1]] * 3)
    )
    csv_project.data["path"] = str(tmp_path / "gone.csv")
    script = tmp_path / "csv_train.py"
    script.write_text(training_script(csv_project))
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert done.returncode == 1 and done.stderr.strip().endswith("No such file or directory")
    assert "Traceback" not in done.stderr
