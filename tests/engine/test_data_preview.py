"""The data preview: what it says of real data, and its checks agree with the trainer."""

import numpy as np
import pytest
import torch

from engine.data import DataError, load_raw
from engine.data.preview import preview_data
from engine.document.project import load
from engine.errors import TrainingError
from engine.training.job import prepare_job
from engine.training.losses import target_problems
from tests.data_files import write_mnist
from tests.run_helpers import PRESETS


def loss(name: str, target=None) -> dict:
    return {"loss": name, "weight": 1.0, "target": target}


def test_a_builtin_image_set_shows_its_split_classes_and_one_picture_per_class():
    preview = preview_data({"kind": "builtin", "name": "digits"})
    assert preview.source == "builtin digits"
    assert (preview.train_rows, preview.val_rows) == (1438, 359)
    assert not preview.own_validation
    assert preview.sample_shape == (64,) and preview.dtype == "float32"
    assert [name for name, _ in preview.classes] == [str(i) for i in range(10)]
    assert sum(count for _, count in preview.classes) == 1438
    assert [s.label for s in preview.samples] == [str(i) for i in range(8)]
    raw, _ = load_raw({"kind": "builtin", "name": "digits"})
    first_zero = int((raw.y == 0).nonzero()[0])
    picture = preview.samples[0].picture
    assert picture.shape == (8, 8) and picture.min() == 0.0 and picture.max() == 1.0
    expected = raw.x[first_zero].reshape(8, 8).numpy()
    assert np.allclose(picture, expected / expected.max())
    assert preview.pictures and preview.input_problem((1, 8, 8)) == ""
    assert "(64 values)" in preview.input_problem((1, 28, 28))


def test_a_csv_table_shows_its_columns_and_regression_targets(tmp_path):
    path = tmp_path / "houses.csv"
    rows = [f"{i},{i * 2},{i * 0.5:.1f}" for i in range(40)]
    path.write_text("rooms,area,price\n" + "\n".join(rows) + "\n")
    preview = preview_data({"kind": "csv", "path": "houses.csv", "target": "price"}, tmp_path)
    assert preview.source.endswith("houses.csv")
    assert preview.task == "regression" and preview.classes == []
    assert preview.target_columns == 1 and preview.feature_names == ["rooms", "area"]
    assert not preview.pictures
    assert preview.samples[0].values == [0.0, 0.0] and preview.samples[0].label == "0"
    assert len(preview.samples) == 8 and preview.samples[-1].values == [39.0, 78.0]


def test_an_idx_folder_brings_its_own_validation_and_a_missing_download_is_explained(
    tmp_path,
):
    write_mnist(tmp_path, train=30, test=7)
    preview = preview_data({"kind": "mnist", "path": str(tmp_path)})
    assert (preview.train_rows, preview.val_rows, preview.own_validation) == (30, 7, True)
    assert preview.samples[0].picture.shape == (28, 28)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="not here yet; training fetches them"):
        preview_data({"kind": "mnist", "path": str(empty), "download": True})
    with pytest.raises(DataError, match=r"turn on data\.download"):
        preview_data({"kind": "mnist", "path": str(empty)})


def trainer_message(project) -> str:
    """What training `project` says is wrong with its data and losses."""
    with pytest.raises(TrainingError) as failure:
        prepare_job(project).run()
    return str(failure.value)


def project_check(project) -> dict[str, str]:
    """What the preview's check says of the same project, before any training."""
    preview = preview_data(project.data)
    labels = project.output_labels()
    shapes = [(project.graph.nodes[n].params.get("out_features"),) for n in _last_linears(project)]
    return target_problems(project.losses(), labels, shapes, preview.y)


def _last_linears(project):
    """The Linear feeding each Output of these small presets."""
    graph = project.graph
    return [
        e.src for n in graph.nodes.values() if n.type == "Output" for e in graph.inputs_of(n.id)
    ]


@pytest.mark.parametrize(
    ("loss_name", "units", "expected"),
    [
        ("CrossEntropyLoss", 5, "training labels go up to 9, but output 'out' has 5 classes"),
        ("BCEWithLogitsLoss", 10, "there is 1 target per sample"),
    ],
)
def test_the_check_before_a_run_says_what_the_trainer_would(loss_name, units, expected):
    project = load(PRESETS / "digits_mlp.json")
    project.training["epochs"] = 1
    last = _last_linears(project)[0]
    project.graph.nodes[last].params["out_features"] = units
    project.training["losses"] = {"out": loss(loss_name)}
    found = project_check(project)
    assert expected in found["out"]
    assert found["out"] in trainer_message(project)


def test_good_data_and_losses_have_no_problems():
    project = load(PRESETS / "digits_mlp.json")
    assert project_check(project) == {}
    assert target_problems(project.losses(), ["out"], [(10,)], torch.tensor([0, 9])) == {}
