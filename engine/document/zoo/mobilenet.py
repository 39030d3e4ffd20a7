"""MobileNetV2 (Sandler et al., 2018) as blocks, named as torchvision names its modules
(`features.3.conv.1.0.weight`, `classifier.1.weight`), so that its published weights
load with `strict=True`."""

from __future__ import annotations

from engine.document.blocks import BlockType
from engine.document.zoo.builder import Builder, block

# (expansion, output channels, blocks, stride of the first) per stage, as in the paper.
STAGES = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
FIRST, LAST = 32, 1280
NO_BIAS = {"bias": False}


def conv_bn_relu6() -> BlockType:
    def body(b: Builder) -> None:
        b("Conv2d", "conv", out_channels=32, kernel_size=3, padding=1, **NO_BIAS)
        b("BatchNorm2d", "bn")
        b("ReLU6", "relu6")

    targets = {
        name: (default, [f"conv.{name}"])
        for name, default in (
            ("out_channels", 32),
            ("kernel_size", 3),
            ("stride", 1),
            ("padding", 1),
            ("groups", 1),
        )
    }
    return block(
        "ConvBNReLU6", body, targets, sequential=True, summary="Convolution, batch norm and ReLU6."
    )


def _project(b: Builder) -> None:
    b("Conv2d", "project", out_channels=16, kernel_size=1, **NO_BIAS)
    b("BatchNorm2d", "bn")


def depthwise_separable(cbr: BlockType) -> BlockType:
    def body(b: Builder) -> None:
        b(cbr, "depthwise", out_channels=32, groups=None)
        _project(b)

    params = {
        "channels": (32, ["depthwise.out_channels"]),
        "out_channels": (16, ["project.out_channels"]),
        "stride": (1, ["depthwise.stride"]),
    }
    return block(
        "DepthwiseSeparable",
        body,
        params,
        sequential=True,
        summary="A 3x3 depthwise convolution, then a 1x1 projection.",
    )


def expanded(cbr: BlockType) -> BlockType:
    def body(b: Builder) -> None:
        b(cbr, "expand", out_channels=96, kernel_size=1, padding=0)
        b(cbr, "depthwise", out_channels=96, groups=None)
        _project(b)

    params = {
        "hidden": (96, ["expand.out_channels", "depthwise.out_channels"]),
        "out_channels": (24, ["project.out_channels"]),
        "stride": (1, ["depthwise.stride"]),
    }
    return block(
        "Expanded",
        body,
        params,
        sequential=True,
        summary="A 1x1 expansion, a 3x3 depthwise convolution and a 1x1 projection.",
    )


def inverted_residual(inner: BlockType, name: str, skip: bool) -> BlockType:
    def body(b: Builder) -> None:
        b(inner, "conv")
        if skip:
            b("Add", "add", inputs=[b.last, b.ids["x"]])

    params = {p.name: (p.default, [f"conv.{p.name}"]) for p in inner.params}
    if skip:
        params.pop("stride")
    what = "adding its input back" if skip else "with no shortcut"
    return block(name, body, params, summary=f"An inverted residual block, {what}.")


def mobilenet_v2() -> Builder:
    cbr = conv_bn_relu6()
    first = inverted_residual(depthwise_separable(cbr), "DepthwiseBlock", skip=False)
    plain = inverted_residual(expanded(cbr), "InvertedResidual", skip=False)
    skipping = inverted_residual(expanded(cbr), "InvertedResidualSkip", skip=True)

    def features(b: Builder) -> None:
        b(cbr, "stem", out_channels=FIRST, stride=2)
        channels = FIRST
        for expansion, out, count, stride in STAGES:
            for i in range(count):
                step = stride if i == 0 else 1
                hidden = channels * expansion
                if expansion == 1:
                    b(first, channels=hidden, out_channels=out, stride=step)
                elif step == 1 and channels == out:
                    b(skipping, hidden=hidden, out_channels=out)
                else:
                    b(plain, hidden=hidden, out_channels=out, stride=step)
                channels = out
        b(cbr, "head", out_channels=LAST, kernel_size=1, padding=0)

    def classifier(b: Builder) -> None:
        b("Dropout", "dropout", p=0.2)
        b("Linear", "fc", out_features=10)

    stack = block("Features", features, sequential=True, summary="MobileNetV2's layers.")
    head = block(
        "Classifier",
        classifier,
        {"out_features": (None, ["fc.out_features"])},
        sequential=True,
        summary="Dropout, then the last Linear layer.",
    )
    b = Builder()
    b("Input", "x", inputs=[])
    b(stack, "features")
    b("AdaptiveAvgPool2d", "pool", output_size=1)
    b("Flatten", "flatten")
    b(head, "classifier")
    b("Output", "out")
    return b
