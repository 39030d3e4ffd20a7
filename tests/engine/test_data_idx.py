"""IDX files (MNIST format) and the MNIST download, served from 127.0.0.1 only."""

import gzip
import hashlib
import http.server
import socket
import threading
from typing import ClassVar

import numpy as np
import pytest
import torch

from engine.data import DataError, load_idx_folder, load_mnist, read_idx
from engine.data.idx import IMAGES_MAGIC, LABELS_MAGIC
from tests.data_files import idx_bytes, images_and_labels, write_idx, write_mnist


@pytest.mark.parametrize("gz", [False, True])
def test_folder_with_test_files_gives_them_as_validation(tmp_path, gz):
    write_mnist(tmp_path, gz=gz)
    train, val = load_idx_folder(tmp_path)
    images, labels = images_and_labels(12, seed=12)
    assert train.x.shape == (12, 1, 28, 28) and train.x.dtype == torch.float32
    assert torch.allclose(train.x[:, 0], torch.from_numpy(images / 255).float())
    assert train.y.dtype == torch.int64 and train.y.tolist() == labels.tolist()
    assert val.x.shape == (5, 1, 28, 28) and len(val.y) == 5
    assert train.classes == val.classes and len(train.classes) <= 10


def test_folder_without_test_files_has_no_validation(tmp_path):
    images, labels = images_and_labels(4)
    write_idx(tmp_path, "train-images-idx3-ubyte", images)
    write_idx(tmp_path, "train-labels-idx1-ubyte", labels, gz=True)
    train, val = load_idx_folder(tmp_path)
    assert len(train) == 4 and val is None


def test_truncated_image_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes(images_and_labels(3)[0])[:-10])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte: truncated, its header declares"):
        read_idx(path, IMAGES_MAGIC)
    path.write_bytes(b"\x00\x00\x08")
    with pytest.raises(DataError, match=r"truncated, 3 bytes is shorter than its header"):
        read_idx(path, IMAGES_MAGIC)


def test_truncated_gzip(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(100)))[:-12])
    with pytest.raises(DataError, match=r"labels.gz: not a readable gzip file"):
        read_idx(path, LABELS_MAGIC)


def test_bad_magic_number(tmp_path):
    path = write_idx(tmp_path, "labels", np.zeros(3))
    with pytest.raises(DataError, match=r"magic number 0x00000801, expected 0x00000803"):
        read_idx(path, IMAGES_MAGIC)


def test_image_and_label_counts_must_match(tmp_path):
    write_idx(tmp_path, "train-images-idx3-ubyte", images_and_labels(4)[0])
    write_idx(tmp_path, "train-labels-idx1-ubyte", images_and_labels(5)[1])
    with pytest.raises(DataError, match=r"holds 4 images but train-labels-idx1-ubyte holds 5"):
        load_idx_folder(tmp_path)


def test_missing_files(tmp_path):
    with pytest.raises(DataError, match=r"no train-images-idx3-ubyte"):
        load_idx_folder(tmp_path)
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte .* missing from the t10k pair"):
        load_idx_folder(tmp_path)
    with pytest.raises(DataError, match=r"no such folder"):
        load_idx_folder(tmp_path / "absent")


class _Files(http.server.BaseHTTPRequestHandler):
    files: ClassVar[dict[str, bytes]] = {}

    def do_GET(self):
        body = self.files.get(self.path.removeprefix("/mnist/"))
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """Small gzipped MNIST-format files served on 127.0.0.1: (base URL, MD5 table)."""
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    source = tmp_path / "source"
    source.mkdir()
    write_mnist(source, gz=True)
    files = {path.name: path.read_bytes() for path in source.iterdir()}
    handler = type("Handler", (_Files,), {"files": files})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    md5 = {name: hashlib.md5(body).hexdigest() for name, body in files.items()}
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/mnist/", md5
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_download_checks_checksums_then_loads(tmp_path, mirror):
    base, md5 = mirror
    folder = tmp_path / "mnist"
    seen = []
    train, val = load_mnist(
        folder,
        download=True,
        mirrors=[base],
        checksums=md5,
        timeout=10,
        progress=lambda name, done, total: seen.append((name, done, total)),
    )
    assert len(train) == 12 and len(val) == 5
    assert sorted(p.name for p in folder.iterdir()) == sorted(md5)
    assert {name for name, _, _ in seen} == set(md5)
    assert all(done == total for _, done, total in seen)


def test_a_failing_mirror_falls_through_to_the_next(tmp_path, mirror):
    base, md5 = mirror
    train, _ = load_mnist(
        tmp_path, download=True, mirrors=[base + "missing/x/", base], checksums=md5, timeout=10
    )
    assert len(train) == 12


def test_bad_checksum_is_refused_and_leaves_no_file(tmp_path, mirror):
    base, md5 = mirror
    wrong = {**md5, "train-labels-idx1-ubyte.gz": "0" * 32}
    folder = tmp_path / "mnist"
    with pytest.raises(DataError, match=r"download train-labels-idx1-ubyte.gz .*checksum"):
        load_mnist(folder, download=True, mirrors=[base], checksums=wrong, timeout=10)
    assert sorted(p.name for p in folder.iterdir()) == ["train-images-idx3-ubyte.gz"]


def test_unreachable_mirror_is_a_data_error(tmp_path, mirror):
    base, md5 = mirror
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    folder = tmp_path / "mnist"
    with pytest.raises(DataError, match=r"127.0.0.1:\d+/train-images.*refused.*HTTP 404"):
        load_mnist(
            folder, download=True, mirrors=[closed, base + "nope/"], checksums=md5, timeout=10
        )
    assert list(folder.iterdir()) == []


def test_missing_files_without_download_say_how_to_get_them(tmp_path):
    with pytest.raises(DataError, match=r"MNIST files .* are missing; turn on data.download"):
        load_mnist(tmp_path, download=False)


def test_present_files_are_not_downloaded(tmp_path):
    write_mnist(tmp_path)
    train, val = load_mnist(tmp_path, download=True, mirrors=[])
    assert len(train) == 12 and len(val) == 5
