"""The zoo's presets are torchvision's architectures, key for key."""

import json

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from engine.document.project import load, save, to_dict
from engine.document.zoo import ZOO, zoo_project
from engine.model.build import build_model
from engine.model.shapes import DataShapes, infer_all, resolved
from tests.engine import zoo_reference
from tests.paths import PRESETS

# torchvision's published parameter counts, with 1,000 classes
PUBLISHED = {"resnet18": 11_689_512, "resnet34": 21_797_672, "mobilenet_v2": 3_504_872}
TORCHVISION = sorted(PUBLISHED)
REFERENCE = {
    "resnet18": zoo_reference.ResNet,
    "resnet34": lambda classes: zoo_reference.ResNet(classes, (3, 4, 6, 3)),
    "mobilenet_v2": zoo_reference.MobileNetV2,
}
# Keys as torchvision's state_dicts name them (from its documented module structure).
DOCUMENTED = {
    "resnet18": [
        "conv1.weight",
        "bn1.running_var",
        "layer1.0.conv1.weight",
        "layer2.0.downsample.0.weight",
        "layer4.1.bn2.num_batches_tracked",
        "fc.bias",
    ],
    "resnet34": [
        "layer2.3.conv2.weight",
        "layer3.0.downsample.1.running_var",
        "layer3.5.bn1.bias",
        "layer4.2.conv1.weight",
    ],
    "mobilenet_v2": [
        "features.0.0.weight",
        "features.1.conv.0.0.weight",
        "features.1.conv.1.weight",
        "features.2.conv.1.0.weight",
        "features.17.conv.3.running_mean",
        "features.18.1.weight",
        "classifier.1.weight",
    ],
}


def imagenet_model(name: str, classes: int = 1000):
    project = load(PRESETS / f"{name}.json")
    graph = project.graph
    inference = infer_all(graph, data=DataShapes((3, 224, 224), {"out": classes}))
    return build_model(resolved(graph, inference), name, seed=0).module


@pytest.mark.parametrize("name", TORCHVISION)
def test_the_preset_has_torchvisions_keys_shapes_and_outputs(name):
    ours = imagenet_model(name)
    reference = REFERENCE[name](1000)
    assert sum(p.numel() for p in ours.parameters()) == PUBLISHED[name]
    mine, theirs = ours.state_dict(), reference.state_dict()
    assert {k: v.shape for k, v in mine.items()} == {k: v.shape for k, v in theirs.items()}
    assert set(DOCUMENTED[name]) <= set(mine)
    reference.load_state_dict(mine, strict=True)
    ours.eval(), reference.eval()
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(ours(x), reference(x))


def test_the_head_follows_the_classes():
    model = imagenet_model("resnet18", classes=7)
    assert model.state_dict()["fc.weight"].shape == (7, 512)


@pytest.mark.parametrize("name", sorted(ZOO))
def test_the_preset_file_is_what_the_zoo_writes(name):
    written = json.loads((PRESETS / f"{name}.json").read_text())
    assert written == json.loads(json.dumps(to_dict(zoo_project(name))))


@pytest.mark.parametrize("name", sorted(ZOO))
def test_a_saved_zoo_project_reads_back_the_same(tmp_path, name):
    project = load(PRESETS / f"{name}.json")
    save(project, tmp_path / "copy.json")
    assert to_dict(load(tmp_path / "copy.json")) == to_dict(project)


# torchvision's published GFLOPS figures (multiply-accumulates, in billions) at 224x224
PUBLISHED_GMACS = {"resnet18": 1.81, "resnet34": 3.66, "mobilenet_v2": 0.30}


@pytest.mark.parametrize("name", TORCHVISION)
def test_the_multiply_accumulates_are_what_torch_counts(name):
    project = load(PRESETS / f"{name}.json")
    inference = infer_all(project.graph, data=DataShapes((3, 224, 224), {"out": 1000}))
    macs = inference.total_macs()
    model = imagenet_model(name)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, 224, 224))
    assert 2 * macs == counter.get_total_flops()
    assert round(macs / 1e9, 2) == PUBLISHED_GMACS[name]
