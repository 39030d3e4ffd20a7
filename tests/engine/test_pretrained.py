"""Published weights downloaded into the torch hub folder, from a real HTTP server on
127.0.0.1 that the tests start and stop."""

import functools
import hashlib
import http.server
import threading

import pytest
import torch

from engine.model.pretrained import DownloadCancelled, cached_file, download_weights
from engine.model.weights_file import WeightsError
from engine.training.job import prepare_job
from tests.engine.test_fine_tuning import digits_project, pretrained


@pytest.fixture
def hub(tmp_path):
    """An empty torch hub folder for the test."""
    before = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / "hub"))
    yield tmp_path / "hub"
    torch.hub.set_dir(before)


@pytest.fixture
def server(tmp_path):
    """(folder it serves, its address)."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def publish(folder, state_dict, name="tiny") -> str:
    """Save `state_dict` under a name that holds its SHA-256's first digits, as
    download.pytorch.org names its files; the file's name."""
    path = folder / "upload.pth"
    torch.save(state_dict, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:8]
    final = path.rename(folder / f"{name}-{digest}.pth")
    return final.name


def body_weights(tmp_path):
    return torch.load(pretrained(tmp_path), weights_only=True)["state_dict"]


def test_weights_download_once_with_progress_and_load(tmp_path, hub, server):
    folder, address = server
    url = f"{address}/{publish(folder, body_weights(tmp_path))}"
    seen = []
    path = download_weights(url, report=lambda done, total: seen.append((done, total)))
    assert path == cached_file(url) and path.parent == hub / "checkpoints" and path.is_file()
    assert seen and seen[-1][0] == seen[-1][1] == path.stat().st_size
    (folder / path.name).unlink()  # the second time comes from the cache
    assert download_weights(url) == path
    project = digits_project(tmp_path)
    project.training.update(init_weights=url, skip_mismatched=True)
    job = prepare_job(project)
    assert len(job.weights.loaded) == 7 and len(job.weights.mismatched) == 2
    assert float(job.built.module.bn1.running_mean[0]) == 0.25


def test_a_wrong_checksum_keeps_nothing(tmp_path, hub, server):
    folder, address = server
    name = publish(folder, {"w": torch.zeros(2)})
    (folder / name).rename(folder / "tiny-00000000.pth")
    with pytest.raises(WeightsError, match="was not kept: invalid hash value"):
        download_weights(f"{address}/tiny-00000000.pth")
    assert not list(hub.rglob("*.pth*"))


def test_a_cancelled_download_keeps_nothing(tmp_path, hub, server):
    folder, address = server
    url = f"{address}/{publish(folder, {'w': torch.zeros(300_000)})}"
    with pytest.raises(DownloadCancelled, match="nothing was kept"):
        download_weights(url, cancelled=lambda: True)
    assert not list(hub.rglob("*.pth*"))


def test_offline_is_a_sentence_and_the_model_is_left_as_it_was(tmp_path, hub, server):
    _, address = server
    with pytest.raises(WeightsError, match="the server answers 404"):
        download_weights(f"{address}/missing-12345678.pth")
    with pytest.raises(WeightsError, match=r"may be offline\. The model is left as it was"):
        download_weights("http://127.0.0.1:9/resnet18-f37072fd.pth")  # nothing listens there
    project = digits_project(tmp_path)
    project.training.update(init_weights="http://127.0.0.1:9/resnet18-f37072fd.pth")
    with pytest.raises(WeightsError, match="cannot download"):
        prepare_job(project)
