"""TensorBoard over a folder of logs, as a real child process on 127.0.0.1.

`TensorBoardServer.start(logdir)` runs `python -m tensorboard.main --logdir DIR --host
127.0.0.1 --port P` with this Python, on port 6006 when it is free and on another free
port when it is taken, and waits until the server answers (or says why it could not
start). `stop` ends it; the app's window stops the one it started when it closes.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from engine.errors import UserError
from engine.training.tensorboard_log import INSTALL

HOST = "127.0.0.1"
PREFERRED_PORT = 6006


class TensorBoardError(UserError):
    """TensorBoard is not installed, or its server did not start; the message says why."""


def free_port(preferred: int = PREFERRED_PORT) -> int:
    """`preferred` when nothing listens on it on 127.0.0.1, else a port the system picks."""
    for port in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise TensorBoardError("no free port on 127.0.0.1 for TensorBoard")


class TensorBoardServer:
    """One TensorBoard process; `url` is where it answers."""

    def __init__(self, process: subprocess.Popen, port: int, logdir: Path, log):
        self.process = process
        self.port = port
        self.logdir = logdir
        self._log = log  # the server's own output, a temporary file (a pipe could fill)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    @classmethod
    def start(cls, logdir: str | Path, timeout: float = 60.0) -> TensorBoardServer:
        if importlib.util.find_spec("tensorboard") is None:
            raise TensorBoardError(f"TensorBoard is not installed: {INSTALL}")
        logdir = Path(logdir)
        port = free_port()
        command = [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir)]
        command += ["--host", HOST, "--port", str(port)]
        log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (the server owns it until stop)
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True)
        server = cls(process, port, logdir, log)
        server._wait(timeout)
        return server

    def stop(self) -> None:
        if self.running:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                self._log.seek(0)
                said = self._log.read().strip()
                self._log.close()
                last = said.splitlines()[-1] if said else f"exit status {self.process.returncode}"
                raise TensorBoardError(f"TensorBoard did not start: {last}")
            try:
                with urllib.request.urlopen(self.url, timeout=1):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        self.stop()
        raise TensorBoardError(f"TensorBoard did not answer on {self.url} in {timeout:.0f} s")
