"""ResNet-18 and ResNet-34 (He et al., 2015) as blocks, named as torchvision names its
modules, so that the generated class's `state_dict` has torchvision's keys
(`layer2.0.downsample.0.weight`) and its published weights load with `strict=True`."""

from __future__ import annotations

from engine.document.blocks import BlockType
from engine.document.zoo.builder import Builder, block

NO_BIAS = {"bias": False}


def _two_convs(b: Builder) -> None:
    b("Conv2d", "conv1", out_channels=64, kernel_size=3, padding=1, **NO_BIAS)
    b("BatchNorm2d", "bn1")
    b("ReLU", "relu")
    b("Conv2d", "conv2", out_channels=64, kernel_size=3, padding=1, **NO_BIAS)
    b("BatchNorm2d", "bn2")


def basic_block() -> BlockType:
    def body(b: Builder) -> None:
        _two_convs(b)
        b("Add", "add", inputs=[b.last, b.ids["x"]])
        b("ReLU", "relu2")

    return block(
        "BasicBlock",
        body,
        {"channels": (64, ["conv1.out_channels", "conv2.out_channels"])},
        summary="Two 3x3 convolutions and a shortcut that adds the input back.",
    )


def downsample() -> BlockType:
    def body(b: Builder) -> None:
        b("Conv2d", "conv", out_channels=128, kernel_size=1, stride=2, **NO_BIAS)
        b("BatchNorm2d", "bn")

    return block(
        "Downsample",
        body,
        {"out_channels": (128, ["conv.out_channels"]), "stride": (2, ["conv.stride"])},
        sequential=True,
        summary="A 1x1 convolution that matches the shortcut to a block's new shape.",
    )


def basic_block_down(projection: BlockType) -> BlockType:
    def body(b: Builder) -> None:
        _two_convs(b)
        main = b.last
        b(projection, "downsample", inputs=[b.ids["x"]])
        b("Add", "add", inputs=[main, b.last])
        b("ReLU", "relu2")

    return block(
        "BasicBlockDown",
        body,
        {
            "channels": (
                128,
                ["conv1.out_channels", "conv2.out_channels", "downsample.out_channels"],
            ),
            "stride": (2, ["conv1.stride", "downsample.stride"]),
        },
        summary="A BasicBlock that changes the channels and halves the size; its shortcut "
        "goes through a Downsample.",
    )


def _stage(first: BlockType, plain: BlockType, count: int, channels: int) -> BlockType:
    """A stage: `first`, then count - 1 BasicBlocks, all with `channels` channels."""
    down = first is not plain

    def body(b: Builder) -> None:
        for number in range(1, count + 1):
            b(first if number == 1 else plain, f"block{number}", channels=channels)

    targets = [f"block{number}.channels" for number in range(1, count + 1)]
    plains = f"{count - down} BasicBlock{'s' * (count - down != 1)}"
    summary = f"A BasicBlockDown, then {plains}." if down else f"{plains}."
    name = f"{'DownStage' if down else 'Stage'}{count}"
    return block(name, body, {"channels": (channels, targets)}, True, summary)


def resnet(counts: tuple[int, int, int, int]) -> Builder:
    """torchvision's ResNet of BasicBlocks with `counts` blocks per stage (18: 2, 2, 2, 2;
    34: 3, 4, 6, 3)."""
    plain = basic_block()
    down = basic_block_down(downsample())
    made: dict[tuple[bool, int], BlockType] = {}
    b = Builder()
    b("Input", "x", inputs=[])
    b("Conv2d", "conv1", out_channels=64, kernel_size=7, stride=2, padding=3, **NO_BIAS)
    b("BatchNorm2d", "bn1")
    b("ReLU", "relu")
    b("MaxPool2d", "maxpool", kernel_size=3, stride=2, padding=1)
    for number, (count, channels) in enumerate(zip(counts, (64, 128, 256, 512), strict=True)):
        first = plain if number == 0 else down
        key = (first is down, count)
        if key not in made:
            made[key] = _stage(first, plain, count, channels)
        b(made[key], f"layer{number + 1}", channels=channels)
    b("AdaptiveAvgPool2d", "avgpool", output_size=1)
    b("Flatten", "flatten")
    b("Linear", "fc", out_features=None)
    b("Output", "out")
    return b


def resnet18() -> Builder:
    return resnet((2, 2, 2, 2))


def resnet34() -> Builder:
    return resnet((3, 4, 6, 3))
