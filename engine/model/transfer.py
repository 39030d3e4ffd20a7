"""Starting a model from pretrained weights, with a report by layer of what loaded.

A file may be a whole model's weights (torchvision's published ones), a checkpoint wrapped
by DistributedDataParallel ("module." before each key) or any state_dict: the tensors whose
name and shape fit load, the model's other tensors keep their initial values, and the
file's other tensors are left out. Tensors of the right name but another shape (a head
trained for 1,000 classes, where the data has 10) stop the load unless the user asked to
skip them. Nothing is unpickled (engine.model.weights_file).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

from engine.model.tuning import fitting, unwrapped
from engine.model.weights_file import WeightsError, read_weights

SKIP_HINT = "skip the layers whose shapes differ (the model's head, usually) to load the rest"


@dataclass
class WeightsReport:
    """What loading a weights file did, tensor by tensor."""

    source: str
    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # the model's, kept as initialised
    unexpected: list[str] = field(default_factory=list)  # the file's, left out
    mismatched: list[tuple[str, tuple, tuple]] = field(default_factory=list)  # skipped
    prefix: str = ""  # taken off the file's keys

    def by_layer(self) -> dict[str, Counter]:
        """Submodule of the model (the key's first part) -> counts of loaded, missing,
        unexpected and mismatched tensors."""
        layers: dict[str, Counter] = {}
        groups = (
            ("loaded", self.loaded),
            ("missing", self.missing),
            ("unexpected", self.unexpected),
            ("mismatched", [key for key, _, _ in self.mismatched]),
        )
        for what, keys in groups:
            for key in keys:
                layers.setdefault(key.split(".")[0], Counter())[what] += 1
        return layers

    def lines(self) -> list[str]:
        """The report in sentences, the summary first."""
        total = len(self.loaded) + len(self.missing) + len(self.mismatched)
        lines = [f"loaded {len(self.loaded)} of the model's {total} tensors from {self.source}"]
        if self.prefix:
            lines.append(f"the file's keys start with {self.prefix!r}, taken off")
        for key, theirs, ours in self.mismatched:
            lines.append(f"skipped {key}: {list(theirs)} in the file, {list(ours)} in the model")
        for layer, counts in self.by_layer().items():
            if counts["missing"]:
                lines.append(
                    f"{layer}: {counts['missing']} tensor(s) not in the file, left as initialised"
                )
        if self.unexpected:
            more = f" (and {len(self.unexpected) - 1} more)" if len(self.unexpected) > 1 else ""
            lines.append(f"the file's {self.unexpected[0]!r}{more} fit no layer: left out")
        return lines


def start_from(
    module: nn.Module, path: str | os.PathLike, skip_mismatched: bool = False
) -> WeightsReport:
    """Load what fits of a weights file into `module`. Raises WeightsError when nothing
    fits, when a tensor is not finite, or when shapes differ and `skip_mismatched` is off."""
    source = Path(path)
    expected = module.state_dict()
    weights, prefix = unwrapped(read_weights(source), expected)
    fit, missing, unexpected, mismatched = fitting(weights, expected)
    name = str(source)
    if not fit:
        theirs = ", ".join(repr(k) for k in list(weights)[:3]) or "nothing"
        ours = ", ".join(repr(k) for k in list(expected)[:3])
        raise WeightsError(
            f"none of the tensors in {name!r} fit the model: the file holds {theirs}..., the "
            f"model needs {ours}..."
        )
    if mismatched and not skip_mismatched:
        key, theirs, ours = mismatched[0]
        more = f" (and {len(mismatched) - 1} more)" if len(mismatched) > 1 else ""
        raise WeightsError(
            f"{key!r}{more} is {list(theirs)} in {name!r} but {list(ours)} in the model: "
            f"{SKIP_HINT}"
        )
    for key, tensor in fit.items():
        if (tensor.is_floating_point() or tensor.is_complex()) and not tensor.isfinite().all():
            raise WeightsError(f"the weights in {name!r} are not all finite: {key!r}")
    module.load_state_dict(fit, strict=False)
    return WeightsReport(name, list(fit), missing, unexpected, mismatched, prefix)
