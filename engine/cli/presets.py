"""`torchwright presets [NAME]`: the bundled presets' files, one path a line, for the other
sub-commands wherever Torchwright is installed:
`torchwright train "$(torchwright presets digits_mlp)" --out run`."""

from __future__ import annotations

import argparse
import sys

from engine.document.presets import preset_names, preset_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name", nargs="?", metavar="NAME", help="only this preset (e.g. digits_mlp)"
    )


def run(args: argparse.Namespace) -> int:
    names = preset_names()
    if args.name is not None and args.name not in names:
        print(
            f"error: no preset named {args.name!r} (presets: {', '.join(names)})", file=sys.stderr
        )
        return 1
    for name in [args.name] if args.name else names:
        print(preset_path(name))
    return 0
