"""A run prepared from a project: the model built from the
graph (seeded), the data loaded for its Input's shape, the outputs in the order the model
returns them, and the Trainer. The command line and the app both start runs here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from torch import nn

from engine.data import Splits, load_data
from engine.data.image_cache import Progress
from engine.data.paths import resolve_path
from engine.document.project import Project
from engine.document.trust import NOT_ALLOWED, Trust
from engine.errors import TrainingError
from engine.model.build import BuiltModel, build_model
from engine.model.codegen import model_nodes
from engine.model.pretrained import download_weights, is_url
from engine.model.shapes import DataShapes, follows_data, infer_all, resolved
from engine.model.transfer import WeightsReport, start_from
from engine.model.tuning import keep_frozen
from engine.training.data_shapes import splits_shapes
from engine.training.layer_records import LayerRecorder
from engine.training.setup import checked_settings
from engine.training.tensorboard_log import TensorBoardLog
from engine.training.trainer import Callback, Trainer, TrainResult


@dataclass
class TrainingJob:
    """One run; `result` is set once `run` returns."""

    project: Project
    built: BuiltModel
    output_labels: list[str]
    splits: Splits
    trainer: Trainer
    data: dict[str, Any]
    weights: WeightsReport | None = None  # what loaded of the weights it starts from
    recorder: LayerRecorder | None = None  # the layers' records, when they are kept
    result: TrainResult | None = None

    def as_trained(self) -> Project:
        """The project with the data and training settings this run uses."""
        return replace(self.project, data=self.data, training=self.trainer.settings)

    def run(self, resume_from: str | Path | None = None) -> TrainResult:
        self.result = self.trainer.fit(self.splits.train, self.splits.val, resume_from)
        return self.result


def prepare_job(
    project: Project,
    callbacks: Sequence[Callback] = (),
    data: dict[str, Any] | None = None,
    training: dict[str, Any] | None = None,
    batch_report_every: int = 1,
    trust: Trust = NOT_ALLOWED,
    data_progress: Progress | None = None,
    tensorboard: Path | None = None,
) -> TrainingJob:
    """The run for `project`, with `data` / `training` settings replacing the project's
    when given. Relative data paths start at the project file's folder. `trust`: whether
    the project's Custom layers may run (building the model runs them). `data_progress`:
    how decoding an image folder goes (engine.data.prepare.load_data). With the
    `record_every` setting on, a LayerRecorder records the layers, ahead of `callbacks`
    (which can read its records as they come). `tensorboard`: a folder to write the
    run's TensorBoard log into (engine.training.tensorboard_log).

    Raises the engine's errors (CustomCodeNotAllowed, TrainingError, DataError,
    CodegenError, BuildError...), whose messages name what is wrong.
    """
    training = checked_settings(training or project.training, project.output_labels())
    base_dir = project.path.parent if project.path is not None else None
    data = data or project.data
    splits = load_data(data, base_dir, input_shape(project), data_progress)
    project = following(project, splits_shapes(project, splits), trust)
    built = build_model(project.graph, project.name, seed=training["seed"], trust=trust)
    weights = start_from_settings(built.module, training, base_dir)
    keep_frozen(built.module)
    labels = [project.graph.nodes[node_id].label for node_id in built.code.outputs]
    every = training["record_every"]
    recorder = LayerRecorder(built, project.graph, every) if every else None
    callbacks = [recorder, *callbacks] if recorder else list(callbacks)
    if tensorboard is not None:
        names = {node.id: node.label for node in project.graph.nodes.values()}
        example = splits.train.x[:1]
        callbacks.append(TensorBoardLog(tensorboard, built, names, example, recorder))
    trainer = Trainer(built.module, labels, training, callbacks, batch_report_every)
    return TrainingJob(project, built, labels, splits, trainer, data, weights, recorder)


def start_from_settings(
    module: nn.Module, training: dict[str, Any], base_dir: Path | None
) -> WeightsReport | None:
    """Load the weights the settings start from (a file, relative to the project's folder,
    or a URL, downloaded once into the torch hub folder) into `module`; None when they
    start from none."""
    source = training["init_weights"]
    if not source:
        return None
    path = download_weights(source) if is_url(source) else resolve_path(source, base_dir)
    return start_from(module, path, training["skip_mismatched"])


def frozen_without_weights(project: Project) -> str:
    """A note when layers are frozen but nothing is loaded into them (they stay random)."""
    frozen = [n.label for n in project.graph.nodes.values() if n.frozen]
    if not frozen or project.training["init_weights"]:
        return ""
    shown = ", ".join(frozen[:4]) + (f" and {len(frozen) - 4} more" if len(frozen) > 4 else "")
    return (
        f"{shown} {'is' if len(frozen) == 1 else 'are'} frozen but the model starts from "
        "random weights: load pretrained weights (File > Download Pretrained Weights, or "
        "--init-weights) for them to mean something"
    )


def following(project: Project, data: DataShapes, trust: Trust = NOT_ALLOWED) -> Project:
    """The project with the values its graph takes from the data written in (an Input's
    shape, the units of a Linear feeding an Output), as a run builds and keeps it."""
    inference = infer_all(project.graph, trust, data)
    return replace(project, graph=resolved(project.graph, inference))


def with_its_data(project: Project, trust: Trust = NOT_ALLOWED) -> Project:
    """The project `following` its own data, loaded, when its graph takes values from
    the data (for an export, which has no run to take them from); else the project.
    Raises DataError when the data cannot be read."""
    if not follows_data(project.graph):
        return project
    base_dir = project.path.parent if project.path is not None else None
    splits = load_data(project.data, base_dir, input_shape(project))
    return following(project, splits_shapes(project, splits), trust)


def input_shape(project: Project) -> tuple[int, ...] | None:
    """The shape of the model's one Input (Inputs that lead to no Output do not count);
    None when it is the data's."""
    inputs, _, _ = model_nodes(project.graph)
    if len(inputs) != 1:
        raise TrainingError(
            f"the model has {len(inputs)} Input nodes; training takes a model with exactly one"
        )
    shape = project.graph.nodes[inputs[0]].params["shape"]
    return None if shape is None else tuple(shape)
