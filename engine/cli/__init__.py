"""Headless sub-commands of the `torchwright` command (parsed in main.py)."""

COMMANDS = ("check", "export", "train", "import", "presets")
