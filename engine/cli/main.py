"""The sub-commands of the `torchwright` command (and of a checkout's `python main.py`):
parsing and dispatch. Starting the app is the GUI's part (gui/main.py)."""

from __future__ import annotations

import argparse

from engine.cli import check, export, import_model, presets, train

DESCRIPTION = "Torchwright: build, train and export PyTorch models visually."
EPILOG = "With no COMMAND, `torchwright [PROJECT]` opens the desktop app (on a project file)."


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="torchwright", description=DESCRIPTION, epilog=EPILOG)
    commands = root.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands.add_parser("check", help="validate project files, one line per file").add_argument(
        "files", nargs="+", metavar="FILE"
    )
    export.add_arguments(
        commands.add_parser("export", help="write model.py, train.py and deployment files")
    )
    train.add_arguments(commands.add_parser("train", help="train a project headless"))
    import_model.add_arguments(
        commands.add_parser("import", help="turn a PyTorch model class into a project")
    )
    presets.add_arguments(commands.add_parser("presets", help="list the bundled presets' files"))
    return root


def run(argv: list[str]) -> int:
    """Run one sub-command; its exit status."""
    args = parser().parse_args(argv)
    if args.command == "check":
        return check.run(args.files)
    return {"export": export, "train": train, "import": import_model, "presets": presets}[
        args.command
    ].run(args)
