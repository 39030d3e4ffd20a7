"""Augmentation: each change does what it says, on whole batches; the same seed draws the
same changes and every batch new ones; training alone is augmented, and a resumed run
augments as the uninterrupted one did."""

import math

import pytest
import torch
from torch import nn

from engine.data import load_data
from engine.data.augment import Augmenter, augmentation_on
from engine.data.preview import augmented_views, preview_data
from engine.document.settings import AUGMENT_SCHEMA, validate_data
from engine.errors import DataError
from engine.training.trainer import Trainer
from tests.engine.test_checkpoint import SaveAt
from tests.engine.training_support import settings, without_timing

OFF = {p.name: p.default for p in AUGMENT_SCHEMA}


def augmenter(image=(3, 16, 16), seed=0, mean=None, std=None, **on) -> Augmenter:
    return Augmenter({**OFF, **on}, image, image, mean, std).seeded(seed, "cpu")


def pictures(count=64, image=(3, 16, 16), seed=1) -> torch.Tensor:
    return torch.rand(count, *image, generator=torch.Generator().manual_seed(seed))


def test_nothing_switched_on_changes_nothing_and_is_not_on():
    x = pictures()
    assert not augmentation_on(OFF)
    assert torch.allclose(augmenter()(x), x, atol=1e-6)


@pytest.mark.parametrize(("setting", "dim"), [("augment_hflip", 3), ("augment_vflip", 2)])
def test_a_flip_mirrors_about_half_of_the_images_exactly(setting, dim):
    x = pictures()
    out = augmenter(**{setting: True})(x)
    mirrored = [torch.equal(o, i.flip(dim - 1)) for o, i in zip(out, x, strict=True)]
    kept = [torch.equal(o, i) for o, i in zip(out, x, strict=True)]
    assert all(m or k for m, k in zip(mirrored, kept, strict=True))
    assert 16 < sum(mirrored) < 48


def test_a_crop_of_the_whole_image_at_its_own_ratio_is_the_image():
    x = pictures(image=(3, 12, 20))
    whole = augmenter(image=(3, 12, 20), augment_crop=True, augment_crop_scale=[1.0, 1.0])
    whole.data["augment_crop_ratio"] = [20 / 12, 20 / 12]
    assert torch.allclose(whole(x), x, atol=1e-5)


def test_a_crop_enlarges_a_part_of_the_image():
    """A picture half black (left), half white: a crop of a quarter of its area shows,
    stretched, more of one half than the whole does, in most images."""
    x = torch.zeros(64, 1, 32, 32)
    x[..., 16:] = 1.0
    out = augmenter(image=(1, 32, 32), augment_crop=True, augment_crop_scale=[0.25, 0.25])(x)
    white = out.mean((1, 2, 3))
    assert ((white - 0.5).abs() > 0.1).float().mean() > 0.5
    assert out.min() >= 0 and out.max() <= 1 + 1e-6


def test_a_turn_keeps_the_centre_and_blackens_corners():
    x = torch.ones(32, 1, 31, 31)
    out = augmenter(image=(1, 31, 31), augment_rotation=45.0)(x)
    assert torch.allclose(out[:, 0, 15, 15], torch.ones(32), atol=1e-5)
    assert (out[:, 0, 0, 0] < 0.5).float().mean() > 0.5  # most turns are large enough


def test_brightness_scales_each_image_by_one_factor_within_its_range():
    x = torch.full((64, 3, 8, 8), 0.5)
    out = augmenter(augment_brightness=0.4, image=(3, 8, 8))(x)
    per_image = out.reshape(64, -1)
    assert torch.allclose(per_image, per_image[:, :1].expand(-1, 192))
    assert per_image.min() >= 0.5 * 0.6 - 1e-6 and per_image.max() <= 0.5 * 1.4 + 1e-6
    assert per_image[:, 0].std() > 0.05


def test_contrast_keeps_the_mean_grey_and_saturation_keeps_the_grey():
    x = pictures(image=(3, 8, 8)) * 0.5 + 0.25  # no value is clipped at a factor of 1.5
    weights = torch.tensor([0.299, 0.587, 0.114]).reshape(1, 3, 1, 1)
    contrast = augmenter(image=(3, 8, 8), augment_contrast=0.5)(x)
    assert torch.allclose(
        (contrast * weights).sum(1).mean((1, 2)), (x * weights).sum(1).mean((1, 2)), atol=1e-5
    )
    assert not torch.allclose(contrast, x)
    saturation = augmenter(image=(3, 8, 8), augment_saturation=0.5)(x)
    assert torch.allclose((saturation * weights).sum(1), (x * weights).sum(1), atol=1e-5)
    assert not torch.allclose(saturation, x)


def test_saturation_leaves_grey_images_alone():
    x = pictures(image=(1, 8, 8))
    assert torch.equal(augmenter(image=(1, 8, 8), augment_saturation=0.9)(x), x)


def test_erasing_blanks_one_rectangle_of_2_to_33_percent_with_its_chance():
    x = torch.ones(200, 1, 20, 20)
    out = augmenter(image=(1, 20, 20), augment_erasing=0.5, mean=[0.5], std=[1.0])(x - 0.5)
    blanked = out == 0  # the normalised mean
    shares = blanked.float().mean((1, 2, 3))
    erased = shares > 0
    assert 70 < int(erased.sum()) < 130
    assert shares[erased].min() >= 0.01 and shares[erased].max() <= 0.36
    for image in blanked[erased][:, 0]:
        rows, columns = image.any(1).nonzero(), image.any(0).nonzero()
        box = (rows.max() - rows.min() + 1) * (columns.max() - columns.min() + 1)
        assert int(image.sum()) == int(box)  # one rectangle


def test_normalised_batches_are_changed_in_pixel_values_and_normalised_again():
    mean, std = [0.2, 0.4, 0.6], [0.5, 0.25, 0.125]
    x = pictures(image=(3, 8, 8))
    scale = [torch.tensor(v).reshape(1, 3, 1, 1) for v in (mean, std)]
    normalised = (x - scale[0]) / scale[1]
    on = {"augment_brightness": 0.3, "augment_hflip": True}
    plain = augmenter(image=(3, 8, 8), **on)(x)
    scaled = augmenter(image=(3, 8, 8), mean=mean, std=std, **on)(normalised)
    assert torch.allclose(scaled * scale[1] + scale[0], plain, atol=1e-5)


def test_the_same_seed_draws_the_same_and_each_batch_draws_anew():
    on = {"augment_crop": True, "augment_rotation": 10.0, "augment_brightness": 0.2}
    x = pictures()
    first, again = augmenter(**on), augmenter(**on)
    one = first(x)
    assert torch.equal(one, again(x))
    assert not torch.allclose(first(x), one)
    assert not torch.allclose(augmenter(seed=1, **on)(x), one)


def test_every_choice_of_settings_draws_as_many_numbers():
    """So switching one change on never alters what the others draw."""
    few, many = augmenter(augment_hflip=True), augmenter(augment_erasing=0.3, augment_crop=True)
    few(pictures()), many(pictures())
    assert torch.equal(few.generator.get_state(), many.generator.get_state())


def test_flat_square_samples_are_augmented_as_pictures():
    splits = load_data({"kind": "builtin", "name": "digits", "augment_vflip": True})
    assert splits.train.augment.image == (1, 8, 8)
    assert splits.train.augment.span == (0.0, 16.0)  # the digits' values, not [0, 1]
    assert splits.val.augment is None


def test_augmenting_data_that_is_not_pictures_is_refused_in_a_sentence():
    with pytest.raises(DataError, match=r"augmentation changes pictures.*shape \[4\]"):
        load_data({"kind": "builtin", "name": "iris", "augment_hflip": True})


def test_crop_ranges_are_checked():
    _, problems = validate_data({"augment_crop_scale": [0.9, 0.5], "augment_crop_ratio": [0, 2]})
    found = dict(problems)
    assert "low then high" in found["data.augment_crop_scale"]
    assert "between 0.1 and 10" in found["data.augment_crop_ratio"]


def test_the_preview_strip_shows_the_settings_changes():
    data = {"kind": "builtin", "name": "digits"}
    preview = preview_data(data)
    assert preview.picture.shape == (1, 8, 8)
    turned = augmented_views(preview, {**data, "augment_rotation": 30.0})
    assert len(turned) == 8 and all(v.shape == (1, 8, 8) for v in turned)
    assert all(v.min() >= 0 and v.max() <= 1 for v in turned)
    original = preview.picture / 16
    assert sum(not torch.allclose(torch.from_numpy(v), torch.from_numpy(original)) for v in turned)
    assert preview_data({"kind": "builtin", "name": "iris"}).picture is None


def cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(144, 10)
    )


def test_a_resumed_augmented_run_repeats_the_uninterrupted_one(tmp_path):
    data = {"kind": "builtin", "name": "digits", "augment_rotation": 15.0, "augment_erasing": 0.5}
    splits = load_data(data)
    config = settings(epochs=3, seed=2, batch_size=100, optimizer="Adam", lr=0.01)
    path = tmp_path / "run.pt"
    whole = Trainer(cnn(), ["out"], config, [SaveAt(1, path)]).fit(splits.train, splits.val)
    resumed = Trainer(cnn(), ["out"], config).fit(splits.train, splits.val, resume_from=path)
    assert without_timing(resumed.history) == without_timing(whole.history)
    plain = load_data({"kind": "builtin", "name": "digits"})
    unaugmented = Trainer(cnn(), ["out"], config).fit(plain.train, plain.val)
    assert not math.isclose(unaugmented.history[0]["train_loss"], whole.history[0]["train_loss"])
