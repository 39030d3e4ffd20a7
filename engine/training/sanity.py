"""The loss an untrained model starts from, beside the loss it should start from.

Before the first step, the run's probe forward pass (engine.training.setup: eval mode,
no gradients, the first training batch's samples; the pass that learns the outputs'
shapes, so no extra pass runs the model) gives the first batch's loss. An untrained
network's outputs are small, so its loss should be about chance:
  CrossEntropyLoss, NLLLoss on C classes   ln C (every class equally likely)
  BCELoss, BCEWithLogitsLoss               ln 2 (a coin toss)
  MSELoss                                  the mean square of the batch's targets
  L1Loss                                   their mean absolute value
  SmoothL1Loss, HuberLoss                  their mean Huber loss (delta 1) from 0
An initial loss several times that says the outputs start large (a last layer too wide
or too strongly initialised, or inputs left unscaled), before a run is spent on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F

FAR = 3.0  # an initial loss this many times the expected one (or less than 1/FAR) is off


@dataclass(frozen=True)
class InitialLoss:
    """One output's loss on the first batch before training, and what chance gives."""

    label: str
    loss: float
    expected: float
    why: str  # "ln 10: 10 classes at chance": the formula (if any), then the reason

    @property
    def far_off(self) -> bool:
        if not math.isfinite(self.loss):
            return True
        if self.expected <= 0:
            return False
        return not 1 / FAR <= self.loss / self.expected <= FAR

    def text(self) -> str:
        """E.g. "initial loss 2.31, expected about ln 10 = 2.30 (10 classes at chance)"."""
        formula, _, reason = self.why.rpartition(": ")
        expected = f"{formula} = {self.expected:#.3g}" if formula else f"{self.expected:#.3g}"
        line = f"initial loss {self.loss:#.3g}, expected about {expected} ({reason})"
        if self.far_off:
            line += (
                "; far from it: the untrained outputs are not small (look at the last "
                "layer's size and activation, and whether the inputs are scaled)"
            )
        return line

    def as_dict(self) -> dict:
        return {"label": self.label, "loss": self.loss, "expected": self.expected, "why": self.why}


def initial_losses(
    specs: list, outputs: list[torch.Tensor], targets: list[torch.Tensor]
) -> list[dict]:
    """Each output's loss on `targets` (its `OutputLoss` in `specs`), beside chance."""
    entries = []
    for spec, output, target in zip(specs, outputs, targets, strict=True):
        with torch.no_grad():
            loss = float(spec.fn(output, target)) if len(target) else float("nan")
        expected, why = expected_loss(spec.loss, spec.kind, spec.classes, target)
        entries.append(InitialLoss(spec.label, loss, expected, why).as_dict())
    return entries


def initial_loss_lines(entries: list[dict]) -> list[str]:
    """The plan's "initial_loss" entries as lines, named by output when there are
    several."""
    losses = [InitialLoss(**entry) for entry in entries]
    if len(losses) == 1:
        return [losses[0].text()]
    return [f"{loss.label}: {loss.text()}" for loss in losses]


def expected_loss(loss: str, kind: str, classes: int, targets: torch.Tensor) -> tuple[float, str]:
    """(the loss at chance, why) for an output trained with `loss` on `targets`."""
    if kind == "classes":
        return math.log(classes), f"ln {classes}: {classes} classes at chance"
    if kind == "binary":
        return math.log(2), "ln 2: a coin toss"
    values = targets.float()
    if loss == "MSELoss":
        return float((values**2).mean()), "the targets' mean square, outputs near 0"
    if loss == "L1Loss":
        return float(values.abs().mean()), "the targets' mean absolute value, outputs near 0"
    huber = F.huber_loss(torch.zeros_like(values), values, delta=1.0)
    return float(huber), "the targets' mean Huber loss from 0, outputs near 0"
