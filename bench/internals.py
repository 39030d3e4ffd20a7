"""What recording the layers costs: training speed with the layer records at the default
interval (the `record_every` setting) against recording off, same run.

Run by hand:  python bench/internals.py [--rounds 5]

Models: the digits CNN preset (two 3x3 convolutions on 8x8 digits, batch 64) and the
ResNet-18 preset (11 million weights, 64x64 pictures, batch 32). Each round trains one
job of each model with recording on and one with it off, interleaved (these machines are
noisy; medians are reported). Samples per second are the trainer's own: training time
only, validation included, data loading not.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.document.presets import preset_path
from engine.document.project import load
from engine.document.settings import TRAINING_SCHEMA
from engine.training.job import prepare_job

DEFAULT_EVERY = next(p.default for p in TRAINING_SCHEMA if p.name == "record_every")
MODELS = {"digits_cnn": 3, "resnet18": 1}  # preset -> epochs per job


def samples_per_second(name: str, epochs: int, every: int) -> float:
    project = load(preset_path(name))
    training = {**project.training, "epochs": epochs, "record_every": every}
    job = prepare_job(project, training=training)
    result = job.run()
    if result.status != "completed":
        raise SystemExit(f"{name}: {result.message}")
    return result.samples_per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"recording every {DEFAULT_EVERY} batches against recording off")
    for name, epochs in MODELS.items():
        on, off = [], []
        for _ in range(args.rounds):
            off.append(samples_per_second(name, epochs, 0))
            on.append(samples_per_second(name, epochs, DEFAULT_EVERY))
        ratio = statistics.median(a / b for a, b in zip(on, off, strict=True))
        print(
            f"{name:12s} off {statistics.median(off):9,.0f} samples/s   "
            f"on {statistics.median(on):9,.0f} samples/s   on/off {ratio:.3f} "
            f"(median of {args.rounds} paired rounds)"
        )


if __name__ == "__main__":
    main()
