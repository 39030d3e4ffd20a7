"""Augmentation of training images: random changes drawn afresh for every batch of every
epoch, made as batched tensor operations on the device the batch is on.

What the data settings' `augment_*` entries switch on, in the order it is applied:
  random resized crop  a part of the image, `augment_crop_scale` of its area (a range)
                       at a width-to-height ratio drawn log-uniformly from
                       `augment_crop_ratio`, stretched back to the image's size; a crop
                       that would not fit is narrowed to the image.
  flips                each image mirrored left-right (`augment_hflip`) and top-bottom
                       (`augment_vflip`) with chance one half.
  rotation             by an angle drawn from +-`augment_rotation` degrees, corners black.
  colour jitter        brightness (a factor on every value), contrast (a blend towards
                       the image's mean grey), saturation (towards its grey, colour
                       images only), each by a factor in 1 +- the setting, in that order,
                       clipped to the data's `span` of values ([0, 1] for image folders).
  random erasing       with chance `augment_erasing`, a rectangle of 2-33% of the image
                       (ratio 0.3-3.3) set to 0 in normalised values: the mean colour.
Crop, flips and rotation are one affine resampling (bilinear, `grid_sample`); flips
alone are exact mirror copies. Colour works on pixel values as the data holds them: a
batch arrives normalised, as the model takes it, and is un-normalised and normalised
again around it.

Randomness: every batch draws `AUGMENT_DRAWS` uniform numbers per image from the
augmenter's own CPU generator, whatever is switched on, so the same seed draws the same
changes on every device and for every choice of settings. They go to the device as one
small copy; nothing is read back, so a GPU batch never waits for the host.

This module imports only math and torch: the exported train.py holds it as it is, so a
run and its script augment alike, batch for batch.
"""

import math

import torch
import torch.nn.functional as F

AUGMENT_DRAWS = 15
AUGMENT_ERASE_AREA = (0.02, 0.33)  # of the image, and
AUGMENT_ERASE_RATIO = (0.3, 3.3)  # its height over width: as torchvision's RandomErasing
AUGMENT_GREY = (0.299, 0.587, 0.114)  # the weights of R, G, B in an image's grey


def augmentation_on(data):
    """Whether the data settings (all of them, or only those set) switch any on."""
    names = ("crop", "hflip", "vflip", "rotation", "brightness", "contrast", "saturation")
    return any(data.get(f"augment_{name}") for name in (*names, "erasing"))


class Augmenter:
    """Augments batches x [B, ...] whose samples hold pictures `image` (C, H, W) in the
    order of their values, normalised with `mean` and `std` along dim 1 of a sample of
    shape `loaded` (the data as read: one value, one per channel, or one per value;
    None: not normalised); `span`: (lowest, highest) of the values as read.

    `seeded(seed, device)` gives the augmenter a run uses: its own generator, its
    normalisation on the run's device."""

    def __init__(self, data, image, loaded, mean, std, span=(0.0, 1.0)):
        self.data = {key: value for key, value in data.items() if key.startswith("augment_")}
        self.image = tuple(image)
        self.loaded = tuple(loaded)
        self.mean, self.std = mean or [0.0], std or [1.0]
        self.span = tuple(span)
        self.generator = None
        self.scale = None

    def seeded(self, seed, device):
        ready = Augmenter(self.data, self.image, self.loaded, self.mean, self.std, self.span)
        ready.generator = torch.Generator().manual_seed(seed)
        shape = [1, -1] + [1] * (len(self.loaded) - 1)
        ready.scale = [
            torch.tensor(v, dtype=torch.float32)
            .reshape(shape)
            .expand(1, *self.loaded)
            .reshape(1, *self.image)
            .to(device)
            for v in (self.mean, self.std)
        ]
        return ready

    def __call__(self, x):
        draws = torch.rand(len(x), AUGMENT_DRAWS, generator=self.generator)
        if x.device.type == "cuda":
            draws = draws.pin_memory()
        draws = draws.to(x.device, non_blocking=True).unbind(1)
        mean, std = self.scale
        images = x.reshape(len(x), *self.image).mul(std).add_(mean)
        images = augment_geometry(images, draws, self.data)
        images = augment_colour(images, draws, self.data, self.span)
        images = augment_erase(images.sub_(mean).div_(std), draws, self.data["augment_erasing"])
        return images.reshape(x.shape)


def augment_geometry(images, draws, data):
    """Crop, flips and rotation: one affine resampling, or mirror copies for flips alone."""
    flips = [(data["augment_hflip"], draws[4], 3), (data["augment_vflip"], draws[5], 2)]
    if not (data["augment_crop"] or data["augment_rotation"]):
        for on, draw, dim in flips:
            if on:
                images = torch.where(per_image(draw < 0.5), images.flip(dim), images)
        return images
    _, _, height, width = images.shape
    one, zero = torch.ones_like(draws[0]), torch.zeros_like(draws[0])
    share_x, share_y, centre_x, centre_y = one, one, zero, zero
    if data["augment_crop"]:
        low, high = data["augment_crop_scale"]
        area = low + (high - low) * draws[0]
        ratio = log_uniform(draws[1], data["augment_crop_ratio"])
        share_x = torch.sqrt(area * ratio * height / width).clamp(max=1.0)
        share_y = torch.sqrt(area / ratio * width / height).clamp(max=1.0)
        centre_x = (2 * draws[2] - 1) * (1 - share_x)
        centre_y = (2 * draws[3] - 1) * (1 - share_y)
    sign_x, sign_y = (torch.where((draw < 0.5) & on, -one, one) for on, draw, _ in flips)
    angle = (2 * draws[6] - 1) * math.radians(data["augment_rotation"])
    cos, sin = torch.cos(angle), torch.sin(angle)
    rows = (
        (share_x * cos * sign_x, -share_x * sin * sign_y * height / width, centre_x),
        (share_y * sin * sign_x * width / height, share_y * cos * sign_y, centre_y),
    )
    grid = affine_grid(rows, height, width)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def affine_grid(rows, height, width):
    """[B, H, W, 2]: where each output pixel samples its image, (x, y) in [-1, 1], for the
    affine maps `rows` ((a, b, c), (d, e, f)), per image: x' = a x + b y + c and
    y' = d x + e y + f at the pixels' centres, as F.affine_grid(align_corners=False)
    makes it, in a third of its time (no batched matrix product over a base grid)."""
    device, dtype = rows[0][0].device, rows[0][0].dtype
    xs = (torch.arange(width, device=device, dtype=dtype) * 2 + 1) / width - 1
    ys = ((torch.arange(height, device=device, dtype=dtype) * 2 + 1) / height - 1)[:, None]
    grid = torch.empty(len(rows[0][0]), height, width, 2, device=device, dtype=dtype)
    for coordinate, (a, b, c) in enumerate(rows):  # [B, H, 1] + [B, 1, W]: one full write
        torch.add(per_pixel(b) * ys + per_pixel(c), per_pixel(a) * xs, out=grid[..., coordinate])
    return grid


def augment_colour(images, draws, data, span):
    """Brightness, contrast, then saturation jitter, each clipped to `span` (in place:
    `images` is the augmenter's own copy)."""
    if data["augment_brightness"]:
        images.mul_(per_image(jitter_factor(draws[7], data["augment_brightness"])))
        images.clamp_(*span)
    if data["augment_contrast"]:
        mean = grey_of(images).mean((1, 2, 3), keepdim=True)
        blend_towards(images, mean, jitter_factor(draws[8], data["augment_contrast"]), span)
    if data["augment_saturation"] and images.shape[1] == 3:
        amount = jitter_factor(draws[9], data["augment_saturation"])
        blend_towards(images, grey_of(images), amount, span)
    return images


def augment_erase(images, draws, chance):
    """With `chance`, one rectangle of each image set to 0 (in normalised values)."""
    if not chance:
        return images
    _, _, height, width = images.shape
    low, high = AUGMENT_ERASE_AREA
    area = (low + (high - low) * draws[11]) * height * width
    ratio = log_uniform(draws[12], AUGMENT_ERASE_RATIO)
    tall = torch.sqrt(area * ratio).round().clamp(1, height)
    wide = torch.sqrt(area / ratio).round().clamp(1, width)
    top = torch.floor(draws[13] * (height - tall + 1))
    left = torch.floor(draws[14] * (width - wide + 1))
    rows = torch.arange(height, device=images.device, dtype=images.dtype)
    columns = torch.arange(width, device=images.device, dtype=images.dtype)
    in_rows = (rows >= per_image(top)) & (rows < per_image(top + tall))  # [B, 1, 1, H]
    in_columns = (columns >= per_image(left)) & (columns < per_image(left + wide))
    inside = in_rows.transpose(2, 3) & in_columns & per_image(draws[10] < chance)
    return images.masked_fill_(inside, 0.0)


def per_pixel(values):
    """Per-image values [B] shaped to broadcast over [B, H, W]."""
    return values.reshape(-1, 1, 1)


def per_image(values):
    """Per-image values [B] shaped to broadcast over [B, C, H, W]."""
    return values.reshape(-1, 1, 1, 1)


def jitter_factor(draw, spread):
    return 1 + (2 * draw - 1) * spread


def log_uniform(draw, bounds):
    low, high = math.log(bounds[0]), math.log(bounds[1])
    return torch.exp(low + (high - low) * draw)


def grey_of(images):
    """[B, 1, H, W]: the weighted sum of R, G and B (a one-channel image is its grey)."""
    if images.shape[1] != 3:
        return images
    weights = torch.tensor([AUGMENT_GREY], device=images.device, dtype=images.dtype)
    return torch.matmul(weights, images.flatten(2)).reshape(len(images), 1, *images.shape[2:])


def blend_towards(images, towards, amount, span):
    """images = towards + amount * (images - towards), per image, clipped to `span`."""
    images.sub_(towards).mul_(per_image(amount)).add_(towards).clamp_(*span)
