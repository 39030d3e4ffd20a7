"""Layer records while training: the tapped forward, what is recorded every N batches,
layers.csv, and the warnings pinned to the right layers (real training on the digits)."""

import csv
import io
import math
from dataclasses import replace

import pytest
import torch

from engine.document.graph import Graph
from engine.document.presets import preset_path
from engine.document.project import Project, load
from engine.document.settings import validate_training
from engine.export.run_files import (
    LAYER_COLUMNS,
    layers_csv,
    read_layers_csv,
    run_records,
    write_outputs,
)
from engine.model.build import build_model
from engine.model.taps import Taps
from engine.training.callbacks import Callback
from engine.training.diagnosis import PERSIST, Diagnosis, gradient_state
from engine.training.job import prepare_job, with_its_data
from tests.engine.graph_builders import add, chain, wire

DIGITS = {"kind": "builtin", "name": "digits"}
IO = ("Input", "Output")


def _project(graph: Graph, **training) -> Project:
    settings = {"epochs": 2, "optimizer": "SGD", "lr": 0.01, "momentum": 0.9, **training}
    project = Project(name="probe", graph=graph, data=DIGITS)
    training, _ = validate_training(settings, project.output_labels())
    return replace(project, training=training)


def _stack(depth: int, activation: str) -> tuple[Graph, list[str]]:
    graph = Graph()
    layers = [("Input", {"shape": [64]})]
    for _ in range(depth):
        layers += [("Linear", {"out_features": 64}), activation]
    ids = chain(graph, *layers, ("Linear", {"out_features": 10}), "Output")
    return graph, ids


def _labelled(job, warnings: dict) -> dict[str, list[str]]:
    return {job.project.graph.nodes[n].label: w for n, w in warnings.items()}


@pytest.mark.parametrize("name", ["digits_cnn", "resnet18", "text_classification", "vit_tiny"])
def test_taps_see_every_layer_and_change_nothing(name):
    project = with_its_data(load(preset_path(name)))
    built = build_model(project.graph, project.name, seed=0)
    module = built.module.eval()
    (shape,) = module.input_shapes.values()
    x = (
        torch.randint(0, 40, (2, *shape))
        if name == "text_classification"
        else torch.randn(2, *shape)
    )
    expected = module(x)
    taps = Taps(built)
    outputs = taps.outputs(module, x)
    assert "forward" not in module.__dict__  # the model's own forward again
    assert torch.equal(module(x), expected)
    last = [n for n in taps.node_ids if n in outputs][-1]
    assert torch.allclose(outputs[last], expected)
    nodes = project.graph.nodes
    layers = [n for n in project.graph.topological_order() if nodes[n].type not in IO]
    assert layers == list(outputs)  # every layer, in the order forward computes them


def test_a_healthy_run_records_every_layer_and_warns_of_nothing(tmp_path):
    project = load(preset_path("digits_cnn"))
    job = prepare_job(project, training={**project.training, "epochs": 2, "record_every": 5})
    result = job.run()
    records = job.recorder.records
    per_epoch = job.trainer._run.batches_per_epoch
    assert [r["step"] for r in records] == [1, *range(5, 2 * per_epoch + 1, 5)]
    labels = {job.recorder.labels[n] for n in records[-1]["layers"]}
    assert {"conv1", "relu1", "pool1", "fc2"} <= labels
    stats = {job.recorder.labels[n]: s for n, s in records[-1]["layers"].items()}
    assert stats["conv1"]["grad_norm"] > 0 and stats["conv1"]["weight_norm"] > 0
    assert 1e-4 < stats["conv1"]["update_ratio"] < 1e-1
    assert 0 < stats["relu1"]["zeros"] < 1 and stats["pool1"]["zeros"] is None
    assert "weight_norm" not in stats["relu1"]
    assert job.recorder.diagnosis.warnings() == {}

    summary = write_outputs(tmp_path, job, result)
    assert summary["layer_warnings"] == []
    rows = list(csv.DictReader(io.StringIO((tmp_path / "layers.csv").read_text())))
    assert tuple(rows[0]) == LAYER_COLUMNS
    assert len(rows) == sum(len(r["layers"]) for r in records)
    conv1 = [row for row in rows if row["layer"] == "conv1"]
    assert float(conv1[-1]["grad_norm"]) == pytest.approx(stats["conv1"]["grad_norm"])
    assert conv1[-1]["zeros"] == ""


def test_recording_off_leaves_the_model_alone():
    project = load(preset_path("digits_mlp"))
    job = prepare_job(project, training={**project.training, "epochs": 1, "record_every": 0})
    assert job.recorder is None and job.trainer.callbacks == []
    assert job.run().status == "completed"


def test_a_deep_sigmoid_stack_warns_of_vanishing_gradients_at_its_first_layers():
    graph, ids = _stack(12, "Sigmoid")
    job = prepare_job(_project(graph, epochs=3, record_every=5))
    job.run()
    warnings = job.recorder.diagnosis.warnings()
    first, last = ids[1], ids[-2]  # the first Linear and the head
    assert any("vanishing gradient" in w for w in warnings[first])
    assert last not in warnings
    # three such layers still learn at every layer
    graph, ids = _stack(3, "Sigmoid")
    job = prepare_job(_project(graph, epochs=3, record_every=5))
    job.run()
    found = job.recorder.diagnosis.warnings()
    assert not any("vanishing" in w for ws in found.values() for w in ws)


def test_a_learning_rate_too_high_is_pinned_to_the_layers_it_shakes():
    project = load(preset_path("digits_mlp"))
    job = prepare_job(project, training={**project.training, "epochs": 2, "lr": 0.5})
    job.run()
    warnings = _labelled(job, job.recorder.diagnosis.warnings())
    assert any(w.startswith("learning rate too high for it: ") for w in warnings["fc1"])
    assert "relu1" not in warnings


def test_a_diverging_run_names_the_first_layer_that_was_not_finite():
    project = load(preset_path("digits_mlp"))
    job = prepare_job(project, training={**project.training, "epochs": 3, "lr": 10.0})
    result = job.run()
    assert result.status == "failed"
    label = project.graph.nodes[result.node_id].label
    assert f"the first layer whose output was not finite is {label!r}" in result.message
    assert "forward" not in job.built.module.__dict__


def test_dead_relus_are_pinned_to_the_relu():
    graph = Graph()
    _, fc, relu, _, _ = chain(
        graph, ("Input", {"shape": [64]}), ("Linear", {"out_features": 32}), "ReLU",
        ("Linear", {"out_features": 10}), "Output",
    )  # fmt: skip
    job = prepare_job(_project(graph, epochs=1, record_every=2))
    with torch.no_grad():  # every pre-activation far below zero: the ReLU is dead
        job.built.module.get_submodule(job.built.code.attributes[fc]).bias.fill_(-100.0)
    job.run()
    assert any("dead units: 100%" in w for w in job.recorder.diagnosis.warnings()[relu])


def test_frozen_and_cut_off_layers_have_no_gradient_and_are_not_vanishing():
    graph = Graph()
    _, frozen, relu, head = chain(
        graph, ("Input", {"shape": [64]}), ("Linear", {"out_features": 32}), "ReLU",
        ("Linear", {"out_features": 10}),
    )  # fmt: skip
    out = add(graph, "Output")
    graph.set_tuning(frozen, True, 1.0)
    side = add(graph, "Linear", out_features=10)  # its output is multiplied by zero
    scale = add(graph, "Scale", factor=0.0)
    join = add(graph, "Add")
    wire(graph, relu, side)
    wire(graph, side, scale)
    wire(graph, head, join, 0)
    wire(graph, scale, join, 1)
    wire(graph, join, out)
    job = prepare_job(_project(graph, epochs=1, record_every=3))
    job.run()
    last = job.recorder.records[-1]["layers"]
    assert gradient_state(last[frozen]) == "frozen"
    assert last[frozen]["grad_norm"] is None and last[frozen]["weight_norm"] > 0
    assert gradient_state(last[side]) == "no gradient"
    warnings = job.recorder.diagnosis.warnings()
    assert frozen not in warnings
    assert warnings[side][0].startswith("no gradient: its output does not lead to the loss")
    assert not any("vanishing" in w for ws in warnings.values() for w in ws)


def test_a_finding_must_persist_and_goes_when_it_stops():
    diagnosis = Diagnosis({"a": "fc1"})
    sick = {"weight_norm": 1.0, "grad_norm": 1e-9, "update_ratio": 1e-3}
    well = {"weight_norm": 1.0, "grad_norm": 1e-1, "update_ratio": 1e-3}
    for step in range(PERSIST - 1):
        diagnosis.add({"epoch": 1, "batch": step, "step": step, "layers": {"a": sick}})
    assert diagnosis.warnings() == {}
    diagnosis.add({"epoch": 1, "batch": 9, "step": 9, "layers": {"a": sick}})
    assert diagnosis.lines()[0].startswith("'fc1': vanishing gradient")
    diagnosis.add({"epoch": 1, "batch": 10, "step": 10, "layers": {"a": well}})
    assert diagnosis.warnings() == {}
    exploding = {"weight_norm": 1.0, "grad_norm": math.inf}
    for step in range(PERSIST):
        diagnosis.add({"epoch": 2, "batch": step, "step": step, "layers": {"a": exploding}})
    assert "not finite" in diagnosis.warnings()["a"][0]


def test_the_search_for_the_non_finite_layer_leaves_the_running_statistics_alone():
    graph = Graph()
    scales = [("Scale", {"factor": 1e9})] * 5  # 1e45 overflows float32
    ids = chain(
        graph, ("Input", {"shape": [64]}), ("Linear", {"out_features": 32}), "BatchNorm1d",
        *scales, ("Linear", {"out_features": 10}), "Output",
    )  # fmt: skip
    norm, scale = ids[2], ids[7]
    job = prepare_job(_project(graph, epochs=1))
    result = job.run()
    assert result.status == "failed" and result.node_id == scale  # the weights stay finite
    batch_norm = job.built.module.get_submodule(job.built.code.attributes[norm])
    assert int(batch_norm.num_batches_tracked) == 1  # the training batch only, not the search


def test_an_interrupted_run_takes_its_taps_off_the_model():
    class CtrlC(Callback):
        def on_batch_start(self, trainer, epoch, batch):
            raise KeyboardInterrupt

    project = load(preset_path("digits_mlp"))
    job = prepare_job(project, [CtrlC()], training={**project.training, "epochs": 1})
    with pytest.raises(KeyboardInterrupt):
        job.run()
    assert "forward" not in job.built.module.__dict__  # the recorder had tapped it


def test_layers_csv_reads_back_and_a_resumed_run_keeps_the_earlier_rows(tmp_path):
    project = load(preset_path("digits_mlp"))
    job = prepare_job(project, training={**project.training, "epochs": 1, "record_every": 5})
    job.run()
    recorder = job.recorder
    text = layers_csv(recorder.records, recorder.labels)
    assert read_layers_csv(text) == [_as_written(r) for r in recorder.records]
    (tmp_path / "layers.csv").write_text(text)
    later = recorder.records[3]["step"]
    recorder.records = recorder.records[3:]  # as a run resumed at that step records
    merged = run_records(tmp_path, recorder)
    assert [r["step"] for r in merged] == [r["step"] for r in read_layers_csv(text)]
    assert merged[3]["step"] == later and merged[3] is recorder.records[0]
    (tmp_path / "layers.csv").write_text("not,a,layers,file\n1,2,3,4\n")
    assert run_records(tmp_path, recorder) == recorder.records


def _as_written(record: dict) -> dict:
    """A record as CSV keeps it: every column of each layer, empty ones as None."""
    columns = LAYER_COLUMNS[5:]
    layers = {n: {c: stats.get(c) for c in columns} for n, stats in record["layers"].items()}
    return {**record, "layers": layers}
