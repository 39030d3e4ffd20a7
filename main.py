"""Torchwright: build, train and export PyTorch models visually.

python main.py                      start the desktop app
python main.py check FILE...        validate project files
python main.py export PROJECT --out DIR
"""

from __future__ import annotations

import argparse
import sys


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="torchwright", description=__doc__.splitlines()[0])
    commands = root.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser("check", help="validate project files, one line per file")
    check.add_argument("files", nargs="+", metavar="FILE")

    export = commands.add_parser("export", help="write the model's Python source")
    export.add_argument("project", metavar="PROJECT")
    export.add_argument("--out", required=True, metavar="DIR", help="folder for model.py")

    from engine.cli.train import add_arguments

    add_arguments(commands.add_parser("train", help="train a project headless"))
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "check":
        from engine.cli import check

        return check.run(args.files)
    if args.command == "export":
        from engine.cli import export

        return export.run(args.project, args.out)
    if args.command == "train":
        from engine.cli import train

        return train.run(args)
    return launch_app()


def launch_app() -> int:
    try:
        from gui.app import run
    except ImportError:
        print(
            "The desktop app is not part of this build yet; the command line works:\n",
            file=sys.stderr,
        )
        parser().print_help(sys.stderr)
        return 1
    return run()


if __name__ == "__main__":
    sys.exit(main())
