"""What a training run leaves in its output folder: model.py, train.py (the standalone
training script, with the run's settings), weights.safetensors, summary.json,
history.csv and, when the layers were recorded, layers.csv (`LAYER_COLUMNS`: a row per
layer per recorded batch). Every file is written atomically."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from engine.document.files import atomic_write_text, json_text
from engine.errors import UserError
from engine.export.code import write_code
from engine.export.weights import save_safetensors
from engine.training.diagnosis import Diagnosis
from engine.training.job import TrainingJob
from engine.training.layer_records import LayerRecorder
from engine.training.trainer import TrainResult


def summary_of(result: TrainResult) -> dict[str, Any]:
    """The run's summary with the last epoch's metrics at the top level."""
    summary = result.summary()
    final = summary.pop("final") or {}
    return {**summary, **{k: v for k, v in final.items() if k not in ("epoch", "seconds")}}


def history_csv(history: list[dict[str, Any]]) -> str:
    columns: list[str] = []
    for row in history:
        columns += [key for key in row if key not in columns and not isinstance(row[key], list)]
    text = io.StringIO()
    writer = csv.DictWriter(text, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return text.getvalue()


LAYER_COLUMNS = (
    "epoch",
    "batch",
    "step",
    "node",
    "layer",
    "weight_norm",
    "grad_norm",
    "update_ratio",
    "mean",
    "std",
    "zeros",
    "no_gradient",
)


def layers_csv(records: list[dict[str, Any]], labels: dict[str, str]) -> str:
    """The layer records (engine.training.diagnosis) as CSV; an empty cell where a value
    does not apply (a pooling layer has no weights, a Linear no zeros fraction)."""
    text = io.StringIO()
    writer = csv.DictWriter(text, LAYER_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        for node_id, stats in record["layers"].items():
            row = {k: record[k] for k in ("epoch", "batch", "step")}
            writer.writerow(
                {**row, "node": node_id, "layer": labels.get(node_id, node_id), **stats}
            )
    return text.getvalue()


def read_layers_csv(text: str, labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The records of a layers.csv that `layers_csv` wrote, back as records; `labels`,
    when given, gets each node's label as the file names it."""
    records: dict[int, dict[str, Any]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        if labels is not None:
            labels[row["node"]] = row["layer"]
        step = int(row["step"])
        record = records.setdefault(
            step,
            {"epoch": int(row["epoch"]), "batch": int(row["batch"]), "step": step, "layers": {}},
        )
        stats = {k: _cell(row[k]) for k in LAYER_COLUMNS[5:-1] if row.get(k) is not None}
        if row.get("no_gradient") is not None:
            stats["no_gradient"] = row["no_gradient"] or None
        record["layers"][row["node"]] = stats
    return list(records.values())


def _cell(text: str) -> float | None:
    return float(text) if text else None


def read_run_layers(folder: Path) -> tuple[list[dict[str, Any]], dict[str, str]] | None:
    """(the records, node id -> label) of the layers.csv in a run's folder; None when the
    run kept none. UserError when the file is not one `layers_csv` wrote."""
    path = folder / "layers.csv"
    if not path.is_file():
        return None
    labels: dict[str, str] = {}
    try:
        records = read_layers_csv(path.read_text(encoding="utf-8"), labels)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, csv.Error) as exc:
        raise UserError(f"{str(path)!r} is not a layers.csv Torchwright wrote ({exc})") from None
    return records, labels


def run_records(folder: Path, recorder: LayerRecorder) -> list[dict[str, Any]]:
    """The run's layer records: a resumed run's new ones after those its folder kept
    from before the resume."""
    new = recorder.records
    kept = folder / "layers.csv"
    if not new or new[0]["step"] == 1 or not kept.is_file():
        return new
    try:
        earlier = read_layers_csv(kept.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, csv.Error):
        return new  # not a layers.csv this code wrote: the new records alone
    return [r for r in earlier if r["step"] < new[0]["step"]] + new


def write_outputs(folder: Path, job: TrainingJob, result: TrainResult) -> dict[str, Any]:
    """Write the run's files into `folder`; returns the summary written. The summary
    records the input normalisation fitted on the training data, which new inputs need
    before they go into the model: a table's encoding of its columns, a series' scaling
    of its variables."""
    write_code(folder, job.as_trained(), job.built.code)
    save_safetensors(job.built.module, folder / "weights.safetensors")
    summary = {**summary_of(result), "normalization": job.splits.normalization}
    if job.splits.encoding is not None:
        summary["encoding"] = job.splits.encoding
    if job.splits.tokenizer is not None:  # the words a new text is read with
        atomic_write_text(folder / "tokenizer.json", json_text(job.splits.tokenizer))
    if "series" in job.splits.train.info:  # how the series was scaled and cut
        kept = job.splits.train.info["series"]
        summary["series"] = {k: v for k, v in kept.items() if k != "target_times"}
    recorder = job.recorder
    if recorder is not None and recorder.records:
        records = run_records(folder, recorder)
        diagnosis = Diagnosis(recorder.labels)
        for record in records:
            diagnosis.add(record)
        summary["layer_warnings"] = diagnosis.lines()
        atomic_write_text(folder / "layers.csv", layers_csv(records, recorder.labels))
    atomic_write_text(folder / "summary.json", json_text(summary))
    atomic_write_text(folder / "history.csv", history_csv(result.history))
    return summary
