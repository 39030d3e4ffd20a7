"""How the window responds while a preset trains in it, and what training there costs.

Run by hand:  python bench/ui_latency.py [--preset digits_cnn] [--epochs N] [--tab network]

In one run: the main window opens the preset and, once it has settled, trains it from
its Train button (the run trains in the app's training process) while a 10 ms QTimer on
the GUI thread records how late each tick comes (p50 / p99 / max), from the click until
a moment after the run has ended, so the end of the run counts too; then the same project
trains headless, as `main.py train` does, once with its default thread count (chosen
from the work of a step) and once with the app's, which leaves a core for the window. All
runs report samples per second; in-app / headless is the cost of the app, and in-app /
headless-at-the-app's-threads the part of it the window itself costs.

`--epochs` replaces the preset's epoch count (digits_cnn: 40 unless given, as this bench
always ran it); `--preset linear_regression --epochs 10000` is a tiny model (one Linear,
one batch an epoch) whose plots gather 10,000 epoch points. `--tab network` keeps the
Network tab showing while it trains (pressing Train shows the Training tab).
Aims: p99 delay at most 10 ms, max at most 50 ms, in-app at least 0.9x headless.
Offscreen Qt by default; under xvfb-run it paints for real.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TICK_MS = 10
AFTER_END_MS = 300  # ticks kept after the run ended: the window's work on its end
WARMUP_EPOCHS = 3
QUIET_TICKS, SETTLE_S = 100, 20  # before the run: a second of ticks on time, at most 20 s
TABS = ("training", "network")
DEFAULT_EPOCHS = {"digits_cnn": 40}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass
class Run:
    delays: list[float]  # the lateness of every timer tick, ms
    summary: dict  # the run's, as the controller reports it
    busy: float  # the GUI thread's CPU time over the wall time


def in_app(preset: str, epochs: int | None, tab: str) -> tuple[Run, Run]:
    """Train in a new window: first WARMUP_EPOCHS (what a window's first run costs once:
    fonts, symbols, the first drawing of each plot), then the run measured."""
    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow

    _app = QApplication.instance() or QApplication([])  # alive while the window is
    scratch = tempfile.mkdtemp(prefix="ui-latency-")
    settings = QSettings(f"{scratch}/settings.ini", QSettings.Format.IniFormat)
    window = MainWindow(settings)
    window.files.ask_unsaved = lambda: "discard"
    window.show()
    window.files.open_preset(preset)
    delays: list[float] = []
    clock = QElapsedTimer()
    timer = QTimer()
    timer.setInterval(TICK_MS)

    def tick() -> None:
        delays.append(max(0.0, clock.nsecsElapsed() / 1e6 - TICK_MS))
        clock.restart()

    timer.timeout.connect(tick)
    clock.start()
    timer.start()
    window.tabs.setCurrentWidget(window.training)  # laid out once, as before any run
    runs = []
    for count in (WARMUP_EPOCHS, epochs or window.document.project.training["epochs"]):
        window.document.set_setting(("training", "epochs"), count)  # as the form does
        settle(delays)
        delays.clear()
        runs.append(train(window, tab, delays))
    timer.stop()
    window.close()
    shutil.rmtree(scratch, ignore_errors=True)
    return runs[0], runs[1]


def train(window, tab: str, delays: list[float]) -> Run:
    """Press Train and wait until a moment after the run has ended."""
    from PySide6.QtCore import QEventLoop, QTimer

    controller = window.training.session.controller
    summaries: list[dict] = []
    loop = QEventLoop()

    def finished(summary: dict) -> None:
        summaries.append(summary)
        QTimer.singleShot(AFTER_END_MS, loop.quit)

    def failed(message: str) -> None:
        sys.exit(f"training failed: {message}")

    controller.finished.connect(finished)
    controller.failed.connect(failed)
    window.training.bar.train.click()
    if tab == "network":
        window.tabs.setCurrentWidget(window.canvas)
    cpu, wall = time.thread_time(), time.perf_counter()
    loop.exec()
    busy = (time.thread_time() - cpu) / (time.perf_counter() - wall)
    controller.finished.disconnect(finished)
    controller.failed.disconnect(failed)
    window.tabs.setCurrentWidget(window.training)
    return Run(list(delays), summaries[0], busy)


def settle(delays: list[float]) -> None:
    """Let the window finish opening the project (shapes, code, the data preview, the
    Training tab's first layout) before the run: until QUIET_TICKS ticks in a row have
    come on time, at most SETTLE_S."""
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + SETTLE_S
    loop, check = QEventLoop(), QTimer()
    check.setInterval(100)

    def quiet() -> None:
        recent = delays[-QUIET_TICKS:]
        if time.monotonic() > deadline or (len(recent) == QUIET_TICKS and max(recent) < 2):
            loop.quit()

    check.timeout.connect(quiet)
    check.start()
    loop.exec()
    check.stop()


def headless(preset: str, epochs: int | None, threads: int | None) -> dict:
    """The run's summary trained as `main.py train` does; `threads` None: its default."""
    from engine.document.presets import preset_path
    from engine.document.project import load
    from engine.training.job import prepare_job

    project = load(preset_path(preset))
    if epochs is not None:
        project.training["epochs"] = epochs
    project.training["threads"] = threads
    return prepare_job(project).run().summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="digits_cnn")
    parser.add_argument("--epochs", type=int, help="instead of the preset's epoch count")
    parser.add_argument("--tab", choices=TABS, default="training", help="the tab showing")
    args = parser.parse_args()
    epochs = args.epochs or DEFAULT_EPOCHS.get(args.preset)
    import torch  # imported up front: the bench measures training, not the import

    from engine.process.child import training_threads

    threads, app_threads = torch.get_num_threads(), training_threads()
    load = os.getloadavg()[0]
    first, measured = in_app(args.preset, epochs, args.tab)
    delays, app_run = measured.delays, measured.summary
    print(
        f"{args.preset}, {app_run['epochs']} epochs, {args.tab} tab showing, "
        f"torch {torch.__version__}, {threads} cores' threads, {app_threads} in the app, "
        f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after the run in the app"
    )
    cli = headless(args.preset, epochs, None)
    cli_speed = cli["samples_per_second"]
    same_speed = headless(args.preset, epochs, app_threads)["samples_per_second"]
    print(
        f"GUI timer delay over {len(delays)} ticks: p50 {statistics.median(delays):.1f} ms, "
        f"p99 {percentile(delays, 0.99):.1f} ms, max {max(delays):.1f} ms; "
        f"GUI thread busy {measured.busy:.0%} of the time"
    )
    print(
        f"the window's first run ({WARMUP_EPOCHS} epochs, before): p99 "
        f"{percentile(first.delays, 0.99):.1f} ms, max {max(first.delays):.1f} ms"
    )
    app_speed = app_run["samples_per_second"]
    print(f"in app:   {app_speed:,.0f} samples/s")
    print(f"headless: {cli_speed:,.0f} samples/s ({cli['threads']} threads, main.py's default)")
    print(f"headless: {same_speed:,.0f} samples/s ({app_threads} threads, as the app)")
    print(f"ratio in-app / headless: {app_speed / cli_speed:.2f}x")
    print(f"ratio in-app / headless at the app's threads: {app_speed / same_speed:.2f}x")


if __name__ == "__main__":
    main()
