"""How the window responds while a preset trains in it, and what training there costs.

Run by hand:  python bench/ui_latency.py [--preset digits_cnn] [--epochs 40]

In one run: the main window trains the preset from its Train button (the run trains in
the app's training process) while a 10 ms QTimer on the GUI thread records how late each
tick comes (p50 / p99 / max); then the same project trains headless, as `main.py train`
does, once with torch's own thread count and once with the app's, which leaves a core
for the window. All runs report samples per second; in-app / headless is the cost of the
app, and in-app / headless-at-the-app's-threads the part of it the window itself costs.
Aims: p99 delay under 20 ms, ratio at least 0.85. Offscreen Qt by default; under
xvfb-run it paints for real.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TICK_MS = 10


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def in_app(preset: str, epochs: int) -> tuple[list[float], dict]:
    """Train in the window; the lateness of every timer tick (ms) and the run summary."""
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow

    _app = QApplication.instance() or QApplication([])  # alive while the window is
    scratch = tempfile.mkdtemp(prefix="ui-latency-")
    settings = QSettings(f"{scratch}/settings.ini", QSettings.Format.IniFormat)
    window = MainWindow(settings)
    window.files.ask_unsaved = lambda: "discard"
    window.show()
    window.files.open_preset(preset)
    window.document.project.training["epochs"] = epochs
    controller = window.training.session.controller
    delays: list[float] = []
    clock = QElapsedTimer()
    timer = QTimer()
    timer.setInterval(TICK_MS)

    def tick() -> None:
        if controller.state == "running":
            delays.append(max(0.0, clock.nsecsElapsed() / 1e6 - TICK_MS))
        clock.restart()

    timer.timeout.connect(tick)
    summaries: list[dict] = []
    loop = QEventLoop()
    controller.finished.connect(summaries.append)
    controller.finished.connect(loop.quit)
    controller.failed.connect(lambda message: sys.exit(f"training failed: {message}"))
    clock.start()
    timer.start()
    window.training.bar.train.click()
    loop.exec()
    timer.stop()
    window.close()
    shutil.rmtree(scratch, ignore_errors=True)
    return delays, summaries[0]


def headless(preset: str, epochs: int, threads: int) -> dict:
    from engine.document.presets import preset_path
    from engine.document.project import load
    from engine.process.child import torch_threads
    from engine.training.job import prepare_job

    project = load(preset_path(preset))
    project.training["epochs"] = epochs
    with torch_threads(threads):
        return prepare_job(project).run().summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="digits_cnn")
    parser.add_argument("--epochs", type=int, default=40)
    args = parser.parse_args()
    import torch  # imported up front: the bench measures training, not the import

    from engine.process.child import training_threads

    threads, app_threads = torch.get_num_threads(), training_threads()
    print(
        f"{args.preset}, {args.epochs} epochs, torch {torch.__version__}, "
        f"{threads} threads headless, {app_threads} in the app"
    )
    delays, app_run = in_app(args.preset, args.epochs)
    cli_speed = headless(args.preset, args.epochs, threads)["samples_per_second"]
    same_speed = headless(args.preset, args.epochs, app_threads)["samples_per_second"]
    print(
        f"GUI timer delay over {len(delays)} ticks: p50 {statistics.median(delays):.1f} ms, "
        f"p99 {percentile(delays, 0.99):.1f} ms, max {max(delays):.1f} ms"
    )
    app_speed = app_run["samples_per_second"]
    print(f"in app:   {app_speed:,.0f} samples/s")
    print(f"headless: {cli_speed:,.0f} samples/s ({threads} threads)")
    print(f"headless: {same_speed:,.0f} samples/s ({app_threads} threads, as the app)")
    print(f"ratio in-app / headless: {app_speed / cli_speed:.2f}x")
    print(f"ratio in-app / headless at the app's threads: {app_speed / same_speed:.2f}x")


if __name__ == "__main__":
    main()
