"""Writing a project's code to a folder, for the command line and the app alike:
model.py (the model) and train.py (the standalone training script)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.data import DataError
from engine.document.files import atomic_write_text
from engine.document.project import Project
from engine.document.trust import NOT_ALLOWED, Trust
from engine.errors import USER_CODE_ERRORS, TrainingError
from engine.export.script import training_script
from engine.model.build import BuildError, load_generated
from engine.model.codegen import GeneratedCode, generate
from engine.model.failures import failure
from engine.model.shapes import infer_all


@dataclass(frozen=True)
class Exported:
    code: GeneratedCode
    written: list[Path]
    no_script: str | None = None  # why train.py was not written, when it was not


def export_code(project: Project, folder: str | Path, trust: Trust = NOT_ALLOWED) -> Exported:
    """Write `folder/model.py` once its source has been run to make sure it builds, and
    `folder/train.py` when the project can train (one Input, valid data settings).

    Raises CustomCodeNotAllowed (before anything runs, when `trust` does not let a Custom
    layer's code run: the shapes after it and the check that the model builds need it),
    CodegenError (the graph is not a model), BuildError (the source, e.g. a Custom
    layer's, fails to run) or OSError (the folder cannot be written).
    """
    trust.require(project.graph)
    code = generate(project.graph, project.name, infer_all(project.graph, trust))
    try:
        load_generated(code, project.graph)()
    except USER_CODE_ERRORS as exc:
        raise failure(exc).error(BuildError, "the model's code fails to run") from exc
    return write_code(folder, project, code)


def write_code(folder: str | Path, project: Project, code: GeneratedCode) -> Exported:
    """Write `code` as `folder/model.py`, and `folder/train.py` when the project can
    train (else `no_script` says why). The one writer of both files: export and every
    training run use it."""
    try:
        script, no_script = training_script(project, code), None
    except (TrainingError, DataError) as exc:
        script, no_script = None, f"train.py was not written: {exc}"
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = [atomic_write_text(folder / "model.py", code.source)]
    if script is not None:
        written.append(atomic_write_text(folder / "train.py", script))
    return Exported(code, written, no_script)
