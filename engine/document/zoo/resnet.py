"""ResNet-18 (He et al., 2015) as blocks, named as torchvision names its modules, so that
the generated class's `state_dict` has torchvision's keys (`layer2.0.downsample.0.weight`)
and its published weights load with `strict=True`."""

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


def stages() -> tuple[BlockType, BlockType]:
    """(the first stage: two BasicBlocks; a later one: a BasicBlockDown and a BasicBlock)."""
    plain = basic_block()
    down = basic_block_down(downsample())

    def stage(name: str, first: BlockType, channels: int, summary: str) -> BlockType:
        def body(b: Builder) -> None:
            b(first, "block1", channels=channels)
            b(plain, "block2", channels=channels)

        targets = ["block1.channels", "block2.channels"]
        return block(name, body, {"channels": (channels, targets)}, True, summary)

    return (
        stage("Stage", plain, 64, "Two BasicBlocks."),
        stage("DownStage", down, 128, "A BasicBlockDown, then a BasicBlock."),
    )


def resnet18() -> Builder:
    stage, down_stage = stages()
    b = Builder()
    b("Input", "x", inputs=[])
    b("Conv2d", "conv1", out_channels=64, kernel_size=7, stride=2, padding=3, **NO_BIAS)
    b("BatchNorm2d", "bn1")
    b("ReLU", "relu")
    b("MaxPool2d", "maxpool", kernel_size=3, stride=2, padding=1)
    b(stage, "layer1", channels=64)
    for number, channels in ((2, 128), (3, 256), (4, 512)):
        b(down_stage, f"layer{number}", channels=channels)
    b("AdaptiveAvgPool2d", "avgpool", output_size=1)
    b("Flatten", "flatten")
    b("Linear", "fc", out_features=None)
    b("Output", "out")
    return b
