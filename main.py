"""Torchwright: build, train and export PyTorch models visually.

python main.py [PROJECT]            start the desktop app (on a project file)
python main.py check FILE...        validate project files
python main.py export PROJECT --out DIR [--weights FILE] [--torchscript] [--onnx]
python main.py train PROJECT [--data FILE|DIR] [--epochs N] ... [--out DIR]
python main.py import FILE.py:CLASS --input-shape 1,784 [--input-shape ...] --out PROJECT.json
"""

from __future__ import annotations

import argparse
import sys


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="torchwright", description=__doc__.splitlines()[0])
    commands = root.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser("check", help="validate project files, one line per file")
    check.add_argument("files", nargs="+", metavar="FILE")

    from engine.cli import export

    export.add_arguments(
        commands.add_parser("export", help="write model.py, train.py and deployment files")
    )

    from engine.cli.train import add_arguments

    add_arguments(commands.add_parser("train", help="train a project headless"))

    from engine.cli import import_model

    import_model.add_arguments(
        commands.add_parser("import", help="turn a PyTorch model class into a project")
    )
    return root


COMMANDS = ("check", "export", "train", "import")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        return launch_app(None)  # before the parser, whose commands import torch
    if argv[0] not in COMMANDS and not argv[0].startswith("-"):
        return launch_app(argv[0])  # python main.py PROJECT
    args = parser().parse_args(argv)
    if args.command == "check":
        from engine.cli import check

        return check.run(args.files)
    if args.command == "export":
        from engine.cli import export

        return export.run(args)
    if args.command == "train":
        from engine.cli import train

        return train.run(args)
    if args.command == "import":
        from engine.cli import import_model

        return import_model.run(args)
    return 0


def launch_app(path: str | None) -> int:
    from gui.app import run

    return run(path)


if __name__ == "__main__":
    sys.exit(main())
