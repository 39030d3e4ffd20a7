"""Image folder import: one sub-folder per class, or train/ and val/ folders of them;
images decoded once into the cache, read explicitly (EXIF, alpha, 16-bit), bad ones
skipped or refused."""

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine.data import DataError, load_image_folder
from engine.data.image_cache import CACHE_ENV, cache_folder, decoded
from engine.data.image_files import decode_image, list_images
from engine.data.preview import preview_data
from tests.data_files import save_image


@pytest.fixture
def animals(tmp_path):
    save_image(tmp_path / "dog" / "b.png", (255, 0, 0))
    save_image(tmp_path / "dog" / "a.JPG", (255, 0, 0))
    save_image(tmp_path / "cat" / "1.bmp", (0, 0, 255), size=(10, 10))
    save_image(tmp_path / "cat" / "2.gif", 128, mode="L")
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    (tmp_path / ".thumbnails").mkdir()
    return tmp_path


@pytest.fixture
def cache(tmp_path_factory, monkeypatch):
    """A cache folder of the test's own, outside the image folder."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("cache")))
    return cache_folder()


def test_rgb_images_are_resized_and_labelled_by_sorted_folders(animals):
    data, own_val = load_image_folder(animals, [5, 3], grayscale=False)
    assert own_val is None
    assert data.task == "classification"
    assert data.classes == ["cat", "dog"]
    assert data.y.tolist() == [0, 0, 1, 1] and data.y.dtype == torch.int64
    assert data.x.shape == (4, 3, 5, 3) and data.x.dtype == torch.float32
    assert torch.allclose(data.x[3], torch.tensor([1.0, 0.0, 0.0]).reshape(3, 1, 1).expand(3, 5, 3))
    assert torch.allclose(data.x[0, 2], torch.ones(5, 3))


def test_grayscale_gives_one_channel_in_unit_range(animals):
    data, _ = load_image_folder(animals, (8, 8), grayscale=True)
    assert data.x.shape == (4, 1, 8, 8)
    assert float(data.x[:].min()) >= 0.0 and float(data.x[:].max()) <= 1.0
    assert np.isclose(float(data.x[1].mean()), 128 / 255)


def test_train_and_val_folders_are_the_folders_own_split(tmp_path):
    for split, count in (("train", 3), ("val", 1)):
        for name in ("cat", "dog"):
            for i in range(count):
                save_image(tmp_path / split / name / f"{i}.png", (i * 40, 0, 0))
    (tmp_path / "val" / "dog" / "0.png").unlink()
    (tmp_path / "val" / "dog").rmdir()  # a class may be missing from validation
    train, val = load_image_folder(tmp_path, (4, 4), grayscale=True)
    assert train.classes == val.classes == ["cat", "dog"]
    assert train.y.tolist() == [0, 0, 0, 1, 1, 1] and val.y.tolist() == [0]
    save_image(tmp_path / "val" / "bird" / "0.png", (0, 0, 0))
    with pytest.raises(DataError, match=r"class folder 'bird' is not among the training"):
        list_images(tmp_path)


def test_exif_orientation_alpha_and_16_bit_are_read_explicitly(tmp_path):
    tall = Image.new("RGB", (4, 2), (255, 255, 255))
    tall.putpixel((0, 0), (0, 0, 0))
    exif = tall.getexif()
    exif[0x0112] = 6  # the camera was turned: rotate 90 degrees clockwise to view
    tall.save(tmp_path / "turned.jpg", exif=exif, quality=100)
    turned = decode_image(tmp_path / "turned.jpg", (4, 2), grayscale=True)
    assert turned.shape == (1, 4, 2) and turned[0, 0, 1] < 60 and turned[0, 3, 0] > 200
    clear = Image.new("RGBA", (2, 2), (0, 0, 0, 0))  # fully transparent black
    clear.save(tmp_path / "clear.png")
    assert decode_image(tmp_path / "clear.png", (2, 2), grayscale=False).min() == 255
    deep = Image.fromarray(np.full((2, 2), 32768, dtype=np.uint16))
    deep.save(tmp_path / "deep.png")
    assert decode_image(tmp_path / "deep.png", (2, 2), grayscale=True).tolist() == [
        [[128, 128]] * 2
    ]


def test_a_folder_is_decoded_once_and_again_when_a_file_changes(animals, cache, monkeypatch):
    first, _ = load_image_folder(animals, (6, 6), grayscale=False)
    assert len(list(cache.glob("*.u8"))) == 1 and len(list(cache.glob("*.json"))) == 1
    import engine.data.image_cache as image_cache

    calls = []
    real = image_cache.decode_image
    monkeypatch.setattr(image_cache, "decode_image", lambda *a: calls.append(a) or real(*a))
    again, _ = load_image_folder(animals, (6, 6), grayscale=False)
    assert calls == [] and torch.equal(first.x[:], again.x[:])  # mapped from the cache
    save_image(animals / "dog" / "b.png", (0, 255, 0))
    os.utime(animals / "dog" / "b.png", ns=(1, 1))  # a new time, however fast this runs
    changed, _ = load_image_folder(animals, (6, 6), grayscale=False)
    assert len(calls) == 4 and changed.x[3, 1].mean() == 1.0  # decoded again: now green
    load_image_folder(animals, (7, 6), grayscale=False)
    assert len(calls) == 8 and len(list(cache.glob("*.u8"))) == 3  # another size, another entry


def test_an_interrupted_build_decodes_only_what_is_left(tmp_path, cache, monkeypatch):
    import engine.data.image_cache as image_cache

    for i in range(200):
        save_image(tmp_path / ("a" if i % 2 else "b") / f"{i:03}.png", (i, 0, 0))
    files = list_images(tmp_path).files
    calls = []
    real = image_cache.decode_image

    def dies_at_150(*args):
        if len(calls) == 150:
            raise KeyboardInterrupt  # Ctrl+C, or the app closing, mid-build
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(image_cache, "decode_image", dies_at_150)
    with pytest.raises(KeyboardInterrupt):
        decoded(files, (3, 3), grayscale=False)
    assert list(cache.glob("*.json")) == []  # not complete: no entry to map
    calls.clear()
    monkeypatch.setattr(image_cache, "decode_image", lambda *a: calls.append(a) or real(*a))
    progress = []
    done = decoded(files, (3, 3), grayscale=False, progress=lambda n, of: progress.append((n, of)))
    assert len(calls) == 200 - 128  # the two chunks of 64 done before were kept
    assert progress[-1] == (200, 200)
    assert [int(p[0, 0, 0]) for p in done.pixels[:3]] == [1, 3, 5]  # a/001, a/003, a/005


def test_threads_decode_a_large_folder_into_the_same_pixels(tmp_path, cache, monkeypatch):
    for i in range(600):
        save_image(tmp_path / ("a" if i % 3 else "b") / f"{i:03}.png", (i % 256, 50, 0))
    files = list_images(tmp_path).files
    (tmp_path / "a" / "100.png").write_bytes(b"\x89PNG damaged")
    broken = files.index(tmp_path / "a" / "100.png")
    parallel = decoded(files, (5, 5), grayscale=False, workers=2)
    assert list(parallel.failed) == [broken] and "a/100.png" in parallel.failed[broken]
    monkeypatch.setenv(CACHE_ENV, str(tmp_path.parent / f"{tmp_path.name}-other"))
    alone = decoded(files, (5, 5), grayscale=False, workers=1)
    assert np.array_equal(parallel.pixels, alone.pixels)
    assert alone.failed == parallel.failed


def test_an_unwritable_cache_folder_decodes_into_memory_and_says_so(
    animals, tmp_path_factory, monkeypatch
):
    blocker = tmp_path_factory.mktemp("blocked") / "not a folder"
    blocker.write_text("")
    monkeypatch.setenv(CACHE_ENV, str(blocker))
    data, _ = load_image_folder(animals, (4, 4), grayscale=True)
    assert len(data) == 4
    (note,) = data.info["warnings"]
    assert note.startswith("decoded into memory: the cache folder") and "cannot be written" in note


def test_no_class_folders(tmp_path):
    save_image(tmp_path / "loose.png", (0, 0, 0))
    with pytest.raises(DataError, match=r"no class sub-folders"):
        load_image_folder(tmp_path, (4, 4), grayscale=True)


def test_class_without_images(animals):
    (animals / "empty").mkdir()
    (animals / "empty" / "readme.md").write_text("nothing")
    with pytest.raises(DataError, match=r"empty: class folder holds no images \(png, jpg"):
        load_image_folder(animals, (4, 4), grayscale=True)


def test_an_unreadable_image_is_skipped_and_named_or_refused(animals):
    (animals / "dog" / "broken.png").write_bytes(b"\x89PNG not really")
    data, _ = load_image_folder(animals, (4, 4), grayscale=True)
    assert len(data) == 4
    (warning,) = data.info["warnings"]
    assert warning.startswith("skipped 1 of 5 images that cannot be read: ")
    assert "dog/broken.png: cannot be read as an image" in warning
    with pytest.raises(DataError, match=r"dog/broken.png: cannot be read as an image"):
        load_image_folder(animals, (4, 4), grayscale=True, bad_images="refuse")


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match=r"no such folder"):
        load_image_folder(tmp_path / "absent", (4, 4), grayscale=True)


def test_the_preview_counts_from_the_listing_and_decodes_only_its_samples(tmp_path, monkeypatch):
    import engine.data.image_cache as image_cache
    import engine.data.preview as preview_module
    from engine.data import load_data
    from engine.data.preview import preview_data

    for i in range(300):
        save_image(tmp_path / ("a" if i % 3 else "b") / f"{i:03}.png", (i % 256, 0, 0))
    settings = {"kind": "image_folder", "path": str(tmp_path), "image_size": [8, 8]}
    calls = []
    real = preview_module.decode_image
    monkeypatch.setattr(preview_module, "decode_image", lambda *a: calls.append(a) or real(*a))
    monkeypatch.setattr(image_cache, "decode_image", lambda *a: pytest.fail("decoded them all"))
    preview = preview_data(settings)
    assert len(calls) == 8 and preview.pictures and preview.sample_shape == (1, 8, 8)
    assert preview.classes == [("a", 160), ("b", 80)]  # the training split's, by stratum
    assert (preview.train_rows, preview.val_rows) == (240, 60)
    monkeypatch.undo()
    assert torch.equal(preview.y, load_data(settings).train.y)  # the split training makes


def test_load_data_reports_how_the_first_decoding_goes(animals, cache):
    from engine.data import load_data

    heard = []
    settings = {"kind": "image_folder", "path": str(animals), "image_size": [4, 4]}
    splits = load_data(settings, progress=lambda done, total: heard.append((done, total)))
    assert heard == [(4, 4)] and len(splits.train) + len(splits.val) == 4
    heard.clear()
    load_data(settings, progress=lambda done, total: heard.append((done, total)))
    assert heard == []  # from the cache: nothing decoded, nothing to report


def test_an_interrupted_threaded_build_stops_without_decoding_the_rest(
    tmp_path, cache, monkeypatch
):
    import engine.data.image_cache as image_cache

    for i in range(1000):
        save_image(tmp_path / ("a" if i % 2 else "b") / f"{i:04}.png", (i % 256, 0, 0))
    files = list_images(tmp_path).files
    calls = []
    real = image_cache.decode_image
    monkeypatch.setattr(image_cache, "decode_image", lambda *a: calls.append(a) or real(*a))

    def interrupted(done, total):
        raise KeyboardInterrupt  # at the first chunk reported, as Ctrl+C would

    with pytest.raises(KeyboardInterrupt):
        decoded(files, (3, 3), grayscale=False, progress=interrupted, workers=2)
    assert len(calls) < 400  # 16 chunks of 64: the ones not started were dropped
    calls.clear()
    again = decoded(files, (3, 3), grayscale=False, workers=2)
    assert 0 < len(calls) < 1000 and again.pixels.shape == (1000, 3, 3, 3)


def anonymous_bytes() -> int:
    """This process's private memory that no file backs (a mapped cache is not in it),
    once the C allocator has handed back what was freed."""
    import ctypes

    ctypes.CDLL("libc.so.6").malloc_trim(0)
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        if line.startswith("Anonymous:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no Anonymous line in smaps_rollup")


def test_a_loaded_folder_takes_no_private_memory_for_its_pixels(tmp_path, cache):
    import gc

    from engine.data import load_data

    for i in range(1500):
        save_image(
            tmp_path / ("a" if i % 2 else "b") / f"{i:04}.png", (i % 256, 3, 9), size=(64, 64)
        )
    settings = {"kind": "image_folder", "path": str(tmp_path), "image_size": [64, 64]}
    settings["grayscale"] = False
    load_data(settings)  # builds the cache
    gc.collect()
    before = anonymous_bytes()
    splits = load_data(settings, input_shape=(3, 64, 64))
    grown = anonymous_bytes() - before
    as_floats = 1500 * 3 * 64 * 64 * 4  # 74 MB: what one float32 array of them took
    assert grown < as_floats / 8, grown
    batch = splits.train.x.index_select(0, torch.tensor([0, 5]))
    assert batch.shape == (2, 3, 64, 64) and batch.dtype == torch.float32
    assert abs(float(splits.train.x[:].mean())) < 1e-4  # standardised, batch by batch


def test_pixel_rows_pickle_as_their_cache_file_and_read_the_same(animals, cache):
    import pickle

    from engine.data.normalize import apply_normalization, fit_normalization

    data, _ = load_image_folder(animals, (6, 6), grayscale=False)
    scaled = apply_normalization(data.x, fit_normalization(data.x, "standardize"))
    part = scaled.subset(torch.tensor([3, 1])).reshaped((3, 36))
    sent = pickle.dumps(part)
    assert len(sent) < 2000  # the path, the rows and the scale, not the pixels
    back = pickle.loads(sent)
    assert torch.equal(back[:], part[:]) and back.shape == (2, 3, 36)
    assert torch.equal(part[0], scaled[3].reshape(3, 36))


def test_a_full_disk_decodes_into_memory_or_says_how_to_make_room(animals, cache, monkeypatch):
    import errno

    import engine.data.image_cache as image_cache

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full)
    data, _ = load_image_folder(animals, (4, 4), grayscale=True)
    assert len(data) == 4 and "(No space left on device)" in data.info["warnings"][0]
    assert list(cache.iterdir()) == []  # no partial file left taking room
    monkeypatch.setattr(image_cache, "MEMORY_SHARE", 1e-12)  # as if the folder were huge
    with pytest.raises(DataError, match=r"too many to hold in memory instead: make room"):
        load_image_folder(animals, (4, 4), grayscale=True)


def test_the_preview_shows_colour_pictures_in_colour(animals):
    preview = preview_data({"kind": "image_folder", "path": str(animals), "grayscale": False})
    dog = next(s for s in preview.samples if s.label == "dog")
    assert dog.picture.shape == (3, 28, 28)
    assert dog.picture[0].min() == 1.0 and dog.picture[1:].max() == 0.0  # red, not grey
    grey = preview_data({"kind": "image_folder", "path": str(animals)})
    assert grey.samples[0].picture.shape == (28, 28)
