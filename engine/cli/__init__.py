"""Headless sub-commands of the `torchwright` command (parsed in main.py)."""

COMMANDS = ("check", "export", "train", "import", "presets")
INTERRUPTED = 130  # the exit status of a command ended by Ctrl+C (128 + SIGINT, as shells)


def interrupted(command: str) -> str:
    """What a command ended by Ctrl+C before it began says."""
    what = "training" if command == "train" else command
    return f"interrupted before {what} started; nothing was written"
