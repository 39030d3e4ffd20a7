"""How many intra-op threads a run trains with on the CPU.

torch starts with one thread per core, which suits big matrices. A small model's
kernels are too small to split: the threads spend each step waiting for each other. On
a two-core machine the digits MLP (batch 64) trained at 0.84x a hand-written loop on
two threads and at 1.18x on one. So the trainer estimates the work of one training
step (the matrix products and convolutions that `FlopCounterMode` counts in the forward
pass the run makes anyway to learn its outputs' shapes, per sample, times the batch,
times three for the backward pass) and gives the run one thread, and one more for each
further `WORK_PER_THREAD` operations, up to torch's count. Measured on two cores (median
step time, two threads against one): 1.4 and 5.7 MFLOP steps 1.07x and 0.97x, an 8.7
MFLOP convolution 1.00x, 15 and 23 MFLOP steps 0.68x and 0.77x, and 0.55-0.88x from 35
MFLOP up.

A rule from counted work, not a race of timed steps: the count changes the order of
torch's parallel sums, and a timed choice would differ from run to run with the
machine's load, so that the same seed would no longer give the same numbers. The
setting `threads` (empty: this rule) fixes the count instead; a resumed run keeps the
count it started with.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

WORK_PER_THREAD = 12e6  # floating-point operations per step that make a thread worth it
STEP_PER_FORWARD = 3  # a step: the forward pass, and the gradients of inputs and weights


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with `count` intra-op threads, then restore the previous number.

    With OpenMP the setting belongs to the calling thread, so enter this in the thread
    that trains.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def threads_for(sample_flops: float, batch: int, ceiling: int) -> int:
    """Threads for training steps of `batch` samples whose forward pass takes
    `sample_flops` operations per sample: one, and one more for each further
    `WORK_PER_THREAD` of a step, at most `ceiling`."""
    work = STEP_PER_FORWARD * sample_flops * batch
    return max(1, min(ceiling, 1 + int(work // WORK_PER_THREAD)))
