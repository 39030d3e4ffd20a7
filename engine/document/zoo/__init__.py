"""The model zoo: well-known architectures written as blocks, saved as presets.

`python -m engine.document.zoo FOLDER` writes each one as a project file (the repository's
`presets/` holds them); a test checks that those files are what this code writes.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.document.project import Project
from engine.document.settings import AUGMENT_SCHEMA, DATA_SCHEMA, defaults
from engine.document.zoo.builder import Builder
from engine.document.zoo.mobilenet import mobilenet_v2
from engine.document.zoo.resnet import resnet18

# A picture folder the app draws on first use, so that a zoo model trains offline.
SHAPES = {"kind": "image_folder", "generate": "shapes", "image_size": [64, 64], "grayscale": False}

# Published ImageNet-1k weights (torchvision's IMAGENET1K_V1); the name holds the first
# digits of the file's SHA-256, which the download checks.
WEIGHTS = {
    "resnet18": "https://download.pytorch.org/models/resnet18-f37072fd.pth",
    "mobilenet_v2": "https://download.pytorch.org/models/mobilenet_v2-b0353104.pth",
    "finetune_resnet18": "https://download.pytorch.org/models/resnet18-f37072fd.pth",
}
FROZEN_FOR_FINE_TUNING = ("conv1", "bn1", "layer1", "layer2", "layer3")
IMAGENET = {"normalize": "fixed", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}

ZOO: dict[str, tuple[Callable[[], Builder], str]] = {
    "resnet18": (
        resnet18,
        "torchvision's ResNet-18 (11,689,512 parameters with 1,000 classes; 1.81 G "
        "multiply-accumulates for a 224x224 picture), built from "
        "blocks with torchvision's module names, so its published ImageNet weights load "
        "into it. Here it learns the generated shapes folder at 64x64 from random weights; "
        "its last layer's size follows the data's classes.",
    ),
    "mobilenet_v2": (
        mobilenet_v2,
        "torchvision's MobileNetV2 (3,504,872 parameters with 1,000 classes; 0.30 G "
        "multiply-accumulates for a 224x224 picture): inverted "
        "residual blocks of depthwise convolutions, with torchvision's module names, so its "
        "published ImageNet weights load into it. Here it learns the generated shapes folder "
        "at 64x64 from random weights.",
    ),
    "finetune_resnet18": (
        resnet18,
        "Fine-tune ResNet-18 on an image folder: the stem and the first three stages are "
        "frozen, the last stage learns, and the new head (its classes follow the folder's) "
        "learns ten times faster. Choose File > Download Pretrained Weights first to start "
        "from torchvision's ImageNet weights; offline it trains from random weights, and "
        "says so when a run starts. Set the data path to your own folder of class folders.",
    ),
}


def zoo_project(name: str) -> Project:
    build, description = ZOO[name]
    project = Project(name=name, description=description, graph=build().done())
    project.data = {**defaults(DATA_SCHEMA + AUGMENT_SCHEMA), **SHAPES, **IMAGENET}
    project.pretrained = {
        "url": WEIGHTS[name],
        "about": "torchvision's ImageNet-1k weights (1,000 classes; the head is "
        "skipped when the data has other classes). Pictures are normalised with "
        "ImageNet's mean and std, as those weights expect.",
    }
    project.training.update(epochs=10, batch_size=64, optimizer="Adam", lr=0.001)
    if name.startswith("finetune"):
        project.training.update(epochs=5, skip_mismatched=True)
        for node in project.graph.nodes.values():
            node.frozen = node.label in FROZEN_FOR_FINE_TUNING
            node.lr_scale = 10.0 if node.label == "fc" else 1.0
    return project
