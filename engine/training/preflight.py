"""Before a run: every reason the project cannot train now, each with a reason code.

`preflight` is the one list of pre-run checks. The app's Train button and its data
preview read it, and `main.py check` reads its graph part; each picks the reasons that
apply to it by code, never by the wording of a message. Checks that need something not
at hand are skipped: without `devices` the device is not checked, without `data` the
losses are checked against the outputs' shapes only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from engine.data.augment import augmentation_on
from engine.data.preview import DataPreview
from engine.document.graph import Graph
from engine.document.project import Project
from engine.errors import TrainingError
from engine.model.codegen import check_model, model_nodes
from engine.model.shapes import ShapeInference
from engine.training.job import input_shape
from engine.training.losses import CLASS_ID_LOSSES, target_problems


class Reason(StrEnum):
    GRAPH = "graph"  # the graph is not a model: a wiring or shape problem
    CUSTOM_NOT_ALLOWED = "custom_not_allowed"  # a Custom layer's code may not run yet
    WAITS_FOR_DATA = "waits_for_data"  # a value follows the data, which is not known yet
    NO_DEVICE = "no_device"  # the chosen device is not on this machine
    DATA_UNREADABLE = "data_unreadable"
    INPUT_MISMATCH = "input_mismatch"  # a sample does not fit the Input
    LOSS_MISMATCH = "loss_mismatch"  # a loss does not fit its output or its targets
    OUTPUT_WIDTH = "output_width"  # a classifier's output has more units than classes
    NOT_PICTURES = "not_pictures"  # augmentation is on, but samples are not pictures
    VOCABULARY = "vocabulary"  # an Embedding of the token ids has fewer rows than ids


@dataclass(frozen=True)
class Fix:
    """The edit that removes a problem: set `params` on node `node_id`. `label` says it
    in a few words, for a button ("Set the Input to [64]")."""

    label: str
    node_id: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Problem:
    """One reason a run cannot start. node_id: the node at fault, when there is one;
    fix: the obvious edit that removes it, when there is one."""

    reason: Reason
    message: str
    node_id: str | None = None
    fix: Fix | None = None


@dataclass(frozen=True)
class DataState:
    """What is known of the project's data: its preview once loaded, or why it could not
    be read (an empty error and no preview: not loaded yet)."""

    preview: DataPreview | None = None
    error: str = ""


def preflight(
    project: Project,
    inference: ShapeInference,
    devices: Iterable[str] | None = None,
    data: DataState | None = None,
) -> list[Problem]:
    """Every problem found, graph problems first. `inference` is of `project.graph`,
    with Custom code allowed to run exactly where the user allowed it."""
    problems = graph_problems(project, inference)
    if devices is not None and project.training["device"] not in set(devices):
        device = project.training["device"]
        problems.append(
            Problem(
                Reason.NO_DEVICE,
                f"Device {device!r} is not on this machine: pick one from the Device list.",
            )
        )
    return problems + data_problems(project, inference, data or DataState())


def graph_problems(project: Project, inference: ShapeInference) -> list[Problem]:
    graph = project.graph
    untrusted = [
        n for n in graph.nodes.values() if n.runs_user_code and not inference.may_run(n.id)
    ]
    waiting = {n.id for n in untrusted if not inference.results[n.id].ok}  # for permission
    problems = [
        Problem(
            Reason.WAITS_FOR_DATA if inference.awaits_data(node_id or "") else Reason.GRAPH,
            message,
            node_id,
        )
        for node_id, message in check_model(graph, inference)
        if node_id not in waiting or inference.results[node_id].status == "error"
    ]
    problems += [
        Problem(
            Reason.CUSTOM_NOT_ALLOWED,
            f"Custom layer {n.label!r} comes from the file and has not been allowed to run: "
            "read its code, then choose Edit > Run Custom Layer Code.",
            n.id,
        )
        for n in untrusted
    ]
    return problems


def data_problems(project: Project, inference: ShapeInference, data: DataState) -> list[Problem]:
    """Does the data fit the model: readable, a sample fitting the Input, targets that
    each output's loss can take."""
    problems = []
    if data.error:
        problems.append(Problem(Reason.DATA_UNREADABLE, f"The data cannot be read: {data.error}"))
    preview = data.preview
    shape = _input_shape(project)
    if preview is not None and shape is not None:
        problem = preview.input_problem(shape)
        if problem:
            sample = list(preview.sample_shape)
            fix = Fix(f"Set the Input to {sample}", _the_input(project), {"shape": sample})
            message = problem[0].upper() + problem[1:] + "."
            problems.append(Problem(Reason.INPUT_MISMATCH, message, fix.node_id, fix))
    if preview is not None and preview.picture is None and augmentation_on(project.data):
        message = (
            f"Augmentation changes pictures, but a sample of this data has shape "
            f"{list(preview.sample_shape)}: switch the augment settings off, or use image data."
        )
        problems.append(Problem(Reason.NOT_PICTURES, message))
    if preview is not None and preview.token_ids is not None:
        problems += _vocabulary_problems(project, preview.token_ids)
    found = _loss_problems(project, inference, preview)
    return problems + (found or _width_problems(project, inference, preview))


def _vocabulary_problems(project: Project, ids: int) -> list[Problem]:
    """Embeddings that read the token ids straight from the Input but have fewer rows
    than the vocabulary has ids."""
    graph = project.graph
    problems = []
    for node in graph.nodes.values():
        if node.type != "Embedding" or node.params["num_embeddings"] >= ids:
            continue
        sources = [graph.nodes[edge.src] for edge in graph.inputs_of(node.id)]
        if not any(source.type == "Input" for source in sources):
            continue
        fix = Fix(f"Set num_embeddings to {ids:,}", node.id, {"num_embeddings": ids})
        message = (
            f"Embedding {node.label!r} has {node.params['num_embeddings']:,} rows, but the "
            f"texts' vocabulary has {ids:,} token ids (vocab_size); give it at least as many."
        )
        problems.append(Problem(Reason.VOCABULARY, message, node.id, fix))
    return problems


def _input_shape(project: Project) -> tuple[int, ...] | None:
    try:
        return input_shape(project)
    except TrainingError:
        return None


def _the_input(project: Project) -> str:
    inputs, _, _ = model_nodes(project.graph)
    return inputs[0]


def _width_problems(
    project: Project, inference: ShapeInference, preview: DataPreview | None
) -> list[Problem]:
    """A class-id loss on an output with more units than the data has classes: it would
    train, but the extra units are classes that never occur."""
    if preview is None or not preview.classes:
        return []
    graph, results, losses = project.graph, inference.results, project.losses()
    classes = len(preview.classes)
    problems = []
    for node in graph.nodes.values():
        result = results[node.id]
        if not node.is_output or not result.ok or losses[node.label]["loss"] not in CLASS_ID_LOSSES:
            continue
        width = result.output.shape[-1]
        if len(result.output.shape) != 2 or width <= classes:
            continue
        message = (
            f"Output {node.label!r} gives {width} class scores per sample, but the data has "
            f"{classes} classes: its last layer should have {classes} outputs."
        )
        problems.append(
            Problem(Reason.OUTPUT_WIDTH, message, node.id, _width_fix(graph, node.id, classes))
        )
    return problems


def _width_fix(graph: Graph, output_id: str, classes: int) -> Fix | None:
    """Set the out_features of the Linear that feeds the Output, when one does."""
    wires = graph.inputs_of(output_id)
    last = graph.nodes[wires[0].src] if wires else None
    if last is None or "out_features" not in last.spec.param_names:
        return None
    return Fix(f"Set {last.label}'s out_features to {classes}", last.id, {"out_features": classes})


def _loss_problems(
    project: Project, inference: ShapeInference, preview: DataPreview | None
) -> list[Problem]:
    graph, results = project.graph, inference.results
    outputs = [n for n in graph.nodes.values() if n.is_output and results[n.id].ok]
    shapes = [tuple(results[n.id].output.shape[1:]) for n in outputs]
    labels = [n.label for n in outputs]
    y = preview.y if preview is not None else None
    found = target_problems(project.losses(), labels, shapes, y)
    by_label = {n.label: n.id for n in outputs}
    return [
        Problem(Reason.LOSS_MISMATCH, f"Loss for output {label!r}: {message}.", by_label[label])
        for label, message in found.items()
    ]
