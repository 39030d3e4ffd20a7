"""`python main.py train PROJECT ...`: train headless, as the app would, and write the
run's files (model.py, weights.safetensors, summary.json, history.csv, checkpoint.pt,
layers.csv). What the layer records say is wrong is printed as warnings at the end.
A project with Custom layers is refused without --allow-custom-code: training runs
their code."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from engine.cli import INTERRUPTED, exit_on_interrupt, interrupt_normally, trust
from engine.cli.weights import add_weights_arguments, weights_overrides
from engine.data import kind_of_path
from engine.document.graph import clean_label
from engine.document.project import Project, load
from engine.document.settings import TABLE_FORMS, TABLE_KINDS, validate_training
from engine.errors import TrainingError, UserError, one_line
from engine.export.run_files import write_outputs
from engine.runs.store import TENSORBOARD_FOLDER
from engine.training.job import TrainingJob, frozen_without_weights, prepare_job
from engine.training.sanity import initial_loss_lines
from engine.training.status import RunStatus
from engine.training.trainer import CHECKPOINT_SECONDS, Callback, Checkpointer, Trainer

OVERRIDES = ("epochs", "batch_size", "lr", "device", "threads")
SHOWN = ("_loss", "_accuracy", "_r2")  # metrics printed per epoch; history.csv has them all


class UsageError(UserError):
    """A bad combination of project and options; the message is for the user."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", metavar="PROJECT", help="project file (.json)")
    parser.add_argument("--data", metavar="FILE|DIR", help="train on this file or folder instead")
    parser.add_argument("--target", metavar="COL", help="CSV target column(s), comma-separated")
    parser.add_argument("--epochs", type=int, metavar="N")
    parser.add_argument("--batch-size", type=int, metavar="N")
    parser.add_argument("--lr", type=float, metavar="X", help="learning rate")
    parser.add_argument("--device", metavar="D", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument(
        "--threads", type=int, metavar="N", help="CPU threads per operation (default: by work)"
    )
    parser.add_argument("--seed", type=int, metavar="N")
    parser.add_argument("--out", metavar="DIR", help="output folder (default: runs/<name>)")
    parser.add_argument("--resume", metavar="CHECKPOINT", help="continue a saved run")
    parser.add_argument(
        "--tensorboard",
        metavar="DIR",
        help="write a TensorBoard log (losses, metrics, gradient norms, histograms, graph)",
    )
    add_weights_arguments(parser)
    trust.add_argument(parser)


def settings_for(project: Project, args: argparse.Namespace) -> tuple[dict, dict]:
    """The project's data and training settings with the command line's overrides."""
    data = dict(project.data)
    if args.data:
        path = Path(args.data).resolve()
        kind = kind_of_path(path)
        if kind in TABLE_KINDS and data["kind"] in TABLE_FORMS:  # a table of the project's form
            kind = data["kind"]
        data.update(kind=kind, path=str(path))
    if args.target is not None:
        data["target"] = args.target
    if args.seed is not None:
        data["seed"] = args.seed
    values: dict[str, Any] = dict(project.training)
    values.update({k: getattr(args, k) for k in OVERRIDES if getattr(args, k) is not None})
    if args.seed is not None:
        values["seed"] = args.seed
    values.update(weights_overrides(args))
    training, problems = validate_training(values, project.output_labels(), where="option")
    if problems:
        where, what = problems[0]
        raise UsageError(f"--{where.split('.')[-1].replace('_', '-')}: {what}")
    return data, training


def _device(plan: dict[str, Any]) -> str:
    if plan["device"] != "cpu":
        return plan["device"]
    return f"cpu, {plan['threads']} thread{'s' * (plan['threads'] > 1)}"


class Progress(Callback):
    """A progress bar over each epoch's batches (only on a terminal) and a line per epoch."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self.bar: tqdm | None = None
        self.total = 0

    def on_train_start(self, trainer, plan) -> None:
        self.total = plan["epochs"]
        self.batches = plan["batches_per_epoch"]
        print(
            f"training on {_device(plan)}: {plan['train_samples']} samples, "
            f"{plan['val_samples']} for validation, from epoch {plan['start_epoch']}",
            file=self.stream,
            flush=True,
        )
        for line in initial_loss_lines(plan["initial_loss"]):
            print(line, file=self.stream, flush=True)

    def on_epoch_start(self, trainer, epoch) -> None:
        self.bar = tqdm(
            total=self.batches, desc=f"epoch {epoch}", leave=False, disable=not sys.stderr.isatty()
        )

    def on_batch_end(self, trainer, epoch, batch, loss) -> None:
        if self.bar is not None and not self.bar.disable:
            self.bar.update(batch - self.bar.n)

    def on_epoch_end(self, trainer, epoch, row) -> None:
        self._close()
        shown = [
            f"{key} {value:.4f}"
            for key, value in row.items()
            if isinstance(value, float) and key.endswith(SHOWN)
        ]
        print(
            f"epoch {epoch}/{self.total}  " + "  ".join(shown) + f"  ({row['seconds']:.2f} s)",
            file=self.stream,
            flush=True,
        )

    def on_failed(self, trainer, message) -> None:
        self._close()

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def run(args: argparse.Namespace) -> int:
    exit_on_interrupt("train")  # while the data loads: nothing is written yet
    try:
        return _train(args)
    except (UserError, OSError) as exc:
        return _fail(one_line(exc))
    finally:
        interrupt_normally()


def _train(args: argparse.Namespace) -> int:
    job, out = _prepare(args)
    for warning in job.splits.warnings():
        print(f"warning: {warning}", file=sys.stderr)
    for line in job.weights.lines() if job.weights else ():
        print(f"weights: {line}")
    if note := frozen_without_weights(job.project):
        print(f"note: {note}")
    trainer = job.trainer
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # as in a background job
        signal.signal(signal.SIGINT, lambda *_: _stop(trainer))
    try:
        result = job.run(resume_from=args.resume)
        # checkpoint.pt holds the last completed epoch (Checkpointer); a stop mid-epoch
        # must not overwrite it with half an epoch, or --resume would not repeat the run.
        summary = _write(out, job, result)
    except KeyboardInterrupt:  # Ctrl+C a second time: abort
        print(f"aborted; {out} holds the files written before (each whole)", file=sys.stderr)
        return INTERRUPTED
    for line in job.recorder.diagnosis.lines() if job.recorder else ():
        print(f"warning: layer {line}", file=sys.stderr)
    if result.status == RunStatus.FAILED:
        return _fail(result.message)
    if args.resume and result.status == RunStatus.COMPLETED and not result.train_samples:
        print(
            f"nothing was left to train: {args.resume} holds {summary['epochs']} epochs and "
            f"the run asks for {trainer.settings['epochs']} (give more with --epochs); "
            f"files in {out}"
        )
        return 0
    print(
        f"{result.status}: {summary['epochs']} epochs, "
        f"{summary['samples_per_second']:,.0f} samples/s on {summary['device']}; "
        f"files in {out}"
    )
    return 0


def _log_folder(args: argparse.Namespace, training: dict[str, Any], out: Path) -> Path | None:
    """--tensorboard DIR, or the run folder's tensorboard/ when the settings ask for it."""
    if args.tensorboard:
        return Path(args.tensorboard)
    return out / TENSORBOARD_FOLDER if training.get("tensorboard") else None


def _write(out: Path, job: TrainingJob, result) -> dict[str, Any]:
    """The run's files; when they cannot be written after a failed run (a full disk
    fails the checkpoint first), the error says why the run ended too."""
    try:
        return write_outputs(out, job, result)
    except OSError as exc:
        if result.status != RunStatus.FAILED:
            raise
        raise TrainingError(
            f"{result.message}; and the run's files could not be written: {one_line(exc)}"
        ) from None


def _prepare(args: argparse.Namespace) -> tuple[TrainingJob, Path]:
    """The run, and the folder it writes into."""
    project = load(args.project)
    data, training = settings_for(project, args)
    out = Path(args.out) if args.out else Path("runs") / clean_label(project.name)
    if out.exists() and not out.is_dir():  # found now, not after the first epoch
        raise UsageError(f"--out: {out} is a file; give a folder for the run's files")
    callbacks = [Progress(), Checkpointer(out / "checkpoint.pt", min_seconds=CHECKPOINT_SECONDS)]
    decoding = DecodingBar()
    try:
        job = prepare_job(
            project,
            callbacks,
            data,
            training,
            batch_report_every=10,
            trust=trust.trust_of(args),
            data_progress=decoding.update,
            tensorboard=_log_folder(args, training or project.training, out),
        )
    finally:
        decoding.close()
    return job, out


class DecodingBar:
    """A bar for an image folder's first decoding (into the cache), on a terminal only."""

    def __init__(self) -> None:
        self.bar: tqdm | None = None

    def update(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = tqdm(
                total=total, desc="decoding images", unit="img", leave=False,
                disable=not sys.stderr.isatty(),
            )  # fmt: skip
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _stop(trainer: Trainer) -> None:
    print("\nstopping after this batch (press Ctrl+C again to abort)", file=sys.stderr)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    trainer.request_stop()


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1
