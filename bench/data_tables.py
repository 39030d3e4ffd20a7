"""Reading a large CSV: Torchwright's table reader against pandas.read_csv, same run.

Run by hand:  python bench/data_tables.py [--rows 1000000] [--grow 2] [--repeat 3]

A CSV of `--rows` rows and 21 columns (20 features of random decimals written with 6
significant digits, and an integer label of 10 classes; about 172 MB for 1M rows) is
written once, then read by, in turn:

  (a) `pandas.read_csv(path)`, the reference;
  (b) `engine.data.table_columns.load_table(path)`: pyarrow's reader, every column
      checked (numbers, finite, within float32, no missing cell) and the label column
      made class ids: the data set as training gets it;
  (c) `pyarrow.csv.read_csv(path)` alone, for what the checks cost.

Each is timed `--repeat` times, alternating, and the median reported with its ratio to
(a). Aim: (b) at most 1.5x (a). Memory: each reader once more in a fresh child process,
the peak private (anonymous) memory above what the process held before reading, for
`--rows` and for `--grow` times as many rows, to see how it grows.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from data_images import PeakMemory, _anonymous  # noqa: E402

FEATURES = 20
READERS = ("pandas", "torchwright", "pyarrow")


def write_table(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    header = ",".join([*(f"f{i}" for i in range(FEATURES)), "label"]) + "\n"
    with path.open("w") as file:
        file.write(header)
        for start in range(0, rows, 100_000):
            count = min(100_000, rows - start)
            values = rng.normal(size=(count, FEATURES))
            labels = rng.integers(0, 10, count)
            lines = [
                ",".join(f"{v:.6g}" for v in row) + f",{label}\n"
                for row, label in zip(values, labels, strict=True)
            ]
            file.writelines(lines)


def read(reader: str, path: Path) -> int:
    """Read the file the reader's way; the number of rows read."""
    if reader == "pandas":
        import pandas

        return len(pandas.read_csv(path))
    if reader == "pyarrow":
        import pyarrow.csv

        return pyarrow.csv.read_csv(path).num_rows
    from engine.data.table_columns import load_table

    return len(load_table(path))


def preload(reader: str) -> None:
    """Import what the reader needs, so the timing is the reading alone."""
    read(reader, HERE / "data_tables_warmup.csv")


def child(reader: str, path: Path) -> None:
    """In a fresh process: the reader's peak private memory above its start, in bytes."""
    preload(reader)
    before = _anonymous_self()
    with PeakMemory() as memory:
        read(reader, path)
    print(memory.peak - before)


def _anonymous_self() -> int:
    import os

    return _anonymous(os.getpid())


def peak_in_child(reader: str, path: Path) -> int:
    done = subprocess.run(
        [sys.executable, __file__, "--child", reader, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--grow", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("READER", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    with tempfile.TemporaryDirectory() as scratch:
        warmup = HERE / "data_tables_warmup.csv"
        write_table(warmup, 10)
        try:
            run(args, Path(scratch))
        finally:
            warmup.unlink()


def run(args: argparse.Namespace, scratch: Path) -> None:
    path = scratch / "table.csv"
    write_table(path, args.rows)
    print(f"{args.rows:,} rows x {FEATURES + 1} columns, {path.stat().st_size / 1e6:.0f} MB")
    for reader in READERS:
        preload(reader)
    times: dict[str, list[float]] = {reader: [] for reader in READERS}
    for _ in range(args.repeat):
        for reader in READERS:
            start = time.perf_counter()
            rows = read(reader, path)
            times[reader].append(time.perf_counter() - start)
            assert rows == args.rows, (reader, rows)
    base = statistics.median(times["pandas"])
    for reader in READERS:
        median = statistics.median(times[reader])
        print(f"  {reader:12s} {median:6.2f} s   {median / base:4.2f}x pandas.read_csv")
    bigger = scratch / "bigger.csv"
    write_table(bigger, args.rows * args.grow)
    print("peak private memory while reading (above the process's start), MB:")
    print(f"  {'':12s} {args.rows:>12,} rows {args.rows * args.grow:>12,} rows")
    for reader in READERS:
        peaks = [peak_in_child(reader, p) / 1e6 for p in (path, bigger)]
        print(f"  {reader:12s} {peaks[0]:12.0f}      {peaks[1]:12.0f}")


if __name__ == "__main__":
    main()
