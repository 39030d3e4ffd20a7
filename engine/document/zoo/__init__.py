"""The model zoo: well-known architectures written as blocks, saved as presets.

`python -m engine.document.zoo FOLDER` writes each one as a project file (the repository's
`presets/` holds them); a test checks that those files are what this code writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.document.project import Project
from engine.document.settings import AUGMENT_SCHEMA, DATA_SCHEMA, defaults
from engine.document.zoo.builder import Builder
from engine.document.zoo.mobilenet import mobilenet_v2
from engine.document.zoo.resnet import resnet18, resnet34
from engine.document.zoo.transformers import text_transformer, vit_tiny

# A picture folder the app draws on first use, so that a zoo model trains offline.
SHAPES = {"kind": "image_folder", "generate": "shapes", "image_size": [64, 64], "grayscale": False}
IMAGENET = {"normalize": "fixed", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
REVIEWS = {
    "kind": "text",
    "path": "data/reviews.csv",
    "target": "label",
    "text_column": "text",
    "vocab_size": 5000,
    "min_freq": 2,
    "max_length": 40,
}
# Published ImageNet-1k weights (torchvision's IMAGENET1K_V1); the name holds the first
# digits of the file's SHA-256, which the download checks.
TORCHVISION = "https://download.pytorch.org/models/"
ABOUT_IMAGENET = (
    "torchvision's ImageNet-1k weights (1,000 classes; the head is skipped when the data "
    "has other classes). Pictures are normalised with ImageNet's mean and std, as those "
    "weights expect."
)
FROZEN_FOR_FINE_TUNING = ("conv1", "bn1", "layer1", "layer2", "layer3")
TRAINING = {"epochs": 10, "batch_size": 64, "optimizer": "Adam", "lr": 0.001}


@dataclass(frozen=True)
class Entry:
    build: Callable[[], Builder]
    description: str
    data: dict[str, Any] = field(default_factory=lambda: {**SHAPES, **IMAGENET})
    training: dict[str, Any] = field(default_factory=dict)
    weights: str = ""  # the file name of torchvision's published weights
    frozen: tuple[str, ...] = ()
    faster: tuple[str, ...] = ()  # layers at ten times the learning rate


ZOO: dict[str, Entry] = {
    "resnet18": Entry(
        resnet18,
        "torchvision's ResNet-18 (11,689,512 parameters with 1,000 classes; 1.81 G "
        "multiply-accumulates for a 224x224 picture), built from blocks with torchvision's "
        "module names, so its published ImageNet weights load into it. Here it learns the "
        "generated shapes folder at 64x64 from random weights; its last layer's size "
        "follows the data's classes.",
        weights="resnet18-f37072fd.pth",
    ),
    "resnet34": Entry(
        resnet34,
        "torchvision's ResNet-34 (21,797,672 parameters with 1,000 classes; 3.66 G "
        "multiply-accumulates for a 224x224 picture): stages of 3, 4, 6 and 3 BasicBlocks, "
        "with torchvision's module names, so its published ImageNet weights load into it.",
        weights="resnet34-b627a593.pth",
    ),
    "mobilenet_v2": Entry(
        mobilenet_v2,
        "torchvision's MobileNetV2 (3,504,872 parameters with 1,000 classes; 0.30 G "
        "multiply-accumulates for a 224x224 picture): inverted residual blocks of depthwise "
        "convolutions, with torchvision's module names, so its published ImageNet weights "
        "load into it. Here it learns the generated shapes folder at 64x64 from random "
        "weights.",
        weights="mobilenet_v2-b0353104.pth",
    ),
    "finetune_resnet18": Entry(
        resnet18,
        "Fine-tune ResNet-18 on an image folder: the stem and the first three stages are "
        "frozen, the last stage learns, and the new head (its classes follow the folder's) "
        "learns ten times faster. Choose File > Download Pretrained Weights first to start "
        "from torchvision's ImageNet weights; offline it trains from random weights, and "
        "says so when a run starts. Set the data path to your own folder of class folders.",
        training={"epochs": 5, "skip_mismatched": True},
        weights="resnet18-f37072fd.pth",
        frozen=FROZEN_FOR_FINE_TUNING,
        faster=("fc",),
    ),
    "vit_tiny": Entry(
        vit_tiny,
        "A small Vision Transformer: 4x4-pixel patches of a 32x32 picture embedded by a "
        "convolution, a class token and learned positions, four pre-norm encoder layers of "
        "64 features, and the class token's features classified. It learns the generated "
        "shapes folder (measured: 52% of the validation pictures right after 15 epochs, from "
        "25% at chance; a CNN does far better on so few pictures, as ViTs need much data).",
        data={**SHAPES, "image_size": [32, 32]},
        training={"epochs": 15, "lr": 0.001, "optimizer": "AdamW", "weight_decay": 0.05},
    ),
    "text_transformer": Entry(
        lambda: text_transformer(REVIEWS["vocab_size"], REVIEWS["max_length"]),
        "A Transformer encoder that classifies texts: word embeddings and learned positions, "
        "two encoder layers with four heads, the mean over each text's words (padding left "
        "out) and a Linear layer, on the generated reviews of the text_classification "
        "preset.",
        data=REVIEWS,
        training={"epochs": 15, "batch_size": 32, "lr": 0.002},
    ),
}


def zoo_project(name: str) -> Project:
    entry = ZOO[name]
    project = Project(name=name, description=entry.description, graph=entry.build().done())
    project.data = {**defaults(DATA_SCHEMA + AUGMENT_SCHEMA), **entry.data}
    project.training.update({**TRAINING, **entry.training})
    if entry.weights:
        project.pretrained = {"url": TORCHVISION + entry.weights, "about": ABOUT_IMAGENET}
    for node in project.graph.nodes.values():
        node.frozen = node.label in entry.frozen
        node.lr_scale = 10.0 if node.label in entry.faster else 1.0
    return project
