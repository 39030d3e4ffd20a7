"""Run history: real runs of the digits preset are saved, listed, reloaded and resumed."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from engine.document.project import from_dict, load
from engine.model.build import build_model
from engine.runs.store import (
    RunError,
    RunRecord,
    delete_run,
    graph_fingerprint,
    list_runs,
    load_run_weights,
    new_run_folder,
    runs_folder,
    save_run,
)
from engine.training.job import prepare_job
from engine.training.trainer import Checkpointer
from tests.run_helpers import PRESETS, STARTED, StopAfter, preset, train_run


@pytest.fixture(scope="module")
def completed(tmp_path_factory) -> RunRecord:
    return train_run(tmp_path_factory.mktemp("runs"), preset("digits_mlp", epochs=2))


def test_runs_live_beside_the_project_file(tmp_path):
    assert runs_folder(tmp_path / "digits.json") == tmp_path / "digits.runs"


def test_run_folders_count_up_past_existing_ones(tmp_path):
    root = tmp_path / "p.runs"
    assert new_run_folder(root) == root / "run-001"
    (root / "run-007").mkdir()
    (root / "notes").mkdir()
    assert new_run_folder(root) == root / "run-008"
    assert new_run_folder(root) == root / "run-009"


def test_a_saved_run_has_its_files_and_reads_back_equal(completed):
    names = {p.name for p in completed.folder.iterdir()}
    assert {"model.py", "weights.safetensors", "summary.json", "history.csv"} <= names
    assert {"checkpoint.pt", "run.json"} <= names
    assert (completed.id, completed.name, completed.started) == ("run-001", "Run 1", STARTED)
    assert (completed.status, completed.epochs, completed.planned_epochs) == ("completed", 2, 2)
    assert completed.fingerprint == graph_fingerprint(preset("digits_mlp", epochs=2))
    assert completed.settings["training"]["epochs"] == 2
    assert completed.settings["data"]["name"] == "digits"
    assert [row["epoch"] for row in completed.history] == [1, 2]
    assert len(completed.history[-1]["val_confusion"]) == 10
    assert completed.final == completed.history[-1]
    assert completed.score == {"metric": "accuracy", "value": completed.final["val_accuracy"]}
    assert completed.seconds == pytest.approx(sum(r["seconds"] for r in completed.history))
    assert not completed.can_resume
    assert list_runs(completed.folder.parent) == ([completed], [])


def test_saved_weights_load_into_a_fresh_model_with_the_same_outputs(completed):
    project = preset("digits_mlp", epochs=2)
    trained = build_model(project.graph, project.name).module
    trained.load_state_dict(load_file(completed.folder / "weights.safetensors"))
    fresh = build_model(project.graph, project.name, seed=123).module
    load_run_weights(completed, fresh, graph_fingerprint(project))
    x = torch.randn(5, 64)
    assert torch.equal(fresh(x), trained(x))


def test_the_fingerprint_ignores_moves_but_not_parameters():
    project = preset("digits_mlp", epochs=2)
    before = graph_fingerprint(project)
    project.graph.nodes["n2"].pos = (500.0, 300.0)
    assert graph_fingerprint(project) == before
    project.graph.nodes["n2"].params["out_features"] = 64
    assert graph_fingerprint(project) != before


def test_the_fingerprint_ignores_node_ids_and_their_order():
    doc = json.loads((PRESETS / "digits_mlp.json").read_text())
    renamed = {node["id"]: f"x{i}" for i, node in enumerate(reversed(doc["nodes"]))}
    for node in doc["nodes"]:
        node["id"] = renamed[node["id"]]
    for edge in doc["edges"]:
        edge["src"], edge["dst"] = renamed[edge["src"]], renamed[edge["dst"]]
    doc["nodes"].reverse()
    assert graph_fingerprint(from_dict(doc)) == graph_fingerprint(load(PRESETS / "digits_mlp.json"))


def test_unreadable_run_folders_are_reported_and_skipped(tmp_path, completed):
    root = tmp_path / "p.runs"
    good = root / "run-001"
    good.mkdir(parents=True)
    (good / "run.json").write_text((completed.folder / "run.json").read_text())
    (root / "run-002").mkdir()  # a run that never finished
    (root / "run-003").mkdir()
    (root / "run-003" / "run.json").write_text("{not json")
    (root / "run-004").mkdir()
    (root / "run-004" / "run.json").write_text('{"version": 1, "name": "Run 4"}')
    records, problems = list_runs(root)
    assert [r.id for r in records] == ["run-001"]
    assert len(problems) == 3
    assert "run-002" in problems[0] and "has no run.json" in problems[0]
    assert "run-003" in problems[1] and "not valid JSON" in problems[1]
    assert "run-004" in problems[2] and "has no 'started'" in problems[2]
    assert all("\n" not in problem for problem in problems)


def test_a_stopped_run_resumes_from_its_last_epoch(tmp_path):
    project = preset("digits_mlp", epochs=3)
    stopped = train_run(tmp_path, project, StopAfter(1))
    assert (stopped.status, stopped.epochs, stopped.planned_epochs) == ("stopped", 1, 3)
    assert stopped.can_resume

    job = prepare_job(
        project, [Checkpointer(stopped.checkpoint_path)], training=stopped.settings["training"]
    )
    resumed = save_run(stopped.folder, job, job.run(resume_from=stopped.checkpoint_path), STARTED)
    assert (resumed.id, resumed.status, resumed.epochs) == (stopped.id, "completed", 3)
    assert [row["epoch"] for row in resumed.history] == [1, 2, 3]
    assert resumed.history[0] == stopped.history[0]
    assert not resumed.can_resume

    straight = train_run(tmp_path, preset("digits_mlp", epochs=3))
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in straight.history]
    assert list_runs(tmp_path)[0] == [resumed, straight]


def test_weights_of_another_graph_are_refused_with_both_fingerprints(completed):
    project = preset("digits_mlp", epochs=2)
    project.graph.nodes["n2"].params["out_features"] = 32
    module = build_model(project.graph, project.name).module
    before = {k: v.clone() for k, v in module.state_dict().items()}
    with pytest.raises(RunError) as caught:
        load_run_weights(completed, module, graph_fingerprint(project))
    message = str(caught.value)
    assert "Run 1" in message and "no longer matches the graph" in message
    assert completed.fingerprint in message and graph_fingerprint(project) in message
    assert "'fc1.weight' is [128, 64] in the run but [32, 64] in the model" in message
    assert all(torch.equal(before[k], v) for k, v in module.state_dict().items())


def test_deleting_a_run_removes_its_folder(tmp_path):
    folder = new_run_folder(tmp_path)
    job = prepare_job(preset("digits_mlp", epochs=1))
    record = save_run(folder, job, job.run(), STARTED)
    delete_run(record)
    assert not folder.exists()
    assert list_runs(tmp_path) == ([], [])
