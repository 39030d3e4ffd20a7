"""Headless sub-commands of the `torchwright` command (parsed in main.py)."""

import os
import signal
import sys

COMMANDS = ("check", "export", "train", "import", "presets")
INTERRUPTED = 130  # the exit status of a command ended by Ctrl+C (128 + SIGINT, as shells)


def interrupted(command: str) -> str:
    """What a command ended by Ctrl+C before it began says."""
    what = "training" if command == "train" else command
    return f"interrupted before {what} started; nothing was written"


def exit_on_interrupt(command: str) -> None:
    """Until a command begins its work, Ctrl+C ends the process at once, with one line
    and status 130: nothing has been written yet. (A KeyboardInterrupt raised inside
    torch's or numpy's imports can come out as another error, with a traceback.) Where
    Ctrl+C is ignored, as in a background job, it stays ignored."""
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return

    def leave(*_) -> None:
        from engine.cli.supervise import report_end

        print(interrupted(command), file=sys.stderr, flush=True)
        report_end()
        os._exit(INTERRUPTED)

    signal.signal(signal.SIGINT, leave)


def interrupt_normally() -> None:
    """Ctrl+C raises KeyboardInterrupt again (a command that writes handles it)."""
    if signal.getsignal(signal.SIGINT) not in (signal.SIG_IGN, signal.default_int_handler):
        signal.signal(signal.SIGINT, signal.default_int_handler)
