"""`--allow-custom-code`, for the commands that run a project's Custom layers (as
Hugging Face's `trust_remote_code` is for a model's own code): without it they refuse,
before any of that code runs."""

from __future__ import annotations

import argparse

from engine.document.trust import ALLOWED, NOT_ALLOWED, Trust


def add_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-custom-code",
        action="store_true",
        help="let the project's Custom layers run their code (read it first)",
    )


def trust_of(args: argparse.Namespace) -> Trust:
    return ALLOWED if args.allow_custom_code else NOT_ALLOWED
