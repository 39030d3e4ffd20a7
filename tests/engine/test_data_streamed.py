"""Streaming image files: decoded whenever read (the cache's very pixels), an epoch's
batches decoded by DataLoader workers in the trainer's order; files that are not images
skipped at load, a body that breaks later stops the run naming it."""

import pickle

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from engine.data import load_data
from engine.data.image_folder import load_image_folder
from engine.data.streamed import Loading, StreamedRows
from engine.errors import DataError
from engine.training.trainer import Trainer
from tests.data_files import save_image
from tests.engine.training_support import settings


@pytest.fixture
def pictures(tmp_path):
    for i in range(40):
        colour = (i * 6, 255 - i * 6, (i * 37) % 256)
        save_image(tmp_path / "pictures" / ("odd" if i % 2 else "even") / f"{i:02}.png", colour)
    return tmp_path / "pictures"


def test_streamed_samples_are_the_cached_pixels(pictures):
    cached, _ = load_image_folder(pictures, (6, 5), grayscale=False)
    streamed, _ = load_image_folder(pictures, (6, 5), False, streaming=Loading(workers=0))
    assert isinstance(streamed.x, StreamedRows)
    assert torch.equal(streamed.x[:], cached.x[:]) and torch.equal(streamed.y, cached.y)
    index = torch.tensor([5, 0, 39, 7])
    assert torch.equal(streamed.x.index_select(0, index), cached.x.index_select(0, index))


@pytest.mark.parametrize("workers", [0, 2])
def test_an_epochs_batches_come_from_the_loader_in_the_order_asked(pictures, workers):
    data = load_data(
        {"kind": "image_folder", "path": str(pictures), "image_loading": "stream",
         "num_workers": workers, "prefetch_factor": 3, "image_size": [4, 4]}
    )  # fmt: skip
    batches = list(
        torch.randperm(len(data.train), generator=torch.Generator().manual_seed(1)).split(7)
    )
    read = list(data.train.x.batches_of(batches))
    assert len(read) == len(batches)
    for index, batch in zip(batches, read, strict=True):
        assert torch.equal(batch, data.train.x.index_select(0, index))  # normalised alike


def test_a_streamed_data_set_carries_paths_not_pixels(pictures):
    streamed, _ = load_image_folder(pictures, (64, 64), False, streaming=Loading())
    assert len(pickle.dumps(streamed.x)) < 40 * 500  # 40 images of 12 KB each, were they kept


def test_a_file_that_is_not_an_image_is_skipped_at_load_or_refused(pictures):
    (pictures / "odd" / "99.png").write_text("not a picture")
    data, _ = load_image_folder(pictures, (4, 4), False, streaming=Loading(workers=0))
    assert len(data) == 40
    assert (
        "skipped 1 of 41 images" in data.info["warnings"][0]
        and "99.png" in data.info["warnings"][0]
    )
    with pytest.raises(DataError, match=r"99\.png: cannot be read as an image"):
        load_image_folder(pictures, (4, 4), False, "refuse", streaming=Loading(workers=0))


def test_an_image_whose_body_breaks_stops_the_load_or_the_run_naming_it(pictures):
    broken = pictures / "odd" / "39.png"  # the last: not in the first batch, scored first
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(broken)
    broken.write_bytes(broken.read_bytes()[:4000])  # the header is there, most pixels not
    data = {
        "kind": "image_folder",
        "path": str(pictures),
        "image_loading": "stream",
        "num_workers": 2,
        "image_size": [4, 4],
        "val_fraction": 0.0,
    }
    with pytest.raises(DataError, match=r"39\.png: cannot be read as an image \(image file is"):
        load_data(data)  # standardising reads every image once, for the statistics
    splits = load_data({**data, "normalize": "none"})
    assert len(splits.train) == 40  # the header passed the check
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    result = Trainer(model, ["out"], settings(epochs=1, batch_size=8)).fit(splits.train, splits.val)
    assert result.status == "failed"
    assert "training failed at epoch 1, batch" in result.message
    assert "39.png: cannot be read as an image" in result.message
    assert "Traceback" not in result.message


def test_starting_an_epoch_draws_nothing_from_the_global_generator(pictures):
    """A streamed run with dropout trains as the cached one: the DataLoader seeds its
    workers from a generator of its own, not torch's global one (dropout's)."""
    results = {}
    for loading in ("cache", "stream"):
        data = load_data(
            {"kind": "image_folder", "path": str(pictures), "image_loading": loading,
             "num_workers": 0, "image_size": [4, 4]}
        )  # fmt: skip
        torch.manual_seed(0)
        model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.Dropout(0.5), nn.Linear(8, 2))
        result = Trainer(model, ["out"], settings(epochs=2, batch_size=8)).fit(data.train, data.val)
        results[loading] = [row["train_loss"] for row in result.history]
    assert results["stream"] == results["cache"]


def test_a_decoder_that_fails_its_own_way_is_a_sentence_too(pictures, monkeypatch):
    import PIL.ImageOps

    def broken(image):
        raise IndexError("tile out of range")

    monkeypatch.setattr(PIL.ImageOps, "exif_transpose", broken)
    data, _ = load_image_folder(pictures, (4, 4), False, streaming=Loading(workers=0))
    with pytest.raises(DataError, match=r"cannot be read as an image \(IndexError: tile out"):
        data.x[:2]
    assert data.x[0:0].shape == (0, 3, 4, 4)
