"""A command that runs code from a file runs in a child process, watched by this one.

`train` and `export` with `--allow-custom-code` run a project's Custom layers, and
`import` runs the model file. Such code can end the process at once (`os._exit(7)`,
which no `except` sees), and a run can be killed by the kernel for memory; either way
the command would end without a word. So the command runs again in a child process,
with the same arguments and the same terminal, and this process only waits. The child
says through a pipe that it came to its own end (`report_end`), whatever its exit
status; a child that ends without saying so vanished, and this process says how, in
one line, and exits 1. Ctrl+C reaches both: the child handles it, this one ignores it.
Only the real command line is watched: `main(argv)` called from Python runs in-process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

SUPERVISED = "TORCHWRIGHT_SUPERVISED"  # set in the child: the pipe to say its end on
ROOT = Path(__file__).resolve().parents[2]  # the folder that holds engine/ and gui/
RUNS_FILE_CODE = ("import",)
RUNS_CUSTOM_CODE = ("train", "export")


def runs_code_from_a_file(argv: list[str]) -> bool:
    """Whether the command in `argv` runs code from a file, and is not the child yet."""
    if SUPERVISED in os.environ or not argv:
        return False
    command = argv[0]
    allowed = any(len(a) > 4 and "--allow-custom-code".startswith(a) for a in argv)
    return command in RUNS_FILE_CODE or (command in RUNS_CUSTOM_CODE and allowed)


def supervise(argv: list[str]) -> int:
    """Run the command in a child process; its exit status, or 1 (and one line) when
    it vanished."""
    read, write = os.pipe()
    env = {**os.environ, SUPERVISED: str(write)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    start = "import sys; from gui.main import main; sys.exit(main())"
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.SIG_IGN:
        # Ctrl+C is the child's to handle. A handler that does nothing, not SIG_IGN: the
        # child would inherit an ignored Ctrl+C, but a handler is reset in it.
        signal.signal(signal.SIGINT, _left_to_the_child)
    try:
        child = subprocess.Popen([sys.executable, "-c", start, *argv], env=env, pass_fds=[write])
        os.close(write)
        status = child.wait()
        with os.fdopen(read, "rb") as pipe:
            ended = pipe.read() == b"ended"
    finally:
        signal.signal(signal.SIGINT, previous)
    if ended:
        return status
    print(f"error: {vanished(status)}", file=sys.stderr)
    return 1


def _left_to_the_child(*_: object) -> None:
    pass


def vanished(status: int) -> str:
    """Why a child that did not come to its own end ended, in words."""
    if status < 0:
        name = signal.Signals(-status).name
        memory = " (by the kernel for memory, most likely)" if name == "SIGKILL" else ""
        return f"the command's process was killed by {name}{memory}; its files may be missing"
    return (
        f"the command's process ended without a word (exit status {status}): code it ran "
        "ended it at once (os._exit()), so nothing after that was done"
    )


def report_end() -> None:
    """In the child: say that the command came to its own end (nothing elsewhere)."""
    fd = os.environ.pop(SUPERVISED, None)
    if fd is None:
        return
    try:
        os.write(int(fd), b"ended")
        os.close(int(fd))
    except (OSError, ValueError):
        pass  # the watching process has gone: nobody is left to tell
