"""Custom layer code that came with a file runs only when allowed (engine.document.trust):
every engine entry point that could run it is tried with and without permission, and
the marker its class body writes exists only with permission."""

import pytest

from engine.cli.check import check_file
from engine.document.project import load, to_dict
from engine.document.trust import (
    ALLOWED,
    CustomCodeNotAllowed,
    Trust,
    foreign_definitions,
)
from engine.errors import TrainingError
from engine.export.code import export_code
from engine.model.build import build_model
from engine.model.codegen import CodegenError, generate
from engine.model.shapes import infer_all
from engine.process import parent
from engine.process.protocol import Batches, Epoch, Paused, Resumed, Started, Train
from engine.runs.store import export_run
from engine.training.job import prepare_job
from engine.training.status import RunStatus
from tests.custom_marker import custom_node, marked_project, saved_marked_project, traces
from tests.engine.graph_builders import lenet
from tests.run_helpers import train_run


@pytest.fixture
def marker(tmp_path):
    return tmp_path / "marker.txt"


def test_opening_checking_and_inferring_shapes_run_no_custom_code(tmp_path):
    path, marker = saved_marked_project(tmp_path)
    project = load(path)
    inference = infer_all(project.graph)
    assert inference.results[custom_node(project).id].status == "waiting"
    assert check_file(path) == (0, "ok")
    assert not marker.exists()
    infer_all(project.graph, ALLOWED)
    assert traces(marker)[0] == "class"


def test_generating_the_source_runs_nothing(marker):
    project = marked_project(marker)
    with pytest.raises(CodegenError, match="Custom code has not run yet"):
        generate(project.graph, project.name)
    assert not marker.exists()
    code = generate(project.graph, project.name, infer_all(project.graph, ALLOWED))
    assert "class Affine(nn.Module):" in code.source


ENTRY_POINTS = {
    "build_model": lambda project, out, trust: build_model(
        project.graph, project.name, trust=trust
    ),
    "prepare_job": lambda project, out, trust: prepare_job(project, trust=trust),
    "export_code": lambda project, out, trust: export_code(project, out, trust),
}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_building_training_and_exporting_refuse_custom_code_not_allowed(entry, marker, tmp_path):
    project, out = marked_project(marker), tmp_path / "out"
    with pytest.raises(CustomCodeNotAllowed) as refused:
        ENTRY_POINTS[entry](project, out, Trust())
    message = str(refused.value)
    assert message.startswith("Custom layer 'affine' holds code that came with the project file")
    assert "Edit > Run Custom Layer Code" in message and "--allow-custom-code" in message
    assert not marker.exists() and not out.exists()
    ENTRY_POINTS[entry](project, out, ALLOWED)
    assert "class" in traces(marker)


def test_code_the_user_wrote_in_this_session_runs_without_the_files_permission(marker):
    project = marked_project(marker)
    source = custom_node(project).params["source"]
    build_model(project.graph, project.name, trust=Trust(sources=frozenset({source})))
    assert "class" in traces(marker)


def test_a_runs_model_runs_for_its_export_only_when_allowed(marker, tmp_path):
    project = marked_project(marker)
    record = train_run(tmp_path / "runs", project)  # allowed
    marker.unlink()
    copied = export_run(record, tmp_path / "copy")  # files copied, nothing run
    assert [p.name for p in copied][:2] == ["model.py", "train.py"]
    assert not marker.exists()
    deploy = tmp_path / "deploy"
    with pytest.raises(CustomCodeNotAllowed, match=r"Run 1's model.py holds .* \(class Affine\)"):
        export_run(record, deploy, ["torchscript"])
    assert not marker.exists() and not deploy.exists()
    mine = Trust(sources=frozenset({custom_node(project).params["source"]}))
    written = export_run(record, deploy, ["torchscript"], mine)
    assert (deploy / "model.torchscript.pt") in written
    assert traces(marker)[0] == "class"


def test_a_model_file_holding_anything_besides_the_model_class_is_told_apart():
    graph, _ = lenet()
    source = generate(graph, "lenet").source
    assert foreign_definitions(source) == []
    end = len(source.splitlines())
    extra = "\nimport os\n\ndef helper():\n    pass\n\nprint('hi')\n"
    found = [f"line {end + 2}", "def helper", f"line {end + 7}"]
    assert foreign_definitions(source + extra) == found
    line = source.splitlines().index('__all__ = ["Lenet"]') + 1
    hidden = source.replace('__all__ = ["Lenet"]', '__all__ = [open("x")] or ["Lenet"]')
    assert foreign_definitions(hidden) == [f"line {line}", "class Lenet"]
    assert foreign_definitions("class (") == ["the whole file (it cannot be parsed)"]


def test_the_training_process_runs_custom_code_only_when_its_request_allows(marker):
    project = marked_project(marker)
    process = parent.TrainingProcess()
    try:
        process.send(Train(to_dict(project)))
        with pytest.raises(TrainingError, match=r"'affine' holds code .* --allow-custom-code"):
            process.follow(HEARD)
        assert not marker.exists()
        process.send(Train(to_dict(project), trust=ALLOWED))
        done = process.follow(HEARD)
    finally:
        process.close()
    assert done.summary["status"] is RunStatus.COMPLETED
    assert traces(marker)[0] == "class" and "forward" in traces(marker)
    assert done.trained.custom_layers == {"affine": custom_node(project).params["source"]}
    marker.unlink()
    with pytest.raises(CustomCodeNotAllowed):
        parent.trained_model(done, project)  # rebuilt in the app: the same rule
    assert not marker.exists()
    assert parent.trained_model(done, project, ALLOWED) is not None
    assert traces(marker)[0] == "class"


HEARD = {kind: lambda event: None for kind in (Started, Batches, Epoch, Paused, Resumed)}
