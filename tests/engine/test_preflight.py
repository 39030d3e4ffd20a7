"""The one list of pre-run checks: each problem found with its reason code and node."""

from engine.data.preview import preview_data
from engine.document.project import Project, load
from engine.document.trust import ALLOWED
from engine.model.shapes import infer_all
from engine.training.data_shapes import preview_shapes
from engine.training.preflight import DataState, Reason, preflight
from tests.engine.graph_builders import chain
from tests.paths import PRESETS


def reasons(problems):
    return [(p.reason, p.node_id) for p in problems]


def node_id(project: Project, label: str) -> str:
    return next(n.id for n in project.graph.nodes.values() if n.label == label)


def test_a_preset_with_its_own_data_is_ready_to_train():
    project = load(PRESETS / "digits_mlp.json")
    data = DataState(preview_data(project.data))
    assert preflight(project, infer_all(project.graph), ["auto", "cpu"], data) == []


def test_a_shape_problem_is_a_graph_problem_on_its_node():
    project = load(PRESETS / "digits_mlp.json")
    fc1 = node_id(project, "fc1")
    project.graph.update_node(fc1, params={"in_features": 7})
    problems = preflight(project, infer_all(project.graph))
    assert reasons(problems) == [(Reason.GRAPH, fc1)]
    assert "in_features is set to 7" in problems[0].message


def test_a_graph_without_an_output_is_a_problem_of_no_node():
    project = Project(name="bare")
    chain(project.graph, "Input", "Linear")
    assert reasons(preflight(project, infer_all(project.graph))) == [(Reason.GRAPH, None)]


def test_custom_code_from_a_file_waits_for_permission():
    project = load(PRESETS / "custom_layer.json")
    affine = node_id(project, "affine")
    waiting = preflight(project, infer_all(project.graph))
    assert reasons(waiting) == [(Reason.CUSTOM_NOT_ALLOWED, affine)]
    assert "Edit > Run Custom Layer Code" in waiting[0].message
    assert preflight(project, infer_all(project.graph, ALLOWED)) == []


def test_a_broken_custom_layer_is_a_graph_problem_even_before_permission():
    project = load(PRESETS / "custom_layer.json")
    affine = node_id(project, "affine")
    project.graph.update_node(affine, params={"class_name": "Missing"})
    problems = preflight(project, infer_all(project.graph))
    assert (Reason.GRAPH, affine) in reasons(problems)


def test_a_device_this_machine_lacks():
    project = load(PRESETS / "digits_mlp.json")
    project.training["device"] = "cuda:3"
    problems = preflight(project, infer_all(project.graph), ["auto", "cpu"])
    assert reasons(problems) == [(Reason.NO_DEVICE, None)]
    assert "cuda:3" in problems[0].message
    assert preflight(project, infer_all(project.graph)) == []  # no devices given: not checked


def digits_mlp_with(classes: int) -> tuple[Project, DataState]:
    """The digits MLP with an Input of 10 values (the data has 64) and `classes`
    outputs (the data has 10 classes), and its data previewed."""
    project = load(PRESETS / "digits_mlp.json")
    graph = project.graph
    graph.update_node(node_id(project, "x"), params={"shape": [10]})
    graph.update_node(node_id(project, "fc1"), params={"in_features": None})
    graph.update_node(node_id(project, "fc2"), params={"out_features": classes})
    return project, DataState(preview_data(project.data))


def test_data_that_does_not_fit_the_input_or_the_loss():
    project, data = digits_mlp_with(4)
    problems = preflight(project, infer_all(project.graph), data=data)
    assert reasons(problems) == [
        (Reason.INPUT_MISMATCH, node_id(project, "x")),
        (Reason.LOSS_MISMATCH, node_id(project, "out")),
    ]
    assert "(64,)" in problems[0].message and "(10,)" in problems[0].message


def apply(project: Project, fix) -> None:
    project.graph.update_node(fix.node_id, params=fix.params)


def test_a_classifier_wider_than_its_classes_and_an_input_of_the_wrong_size_have_fixes():
    project, data = digits_mlp_with(64)
    graph = project.graph
    first = preflight(project, infer_all(graph), data=data)
    assert reasons(first) == [
        (Reason.INPUT_MISMATCH, node_id(project, "x")),
        (Reason.OUTPUT_WIDTH, node_id(project, "out")),
    ]
    assert first[0].fix.label == "Set the Input to [64]"
    apply(project, first[0].fix)
    second = preflight(project, infer_all(graph), data=data)
    assert reasons(second) == [(Reason.OUTPUT_WIDTH, node_id(project, "out"))]
    assert "64 class scores" in second[0].message and "10 classes" in second[0].message
    assert second[0].fix.label == "Set fc2's out_features to 10"
    apply(project, second[0].fix)
    assert preflight(project, infer_all(graph), data=data) == []


def test_a_wide_output_after_a_layer_without_out_features_has_no_fix():
    project = load(PRESETS / "digits_mlp.json")
    graph = project.graph
    out = node_id(project, "out")
    graph.update_node(node_id(project, "fc2"), params={"out_features": 12})
    (wire,) = graph.inputs_of(out)
    graph.delete_edge(wire)
    relu = chain(graph, "ReLU", start=wire.src)[0]
    chain(graph, start=relu)
    graph.insert_edge(type(wire)(relu, out, 0))
    problems = preflight(project, infer_all(graph), data=DataState(preview_data(project.data)))
    assert reasons(problems) == [(Reason.OUTPUT_WIDTH, out)]
    assert problems[0].fix is None


def test_unreadable_data():
    project = load(PRESETS / "digits_mlp.json")
    data = DataState(error="digits.csv: no such file")
    problems = preflight(project, infer_all(project.graph), data=data)
    assert reasons(problems) == [(Reason.DATA_UNREADABLE, None)]
    assert problems[0].message == "The data cannot be read: digits.csv: no such file"


def test_an_embedding_smaller_than_the_vocabulary_is_said_with_its_fix():
    project = load(PRESETS / "text_classification.json")
    data = DataState(preview_data(project.data, PRESETS))
    shapes = preview_shapes(project, data.preview)
    inference = infer_all(project.graph, ALLOWED, shapes)
    assert preflight(project, inference, ["auto", "cpu"], data) == []
    embed = node_id(project, "embed")
    project.graph.nodes[embed].params["num_embeddings"] = 50
    problems = preflight(project, infer_all(project.graph, ALLOWED, shapes), ["auto"], data)
    assert reasons(problems) == [(Reason.VOCABULARY, embed)]
    ids = data.preview.token_ids
    assert ids == 120 and problems[0].fix.params == {"num_embeddings": ids}
    assert "Embedding 'embed' has 50 rows, but the texts' vocabulary has 120" in problems[0].message
