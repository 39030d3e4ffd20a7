"""`python main.py export PROJECT --out DIR [--weights FILE] [--init-weights FILE]
[--torchscript] [--onnx]`: write DIR/model.py and DIR/train.py; with --weights (trained
weights, all of which must fit), the weights as safetensors and as a state_dict .pt; with
--init-weights (weights to start from: what fits loads, with a report), the model so
started, likewise; with --torchscript / --onnx, the model in those formats, each checked
against the PyTorch model before it is kept."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.cli import trust
from engine.cli.weights import add_weights_arguments, weights_overrides
from engine.data import DataError
from engine.document.project import Project, ProjectError, load
from engine.document.trust import CustomCodeNotAllowed
from engine.export.code import export_code
from engine.export.weights import DeployError
from engine.model.build import BuildError, build_model
from engine.model.codegen import CodegenError
from engine.model.weights_file import WeightsError
from engine.training.job import start_from_settings, with_its_data


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", metavar="PROJECT")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the files")
    parser.add_argument(
        "--weights", metavar="FILE", help="trained weights (.safetensors or .pt) to export"
    )
    parser.add_argument("--torchscript", action="store_true", help="also model.torchscript.pt")
    parser.add_argument("--onnx", action="store_true", help="also model.onnx (needs [onnx])")
    add_weights_arguments(parser)
    trust.add_argument(parser)


def run(args: argparse.Namespace) -> int:
    try:
        project = with_its_data(load(args.project), trust.trust_of(args))
        project.training.update(weights_overrides(args))
        exported = export_code(project, args.out, trust.trust_of(args))
        names = " and ".join(str(path) for path in exported.written)
        print(f"wrote {names} (class {exported.code.class_name})")
        if exported.no_script:
            print(f"note: {exported.no_script}")
        formats = [f for f in ("torchscript", "onnx") if getattr(args, f)]
        if args.weights or project.training["init_weights"] or formats:
            _deploy(project, args, formats)
    except (ProjectError, CustomCodeNotAllowed) as exc:
        return _fail(f"{args.project}: {exc}")
    except DataError as exc:
        return _fail(f"{args.project}: the graph takes shapes from the data, but {exc}")
    except (CodegenError, BuildError) as exc:
        return _fail(f"{args.project}: the model cannot be exported: {exc}")
    except (DeployError, WeightsError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"{exc.filename or args.project}: cannot read or write: {exc.strerror or exc}")
    return 0


def _deploy(project: Project, args: argparse.Namespace, formats: list[str]) -> None:
    from engine.export.deploy import Verification, export_formats
    from engine.export.weights import load_weights

    seed = project.training.get("seed", 0)
    module = build_model(project.graph, project.name, seed, trust.trust_of(args)).module
    start = project.training["init_weights"]
    if args.weights:
        for note in load_weights(args.weights, module):
            print(f"note: {note}")
        formats = ["safetensors", "state_dict", *formats]
    elif start:
        base = project.path.parent if project.path is not None else None
        for line in start_from_settings(module, project.training, base).lines():
            print(f"weights: {line}")
        formats = ["safetensors", "state_dict", *formats]
    else:
        print(f"note: no --weights, so the model is exported freshly initialised (seed {seed})")
    done = export_formats(module, args.out, formats, project.output_labels())
    for item in done.values():
        if isinstance(item, Verification):
            print(
                f"wrote {item.path}: checked on a batch of {item.batch_size}, largest "
                f"difference from the PyTorch model {item.max_difference:.2g}"
            )
        else:
            print(f"wrote {Path(item)}")


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1
