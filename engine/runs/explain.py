"""Why a trained model predicts what it does for one sample: saliency and Grad-CAM for
pictures, gradient x input for other samples.

Each explains one score of one output (`output`, the first by default): its value
`target_index`, or when that is None its largest value (the predicted class's score; a
one-value output, a regression's value or a binary logit, is its own score).

Gradients come from `torch.autograd.grad` with respect to a copy of the sample that
requires grad: nothing is added to the parameters' `.grad`, no `requires_grad` changes,
and frozen layers pass gradients all the same. The module runs in eval mode and is left
in the mode it was in. Forward hooks (Grad-CAM's, and those that list the layers) are
installed for one call, removed in a `finally`, and record only the forward of the
thread that installed them: another thread may be predicting with the same module.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.data.pictures import ImageLayout, image_layout
from engine.errors import USER_CODE_ERRORS, UserError
from engine.model.failures import ModelRuntimeError, failure

if TYPE_CHECKING:
    from engine.runs.evaluation import TrainedModel
    from engine.training.losses import OutputLoss

CONV_TYPES = (nn.Conv2d, nn.ConvTranspose2d)


class ExplainError(UserError):
    """This sample or this model cannot be explained this way; the message says why."""


# --- the three explanations -------------------------------------------------------------


def saliency(
    module: nn.Module, x: torch.Tensor, target_index: int | None = None, output: int = 0
) -> torch.Tensor:
    """|d score / d input| for one picture x [1, *shape]: the largest over its channels,
    [H, W], divided by its maximum (0..1)."""
    layout = _picture(x)
    gradient = _input_gradient(module, x, target_index, output).abs()
    return _over_max(gradient.reshape(layout.channels, layout.height, layout.width).amax(0))


def grad_cam(
    module: nn.Module,
    x: torch.Tensor,
    layer: str | None = None,
    target_index: int | None = None,
    output: int = 0,
) -> torch.Tensor:
    """Grad-CAM of one picture x [1, *shape] on the submodule `layer` (an attribute path,
    as `picture_layers` lists them; None: the last of them): the ReLU of the layer's
    channels summed, each weighted by the mean of the score's gradient over it, enlarged
    (bilinear) to the picture's [H, W] and divided by its maximum (0..1)."""
    layout = _picture(x)
    layer = layer or _last_picture_layer(module, x)
    submodule = _submodule(module, layer)
    seen: list[torch.Tensor] = []
    with _evaluating(module), _recording({layer: submodule}, lambda _, out: seen.append(out)):
        sample = _sample(module, x).requires_grad_(True)
        score = _score(_forward(module, sample), target_index, output)
    if not seen or seen[-1].dim() != 4:
        shape = f"[{', '.join(map(str, seen[-1].shape[1:]))}]" if seen else "nothing"
        raise ExplainError(
            f"Grad-CAM needs a layer whose output is a picture [C, H, W]: layer {layer!r}"
            f" gives {shape} for this sample."
        )
    activation = seen[-1]
    gradient = _gradient(score, activation, f"layer {layer!r}")
    weights = gradient.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * activation).sum(dim=1, keepdim=True)).detach()
    size = (layout.height, layout.width)
    return _over_max(F.interpolate(cam, size=size, mode="bilinear", align_corners=False)[0, 0])


def gradient_x_input(
    module: nn.Module, x: torch.Tensor, target_index: int | None = None, output: int = 0
) -> torch.Tensor:
    """d score / d input times the input, signed, in the shape of one sample of x
    [1, *shape]. x as the model takes it: after normalisation a feature at its mean
    contributes nothing."""
    return _input_gradient(module, x, target_index, output) * x[0].detach().cpu()


def picture_layers(module: nn.Module, x: torch.Tensor) -> list[str]:
    """The attributes of the module's layers that hold a convolution and give a picture
    [C, H, W] for x [1, *shape] (conv layers, blocks), in the order they run."""
    _floating(x)
    holders = {
        name: child
        for name, child in module.named_children()
        if any(isinstance(inner, CONV_TYPES) for inner in child.modules())
    }
    found: dict[str, None] = {}

    def keep(name: str, out: torch.Tensor) -> None:
        if out.dim() == 4:
            found[name] = None

    with torch.no_grad(), _evaluating(module), _recording(holders, keep):
        _forward(module, _sample(module, x))
    return list(found)


# --- for Try It -------------------------------------------------------------------------


@dataclass(frozen=True)
class Explanation:
    """heat: [H, W] 0..1 for a picture, and for Grad-CAM the `layers` it could use and the
    `layer` it used; features: (name, gradient x input) of each value of another sample."""

    heat: np.ndarray | None = None
    layers: list[str] = field(default_factory=list)
    layer: str | None = None
    features: list[tuple[str, float]] = field(default_factory=list)


def explain(
    model: TrainedModel,
    x: torch.Tensor,
    output: int = 0,
    cam: bool = False,
    layer: str | None = None,
) -> Explanation:
    """The explanation of output number `output` for one sample x [1, *input_shape]:
    for pictures saliency, or with `cam` Grad-CAM on `layer` (None: the last picture
    layer); gradient x input for other samples."""
    target = explained_index(model.outputs[output])
    module = model.module
    if model.image is None:
        values = gradient_x_input(module, x, target, output).reshape(-1)
        names = feature_names(model.data.feature_names, len(values))
        return Explanation(features=list(zip(names, values.tolist(), strict=True)))
    if not cam:
        return Explanation(heat=saliency(module, x, target, output).numpy())
    layers = picture_layers(module, x)
    layer = layer or _last(layers)
    heat = grad_cam(module, x, layer, target, output).numpy()
    return Explanation(heat=heat, layers=layers, layer=layer)


def explained_index(spec: OutputLoss) -> int | None:
    """Which value of an output is explained: a regression's first; None (the largest,
    the predicted class's) for classes."""
    return 0 if spec.kind == "regression" else None


def feature_names(names: list[str] | None, count: int) -> list[str]:
    """The data's names of a sample's `count` values, or x0, x1... when it has none."""
    if names is not None and len(names) == count:
        return [str(name) for name in names]
    return [f"x{i}" for i in range(count)]


# --- running ----------------------------------------------------------------------------


def _input_gradient(
    module: nn.Module, x: torch.Tensor, target_index: int | None, output: int
) -> torch.Tensor:
    _floating(x)
    with _evaluating(module):
        sample = _sample(module, x).requires_grad_(True)
        score = _score(_forward(module, sample), target_index, output)
    return _gradient(score, sample, "the input")[0].cpu()


def _floating(x: torch.Tensor) -> None:
    if not x.is_floating_point():
        raise ExplainError(
            f"This model's input is {str(x.dtype).removeprefix('torch.')} ids (words of a"
            " text, say), not values that can be nudged: saliency and gradients do not"
            " apply to it."
        )


def _picture(x: torch.Tensor) -> ImageLayout:
    _floating(x)
    layout = image_layout(x.shape[1:])
    if layout is None:
        raise ExplainError(
            f"A sample of shape {list(x.shape[1:])} is not a picture: saliency and Grad-CAM"
            " explain pictures; gradient x input explains other samples."
        )
    return layout


def _sample(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """A copy of x on the module's device, detached from anything x came from."""
    tensor = next(module.parameters(), None)
    device = torch.device("cpu") if tensor is None else tensor.device
    return x.detach().to(device, copy=True)


def _forward(module: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    try:
        out = module(x)
    except USER_CODE_ERRORS as exc:
        raise failure(exc).error(ModelRuntimeError, "the model fails on this sample") from exc
    return tuple(out) if isinstance(out, tuple | list) else (out,)


def _score(
    outputs: tuple[torch.Tensor, ...], target_index: int | None, output: int
) -> torch.Tensor:
    values = outputs[output][0].reshape(-1)
    index = int(values.argmax()) if target_index is None else target_index
    return values[index]


def _gradient(score: torch.Tensor, of: torch.Tensor, what: str) -> torch.Tensor:
    if score.requires_grad:
        [gradient] = torch.autograd.grad(score, [of], allow_unused=True)
        if gradient is not None:
            return gradient
    raise ExplainError(
        f"The explained score has no gradient with respect to {what}: the output does not"
        " depend on it, or a layer between them does not pass gradients."
    )


def _over_max(heat: torch.Tensor) -> torch.Tensor:
    heat = heat.detach().float().cpu()
    top = float(heat.max())
    return heat / top if top > 0 else torch.zeros_like(heat)


def _last_picture_layer(module: nn.Module, x: torch.Tensor) -> str:
    return _last(picture_layers(module, x))


def _last(layers: list[str]) -> str:
    if not layers:
        raise ExplainError(
            "Grad-CAM needs a convolutional layer whose output is a picture [C, H, W]:"
            " this model has none. Saliency explains any picture model."
        )
    return layers[-1]


def _submodule(module: nn.Module, layer: str) -> nn.Module:
    try:
        return module.get_submodule(layer)
    except AttributeError:
        raise ExplainError(f"The model has no layer {layer!r} to explain with.") from None


@contextmanager
def _evaluating(module: nn.Module) -> Iterator[None]:
    was_training = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(was_training)


@contextmanager
def _recording(
    modules: dict[str, nn.Module], record: Callable[[str, torch.Tensor], None]
) -> Iterator[None]:
    """`record(name, output)` for each forward of these modules in this thread."""
    thread = threading.get_ident()

    def hook(name: str) -> Callable[..., None]:
        def call(_module: nn.Module, _inputs: object, out: object) -> None:
            if threading.get_ident() == thread and isinstance(out, torch.Tensor):
                record(name, out)

        return call

    handles = [m.register_forward_hook(hook(name)) for name, m in modules.items()]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
