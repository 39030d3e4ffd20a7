"""`python main.py import FILE.py:CLASS --input-shape 1,784 --out PROJECT.json`: turn a
PyTorch model class into a Torchwright project."""

from __future__ import annotations

import argparse
import sys

from engine.document.project import save
from engine.importing import ImportResult, ModelImportError, import_model


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="FILE.py:CLASS", help="the file and the model class")
    parser.add_argument(
        "--input-shape",
        action="append",
        required=True,
        metavar="N,...",
        help="shape of one forward() argument, batch first (e.g. 1,784); once per argument",
    )
    parser.add_argument(
        "--input-dtype",
        action="append",
        metavar="DTYPE",
        help="float32 (default) or int64 (token ids); once per argument when given",
    )
    parser.add_argument("--out", required=True, metavar="PROJECT.json", help="project to write")
    parser.add_argument(
        "--weights",
        metavar="FILE.safetensors",
        help="also write the model's weights, under the generated model's names",
    )


def run(args: argparse.Namespace) -> int:
    try:
        path, class_name = split_target(args.model)
        shapes = [parse_shape(text) for text in args.input_shape]
        result = import_model(path, class_name, shapes, args.input_dtype)
        save(result.project, args.out)
        if args.weights:
            _save_weights(result, args.weights)
    except ModelImportError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"{exc.filename or args.out}: cannot write: {exc.strerror or exc}")
    graph = result.project.graph
    print(
        f"wrote {args.out}: {class_name} as {len(graph.nodes)} nodes, "
        f"{result.num_params:,} parameters"
    )
    renamed = result.renamed
    if renamed:
        old, new = next(iter(renamed.items()))
        print(
            f"note: {len(renamed)} state_dict keys have new names in the generated model "
            f"(e.g. {old} -> {new})"
        )
    for note in result.notes:
        print(f"note: {note}")
    return 0


def _save_weights(result: ImportResult, path: str) -> None:
    """The original's weights, loaded strictly into the generated class, then saved."""
    from engine.export.weights import save_safetensors
    from engine.model.build import load_class

    model = load_class(result.code.source)()
    model.load_state_dict(result.state_dict, strict=True)
    save_safetensors(model, path)
    print(f"wrote {path}: the weights, under the generated model's names")


def split_target(text: str) -> tuple[str, str]:
    path, _, class_name = text.rpartition(":")
    if not path or not class_name.isidentifier():
        raise ModelImportError(f"give the model as FILE.py:CLASS, e.g. model.py:Net, not {text!r}")
    return path, class_name


def parse_shape(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ModelImportError(
            f"--input-shape takes whole numbers separated by commas, e.g. 1,784, not {text!r}"
        ) from None


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1
