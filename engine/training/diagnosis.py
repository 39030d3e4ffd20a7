"""What the layer records of a run say is wrong, as a sentence pinned to the layer.

A record (engine.training.layer_records) is plain data, one per recorded batch:
  {"epoch": 3, "batch": 40, "step": 260, "layers": {node id: stats}}
where a layer's stats hold any of
  weight_norm, grad_norm, update_ratio   for a layer with weights; grad_norm is None
                                         when no gradient reached them, and
  no_gradient                            then says why: "frozen" or "no_path"
  mean, std                              of its output on the batch
  zeros                                  the fraction of exact zeros, for ReLU-like layers

Each warning is a sentence whose words before the first colon name the finding
("vanishing gradient: ..."), short enough to show on the node.

`Diagnosis` reads the records in order. A finding must hold in `PERSIST` records in a row
(one bad batch is not a trend), and is withdrawn when it stops holding:
  vanishing gradient   the gradient's norm below VANISHING times the weights' norm
  exploding gradient   above EXPLODING times the weights' norm, or not finite
  dead units           more than DEAD of a ReLU's outputs exactly zero
  update ratio         the optimizer's step, over the weights' norm, outside
                       [LOW_UPDATE, HIGH_UPDATE] (healthy is about 1e-3)
A layer no gradient reaches is reported as such (frozen layers are meant to be), never as
a vanishing gradient. The thresholds were chosen on the presets, which trigger none of
them, against runs with a learning rate of 10 and a stack of 12 sigmoid layers.

Nothing here needs torch: the app reads records and findings without it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

Record = dict[str, Any]

RECTIFIERS = frozenset({"ReLU", "ReLU6"})  # layers whose exact zeros mean dead units
PERSIST = 3
VANISHING = 1e-5
EXPLODING = 10.0
DEAD = 0.9
LOW_UPDATE, HIGH_UPDATE = 1e-5, 3e-2


class Diagnosis:
    """The findings of the records added so far; `labels` name the layers."""

    def __init__(self, labels: dict[str, str]):
        self.labels = labels
        self._streaks: dict[tuple[str, str], int] = defaultdict(int)
        self._latest: dict[tuple[str, str], str] = {}
        self.no_gradient: dict[str, str] = {}  # node -> "frozen" / "no_path"

    def add(self, record: Record) -> None:
        found = {}
        for node_id, stats in record["layers"].items():
            for kind, sentence in _findings(stats):
                found[(node_id, kind)] = sentence
            if stats.get("no_gradient"):
                self.no_gradient[node_id] = stats["no_gradient"]
            else:
                self.no_gradient.pop(node_id, None)
        for key in list(self._streaks):
            if key not in found:
                del self._streaks[key]
                self._latest.pop(key, None)
        for key, sentence in found.items():
            self._streaks[key] += 1
            self._latest[key] = sentence

    def warnings(self) -> dict[str, list[str]]:
        """node id -> its findings that have held for `PERSIST` records in a row, and a
        note for each layer no gradient reaches though it should train."""
        out: dict[str, list[str]] = defaultdict(list)
        for (node_id, _), count in self._streaks.items():
            if count >= PERSIST:
                out[node_id].append(self._latest[(node_id, _)])
        for node_id, why in self.no_gradient.items():
            if why == "no_path":
                out[node_id].append(NO_PATH)
        return dict(out)

    def lines(self) -> list[str]:
        """Every warning as "'conv1': sentence", for a terminal or a summary."""
        return [
            f"{self.labels.get(node_id, node_id)!r}: {sentence}"
            for node_id, sentences in self.warnings().items()
            for sentence in sentences
        ]


NO_PATH = (
    "no gradient: its output does not lead to the loss (or is multiplied by zero), so its "
    "weights never change"
)


def gradient_state(stats: dict[str, Any]) -> str | None:
    """How a layer's gradient is shown when it has none: "frozen" or "no gradient"."""
    why = stats.get("no_gradient")
    return {"frozen": "frozen", "no_path": "no gradient"}.get(why) if why else None


def _findings(stats: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    norm, grad = stats.get("weight_norm"), stats.get("grad_norm")
    if grad is not None and norm:
        ratio = grad / norm
        if not math.isfinite(grad) or ratio > EXPLODING:
            found.append(("exploding", _exploding(grad, ratio)))
        elif ratio < VANISHING:
            found.append(("vanishing", _vanishing(grad, ratio)))
    zeros = stats.get("zeros")
    if zeros is not None and zeros > DEAD:
        found.append(("dead", _dead(zeros)))
    update = stats.get("update_ratio")
    vanishing = any(kind == "vanishing" for kind, _ in found)  # the cause, not the rate
    if update is not None and math.isfinite(update) and update > 0 and not vanishing:
        if update > HIGH_UPDATE:
            found.append(("update", _update(update, "high")))
        elif update < LOW_UPDATE:
            found.append(("update", _update(update, "low")))
    return found


def _vanishing(grad: float, ratio: float) -> str:
    return (
        f"vanishing gradient: its gradient's norm is {grad:.1e}, {ratio:.0e} of its weights', "
        "so it barely learns; saturating activations (sigmoid, tanh) in a deep stack do "
        "this: try ReLU, BatchNorm or a residual connection"
    )


def _exploding(grad: float, ratio: float) -> str:
    size = f"{grad:.1e}, {ratio:.0f} times its weights'" if math.isfinite(grad) else "not finite"
    return (
        f"exploding gradient: its gradient's norm is {size}; lower the learning rate or "
        "clip the gradient (grad_clip)"
    )


def _dead(zeros: float) -> str:
    return (
        f"dead units: {zeros:.0%} of its outputs are exactly zero, and get no gradient; "
        "a lower learning rate, LeakyReLU or BatchNorm before it can bring them back"
    )


def _update(update: float, way: str) -> str:
    advice = "lower it" if way == "high" else "raise it, or it learns slowly"
    return (
        f"learning rate too {way} for it: each step changes its weights by {update:.0e} of "
        f"their size, far from the healthy 1e-3; {advice}"
    )
