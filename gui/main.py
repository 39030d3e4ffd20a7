"""The `torchwright` command: the desktop app, or one of the headless sub-commands.

torchwright [PROJECT]            start the desktop app (on a project file)
torchwright check FILE...        validate project files
torchwright export PROJECT --out DIR [--weights FILE] [--torchscript] [--onnx]
torchwright train PROJECT [--data FILE|DIR] [--epochs N] ... [--out DIR]
                                 (export, train: --allow-custom-code runs Custom layers' code)
torchwright import FILE.py:CLASS --input-shape 1,784 [--input-shape ...] --out PROJECT.json
torchwright presets [NAME]       the bundled presets' files, one path a line

In a checkout, `python main.py` is the same command. The sub-commands never import Qt.
"""

from __future__ import annotations

import os
import sys

from engine.cli import COMMANDS, exit_on_interrupt, interrupt_normally
from engine.cli.supervise import report_end, runs_code_from_a_file, supervise


def main(argv: list[str] | None = None) -> int:
    """`argv` None: the process's command line (a command that runs code from a file
    then runs in a child process, watched: engine.cli.supervise)."""
    command_line = argv is None
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        return launch_app(None)  # before the parser, whose commands import torch
    if len(argv) == 1 and argv[0] not in COMMANDS and looks_like_project(argv[0]):
        return launch_app(argv[0])  # torchwright PROJECT
    if command_line and runs_code_from_a_file(argv):
        return supervise(argv)  # the command itself runs in a child, watched from here
    try:
        exit_on_interrupt(argv[0])  # while torch loads; train keeps it until its run begins
        from engine.cli.main import run

        if argv[0] != "train":
            interrupt_normally()
        return run(argv)  # a mistyped command is the parser's error, listing the commands
    finally:
        report_end()


def looks_like_project(argument: str) -> bool:
    """A project file to open: a .json name, or a file that is there."""
    return argument.lower().endswith(".json") or os.path.isfile(argument)


def launch_app(path: str | None) -> int:
    """Open the window; where Qt could not (its platform plugin would abort the process),
    print one line saying what to install instead."""
    from gui.qt_platform import window_problem

    problem = window_problem(os.environ)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    from gui.app import run

    return run(path)
