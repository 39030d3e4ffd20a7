"""Fine-tuning: starting from weights, frozen layers, learning-rate multipliers; in the
app's trainer, on the command line and in the exported train.py."""

import pytest
import torch

from engine.document.commands import SetTuning
from engine.document.graph import GraphError
from engine.document.project import Project, ProjectError, from_dict, load, save, to_dict
from engine.errors import TrainingError
from engine.export.script import training_script
from engine.model.build import build_model
from engine.model.transfer import start_from
from engine.model.tuning import parameter_groups
from engine.model.weights_file import WeightsError
from engine.training.job import prepare_job
from main import main
from tests.engine.graph_builders import chain
from tests.engine.test_training_script import assert_same_epochs, read_history, run_script


def digits_project(tmp_path, classes_from_data=True) -> Project:
    """64 digit features -> Linear 32 -> BatchNorm -> ReLU -> Linear (the head)."""
    project = Project(name="tune", path=tmp_path / "tune.json")
    project.data.update(kind="builtin", name="digits")
    project.training.update(epochs=2, device="cpu", batch_size=128)
    head = {"out_features": None if classes_from_data else 4}
    chain(
        project.graph,
        ("Input", {"shape": [64]}),
        ("Linear", {"out_features": 32}),
        "BatchNorm1d",
        "ReLU",
        ("Linear", head),
        "Output",
    )
    return project


def node(project, label):
    return next(n for n in project.graph.nodes.values() if n.label == label)


def pretrained(tmp_path, project=None) -> str:
    """Weights of the same body with a head for 4 classes (not the data's 10)."""
    other = digits_project(tmp_path, classes_from_data=False)
    model = build_model(other.graph, "other", seed=5).module
    with torch.no_grad():
        model.bn1.running_mean.fill_(0.25)
    path = tmp_path / "pretrained.pt"
    torch.save({"state_dict": model.state_dict(), "epoch": 7}, path)  # a checkpoint's
    return str(path)


def test_a_fine_tuning_run_trains_only_what_is_unfrozen(tmp_path):
    project = digits_project(tmp_path)
    frozen = [node(project, "fc1").id, node(project, "bn1").id]
    SetTuning(frozen, frozen=True).do(project.graph)
    SetTuning([node(project, "fc2").id], lr_scale=0.5).do(project.graph)
    project.training.update(init_weights=pretrained(tmp_path, project), skip_mismatched=True)
    job = prepare_job(project)
    source = job.built.code.source
    assert 'frozen = ("fc1", "bn1")' in source and 'lr_multipliers = {"fc2": 0.5}' in source
    model = job.built.module
    assert job.weights.mismatched == [("fc2.weight", (4, 32), (10, 32)), ("fc2.bias", (4,), (10,))]
    assert any("skipped fc2.weight" in line for line in job.weights.lines())
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert float(before["bn1.running_mean"][0]) == 0.25  # loaded from the checkpoint
    result = job.run()
    after = model.state_dict()
    for key in ("fc1.weight", "fc1.bias", "bn1.weight", "bn1.running_mean", "bn1.running_var"):
        assert torch.equal(before[key], after[key]), key
    assert not torch.equal(before["fc2.weight"], after["fc2.weight"])
    assert result.history[0]["lr"] == pytest.approx(0.0005)  # fc2's group: the only one


def test_every_layer_frozen_is_a_sentence(tmp_path):
    project = digits_project(tmp_path)
    weights = [n.id for n in project.graph.nodes.values() if n.type in ("Linear", "BatchNorm1d")]
    SetTuning(weights, frozen=True).do(project.graph)
    with pytest.raises(TrainingError, match="no trainable parameters: every layer with weights"):
        prepare_job(project).run()


def test_parameter_groups_scale_the_learning_rate_by_submodule():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2))
    model.lr_multipliers = {"1": 10.0}
    groups = parameter_groups(model, 0.01)
    assert [g["lr"] for g in groups] == [0.01, pytest.approx(0.1)]
    assert [len(g["params"]) for g in groups] == [2, 2]


def test_the_script_repeats_a_fine_tuning_run(tmp_path):
    project = digits_project(tmp_path)
    SetTuning([node(project, "fc1").id, node(project, "bn1").id], frozen=True).do(project.graph)
    SetTuning([node(project, "fc2").id], lr_scale=3.0).do(project.graph)
    project.training.update(
        init_weights=pretrained(tmp_path, project), skip_mismatched=True, scheduler="one_cycle"
    )
    engine = prepare_job(project).run()
    script = tmp_path / "train.py"
    job = prepare_job(project)
    script.write_text(training_script(job.project, job.built.code))
    done = run_script(script, "--device", "cpu", "--out", str(tmp_path / "out"))
    assert "7 tensors loaded" in done.stdout and "2 skipped" in done.stdout
    assert_same_epochs(read_history(tmp_path / "out" / "history.csv"), engine.history)


def test_the_command_line_starts_from_weights_and_says_what_loaded(tmp_path, capsys):
    project = digits_project(tmp_path)
    save(project, tmp_path / "tune.json")
    weights = pretrained(tmp_path, project)
    args = ["train", str(tmp_path / "tune.json"), "--epochs", "1", "--out", str(tmp_path / "r")]
    assert main([*args, "--init-weights", weights]) == 1
    error = capsys.readouterr().err
    assert "'fc2.weight' (and 1 more) is [4, 32]" in error and "skip the layers" in error
    assert main([*args, "--init-weights", weights, "--skip-mismatched"]) == 0
    out = capsys.readouterr().out
    assert "weights: loaded 7 of the model's 9 tensors" in out
    assert "weights: skipped fc2.bias: [4] in the file, [10] in the model" in out


def test_weights_with_a_wrapper_prefix_load(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(3, 2))
    saved = {f"module.{k}": torch.full_like(v, 2.0) for k, v in model.state_dict().items()}
    torch.save(saved, tmp_path / "ddp.pt")
    report = start_from(model, tmp_path / "ddp.pt")
    assert report.prefix == "module." and report.loaded == ["0.weight", "0.bias"]
    assert model[0].weight.detach()[0, 0].item() == 2.0


def test_weights_that_do_not_fit_are_told(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(3, 2))
    torch.save({"encoder.weight": torch.zeros(2, 3)}, tmp_path / "other.pt")
    with pytest.raises(WeightsError, match=r"none of the tensors .* fit the model"):
        start_from(model, tmp_path / "other.pt")
    torch.save({"0.weight": torch.full((2, 3), float("nan"))}, tmp_path / "nan.pt")
    with pytest.raises(WeightsError, match=r"not all finite: '0\.weight'"):
        start_from(model, tmp_path / "nan.pt")
    with pytest.raises(WeightsError, match="does not exist"):
        start_from(model, tmp_path / "missing.pt")


def test_freezing_is_undone_and_kept_in_the_file(tmp_path):
    project = digits_project(tmp_path)
    fc1 = node(project, "fc1")
    command = SetTuning([fc1.id], frozen=True, lr_scale=0.1)
    command.do(project.graph)
    doc = to_dict(project)
    assert doc["nodes"][1]["frozen"] is True and doc["nodes"][1]["lr_scale"] == 0.1
    assert "frozen" not in doc["nodes"][2]
    again = from_dict(doc)
    assert (again.graph.nodes[fc1.id].frozen, again.graph.nodes[fc1.id].lr_scale) == (True, 0.1)
    command.undo(project.graph)
    assert (fc1.frozen, fc1.lr_scale) == (False, 1.0)
    with pytest.raises(GraphError, match="above 0 and at most 1000"):
        SetTuning([fc1.id], lr_scale=0.0).do(project.graph)
    assert fc1.lr_scale == 1.0
    doc["nodes"][1]["lr_scale"] = -1
    with pytest.raises(ProjectError, match=r"nodes\[1\].lr_scale: must be a number above 0"):
        from_dict(doc)


def test_a_saved_project_keeps_its_weights_to_start_from(tmp_path):
    project = digits_project(tmp_path)
    project.training.update(init_weights="pretrained.pt", skip_mismatched=True)
    save(project, tmp_path / "tune.json")
    assert load(tmp_path / "tune.json").training["init_weights"] == "pretrained.pt"


def test_the_fine_tuning_preset_trains_only_its_last_stage_and_head(tmp_path, capsys):
    """One epoch of the preset on a small folder of two classes of pictures."""
    from engine.document.project import load as load_project
    from engine.export.weights import load_weights
    from engine.training.job import with_its_data
    from tests.data_files import save_image
    from tests.paths import PRESETS

    for i in range(12):
        colour = (200, 40 + i, 40) if i % 2 else (40, 40 + i, 200)
        save_image(tmp_path / "pics" / ("red" if i % 2 else "blue") / f"{i}.png", colour, (40, 40))
    out = tmp_path / "run"
    argv = ["train", str(PRESETS / "finetune_resnet18.json"), "--data", str(tmp_path / "pics")]
    assert main([*argv, "--epochs", "1", "--batch-size", "4", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "note: conv1, bn1, layer1, layer2 and 1 more are frozen but the model starts" in printed
    project = load_project(PRESETS / "finetune_resnet18.json")
    project.data.update(kind="image_folder", path=str(tmp_path / "pics"))
    project = with_its_data(project)
    fresh = build_model(project.graph, project.name, seed=project.training["seed"]).module
    trained = build_model(project.graph, project.name).module
    load_weights(out / "weights.safetensors", trained)
    before, after = fresh.state_dict(), trained.state_dict()
    for key in ("conv1.weight", "layer1.0.conv1.weight", "layer3.1.bn2.running_mean"):
        assert torch.equal(before[key], after[key]), key
    for key in ("layer4.0.conv1.weight", "fc.weight"):
        assert not torch.equal(before[key], after[key]), key
