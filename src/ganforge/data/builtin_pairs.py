"""Built-in aligned pairs made offline from bundled images, for Pix2Pix demos and benchmarks.

* ``edges2digits``: scikit-learn's digits upsampled to ``size`` (bilinear) -> B; their Canny edges
  (scikit-image, ``sigma``) -> A. Splits are the shipped digits classifier's (``digits_split``), so the
  held-out test digits were seen by neither the classifier nor the translator; labels kept for scoring.
* ``edges2photos``: ``size`` patches of scikit-image's bundled colour photographs -> B; Canny edges of
  their luma -> A. ``gray2color``: the same patches' luma (BT.601) -> A, the colour patch -> B. Test
  patches come from 20 % of the square tiles (side 2 x ``size``) of every photograph, training patches from
  the other tiles: no pixel is shared, and both show every part of every photograph (``holdout="tiles"``).
  Until round 13 the test patches came from the right-most 20 % of every photograph (``holdout="strip"``),
  whose colours differ from the rest: real training patches scored FID 131 against the real test patches
  (photo statistics; 11-13 between two draws of either), so a translator was judged on colours no training
  pair showed (``benchmarks/pix2pix.py --split-check``; 30 with tiles).
* ``labels2scenes``: procedurally drawn outdoor scenes of five textured classes (sky, water, grass,
  brick, sand) -> B, with the colour-coded label map they were painted from -> A; the per-pixel class
  map is known exactly (kept for the FCN-score). Layout: a horizon, ground of grass or sand, a lake, a
  patch of the other ground class and a brick wall standing on the horizon, each at random places and
  sizes. Every class has a colour *and* a texture with random phase (cloud noise, ripples, blades,
  bricks, speckle), so a translator must invent texture that no pixel of the label map determines.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

from ganforge.data.pairs import ImagePairSource, pair_source
from ganforge.data.registry import register_source
from ganforge.errors import GanforgeError

TrainValTest = Literal["train", "val", "test"]
SCENE_CLASSES = ("sky", "water", "grass", "brick", "sand")
# colour code of the label maps (the input A), one RGB colour per class, far apart
SCENE_PALETTE = np.array(
    [[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0]], dtype=np.float32
)
# Every colour natural photograph the installed packages bundle (round 17; the first four alone before:
# too few for held-out tiles to share the training tiles' mix of textures).
COLOR_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "china", "flower", "motorcycle")


def canny_edges(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """(N, C, H, W) in [0, 1] -> (N, 1, H, W) binary Canny edge maps of their luma (scikit-image)."""
    from skimage.feature import canny

    from ganforge.data.images import set_channels

    gray = set_channels(images, True)[:, 0].numpy().astype(np.float64)
    edges = np.stack([canny(g, sigma=sigma) for g in gray]).astype(np.float32)
    return torch.from_numpy(edges).unsqueeze(1)


def _check_split(split: str, allowed: tuple[str, ...] = ("train", "test")) -> None:
    if split not in allowed:
        raise GanforgeError(f"data.split='{split}': choose {', '.join(allowed[:-1])} or {allowed[-1]}")


@register_source("edges2digits")
def edges2digits(
    size: int = 32, sigma: float = 1.0, split: TrainValTest = "train", flip: bool = False, val_fraction: float = 0.0
) -> ImagePairSource:
    """Edges -> digits: Canny edges (A) of scikit-learn digits upsampled to ``size`` (B), with labels.

    Both sides are white on black: A is a binary edge map, 1 (white) on the edges of the digit, 0 (black)
    elsewhere; B the digit's strokes, bright on a dark ground. A translator trained here expects that
    convention (the README says so): a black-on-white sketch is the negative of every input it saw.
    ``val_fraction`` > 0 takes that share of the training digits (stratified, fixed) out of ``train`` as the
    ``val`` split, for choosing a checkpoint (``eval.best``) without the test digits."""
    from ganforge.data.images import check_size, digits_images, digits_split, resize_images, split_off_validation

    check_size(size, "data")
    _check_split(split, ("train", "val", "test"))
    images, labels = digits_images()
    train, test = digits_split()
    if split != "test" and (val_fraction or split == "val"):
        train, val = split_off_validation(train, val_fraction)
        train = val if split == "val" else train
    idx = torch.as_tensor(train if split in ("train", "val") else test)
    b = resize_images(images[idx], size)
    a = canny_edges(b, sigma)
    info = {"split": split, "sigma": sigma, "classes": [str(c) for c in range(10)], "size": size,
            "val_fraction": val_fraction}
    return pair_source(a, b, name="edges2digits", flip=flip, labels=labels[idx], num_classes=10, info=info)


def _photo_pairs(
    size: int, count: int, split: str, seed: int, images: list[str] | None, holdout: str, val_fraction: float
) -> torch.Tensor:
    """Colour patches of ``split``: "train", "test", or "val" (the ``val_fraction`` of tiles, or of the width
    for the strip, that ``photo_patches`` takes out of "train" when ``val_fraction`` > 0: for choosing settings
    on pictures no training pair shows, without the test split)."""
    from ganforge.data.images import photo_patches

    _check_split(split, ("train", "val", "test"))
    names = list(images) if images is not None else list(COLOR_PHOTOS)
    patches = photo_patches(
        patch_size=size, count=count, images=names, grayscale=False, split=split,
        seed=seed + {"train": 0, "test": 1, "val": 2}[split], holdout=holdout,  # type: ignore[arg-type]
        val_fraction=val_fraction,
    )
    return patches.x


@register_source("edges2photos")
def edges2photos(
    size: int = 32,
    count: int = 2000,
    sigma: float = 1.0,
    split: TrainValTest = "train",
    images: list[str] | None = None,
    flip: bool = True,
    seed: int = 0,
    holdout: str = "tiles",
    val_fraction: float = 0.0,
) -> ImagePairSource:
    """Edges -> photo patches: Canny edges of the luma (A) of colour photo patches (B)."""
    b = _photo_pairs(size, count, split, seed, images, holdout, val_fraction)
    info = {"split": split, "sigma": sigma, "images": list(images or COLOR_PHOTOS), "size": size, "holdout": holdout,
            "val_fraction": val_fraction}
    return pair_source(canny_edges(b, sigma), b, name="edges2photos", flip=flip, info=info)


@register_source("gray2color")
def gray2color(
    size: int = 32,
    count: int = 2000,
    split: TrainValTest = "train",
    images: list[str] | None = None,
    flip: bool = True,
    seed: int = 0,
    holdout: str = "tiles",
    val_fraction: float = 0.0,
) -> ImagePairSource:
    """Grayscale -> colour: the BT.601 luma (A) of colour photo patches (B)."""
    from ganforge.data.images import set_channels

    b = _photo_pairs(size, count, split, seed, images, holdout, val_fraction)
    info = {"split": split, "images": list(images or COLOR_PHOTOS), "size": size, "holdout": holdout,
            "val_fraction": val_fraction}
    return pair_source(set_channels(b, True), b, name="gray2color", flip=flip, info=info)


# ------------------------------------------------------------------------------------------- scenes


def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Value noise: a ``cells`` x ``cells`` grid of uniform values, bilinearly upsampled to ``size``, in [0, 1]."""
    grid = torch.from_numpy(rng.random((1, 1, cells + 1, cells + 1)).astype(np.float32))
    up = torch.nn.functional.interpolate(grid, size=(size, size), mode="bilinear", align_corners=True)
    return up[0, 0].numpy()


def scene_textures(rng: np.random.Generator, size: int) -> np.ndarray:
    """(5, 3, size, size): every class's texture over the whole canvas, with fresh random phases."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    s = size / 32.0  # texture scales with the canvas
    out = np.zeros((5, 3, size, size), dtype=np.float32)
    # sky: vertical gradient from deep to pale blue with soft clouds
    t = yy / size
    clouds = np.clip(_smooth_noise(rng, size, 3) * 1.6 - 0.8, 0, 1)
    sky = np.stack([0.35 + 0.3 * t, 0.55 + 0.25 * t, 0.95 + 0.0 * t])
    out[0] = sky * (1 - clouds) + 0.97 * clouds
    # water: dark blue with horizontal ripples of random phase and slight waviness
    phase = rng.uniform(0, 2 * np.pi)
    ripple = np.sin(2 * np.pi * yy / (3.0 * s) + phase + 1.5 * _smooth_noise(rng, size, 4))
    out[1] = np.stack([0.1 + 0.08 * ripple, 0.3 + 0.12 * ripple, 0.55 + 0.15 * ripple])
    # grass: green with vertical blades (per-column noise stretched vertically) and pixel noise
    blades = rng.normal(0, 1, (size, size)).astype(np.float32)
    blades = 0.5 * blades + 0.5 * np.roll(blades, 1, axis=0)
    out[2] = np.stack([0.2 + 0.06 * blades, 0.5 + 0.12 * blades, 0.15 + 0.05 * blades])
    # brick: red-brown bricks with pale mortar lines, rows offset by half a brick, random phase
    bh, bw = max(2, round(4 * s)), max(4, round(8 * s))
    oy, ox = rng.integers(0, bh), rng.integers(0, bw)
    row = ((yy + oy) // bh).astype(int)
    mortar = ((yy + oy) % bh == 0) | (((xx + ox + (row % 2) * bw // 2) % bw) == 0)
    shade = rng.uniform(-0.08, 0.08, (size // bh + 3, size // bw + 3)).astype(np.float32)
    brick_shade = shade[row % shade.shape[0], (((xx + ox + (row % 2) * bw // 2) // bw).astype(int)) % shade.shape[1]]
    brick = np.stack([0.62 + brick_shade, 0.28 + brick_shade * 0.5, 0.2 + brick_shade * 0.3])
    out[3] = np.where(mortar[None], np.array([0.8, 0.78, 0.72], dtype=np.float32)[:, None, None], brick)
    # sand: beige with fine speckle and low dunes
    speckle = rng.normal(0, 0.05, (size, size)).astype(np.float32)
    dunes = 0.08 * np.sin(2 * np.pi * (xx + 0.5 * yy) / (10 * s) + rng.uniform(0, 2 * np.pi))
    out[4] = np.stack([0.85 + speckle + dunes, 0.74 + speckle + dunes, 0.52 + speckle + dunes])
    return np.clip(out, 0.0, 1.0)


def _ellipse(size: int, cy: float, cx: float, ry: float, rx: float) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    return ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0


def scene_layout(rng: np.random.Generator, size: int) -> np.ndarray:
    """(size, size) int64 class map: horizon, ground, lake, a patch of the other ground and a wall."""
    labels = np.zeros((size, size), dtype=np.int64)
    horizon = int(rng.uniform(0.3, 0.55) * size)
    ground, other = (2, 4) if rng.random() < 0.5 else (4, 2)
    labels[horizon:] = ground
    below = size - horizon
    if rng.random() < 0.8:  # a lake
        cy = horizon + rng.uniform(0.35, 0.8) * below
        lake = _ellipse(
            size, cy, rng.uniform(0.1, 0.9) * size, rng.uniform(0.15, 0.35) * below, rng.uniform(0.2, 0.45) * size
        )
        labels[lake & (np.arange(size)[:, None] >= horizon)] = 1
    if rng.random() < 0.6:  # a patch of the other ground class
        cy = horizon + rng.uniform(0.2, 0.9) * below
        patch = _ellipse(
            size, cy, rng.uniform(0.0, 1.0) * size, rng.uniform(0.1, 0.3) * below, rng.uniform(0.1, 0.3) * size
        )
        labels[patch & (np.arange(size)[:, None] >= horizon) & (labels != 1)] = other
    if rng.random() < 0.75:  # a brick wall standing on the horizon
        w, h = int(rng.uniform(0.2, 0.5) * size), int(rng.uniform(0.15, 0.4) * size)
        left = int(rng.integers(0, size - w + 1))
        bottom = min(size, horizon + int(rng.integers(0, max(1, below // 3))))
        labels[max(0, bottom - h) : bottom, left : left + w] = 3
    return labels


def draw_scenes(n: int, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``n`` scenes: (label images A (n, 3, S, S), scenes B (n, 3, S, S), class maps (n, S, S) int64)."""
    rng = np.random.default_rng(seed)
    scenes = np.zeros((n, 3, size, size), dtype=np.float32)
    maps = np.zeros((n, size, size), dtype=np.int64)
    for i in range(n):
        labels = scene_layout(rng, size)
        textures = scene_textures(rng, size)
        scenes[i] = np.take_along_axis(textures, labels[None, None].repeat(3, axis=1), axis=0)[0]
        maps[i] = labels
    coded = SCENE_PALETTE[maps].transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(coded)), torch.from_numpy(scenes), torch.from_numpy(maps)


def labels_from_coded(coded: torch.Tensor) -> torch.Tensor:
    """Colour-coded label images (N, 3, H, W) -> class maps (N, H, W): the nearest palette colour."""
    palette = torch.from_numpy(SCENE_PALETTE)
    dist = ((coded.unsqueeze(1) - palette.view(1, -1, 3, 1, 1)) ** 2).sum(2)
    return dist.argmin(1)


@register_source("labels2scenes")
def labels2scenes(
    size: int = 32, count: int = 2000, split: TrainValTest = "train", flip: bool = True, seed: int = 0
) -> ImagePairSource:
    """Label map -> scene: colour-coded class maps (A) and the textured scenes painted from them (B).

    Train, test and validation scenes come from disjoint random streams (seeds ``seed``, ``seed + 10_000``
    and ``seed + 20_000``)."""
    from ganforge.data.images import check_size

    check_size(size, "data")
    _check_split(split, ("train", "val", "test"))
    if count < 1:
        raise GanforgeError(f"data.count={count}: ask for at least one scene")
    a, b, maps = draw_scenes(count, size, seed + {"train": 0, "test": 10_000, "val": 20_000}[split])
    info = {"split": split, "size": size, "classes": list(SCENE_CLASSES), "seed": seed}
    return pair_source(
        a, b, name="labels2scenes", flip=flip, label_maps=maps, num_classes=len(SCENE_CLASSES), info=info
    )
