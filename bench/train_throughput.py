"""Training throughput: the engine's Trainer against two hand-written loops, same run.

Run by hand:  python bench/train_throughput.py [--rounds 5]

Data: the digits set (64 features, 10 classes), standardised and tiled to 120,000 samples,
held in memory. Model: Linear(64, 128) - ReLU - Linear(128, 10); batch 64; CrossEntropy;
SGD lr 0.01 momentum 0.9. Loops compared, one epoch each, interleaved over several rounds
(these machines are noisy; medians are reported):

  (a) seeds:  DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True) and the classic
      zero_grad / forward / loss / backward / step loop;
  (b) tight:  a hand-written loop slicing resident tensors with a shuffled index;
  (c) engine: `Trainer.fit` on a 90/10 train/validation split; its samples per second
      count the validation pass and the epoch metrics inside the epoch time. "engine
      auto" chooses its thread count as `main.py train` does by default (from the work
      of a step, `engine.training.threads`); "engine N" trains on N threads, for 1, 2,
      4, ... and torch's default count.

(a) and (b) run on torch's default thread count, one per core, as a hand-written script
would.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.data.dataset import TensorData
from engine.training.trainer import Trainer

SAMPLES = 120_000
BATCH = 64
LR, MOMENTUM = 0.01, 0.9


def make_data(samples: int) -> tuple[torch.Tensor, torch.Tensor]:
    digits = load_digits()
    x = torch.tensor(digits.data, dtype=torch.float32)
    y = torch.tensor(digits.target, dtype=torch.long)
    x = (x - x.mean(0)) / (x.std(0) + 1e-6)
    repeats = -(-samples // len(x))
    return x.repeat(repeats, 1)[:samples].contiguous(), y.repeat(repeats)[:samples].contiguous()


def make_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


def seeds_loop(x: torch.Tensor, y: torch.Tensor) -> float:
    """(a) The articles' loop: DataLoader over a TensorDataset."""
    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    criterion = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(x, y), batch_size=BATCH, shuffle=True)
    started = time.perf_counter()
    for inputs, labels in loader:
        optimizer.zero_grad()
        loss = criterion(model(inputs), labels)
        loss.backward()
        optimizer.step()
    return len(x) / (time.perf_counter() - started)


def tight_loop(x: torch.Tensor, y: torch.Tensor) -> float:
    """(b) Index slicing of resident tensors, nothing else."""
    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    criterion = nn.CrossEntropyLoss()
    started = time.perf_counter()
    for index in torch.randperm(len(x)).split(BATCH):
        optimizer.zero_grad(set_to_none=True)
        loss = criterion(model(x[index]), y[index])
        loss.backward()
        optimizer.step()
    return len(x) / (time.perf_counter() - started)


def engine_loop(threads: int | None) -> Callable[[torch.Tensor, torch.Tensor], float]:
    """(c) The Trainer, with a 10% validation split evaluated every epoch; `threads`
    None is what `main.py train` does by default (the count measured on a few batches)."""

    def loop(x: torch.Tensor, y: torch.Tensor) -> float:
        split = len(x) * 9 // 10
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
        train = TensorData(x[order[:split]], y[order[:split]], "classification")
        val = TensorData(x[order[split:]], y[order[split:]], "classification")
        settings = {
            "epochs": 1,
            "batch_size": BATCH,
            "device": "cpu",
            "optimizer": "SGD",
            "lr": LR,
            "momentum": MOMENTUM,
            "threads": threads,
            "losses": {"out": {"loss": "CrossEntropyLoss"}},
        }
        result = Trainer(make_model(), ["out"], settings).fit(train, val)
        if result.status != "completed":
            raise RuntimeError(result.message)
        chosen[threads] = result.threads
        return result.samples_per_second

    return loop


chosen: dict[int | None, int] = {}  # the count each engine loop trained with


def measure(
    loops: dict[str, Callable[[torch.Tensor, torch.Tensor], float]], rounds: int
) -> dict[str, list[float]]:
    x, y = make_data(SAMPLES)
    rates: dict[str, list[float]] = {name: [] for name in loops}
    for number in range(1, rounds + 1):
        for name, loop in loops.items():
            rates[name].append(loop(x, y))
        line = "  ".join(f"{name} {rates[name][-1]:>9,.0f}" for name in loops)
        print(f"round {number}: {line}  samples/s", flush=True)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    default = torch.get_num_threads()  # torch's own choice: one per core
    loops = {"seeds (a)": seeds_loop, "tight (b)": tight_loop, "engine auto": engine_loop(None)}
    counts = [n for n in range(1, default + 1) if n == default or n & (n - 1) == 0]
    loops.update({f"engine {n}": engine_loop(n) for n in counts})
    rates = measure(loops, args.rounds)
    median = {name: statistics.median(values) for name, values in rates.items()}
    print(f"\ntorch {torch.__version__}; the loops (a), (b) on torch's {default} thread(s);")
    print(f"engine auto chose {chosen[None]} thread(s); medians of {args.rounds} rounds:")
    for name, value in median.items():
        print(f"  {name:<11} {value:>9,.0f} samples/s")
    auto = median["engine auto"]
    fixed = {name: value for name, value in median.items() if name[-1].isdigit()}
    best = max(fixed, key=fixed.__getitem__)
    print(f"engine auto / seeds (a)  = {auto / median['seeds (a)']:.2f}x  (target >= 2)")
    print(f"engine auto / tight (b)  = {auto / median['tight (b)']:.2f}x  (target >= 1)")
    print(f"engine auto / {best:<10} = {auto / fixed[best]:.2f}x  (the best fixed count)")


if __name__ == "__main__":
    main()
