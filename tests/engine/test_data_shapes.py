"""Values that follow the data: an Input's shape and the units of a Linear feeding an
Output wait for the data, take it once known, follow it when it changes, and are
written into the graph a run builds and keeps."""

import pytest
import torch

from engine.document.commands import Disconnect
from engine.document.graph import Edge, Graph
from engine.document.presets import preset_path
from engine.document.project import Project, load
from engine.model.shapes import DataShapes, ShapeInference, infer_all, resolved
from engine.training.job import prepare_job
from engine.training.losses import units_wanted
from engine.training.preflight import Reason, graph_problems
from tests.engine.graph_builders import chain

DIGITS = DataShapes((64,), {"out": 10})


def first_model() -> tuple[Graph, list[str]]:
    """Input (auto), Linear (out_features auto), Output 'out'."""
    graph = Graph()
    ids = chain(graph, "Input", ("Linear", {"out_features": None}), "Output")
    return graph, ids


def test_a_new_input_follows_the_data():
    graph = Graph()
    (x,) = chain(graph, "Input")
    assert graph.nodes[x].params["shape"] is None


def test_values_wait_for_the_data_then_take_and_follow_it():
    graph, (x, fc, out) = first_model()
    inference = ShapeInference(graph)
    inference.update()
    assert inference.results[x].status == "waiting"
    assert "waits for the data" in inference.results[x].message
    assert inference.awaits_data(x) and not inference.awaits_data(fc)

    inference.set_data(DIGITS)
    assert inference.update() == {x, fc, out}
    assert inference.results[x].output.shape == (2, 64)
    assert inference.results[fc].params["out_features"] == 10
    assert inference.results[fc].inferred == {"in_features": 64, "out_features": 10}
    assert inference.results[out].output.shape == (2, 10)

    inference.set_data(DataShapes((4,), {"out": 3}))
    inference.update()
    assert inference.results[out].output.shape == (2, 3)
    assert inference.results[fc].num_params == 4 * 3 + 3


def test_units_follow_the_data_only_on_a_layer_that_feeds_one_output():
    graph = Graph()
    _, fc, _ = chain(graph, ("Input", {"shape": [4]}), ("Linear", {"out_features": None}), "ReLU")
    result = infer_all(graph, data=DIGITS).results[fc]
    assert result.status == "error"
    assert "only on a layer that feeds one Output" in result.message


def test_an_output_the_data_gives_nothing_for_is_named():
    graph, (_, fc, _) = first_model()
    result = infer_all(graph, data=DataShapes((64,), {"other": 3})).results[fc]
    assert result.status == "error" and "Output 'out'" in result.message


def test_the_resolved_graph_has_the_values_written_in_and_the_graph_is_untouched():
    graph, (x, fc, _) = first_model()
    concrete = resolved(graph, infer_all(graph, data=DIGITS))
    assert concrete.nodes[x].params["shape"] == [64]
    assert concrete.nodes[fc].params["out_features"] == 10
    assert concrete.nodes[fc].params["in_features"] is None  # follows the wire, as before
    assert graph.nodes[x].params["shape"] is None and graph.nodes[fc].params["out_features"] is None
    assert concrete.edges == graph.edges and concrete.inputs_of(fc) == graph.inputs_of(fc)


def test_units_wanted_by_each_loss():
    ids = torch.tensor([0, 2, 1])
    columns = torch.zeros(5, 3)
    assert units_wanted({"loss": "CrossEntropyLoss", "target": None}, ids, 0) == 3
    assert units_wanted({"loss": "CrossEntropyLoss", "target": None}, ids, 10) == 10
    assert units_wanted({"loss": "BCEWithLogitsLoss", "target": None}, ids, 2) == 1
    assert units_wanted({"loss": "MSELoss", "target": None}, columns, 0) == 3
    assert units_wanted({"loss": "MSELoss", "target": 1}, columns, 0) == 1


def test_waiting_for_the_data_is_its_own_reason_before_a_run():
    graph, _ = first_model()
    project = Project(graph=graph)
    reasons = {p.reason for p in graph_problems(project, infer_all(graph))}
    assert reasons == {Reason.WAITS_FOR_DATA}


def auto_project(preset: str) -> Project:
    """A preset whose Input and last Linear follow the data."""
    project = load(preset_path(preset))
    for node in project.graph.nodes.values():
        if node.is_input:
            node.params["shape"] = None
    (out,) = [n for n in project.graph.nodes.values() if n.is_output]
    (last,) = [project.graph.nodes[e.src] for e in project.graph.inputs_of(out.id)]
    last.params["out_features"] = None
    project.training["epochs"] = 1
    return project


@pytest.mark.parametrize(
    ("preset", "shape", "units"), [("digits_mlp", [64], 10), ("linear_regression", [1], 1)]
)
def test_a_run_takes_the_values_from_its_data_and_keeps_them(preset, shape, units):
    job = prepare_job(auto_project(preset))
    nodes = job.project.graph.nodes.values()
    assert [n.params["shape"] for n in nodes if n.is_input] == [shape]
    assert units in [n.params.get("out_features") for n in nodes]
    assert job.run().status == "completed"
    assert job.as_trained().graph is job.project.graph  # the run keeps the values


def test_wiring_a_following_layer_to_an_output_or_away_infers_it_again():
    graph = Graph()
    _, fc = chain(graph, ("Input", {"shape": [4]}), ("Linear", {"out_features": None}))
    inference = ShapeInference(graph, data=DataShapes((4,), {"out": 3}))
    inference.update()
    assert inference.results[fc].status == "error"  # it feeds no Output yet
    (out,) = chain(graph, "Output", start=fc)
    inference.update()
    assert inference.results[fc].params["out_features"] == 3
    Disconnect(Edge(fc, out, 0)).do(graph)
    inference.update()
    assert "only on a layer that feeds one Output" in inference.results[fc].message
