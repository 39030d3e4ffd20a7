"""`--init-weights FILE` and `--skip-mismatched`, as `train` and `export` read them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_weights_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--init-weights",
        metavar="FILE",
        help="start from these weights (.safetensors or a .pt state_dict, e.g. pretrained): "
        "the tensors that fit load, with a report by layer",
    )
    parser.add_argument(
        "--skip-mismatched",
        action="store_true",
        help="with --init-weights: skip tensors whose shapes differ (a head for other classes)",
    )


def weights_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The training settings the options replace; a path given here starts at the
    current folder (the project's own starts at the project file's)."""
    values: dict[str, Any] = {}
    if args.init_weights:
        values["init_weights"] = str(Path(args.init_weights).resolve())
    if args.skip_mismatched:
        values["skip_mismatched"] = True
    return values
