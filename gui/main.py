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

from engine.cli import COMMANDS


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        return launch_app(None)  # before the parser, whose commands import torch
    if argv[0] not in COMMANDS and not argv[0].startswith("-"):
        return launch_app(argv[0])  # torchwright PROJECT
    from engine.cli.main import run

    return run(argv)


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
