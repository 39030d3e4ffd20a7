"""The untrained model on a real sample while it is designed: each layer's output as a
thumbnail (maps, bars, heat map), the initial loss beside chance, the data loaded once,
and Custom layer code run only when allowed."""

import math

import numpy as np
import pytest
import torch

import engine.training.activation_preview as preview_module
from engine.document.commands import SetParams
from engine.document.presets import preset_path
from engine.document.project import load
from engine.document.trust import NOT_ALLOWED, CustomCodeNotAllowed
from engine.errors import DataError
from engine.model.build import build_model
from engine.training.activation_preview import BARS, ActivationProbe, thumbnail
from engine.training.job import following
from tests.custom_marker import marked_project, traces


def _by_label(project, preview) -> dict:
    return {project.graph.nodes[n].label: t for n, t in preview.thumbnails.items()}


def test_every_layer_of_the_digits_cnn_gets_the_thumbnail_of_its_output():
    project = load(preset_path("digits_cnn"))
    probe = ActivationProbe()
    preview = probe.preview(project)
    thumbs = _by_label(project, preview)
    assert thumbs["x"].kind == "maps" and thumbs["x"].shape == (1, 8, 8)  # the sample itself
    assert list(thumbs)[1:] == ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2",
                            "flatten", "fc1", "relu3", "fc2"]  # fmt: skip
    conv1 = thumbs["conv1"]
    assert conv1.kind == "maps" and conv1.shape == (16, 8, 8)
    assert conv1.values.shape == (4, 4, 8, 8)  # the 16 maps as a 4 x 4 grid
    assert np.nanmin(conv1.values) == 0.0 and np.nanmax(conv1.values[0, 0]) == 1.0
    assert thumbs["conv2"].values.shape[:2] == (4, 4)  # 32 channels: the first MAPS
    flatten = thumbs["flatten"]
    assert flatten.kind == "bars" and flatten.shape == (128,) and flatten.values.shape == (BARS,)
    assert (thumbs["relu3"].values >= 0).all()
    # fc2's bars are the model's output for the first training sample, as a run builds it
    x, _, shapes, _ = probe._first_batch(project, project.training["batch_size"])
    built = build_model(following(project, shapes).graph, project.name, seed=0)
    expected = built.module.eval()(x[:1])[0].detach()
    assert np.allclose(thumbs["fc2"].values, expected.detach().numpy(), atol=1e-6)
    assert thumbs["fc2"].mean == pytest.approx(float(expected.mean()), abs=1e-6)
    assert preview.sample == "training sample 1 (class 0)"
    (line,) = preview.initial_loss
    assert line.startswith("initial loss 2.")
    assert "expected about ln 10 = 2.30 (10 classes at chance)" in line


def test_a_sequence_output_is_a_heat_map():
    project = load(preset_path("text_classification"))
    thumbs = _by_label(project, ActivationProbe().preview(project))
    assert thumbs["tokens"].kind == "bars"  # the word ids
    embed = thumbs["embed"]
    assert embed.kind == "heat" and embed.shape == (40, 32) and embed.values.shape == (40, 32)
    assert np.nanmin(embed.values) >= 0.0 and np.nanmax(embed.values) <= 1.0
    assert "ln 2 = 0.693" in ActivationProbe().preview(project).initial_loss[0]


def test_the_data_is_loaded_once_and_again_when_its_settings_change(monkeypatch):
    loads = []
    real = preview_module.load_data
    monkeypatch.setattr(
        preview_module, "load_data", lambda *a, **k: loads.append(a[0]) or real(*a, **k)
    )
    project = load(preset_path("digits_mlp"))
    probe = ActivationProbe()
    first = probe.preview(project)
    fc1 = next(n for n in project.graph.nodes.values() if n.label == "fc1")
    SetParams(fc1.id, {"out_features": 20}).do(project.graph)
    edited = _by_label(project, probe.preview(project))
    assert len(loads) == 1  # an edit of the layers does not load the data again
    assert edited["fc1"].shape == (20,) and _by_label(project, first)["fc1"].shape != (20,)
    project.data = {**project.data, "val_fraction": 0.5}
    probe.preview(project)
    assert len(loads) == 2
    good = project.data
    project.data = {"kind": "csv", "path": "nowhere.csv", "target": "y"}
    with pytest.raises(DataError, match=r"nowhere\.csv"):
        probe.preview(project)
    project.data = good  # back (an undo): loaded again, not a stale batch
    assert probe.preview(project).thumbnails and len(loads) == 4


def test_custom_layer_code_runs_only_when_allowed(tmp_path):
    marker = tmp_path / "marker.txt"
    project = marked_project(marker)
    with pytest.raises(CustomCodeNotAllowed):
        ActivationProbe().preview(project, NOT_ALLOWED)
    assert traces(marker) == []
    preview = ActivationProbe().preview(project, NOT_ALLOWED.allowing(True))
    assert "forward" in traces(marker) and preview.thumbnails


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (torch.randn(512, 1, 1), "bars"),  # pooled maps: a vector
        (torch.tensor(3.0), "none"),
        (torch.randn(2, 3, 4, 5), "none"),
        (torch.randn(3, 100, 100), "maps"),
    ],
)
def test_thumbnail_kinds(value, kind):
    thumb = thumbnail(value)
    assert thumb.kind == kind and thumb.shape == tuple(value.shape)
    if kind == "maps":
        assert thumb.values.shape == (2, 2, 24, 24)  # shrunk to MAP_SIDE, 3 maps in 2 x 2
        assert np.isnan(thumb.values[1, 1]).all()  # the empty tile


def test_values_that_are_not_finite_are_left_out_of_the_numbers():
    value = torch.tensor([[1.0, math.inf], [3.0, math.nan]])
    thumb = thumbnail(value)
    assert thumb.mean == 2.0 and thumb.std == 1.0
    assert np.isnan(thumb.values[1, 1]) and np.isnan(thumb.values[0, 1])
    assert thumb.values[0, 0] == 0.0 and thumb.values[1, 0] == 1.0
    assert thumb.caption() == "mean 2, std 1"
