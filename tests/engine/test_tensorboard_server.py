"""A real TensorBoard server over a run's log: started on 127.0.0.1, on another port when
6006 is taken, answering with the run's scalars, and stopped."""

import contextlib
import json
import socket
import urllib.request

import pytest

import engine.runs.tensorboard_server as tensorboard_server
import main
from engine.runs.tensorboard_server import PREFERRED_PORT, TensorBoardError, TensorBoardServer
from tests.paths import PRESETS


def _get(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_a_taken_port_gets_another_and_the_server_serves_the_run(tmp_path):
    logs = tmp_path / "logs"
    run = [str(PRESETS / "digits_mlp.json"), "--epochs", "1", "--out", str(tmp_path / "run")]
    assert main.main(["train", *run, "--tensorboard", str(logs / "first")]) == 0
    with socket.socket() as taken:
        with contextlib.suppress(OSError):  # something else may hold it: taken all the same
            taken.bind(("127.0.0.1", PREFERRED_PORT))
            taken.listen()
        server = TensorBoardServer.start(logs)
        try:
            assert server.port != PREFERRED_PORT and server.running
            assert server.url == f"http://127.0.0.1:{server.port}/"
            runs = _get(server.url + "data/runs")
            assert runs == ["first"]
            tags = _get(server.url + "data/plugin/scalars/tags")
            assert "loss/val" in tags["first"] and "grad_norm/fc1" in tags["first"]
        finally:
            server.stop()
    assert not server.running


def test_without_tensorboard_the_error_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(tensorboard_server.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(TensorBoardError, match=r"not installed: pip install"):
        TensorBoardServer.start(tmp_path)
