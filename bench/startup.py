"""Time from `python main.py` to a shown main window, against a bare `import torch`.

Run by hand:  python bench/startup.py [--rounds 5]

Each round starts fresh interpreters (offscreen Qt) for both, alternating, and reports
medians and their ratio. The app shows its window before importing torch, which it then
imports in a background thread; the aim is a window before torch alone finished
importing (ratio below 1).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SHOW_WINDOW = """
import time
start = time.perf_counter()
import sys
sys.path.insert(0, {root!r})
from PySide6.QtWidgets import QApplication
app = QApplication([])
from gui.main_window import MainWindow
window = MainWindow()
window.show()
app.processEvents()
shown = time.perf_counter() - start
window.loader.stop()
print(shown)
"""

IMPORT_TORCH = """
import time
start = time.perf_counter()
import torch
print(time.perf_counter() - start)
"""


def seconds(code: str) -> float:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    window, torch_import = [], []
    for i in range(rounds):
        window.append(seconds(SHOW_WINDOW.format(root=str(ROOT))))
        torch_import.append(seconds(IMPORT_TORCH))
        print(
            f"round {i + 1}: window shown {window[-1]:.2f} s, import torch {torch_import[-1]:.2f} s"
        )
    w, t = statistics.median(window), statistics.median(torch_import)
    print(f"\nmedians of {rounds}: window shown {w:.2f} s, bare `import torch` {t:.2f} s")
    print(f"window / import torch = {w / t:.2f}x  (aim: below 1)")


if __name__ == "__main__":
    main()
