"""Helpers for tests that train real runs and keep them as the app does (engine.runs.store)."""

from __future__ import annotations

from pathlib import Path

from engine.document.project import Project, load
from engine.document.trust import ALLOWED
from engine.model.codegen import GeneratedCode, generate
from engine.model.shapes import infer_all
from engine.runs.store import RunRecord, new_run_folder, save_run
from engine.training.job import prepare_job
from engine.training.trainer import Callback, Checkpointer
from tests.paths import PRESETS

STARTED = "2025-01-02T03:04:05"


def preset(name: str, epochs: int) -> Project:
    """A preset set to train `epochs` epochs on the CPU."""
    project = load(PRESETS / f"{name}.json")
    project.training.update(epochs=epochs, device="cpu")
    return project


def allowed_code(project: Project) -> GeneratedCode:
    """The project's model source, its Custom layers' code allowed to run for shapes."""
    return generate(project.graph, project.name, infer_all(project.graph, ALLOWED))


BOOM = "raise ValueError('boom')"
METHOD_STARTS = {"forward": "        return x * self.scale", "__init__": "        self.scale ="}


def custom_layer_failing(
    when: str, epochs: int = 1, line: str = BOOM, method: str = "forward"
) -> tuple[Project, str]:
    """The custom_layer preset whose Custom layer ('affine') runs `line` first in its
    `method` whenever `when` holds, and that layer's node id. Shape inference runs the
    layer on meta tensors (built under the meta device), so `when` must not hold there
    for the project to train at all: `not x.is_meta and ...` in forward, say."""
    project = preset("custom_layer", epochs)
    custom = next(n for n in project.graph.nodes.values() if n.type == "Custom")
    start = METHOD_STARTS[method]
    custom.params["source"] = custom.params["source"].replace(
        start, f"        if {when}:\n            {line}\n{start}", 1
    )
    return project, custom.id


class StopAfter(Callback):
    """Asks the trainer to stop once epoch `epoch` has ended."""

    def __init__(self, epoch: int):
        self.epoch = epoch

    def on_epoch_end(self, trainer, epoch, row):
        if epoch == self.epoch:
            trainer.request_stop()


def train_run(root: Path, project: Project, *callbacks: Callback) -> RunRecord:
    """Train `project` into a new run folder under `root`, checkpointed, and save it."""
    folder = new_run_folder(root)
    job = prepare_job(project, [Checkpointer(folder / "checkpoint.pt"), *callbacks], trust=ALLOWED)
    return save_run(folder, job, job.run(), STARTED)
