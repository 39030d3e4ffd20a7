"""load_data: loading by kind, splits, normalisation fitted on training data, reshaping."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from engine.data import (
    DataError,
    TensorData,
    apply_normalization,
    fit_normalization,
    load_data,
    load_raw,
    reshape_samples,
    split,
)


def labelled(counts: list[int]) -> TensorData:
    y = np.repeat(np.arange(len(counts)), counts)
    x = np.arange(len(y), dtype=np.float32)[:, None]
    return TensorData.classification(x, y, [str(i) for i in range(len(counts))])


def test_stratified_split_keeps_class_shares_and_does_not_overlap():
    data = labelled([500, 300, 200])
    train, val = split(data, 0.2, seed=0, stratify=True)
    assert len(val) == 200 and len(train) == 800
    assert torch.bincount(val.y).tolist() == [100, 60, 40]
    assert not set(train.x[:, 0].tolist()) & set(val.x[:, 0].tolist())
    assert sorted(train.x[:, 0].tolist() + val.x[:, 0].tolist()) == list(range(1000))


def test_stratified_split_rounds_to_the_exact_validation_size():
    train, val = split(labelled([7, 5, 3]), 0.3, seed=1, stratify=True)
    assert len(val) == round(15 * 0.3) and len(train) + len(val) == 15
    assert set(val.y.tolist()) == {0, 1, 2}


def test_split_is_reproducible_with_a_seed_and_differs_across_seeds():
    data = labelled([50, 50])
    for stratify in (True, False):
        first = split(data, 0.25, seed=3, stratify=stratify)[1].x
        assert torch.equal(first, split(data, 0.25, seed=3, stratify=stratify)[1].x)
        assert not torch.equal(first, split(data, 0.25, seed=4, stratify=stratify)[1].x)


def test_zero_val_fraction_gives_an_empty_validation_split():
    data = labelled([4, 4])
    train, val = split(data, 0.0, seed=0)
    assert len(train) == 8 and len(val) == 0
    assert val.x.shape == (0, 1) and val.y.dtype == torch.int64


def test_too_few_samples_to_split():
    with pytest.raises(DataError, match=r"data.val_fraction: 1 samples are too few"):
        split(labelled([1]), 0.5, seed=0)


def test_standardize_is_fitted_on_training_data_only():
    splits = load_data({"kind": "builtin", "name": "wine", "normalize": "standardize"})
    train_mean = splits.train.x.mean(dim=0)
    assert torch.allclose(train_mean, torch.zeros(13), atol=1e-5)
    assert torch.allclose(splits.train.x.std(dim=0, correction=0), torch.ones(13), atol=1e-4)
    assert not torch.allclose(splits.val.x.mean(dim=0), torch.zeros(13), atol=1e-3)
    assert splits.normalization["kind"] == "standardize"
    assert len(splits.normalization["mean"]) == 13
    json.dumps(splits.normalization)


def test_constant_features_keep_std_one():
    x = torch.tensor([[5.0, 1.0], [5.0, 3.0]])
    normalization = fit_normalization(x, "standardize")
    assert normalization["std"] == [1.0, 1.0]
    assert apply_normalization(x, normalization)[:, 0].tolist() == [0.0, 0.0]
    assert fit_normalization(x, "minmax")["std"] == [1.0, 2.0]


def test_minmax_maps_training_data_to_unit_range():
    splits = load_data({"kind": "builtin", "name": "iris", "normalize": "minmax"})
    assert torch.allclose(splits.train.x.amin(dim=0), torch.zeros(4))
    assert torch.allclose(splits.train.x.amax(dim=0), torch.ones(4))


def test_fixed_normalization_per_channel_and_broadcast():
    x = torch.ones(2, 3, 2, 2) * torch.tensor([1.0, 2.0, 3.0]).reshape(1, 3, 1, 1)
    per_channel = fit_normalization(x, "fixed", [1.0, 2.0, 3.0], [1.0, 1.0, 2.0])
    assert torch.equal(apply_normalization(x, per_channel), torch.zeros_like(x))
    one = apply_normalization(x, fit_normalization(x, "fixed", [1.0], [0.5]))
    assert one[0, :, 0, 0].tolist() == [0.0, 2.0, 4.0]
    with pytest.raises(DataError, match=r"data.mean: 2 values, but the data has 3 channels"):
        fit_normalization(x, "fixed", [0.0, 0.0], [1.0])


def test_digits_reshape_to_images_for_a_cnn():
    settings = {"kind": "builtin", "name": "digits", "normalize": "fixed"}
    settings |= {"mean": [8.0], "std": [8.0], "val_fraction": 0.1}
    splits = load_data(settings, input_shape=(1, 8, 8))
    assert splits.train.x.shape[1:] == (1, 8, 8) and splits.val.x.shape[1:] == (1, 8, 8)
    assert splits.train.x.is_contiguous() and splits.train.x.dtype == torch.float32
    assert splits.normalization == {"kind": "fixed", "mean": [8.0], "std": [8.0]}
    assert float(splits.train.x.min()) == -1.0 and float(splits.train.x.max()) == 1.0


def test_reshape_mismatch_names_both_shapes():
    data = labelled([3, 3])
    expected = r"shape \(1,\) \(1 values\) .* expects shape \(1, 28, 28\) \(784 values\)"
    with pytest.raises(DataError, match=expected):
        reshape_samples(data, (1, 28, 28))
    with pytest.raises(DataError, match=r"expects shape"):
        load_data({"kind": "builtin", "name": "iris"}, input_shape=(1, 28, 28))


def test_empty_validation_is_reshaped_too():
    splits = load_data(
        {"kind": "builtin", "name": "digits", "val_fraction": 0.0}, input_shape=(1, 8, 8)
    )
    assert len(splits.train) == 1797 and splits.val.x.shape == (0, 1, 8, 8)


def test_relative_paths_start_at_the_base_dir(tmp_path):
    (tmp_path / "sub").mkdir()
    rows = "".join(f"{i},{i % 2}\n" for i in range(20))
    (tmp_path / "sub" / "data.csv").write_text("a,label\n" + rows)
    splits = load_data(
        {"kind": "csv", "path": "sub/data.csv", "normalize": "none"}, base_dir=tmp_path
    )
    assert len(splits.train) == 16 and len(splits.val) == 4
    assert torch.bincount(splits.val.y).tolist() == [2, 2]
    assert splits.normalization == {"kind": "none"}


def test_idx_folders_bring_their_own_validation_split(tmp_path):
    for prefix, count in (("train", 6), ("t10k", 3)):
        parts = (("images-idx3", (count, 28, 28)), ("labels-idx1", (count,)))
        for kind, shape in parts:
            magic = 0x0800 | len(shape)
            header = magic.to_bytes(4, "big") + np.array(shape, ">u4").tobytes()
            data = header + bytes(int(np.prod(shape)))
            (tmp_path / f"{prefix}-{kind}-ubyte").write_bytes(data)
    for kind in ("idx", "mnist"):
        splits = load_data({"kind": kind, "path": str(tmp_path), "normalize": "none"})
        assert len(splits.train) == 6 and len(splits.val) == 3
    train, val = load_raw({"kind": "idx", "path": str(tmp_path)})
    assert len(train) == 6 and len(val) == 3


def test_synthetic_and_npz_kinds_load(tmp_path):
    splits = load_data({"kind": "synthetic", "name": "linear", "samples": 50, "features": 1})
    assert splits.train.y.shape == (40, 1) and splits.val.y.shape == (10, 1)
    np.savez(tmp_path / "d.npz", x=np.arange(10.0), y=np.arange(10) % 2)
    train, val = load_raw({"kind": "npz", "path": str(tmp_path / "d.npz")})
    assert len(train) == 10 and val is None


def test_invalid_settings_are_one_data_error():
    with pytest.raises(DataError, match=r"data.val_fraction: .*; data.colour: is not a known"):
        load_data({"kind": "builtin", "val_fraction": 2.0, "colour": "red"})
    with pytest.raises(DataError, match=r"data.path: a csv data source needs a path"):
        load_data({"kind": "csv"})


def test_image_folder_kind_with_per_channel_fixed_normalization(tmp_path):
    for label, color in (("red", (255, 0, 0)), ("blue", (0, 0, 255))):
        (tmp_path / label).mkdir()
        for i in range(3):
            Image.new("RGB", (5, 5), color).save(tmp_path / label / f"{i}.png")
    settings = {"kind": "image_folder", "path": str(tmp_path), "grayscale": False}
    settings["val_fraction"] = 0.34
    settings |= {"image_size": [4, 4], "normalize": "fixed", "mean": [0.5] * 3, "std": [0.5] * 3}
    splits = load_data(settings, input_shape=(3, 4, 4))
    assert splits.train.x.shape == (4, 3, 4, 4) and len(splits.val) == 2
    assert set(splits.train.x[:].unique().tolist()) == {-1.0, 1.0}  # read from the cache
    assert splits.train.classes == ["blue", "red"]


def test_token_ids_are_never_scaled(tmp_path):
    tokens = np.arange(40).reshape(10, 4) % 7
    np.savez(tmp_path / "tokens.npz", x=tokens, y=np.arange(10) % 2)
    settings = {"kind": "npz", "path": "tokens.npz", "normalize": "standardize"}
    splits = load_data(settings, base_dir=tmp_path)
    assert splits.train.x.dtype == torch.int64
    assert splits.normalization["kind"] == "none"
    assert set(splits.train.x.unique().tolist()) <= set(range(7))
