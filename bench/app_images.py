"""An image folder trained from the app: the window's and the training process's memory.

Run by hand:  python bench/app_images.py [--images 20000] [--size 128] [--grow 0.5]

A folder of N generated JPEGs (bench/data_images.py's shapes, saved at 1.5x `--size`) is
trained for one epoch from the main window's Train button (offscreen Qt; the run in the
app's training process, which decodes the folder into the cache first) by a small CNN
(a 4x average pool, two conv blocks and a Linear whose units follow the data: the bench
weighs the data, not the model), with augmentation on (crop, flip, turn, colour,
erasing). Measured: the peak private memory of the whole process tree (the window's
process, the training process and its decoding threads; anonymous pages sampled every
20 ms, the cache's mapped file not counted), and the same while the epoch runs, after
the build; then the same for `--grow` times N, to see whether it grows with the folder.
Aim: under 1 GB for 20,000 images at 3x128x128, flat in N.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from data_images import AUGMENT, PeakMemory, make_folder  # noqa: E402

MB = 2**20


def project_file(folder: Path, size: int, scratch: Path) -> Path:
    from engine.document.commands import AddNode, Connect
    from engine.document.graph import Edge
    from engine.document.project import Project, save

    project = Project(name="app_images")
    layers = [
        ("Input", {"shape": None}),
        ("AvgPool2d", {"kernel_size": 4}),
        ("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
        ("ReLU", {}),
        ("MaxPool2d", {"kernel_size": 2}),
        ("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}),
        ("ReLU", {}),
        ("MaxPool2d", {"kernel_size": 2}),
        ("Flatten", {}),
        ("Linear", {"out_features": None}),
        ("Output", {}),
    ]
    previous = None
    for layer_type, params in layers:
        node = project.graph.make_node(layer_type, params)
        AddNode(node).do(project.graph)
        if previous is not None:
            Connect(Edge(previous, node.id, 0)).do(project.graph)
        previous = node.id
    project.data.update(
        kind="image_folder", path=str(folder), image_size=[size, size], grayscale=False, **AUGMENT
    )
    project.training.update(epochs=1, batch_size=64, device="cpu")  # eval batches: 1,000
    path = scratch / "app_images.json"
    save(project, path)
    return path


def train_in_window(path: Path, scratch: Path) -> tuple[float, float, float, float]:
    """(peak MB over the whole run, peak MB during the epoch, the window's process's own
    peak MB, seconds) for one run."""
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow

    _app = QApplication.instance() or QApplication([])
    settings = QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings)
    window.files.ask_unsaved = lambda: "discard"
    window.show()
    window.files.open(path)
    session = window.training.session
    loop = QEventLoop()
    wait = QTimer()
    wait.timeout.connect(lambda: session.data_check.settled() and loop.quit())
    wait.start(100)
    loop.exec()
    wait.stop()
    controller = session.controller
    outcome: list[str] = []
    controller.finished.connect(lambda summary: (outcome.append("done"), loop.quit()))
    controller.failed.connect(lambda message: (outcome.append(message), loop.quit()))
    epoch = PeakMemory()
    controller.started.connect(lambda *_: epoch.__enter__())
    start = time.perf_counter()
    with PeakMemory() as whole:
        window.training.bar.train.click()
        loop.exec()
    epoch.__exit__()
    seconds = time.perf_counter() - start
    window.close()
    if outcome != ["done"]:
        sys.exit(f"training failed: {outcome}")
    return whole.peak / MB, epoch.peak / MB, whole.own_peak / MB, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--grow", type=float, default=0.5, help="also measure this times N")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="app-images-"))
    os.environ["TORCHWRIGHT_CACHE_DIR"] = str(scratch / "cache")
    try:
        for count in (int(args.images * args.grow), args.images):
            folder = scratch / f"images-{count}"
            make_folder(folder, count, args.size)
            path = project_file(folder, args.size, scratch)
            whole, epoch, window, seconds = train_in_window(path, scratch)
            print(
                f"{count:,} JPEGs at 3x{args.size}x{args.size}, one augmented epoch from the "
                f"window in {seconds:.0f} s: peak private memory of the process tree "
                f"{whole:,.0f} MB, during the epoch {epoch:,.0f} MB; the window's process "
                f"alone {window:,.0f} MB"
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
