"""Run history: every training run started from the app keeps a folder of its own.

A saved project `digits.json` keeps its runs in `digits.runs/` beside it, one folder per
run (`run-001`, `run-002`...) holding what `engine.export.run_files.write_outputs` writes (model.py,
train.py, weights.safetensors, summary.json, history.csv), the `checkpoint.pt` a `Checkpointer`
leaves there for resuming, and `run.json`: when and how the run was trained, on which
graph (a fingerprint), and its full history, confusion matrices included.

run.json is written last, so a folder that has one holds a finished run's files.

The GUI lists runs at start-up, before torch has loaded (see gui/engine_loader.py), so
this module imports nothing that needs torch at import time; the functions that handle
weights or training results import it when called.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.document.files import atomic_write, atomic_write_text, json_text
from engine.document.project import Project
from engine.document.trust import NOT_ALLOWED, CustomCodeNotAllowed, Trust, joined
from engine.errors import UserError
from engine.export.weights import weights_mismatch
from engine.training.status import RunStatus

if TYPE_CHECKING:
    from torch import nn

    from engine.training.job import TrainingJob
    from engine.training.trainer import TrainResult

VERSION = 1
RUN_FILE = "run.json"
CHECKPOINT_FILE = "checkpoint.pt"
TENSORBOARD_FOLDER = "tensorboard"  # the run's TensorBoard log, when it writes one
WEIGHTS_FILE = "weights.safetensors"
RUN_NAME = re.compile(r"run-(\d+)")
# early_stopped ended early by design: nothing to continue
RESUMABLE = (RunStatus.STOPPED, RunStatus.FAILED)
SCORES = ("accuracy", "r2")  # the headline metric of an output: classification, regression

# run.json's fields besides version and id, with the types a reader accepts.
FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "started": str,
    "status": str,
    "message": str,
    "device": str,
    "seconds": (int, float),
    "epochs": int,
    "planned_epochs": int,
    "best_epoch": (int, type(None)),
    "fingerprint": str,
    "outputs": list,
    "settings": dict,
    "final": dict,
    "score": (dict, type(None)),
    "history": list,
}


class RunError(UserError):
    """A run that cannot be read, loaded or deleted; the message names the run."""


@dataclass
class RunRecord:
    """One saved run, as read from its run.json.

    seconds: training time over all its epochs, across resumes. final: the metrics of
    the epoch whose weights were saved (the best one when early stopping restored it).
    score: {"metric": "accuracy" or "r2", "value": ...} of the first output on the
    validation data, or None without validation. settings: {"data": ..., "training": ...}.
    """

    id: str
    folder: Path
    name: str
    started: str
    status: str
    message: str
    device: str
    seconds: float
    epochs: int
    planned_epochs: int
    best_epoch: int | None
    fingerprint: str
    outputs: list[str]
    settings: dict[str, Any]
    final: dict[str, Any]
    score: dict[str, Any] | None
    history: list[dict[str, Any]]

    @property
    def checkpoint_path(self) -> Path:
        return self.folder / CHECKPOINT_FILE

    @property
    def can_resume(self) -> bool:
        """Whether the run ended before its planned epochs and left a checkpoint to go on."""
        return (
            self.status in RESUMABLE
            and self.epochs < self.planned_epochs
            and self.checkpoint_path.is_file()
        )


def runs_folder(project_path: str | Path) -> Path:
    """`<stem>.runs` beside the project file."""
    path = Path(project_path)
    return path.with_name(f"{path.stem}.runs")


def graph_fingerprint(project: Project) -> str:
    """12 hex digits that change with what makes the model: layer types, labels,
    parameters and wires. Canvas positions, node ids and node order do not count, so
    moving a layer keeps the fingerprint; wires are named by their ends' labels."""
    graph = project.graph
    labels = {node_id: node.label for node_id, node in graph.nodes.items()}
    nodes = sorted([n.label, n.type, n.params] for n in graph.nodes.values())
    edges = sorted([labels[e.src], labels[e.dst], e.port] for e in graph.edges)
    text = json.dumps([nodes, edges], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _run_number(folder: Path) -> int | None:
    match = RUN_NAME.fullmatch(folder.name)
    return int(match.group(1)) if match else None


def _run_folders(root: Path) -> list[Path]:
    """The run folders under `root`, oldest first."""
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and _run_number(p) is not None]
    return sorted(found, key=_run_number)


def new_run_folder(root: str | Path) -> Path:
    """Create the next run folder under `root` (made if missing): run-001, run-002...

    Numbers only grow, so runs sort by when they started; a folder another process made
    a moment ago is skipped rather than shared.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    number = max((_run_number(p) for p in _run_folders(root)), default=0)
    while True:
        number += 1
        folder = root / f"run-{number:03d}"
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder


def save_run(folder: str | Path, job: TrainingJob, result: TrainResult, started: str) -> RunRecord:
    """Write the run's files into `folder` (a `new_run_folder`, or the folder of the run
    being resumed) and return its record. `started`: when the run began, ISO 8601."""
    from engine.export.run_files import write_outputs

    folder = Path(folder)
    write_outputs(folder, job, result)
    number = _run_number(folder)
    final = _final_row(result)
    doc = {
        "version": VERSION,
        "id": folder.name,
        "name": f"Run {number}" if number is not None else folder.name,
        "started": started,
        "status": result.status,
        "message": result.message,
        "device": result.device,
        "seconds": sum(row["seconds"] for row in result.history),
        "epochs": len(result.history),
        "planned_epochs": job.trainer.settings["epochs"],
        "best_epoch": result.best_epoch,
        "fingerprint": graph_fingerprint(job.project),
        "outputs": list(job.output_labels),
        "settings": {"data": job.project.data, "training": job.trainer.settings},
        "final": final,
        "score": _score(final, job.output_labels),
        "history": result.history,
    }
    text = json_text(doc)
    atomic_write_text(folder / RUN_FILE, text)
    return _record(folder, json.loads(text))


def _final_row(result: TrainResult) -> dict[str, Any]:
    """The history row of the weights being saved: the trainer restores the best epoch's
    weights when early stopping watched a run that was not stopped by the user."""
    if not result.history:
        return {}
    if result.best_epoch is not None and result.status.kept_best:
        return next(row for row in result.history if row["epoch"] == result.best_epoch)
    return result.history[-1]


def _score(final: dict[str, Any], outputs: list[str]) -> dict[str, Any] | None:
    from engine.training.trainer import metric_key

    label = outputs[0] if len(outputs) > 1 else None
    for metric in SCORES:
        value = final.get(metric_key("val", metric, label))
        if value is not None:
            return {"metric": metric, "value": value}
    return None


def list_runs(root: str | Path) -> tuple[list[RunRecord], list[str]]:
    """The runs under `root`, oldest first, and one line for each run folder that could
    not be read (it is left out of the list, never deleted)."""
    records, problems = [], []
    for folder in _run_folders(Path(root)):
        try:
            records.append(read_run(folder))
        except RunError as exc:
            problems.append(str(exc))
    return records, problems


def read_run(folder: str | Path) -> RunRecord:
    """The record in `folder`/run.json; RunError naming the folder when it is unusable."""
    folder = Path(folder)
    path = folder / RUN_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(
            f"run folder {str(folder)!r} has no {RUN_FILE}: its run never finished saving"
        ) from None
    except OSError as exc:
        raise RunError(f"cannot read {str(path)!r}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise RunError(f"{str(path)!r} is not a text file") from None
    except json.JSONDecodeError as exc:
        raise RunError(
            f"{str(path)!r} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    _check(doc, path)
    return _record(folder, doc)


def _check(doc: Any, path: Path) -> None:
    if not isinstance(doc, dict):
        raise RunError(f"{str(path)!r} holds {type(doc).__name__}, not a run")
    if doc.get("version") != VERSION:
        raise RunError(
            f"{str(path)!r} has version {doc.get('version')!r}; this Torchwright reads {VERSION}"
        )
    for key, kind in FIELDS.items():
        if key not in doc:
            raise RunError(f"{str(path)!r} has no {key!r}")
        if not isinstance(doc[key], kind):
            raise RunError(f"{str(path)!r}: {key!r} has the wrong type ({type(doc[key]).__name__})")


def _record(folder: Path, doc: dict[str, Any]) -> RunRecord:
    """The id is the folder's name, wherever run.json says it came from (a copied
    folder is a run of its own)."""
    return RunRecord(id=folder.name, folder=folder, **{key: doc[key] for key in FIELDS})


def load_run_weights(record: RunRecord, module: nn.Module, fingerprint: str | None = None) -> None:
    """Load the run's weights into `module` (strict). `fingerprint`: the current graph's,
    named in the error when the weights do not fit and it differs from the run's."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = record.folder / WEIGHTS_FILE
    try:
        weights = load_file(path)
    except FileNotFoundError:
        raise RunError(f"{record.name} has no weights: {str(path)!r} is missing") from None
    except (OSError, SafetensorError) as exc:
        raise RunError(f"cannot read the weights of {record.name} ({str(path)!r}): {exc}") from None
    mismatch = weights_mismatch(weights, module.state_dict(), "the run")
    if mismatch:
        graphs = ""
        if fingerprint is not None and fingerprint != record.fingerprint:
            graphs = f" (trained on graph {record.fingerprint}, the graph is now {fingerprint})"
        raise RunError(
            f"the model of {record.name} no longer matches the graph{graphs}: {mismatch}"
        )
    module.load_state_dict(weights, strict=True)


def delete_run(record: RunRecord) -> None:
    """Remove the run's folder and everything in it."""
    try:
        shutil.rmtree(record.folder)
    except OSError as exc:
        raise RunError(f"cannot delete {record.name} ({str(record.folder)!r}): {exc}") from None


EXPORTED = ("model.py", "train.py", WEIGHTS_FILE, "summary.json", "history.csv")
OPTIONAL = ("train.py",)  # runs saved before the training script existed have none


def export_run(
    record: RunRecord,
    folder: str | Path,
    formats: Iterable[str] = (),
    trust: Trust = NOT_ALLOWED,
) -> list[Path]:
    """Copy the run's model code, training script, weights, summary and history into
    `folder` (made if missing), each file written atomically, then write the run's model
    in `formats` (see `engine.export.deploy.FILES`: torchscript, onnx, state_dict), each file
    checked against the model; returns the paths written. Making those runs the run's
    model.py: when it holds Custom layer code that `trust` does not let run, nothing is
    written and CustomCodeNotAllowed says so. Raises RunError, DeployError."""
    model_source = allowed_model_source(record, trust) if formats else ""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in EXPORTED:
        source = record.folder / name
        if name in OPTIONAL and not source.exists():
            continue
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise RunError(
                f"cannot export {record.name}: {str(source)!r}: {exc.strerror}"
            ) from None
        atomic_write(folder / name, lambda handle, data=data: handle.write(data))
        written.append(folder / name)
    if formats:
        written += _deploy(record, model_source, folder, formats)
    return written


def _model_source(record: RunRecord) -> str:
    path = record.folder / "model.py"
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RunError(f"cannot read the model of {record.name} ({str(path)!r}): {exc}") from None


def refused_run_code(record: RunRecord, trust: Trust) -> list[str]:
    """The definitions in the run's model.py (besides the model class) that `trust` does
    not let run, found by parsing it: its Custom layers' classes, e.g. "class Scale"."""
    return trust.refused_in_source(_model_source(record))


def allowed_model_source(record: RunRecord, trust: Trust) -> str:
    """The run's model.py, read once; CustomCodeNotAllowed when `trust` does not let
    all of it run."""
    source = _model_source(record)
    refused = trust.refused_in_source(source)
    if refused:
        subject = f"{record.name}'s model.py holds Custom layer code ({joined(refused)})"
        raise CustomCodeNotAllowed(refused, subject)
    return source


def _deploy(record: RunRecord, source: str, folder: Path, formats: Iterable[str]) -> list[Path]:
    from engine.export.deploy import Verification, export_formats
    from engine.model.build import load_class

    module = load_class(source)()
    load_run_weights(record, module)
    done = export_formats(module, folder, formats, record.outputs)
    return [item.path if isinstance(item, Verification) else item for item in done.values()]
