"""`python main.py import FILE.py:CLASS --input-shape 1,784 --out PROJECT.json`: turn a
PyTorch model class into a Torchwright project."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.cli import INTERRUPTED
from engine.document.files import json_text, write_together
from engine.document.project import to_dict
from engine.importing import ImportResult, ModelImportError, import_model

SLOW_S = 10.0  # an import that takes longer than this says so


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
        "--flat",
        action="store_true",
        help="every layer in the one graph: no blocks for submodules and nn.Sequential",
    )
    parser.add_argument(
        "--weights",
        metavar="FILE.safetensors",
        help="also write the model's weights, under the generated model's names",
    )


def run(args: argparse.Namespace) -> int:
    try:
        path, class_name = split_target(args.model)
        shapes = [parse_shape(text) for text in args.input_shape]
        with _said_if_slow(path):
            result = import_model(path, class_name, shapes, args.input_dtype, args.flat)
        written = _write(result, args.out, args.weights)
    except KeyboardInterrupt:
        return _fail(f"interrupted while importing {args.model}; nothing was written", INTERRUPTED)
    except ModelImportError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"{exc.filename or args.out}: cannot write: {exc.strerror or exc}")
    graph = result.project.graph
    print(
        f"wrote {args.out}: {class_name} as {len(graph.nodes)} nodes, "
        f"{result.num_params:,} parameters"
    )
    if written:
        print(f"wrote {args.weights}: the weights, under the generated model's names")
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


@contextmanager
def _said_if_slow(path: str) -> Iterator[None]:
    """The file's own code runs in the block, as `python FILE` would run it, and the model
    is traced; if that takes longer than `SLOW_S` (a file that never ends, say), say so,
    and how to stop it."""

    def say() -> None:
        print(
            f"{path}: still importing after {SLOW_S:g} s; the file's own code runs "
            "as Python would run it (Ctrl+C stops it)",
            file=sys.stderr,
            flush=True,
        )

    timer = threading.Timer(SLOW_S, say)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _write(result: ImportResult, out: str, weights: str | None) -> bool:
    """The project, and with `weights` the original's weights loaded strictly into the
    generated class: both files written, or neither. Whether weights were written."""
    text = json_text(to_dict(result.project)).encode("utf-8")
    writes = {Path(out): lambda handle: handle.write(text)}
    if weights:
        from engine.export.weights import safetensors_bytes
        from engine.model.build import load_class

        model = load_class(result.code.source)()
        model.load_state_dict(result.state_dict, strict=True)
        data = safetensors_bytes(model)
        writes[Path(weights)] = lambda handle: handle.write(data)
    write_together(writes)
    return bool(weights)


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


def _fail(message: str, status: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status
