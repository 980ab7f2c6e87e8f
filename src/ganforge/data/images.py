"""Image data: the shared image conventions and the built-in sources that need no files.

Every image source returns an :class:`~ganforge.data.base.ArraySource` of kind ``"images"`` holding a
float tensor (N, C, H, W) with values in [0, 1] (data units), ``bounds=(0, 1)`` so the scaler maps the
known pixel range (not the observed extremes) onto the generator's range, and one shift and scale for all
pixels (``per_feature_scaling=False``). The helpers here (value range, channels, resizing) are shared by
the file loaders in :mod:`ganforge.data.image_files`.

Built-in sources (no network): ``digits`` (scikit-learn's 8x8 handwritten digits) and ``photo-patches``
(patches cut from the photographs scikit-image ships).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from ganforge.data.base import ArraySource
from ganforge.data.registry import register_source
from ganforge.errors import GanforgeError, did_you_mean

MIN_SIZE, MAX_SIZE = 4, 1024
# ITU-R BT.601 luma weights, the ones Pillow's "L" conversion uses.
LUMA = (0.299, 0.587, 0.114)


def check_size(size: int | None, where: str) -> None:
    """Reject image sizes no network can use (``None`` means keep the native size)."""
    if size is not None and not MIN_SIZE <= int(size) <= MAX_SIZE:
        raise GanforgeError(
            f"{where}.size={size}: image size must be between {MIN_SIZE} and {MAX_SIZE} pixels; "
            "the conv nets use 8, 16, 28, 32, 64 or 128"
        )


LOW_SCALE_MAX = 32.0  # pixel numbers above 1 but all below this are no 8-bit picture set: its brightest pixel
# would be 1/8 of white (scikit-learn's digits are 0-16 and were scored as near-black images: FID 763, not 17)


def to_unit_range(values: np.ndarray, where: str) -> np.ndarray:
    """Pixel values as float32 in [0, 1].

    uint8 / uint16 divide by 255 / 65535, booleans become 0/1. Other integer and float arrays are kept
    when already inside [0, 1] and divided by 255 when inside [0, 255] (8-bit images stored as floats), unless
    they never reach :data:`LOW_SCALE_MAX` (a scale of their own, e.g. 0-16); anything else is ambiguous and
    refused rather than silently rescaled by its own extremes.
    """
    if values.dtype == np.bool_:
        return values.astype(np.float32)
    if values.dtype == np.uint8:
        return values.astype(np.float32) / 255.0
    if values.dtype == np.uint16:
        return values.astype(np.float32) / 65535.0
    if values.dtype.kind not in "iuf":
        raise GanforgeError(f"{where}: holds {values.dtype} values; images must hold numbers")
    if values.size == 0:
        return values.astype(np.float32)
    if not np.isfinite(values).all():
        raise GanforgeError(f"{where}: holds NaN or infinite pixel values; clean the images first")
    lo, hi = float(values.min()), float(values.max())
    if lo >= 0.0 and hi <= 1.0:
        return values.astype(np.float32)
    if lo >= 0.0 and hi < LOW_SCALE_MAX:
        raise GanforgeError(
            f"{where}: pixel values span [{lo:g}, {hi:g}]: numbers above 1 are read as 8-bit [0, 255] pictures, "
            f"and these never reach {LOW_SCALE_MAX}, so they have a scale of their own (scikit-learn's digits: "
            "0-16); divide them by it, or store uint8"
        )
    if lo >= 0.0 and hi <= 255.0:
        return (values / 255.0).astype(np.float32)
    raise GanforgeError(
        f"{where}: pixel values span [{lo:g}, {hi:g}]; store images as uint8, or floats in [0, 1] or [0, 255]"
    )


def check_input_pictures(images: torch.Tensor, where: str) -> torch.Tensor:
    """A tensor of pictures a user gives a trained model (``gf.translate``, ``gf.upscale``) as its input:
    floats in [0, 1], at least one picture. Such a tensor is used as it is (arrays and files go through
    :func:`to_unit_range`), so NaN came back as an all-NaN picture and 0-255 values were clipped to white."""
    if images.dim() >= 1 and images.shape[0] == 0:
        raise GanforgeError(f"{where}: the tensor holds no pictures (shape {tuple(images.shape)})")
    if not images.is_floating_point():
        raise GanforgeError(f"{where}: a {images.dtype} tensor; give floats in [0, 1] (8-bit pictures: x / 255), "
                            "or a numpy array, which is read as picture files are")
    if not bool(torch.isfinite(images).all()):
        raise GanforgeError(f"{where}: the tensor holds NaN or infinite values; clean the pictures first")
    lo, hi = float(images.min()), float(images.max())
    if lo < 0.0 or hi > 1.0:
        raise GanforgeError(f"{where}: pixel values span [{lo:g}, {hi:g}]; a tensor is the model's input in [0, 1] "
                            "(8-bit pictures: x / 255), or give a numpy array, which is read as picture files are")
    return images


def set_channels(x: torch.Tensor, grayscale: bool | None) -> torch.Tensor:
    """(N, C, H, W) with C in {1, 3, 4} -> 1 channel (``grayscale=True``) or 3 (``False``).

    An alpha channel is dropped; RGB -> gray uses the BT.601 luma ``0.299 R + 0.587 G + 0.114 B``; gray ->
    RGB repeats the channel. ``None`` keeps 1 channel for gray data and makes colour data RGB.
    """
    if x.shape[1] == 4:
        x = x[:, :3]
    if grayscale is None:
        return x
    if grayscale and x.shape[1] == 3:
        weights = torch.tensor(LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return (x * weights).sum(dim=1, keepdim=True)
    if not grayscale and x.shape[1] == 1:
        return x.repeat(1, 3, 1, 1)
    return x


def resize_images(x: torch.Tensor, size: int, chunk: int = 2048) -> torch.Tensor:
    """Resize (N, C, H, W) to (N, C, size, size) with bilinear interpolation.

    ``antialias=True`` low-pass filters when shrinking (plain bilinear sampling would alias fine detail
    into moire); results are clamped back into [0, 1]. Works in chunks to bound peak memory.
    """
    if x.shape[-2:] == (size, size):
        return x
    parts = [
        F.interpolate(x[i : i + chunk].float(), size=(size, size), mode="bilinear", align_corners=False,
                      antialias=True)
        for i in range(0, x.shape[0], chunk)
    ]
    return torch.cat(parts).clamp_(0.0, 1.0) if parts else x.new_zeros((0, x.shape[1], size, size))


def image_source(
    x: torch.Tensor | np.ndarray,
    y: torch.Tensor | np.ndarray | Sequence[int] | None,
    *,
    name: str,
    num_classes: int | None = None,
    info: dict[str, Any] | None = None,
) -> ArraySource:
    """Wrap images (N, C, H, W) in [0, 1] and optional labels (N,) as an image :class:`ArraySource`.

    Labels become int64; ``num_classes`` defaults to ``max(label) + 1``.
    """
    images = torch.as_tensor(x, dtype=torch.float32)
    if images.dim() != 4 or images.shape[0] == 0:
        raise GanforgeError(
            f"{name}: expected a non-empty stack of images (N, C, H, W), got {tuple(images.shape)}"
        )
    labels = None
    if y is not None:
        labels = torch.as_tensor(np.asarray(y), dtype=torch.int64).reshape(-1)
        if labels.numel() != images.shape[0]:
            raise GanforgeError(
                f"{name}: {labels.numel()} labels for {images.shape[0]} images; they must match"
            )
        if labels.numel() and int(labels.min()) < 0:
            raise GanforgeError(
                f"{name}: negative class label {int(labels.min())}; labels must be 0, 1, 2, ..."
            )
        if num_classes is None:
            num_classes = int(labels.max()) + 1
    return ArraySource(
        kind="images",
        sample_shape=tuple(images.shape[1:]),
        name=name,
        num_classes=num_classes,
        info=dict(info or {}),
        x=images.clamp(0.0, 1.0),
        y=labels,
        bounds=(0.0, 1.0),
        per_feature_scaling=False,
    )


# --------------------------------------------------------------------------------------- digits


def digits_images() -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's digits as images ``(1797, 1, 8, 8)`` in [0, 1] (pixel / 16) and labels ``(1797,)``."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = torch.as_tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    return images, torch.as_tensor(bunch.target, dtype=torch.long)


def digits_split(seed: int = 0, test_fraction: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """The fixed stratified train/test split of the 1797 digits used to train and test the classifier."""
    from sklearn.model_selection import train_test_split

    _, labels = digits_images()
    index = np.arange(len(labels))
    train, test = train_test_split(
        index, test_size=test_fraction, random_state=seed, stratify=labels.numpy(), shuffle=True
    )
    return np.sort(train), np.sort(test)


MIN_VAL_FRACTION = 0.01  # of the 1,347 training digits: 13, enough for one of each class in a stratified split


def split_off_validation(train: np.ndarray, val_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """(training digits left, validation digits): ``val_fraction`` of the classifier's training digits ``train``
    (from :func:`digits_split`), stratified by label with a fixed seed, so every run of the same fraction holds
    out the same digits: a split to choose checkpoints on without the test digits."""
    from sklearn.model_selection import train_test_split

    if not MIN_VAL_FRACTION <= val_fraction <= 0.5:
        raise GanforgeError(f"data.val_fraction={val_fraction}: give a share in [{MIN_VAL_FRACTION}, 0.5] for a "
                            "validation split of the training digits (e.g. 0.1), or leave it out")
    _, labels = digits_images()
    rest, val = train_test_split(train, test_size=val_fraction, random_state=0, stratify=labels.numpy()[train])
    return np.sort(rest), np.sort(val)


@register_source("digits")
def digits(size: int = 8, classes: list[int] | None = None) -> ArraySource:
    """Handwritten digits 0-9 bundled with scikit-learn: 1,797 gray 8x8 images with labels.

    ``size``: 8 keeps the native resolution; 16, 28 or 32 resize (bilinear, antialiased). ``classes``
    keeps only those digits (labels stay the digits themselves, so ``num_classes`` is 10).
    Values 0..16 are divided by 16 into [0, 1].
    """
    check_size(size, "data")
    images, labels = digits_images()
    if classes is not None:
        bad = [c for c in classes if not 0 <= int(c) <= 9]
        if bad or not classes:
            raise GanforgeError(f"data.classes={classes}: choose digits between 0 and 9, e.g. [0, 1, 7]")
        keep = torch.isin(labels, torch.as_tensor([int(c) for c in classes]))
        images, labels = images[keep], labels[keep]
    x = resize_images(images, size)
    kept = sorted({int(c) for c in classes or range(10)})
    info = {"classes": [str(c) for c in range(10)], "kept_classes": kept}
    return image_source(x, labels, name="digits", num_classes=10, info=info)


# --------------------------------------------------------------------------------- photo patches

# Photographs scikit-image bundles in its wheel (they load with no network). Binary masks and
# synthetic figures are left out: they are not photographs. The photo feature network was trained on these.
SCIKIT_IMAGE_PHOTOS = (
    "astronaut", "camera", "coffee", "chelsea", "rocket", "moon", "coins", "clock", "page", "text",
    "immunohistochemistry", "hubble_deep_field", "retina", "grass", "gravel", "brick", "colorwheel",
)
# Colour photographs bundled elsewhere: scikit-learn's two sample images and the left view of
# scikit-image's stereo pair (``stereo_motorcycle``). No feature network has seen them.
OTHER_PHOTOS = ("china", "flower", "motorcycle")
PHOTOS = SCIKIT_IMAGE_PHOTOS + OTHER_PHOTOS
DEFAULT_PHOTOS = ("camera", "astronaut", "coffee", "chelsea", "rocket")


@functools.lru_cache(maxsize=32)
def load_photo(name: str) -> np.ndarray:
    """One bundled scikit-image photograph as float32 (C, H, W) in [0, 1] (cached, read-only)."""
    if name not in PHOTOS:
        raise GanforgeError(
            f"data.images: unknown photograph '{name}'{did_you_mean(name, PHOTOS)}; "
            f"available: {', '.join(PHOTOS)}"
        )
    try:
        raw = _read_bundled_photo(name)
    except Exception as exc:  # a missing optional file in a trimmed install
        raise GanforgeError(
            f"data.images: the bundled photograph '{name}' could not be loaded ({type(exc).__name__}); "
            "choose another photograph"
        ) from None
    arr = to_unit_range(raw, f"skimage.data.{name}")
    arr = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)[:3]
    arr = np.ascontiguousarray(arr)
    arr.setflags(write=False)
    return arr


def _read_bundled_photo(name: str) -> np.ndarray:
    """The raw pixels of photograph ``name`` as its package ships it (uint8 or float, (H, W[, C]))."""
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return np.asarray(load_sample_image(f"{name}.jpg"))
    import skimage.data

    if name == "motorcycle":
        return np.asarray(skimage.data.stereo_motorcycle()[0])
    return np.asarray(getattr(skimage.data, name)())


def _patch_corners(rect: tuple[int, int, int, int], patch: int, stride: int) -> list[tuple[int, int]]:
    """Top-left corners of a regular grid of patches lying fully inside ``rect`` (r0, r1, c0, c1)."""
    r0, r1, c0, c1 = rect
    return [(r, c) for r in range(r0, r1 - patch + 1, stride) for c in range(c0, c1 - patch + 1, stride)]


def _column_range(width: int, split: str, test_fraction: float, val_fraction: float = 0.0) -> tuple[int, int]:
    """Columns a split may use: the test split is the right-most ``test_fraction`` of the width, the
    validation split the ``val_fraction`` just left of it, the train split everything left of both."""
    cut = int(round(width * (1.0 - test_fraction)))
    val_cut = int(round(width * (1.0 - test_fraction - val_fraction)))
    if split == "train":
        return 0, val_cut
    if split == "val":
        return val_cut, cut
    if split == "test":
        return cut, width
    return 0, width


HOLDOUTS = ("strip", "tiles")
TILES_SEED = 7
"""Which tiles are held out (``holdout="tiles"``) is drawn once with this seed, never with the data seed, so
every seed and every split of a photograph agree on it."""


def _regions(
    height: int, width: int, patch: int, split: str, test_fraction: float, val_fraction: float, holdout: str
) -> list[tuple[int, int, int, int]]:
    """Rectangles (r0, r1, c0, c1) of a photograph that ``split``'s patches are cut from.

    ``"strip"``: one rectangle, the columns of :func:`_column_range`. ``"tiles"``: the photograph cut into
    square tiles of side 2 x ``patch`` (a remainder at the right and bottom is unused); a fixed draw puts
    round(``test_fraction`` x tiles) of them (at least one) in the test split, round(``val_fraction`` x tiles)
    in the validation split and the rest in the training split. Train and test then come from every part of
    every photograph (a strip at the right holds other colours than the rest of the picture) and still share
    no pixel, since a patch lies inside one tile."""
    if holdout == "strip" or split == "all":
        c0, c1 = _column_range(width, split, test_fraction, val_fraction)
        return [(0, height, c0, c1)]
    side = 2 * patch
    tiles = [(r, r + side, c, c + side) for r in range(0, height - side + 1, side)
             for c in range(0, width - side + 1, side)]
    order = np.random.default_rng(TILES_SEED).permutation(len(tiles))
    n_test = max(1, round(test_fraction * len(tiles)))
    n_val = max(1, round(val_fraction * len(tiles))) if val_fraction > 0 else 0
    chosen = {"test": order[:n_test], "val": order[n_test:n_test + n_val], "train": order[n_test + n_val:]}[split]
    return [tiles[i] for i in sorted(chosen)]


@register_source("photo-patches")
def photo_patches(
    patch_size: int = 32,
    count: int = 2000,
    images: list[str] | None = None,
    grayscale: bool | None = None,
    mode: Literal["random", "grid"] = "random",
    stride: int | None = None,
    split: Literal["all", "train", "val", "test"] = "all",
    test_fraction: float = 0.2,
    val_fraction: float = 0.0,
    seed: int = 0,
    holdout: Literal["strip", "tiles"] = "strip",
) -> ArraySource:
    """Square patches cut from photographs bundled with scikit-image (camera, astronaut, coffee, ...).

    ``mode="random"``: ``count`` patches at uniformly random positions of uniformly chosen photos;
    ``mode="grid"``: every patch of a regular grid (step ``stride``, default ``patch_size``), a random
    ``count`` of them when there are more. ``split="train"``/``"test"`` keeps patches inside the left
    ``1 - test_fraction`` / right ``test_fraction`` of every photo's width, so a test patch shares no pixel
    with any training patch (held-out evaluation, e.g. for super-resolution); ``"all"`` uses whole photos.
    ``val_fraction`` > 0 takes that fraction of the width, just left of the test columns, out of
    ``"train"`` into ``"val"`` (a validation split for choosing settings without touching the test one).
    ``holdout="tiles"`` instead holds out a fixed ``test_fraction`` of square tiles (side 2 x ``patch_size``)
    scattered over every photograph (:func:`_regions`), so the test patches show the same things as the
    training ones. ``grayscale``: True -> 1 channel, False -> RGB, None -> RGB unless every chosen photo is gray.
    Labels are the index of the source photo in ``images`` (``info["classes"]`` names them).
    """
    names = list(images) if images is not None else list(DEFAULT_PHOTOS)
    if not names:
        raise GanforgeError("data.images is empty; name at least one photograph, e.g. [camera]")
    if patch_size < 2:
        raise GanforgeError(f"data.patch_size={patch_size}: patches must be at least 2 pixels wide")
    if count < 1:
        raise GanforgeError(f"data.count={count}: ask for at least one patch")
    if split != "all" and not 0.0 < test_fraction < 1.0:
        raise GanforgeError(f"data.test_fraction={test_fraction}: must lie strictly between 0 and 1")
    if not 0.0 <= val_fraction < 1.0 - test_fraction or (split == "val" and val_fraction == 0.0):
        raise GanforgeError(
            f"data.val_fraction={val_fraction}: must be in [0, 1 - test_fraction) and > 0 for split 'val'"
        )
    if holdout not in HOLDOUTS:
        raise GanforgeError(f"data.holdout='{holdout}': choose strip or tiles")
    step = patch_size if stride is None else stride
    if step < 1:
        raise GanforgeError(f"data.stride={stride}: must be at least 1")
    photos = [load_photo(n) for n in names]
    if grayscale is None:
        grayscale = all(p.shape[0] == 1 for p in photos)
    regions = []
    for name, photo in zip(names, photos, strict=True):
        _, h, w = photo.shape
        rects = _regions(h, w, patch_size, split, test_fraction, val_fraction, holdout)
        if not rects or any(r1 - r0 < patch_size or c1 - c0 < patch_size for r0, r1, c0, c1 in rects):
            size = f"{rects[0][1] - rects[0][0]}x{rects[0][3] - rects[0][2]} pixels" if rects else "no tile"
            raise GanforgeError(
                f"data.patch_size={patch_size}: photograph '{name}' has only {size} for split '{split}'; use "
                "smaller patches or a smaller test_fraction"
            )
        regions.append(rects)

    rng = np.random.default_rng(seed)
    picks: list[tuple[int, int, int]] = []  # (photo index, row, col)
    if mode == "random":
        which = rng.integers(0, len(photos), size=count)
        # a rectangle with probability proportional to the patches it holds
        weights = []
        for rects in regions:
            sizes = np.array([(r1 - r0 - patch_size + 1) * (c1 - c0 - patch_size + 1) for r0, r1, c0, c1 in rects])
            weights.append(sizes / sizes.sum())
        for k in which:
            rects = regions[k]
            j = int(rng.choice(len(rects), p=weights[k])) if len(rects) > 1 else 0
            r0, r1, c0, c1 = rects[j]
            r = int(rng.integers(r0, r1 - patch_size + 1))
            c = int(rng.integers(c0, c1 - patch_size + 1))
            picks.append((int(k), r, c))
    else:
        for k, rects in enumerate(regions):
            picks += [(k, r, c) for rect in rects for r, c in _patch_corners(rect, patch_size, step)]
        if len(picks) > count:
            keep = np.sort(rng.choice(len(picks), size=count, replace=False))
            picks = [picks[i] for i in keep]

    patches = []
    for k, r, c in picks:
        patch = torch.from_numpy(np.array(photos[k][:, r : r + patch_size, c : c + patch_size]))
        patches.append(set_channels(patch.unsqueeze(0), grayscale))
    x = torch.cat(patches)
    labels = [k for k, _, _ in picks]
    info = {"classes": names, "split": split, "test_fraction": test_fraction if split != "all" else 0.0,
            "mode": mode, "holdout": holdout, "corners": [(r, c) for _, r, c in picks]}
    return image_source(x, labels, name="photo-patches", num_classes=len(names), info=info)
