"""Image data in two parts: (low-res, high-res) pairs for super-resolution and unpaired domains A and B
for translation.

* kind ``"superres"`` (:class:`PairedImageSource`): ``batch.x`` is the high-resolution image (N, C, H, W),
  ``batch.y`` its low-resolution version (N, C, H/s, W/s), both in model units. The low-resolution image
  is the bicubic, antialiased ``s``-fold reduction of the high-resolution one (SRGAN's protocol: LR
  images are made from HR images by bicubic downsampling) unless a folder of real low-res files is given.
  Sources: ``sr-patches`` (patches of scikit-image's bundled photographs, with a train/test split by
  image columns so test patches share no pixel with training ones) and ``sr-folder`` (random crops of
  any folder of pictures).
* kind ``"unpaired-images"`` (:class:`UnpairedImageSource`): ``batch.x`` is a batch of domain A,
  ``batch.y`` an *independently drawn* batch of domain B (CycleGAN needs no pairs). Class labels are
  kept per domain (``y``, ``y_b``) for evaluation only. Sources: ``unpaired-digits`` (digits <-> inverted
  or rotated digits, whose labels let a classifier check that translation keeps the digit) and
  ``unpaired-folders`` (two folders of pictures).

All images are in data units [0, 1]; one scaler (fit with the known bounds (0, 1)) serves both parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from ganforge.data.base import ArraySource, Batch
from ganforge.data.registry import register_source
from ganforge.errors import GanforgeError

DomainTransform = Literal["invert", "rotate"]


# ----------------------------------------------------------------------------------------- resampling


def downscale(images: torch.Tensor, scale: int) -> torch.Tensor:
    """Bicubic, antialiased ``scale``-fold reduction of (N, C, H, W) images in [0, 1], clamped to [0, 1].

    ``antialias=True`` widens the bicubic kernel by ``scale`` (like MATLAB's ``imresize`` and Pillow), so
    it low-pass filters instead of sampling every s-th pixel. H and W must be multiples of ``scale``.
    """
    h, w = images.shape[-2:]
    if scale < 1 or h % scale or w % scale:
        raise GanforgeError(
            f"cannot reduce {h}x{w} images by {scale}: the size must be a multiple of the scale; "
            "pick a patch size divisible by the scale"
        )
    if scale == 1:
        return images.clone()
    out = F.interpolate(
        images.float(), size=(h // scale, w // scale), mode="bicubic", align_corners=False, antialias=True
    )
    return out.clamp_(0.0, 1.0)


def bicubic_upscale(images: torch.Tensor, scale: int) -> torch.Tensor:
    """Bicubic ``scale``-fold enlargement (the classic baseline of super-resolution), clamped to [0, 1]."""
    h, w = images.shape[-2:]
    out = F.interpolate(images.float(), size=(h * scale, w * scale), mode="bicubic", align_corners=False)
    return out.clamp_(0.0, 1.0)


def domain_transform(images: torch.Tensor, transform: DomainTransform) -> torch.Tensor:
    """Domain B of the built-in translation demo: ``1 - x`` (invert) or a 90° counter-clockwise rotation."""
    if transform == "invert":
        return 1.0 - images
    if transform == "rotate":
        return torch.rot90(images, 1, dims=(-2, -1))
    raise GanforgeError(f"data.transform='{transform}': choose invert or rotate")


def inverse_domain_transform(images: torch.Tensor, transform: DomainTransform) -> torch.Tensor:
    """Undo :func:`domain_transform` exactly (both transforms are bijections on pixel grids)."""
    if transform == "invert":
        return 1.0 - images
    if transform == "rotate":
        return torch.rot90(images, -1, dims=(-2, -1))
    raise GanforgeError(f"data.transform='{transform}': choose invert or rotate")


# ------------------------------------------------------------------------------------ super-resolution


@dataclass
class PairedImageSource(ArraySource):
    """High-res images ``x`` (N, C, H, W) with their low-res versions ``low`` (N, C, H/s, W/s), data units."""

    low: torch.Tensor = field(default_factory=lambda: torch.empty(0))
    scale: int = 4

    def __post_init__(self) -> None:
        super().__post_init__()
        self.low = self.low.float()
        if self.low.shape[0] != self.x.shape[0] or tuple(self.low.shape[-2:]) != (
            self.x.shape[-2] // self.scale,
            self.x.shape[-1] // self.scale,
        ):
            raise GanforgeError(
                f"{self.name}: {tuple(self.low.shape)} low-res images do not match {tuple(self.x.shape)} "
                f"high-res ones at scale {self.scale}"
            )

    def batch(self, n: int, rng: torch.Generator) -> Batch:
        idx = self._indices(n, rng)
        return Batch(self.scaler.to_model(self.x[idx]), self.scaler.to_model(self.low[idx]))

    def real(self, n: int, seed: int = 12345) -> Batch:
        """``n`` pairs in data units: ``x`` high-res, ``y`` low-res."""
        g = torch.Generator().manual_seed(seed)
        idx = torch.randperm(len(self), generator=g)[: min(n, len(self))]
        return Batch(self.x[idx], self.low[idx])


def paired_source(high: torch.Tensor, low: torch.Tensor | None, scale: int, name: str, info: dict) -> PairedImageSource:
    """Wrap high-res images (and their low-res versions; bicubic reductions when None) as a source."""
    high = high.float().clamp(0.0, 1.0)
    low = downscale(high, scale) if low is None else low.float().clamp(0.0, 1.0)
    return PairedImageSource(
        kind="superres",
        sample_shape=tuple(high.shape[1:]),
        name=name,
        info={**info, "scale": scale, "lr_shape": list(low.shape[1:])},
        x=high,
        low=low,
        scale=scale,
        bounds=(0.0, 1.0),
        per_feature_scaling=False,
    )


def _check_scale(scale: int) -> None:
    if scale not in (2, 4):
        raise GanforgeError(f"data.scale={scale}: super-resolution supports x2 and x4")


@register_source("sr-patches")
def sr_patches(
    patch_size: int = 32,
    scale: int = 4,
    count: int = 2000,
    images: list[str] | None = None,
    grayscale: bool | None = None,
    split: Literal["all", "train", "val", "test"] = "train",
    test_fraction: float = 0.2,
    val_fraction: float = 0.0,
    mode: Literal["random", "grid"] = "random",
    seed: int = 0,
) -> PairedImageSource:
    """(low-res, high-res) patch pairs from scikit-image's bundled photographs, for super-resolution.

    High-res patches are ``patch_size`` a side (see ``photo-patches``; ``split="test"`` takes the held-out
    right-most ``test_fraction`` of every photo; ``split="val"`` the ``val_fraction`` left of it, then
    taken out of ``"train"``); low-res ones are their bicubic reduction by ``scale``.
    """
    from ganforge.data.images import photo_patches

    _check_scale(scale)
    if patch_size % scale or patch_size // scale < 2:
        raise GanforgeError(
            f"data.patch_size={patch_size}: must be a multiple of scale={scale} and at least {2 * scale}"
        )
    patches = photo_patches(
        patch_size=patch_size,
        count=count,
        images=images,
        grayscale=grayscale,
        mode=mode,
        split=split,
        test_fraction=test_fraction,
        val_fraction=val_fraction,
        seed=seed,
    )
    info = {k: v for k, v in patches.info.items() if k != "corners"}
    return paired_source(patches.x, None, scale, "sr-patches", info)


def _random_crops(
    pictures: list[torch.Tensor], patch: int, count: int, scale: int, seed: int
) -> tuple[list[int], list[tuple[int, int]]]:
    """``count`` (picture index, top-left corner) choices; corners are multiples of ``scale`` so the
    matching low-res crop starts at an integer pixel."""
    rng = np.random.default_rng(seed)
    usable = [i for i, p in enumerate(pictures) if min(p.shape[-2:]) >= patch]
    if not usable:
        raise GanforgeError(f"data.patch_size={patch}: every picture is smaller than the patch; use smaller patches")
    which = rng.choice(usable, size=count)
    corners = []
    for k in which:
        h, w = pictures[k].shape[-2:]
        r = int(rng.integers(0, (h - patch) // scale + 1)) * scale
        c = int(rng.integers(0, (w - patch) // scale + 1)) * scale
        corners.append((r, c))
    return [int(k) for k in which], corners


@register_source("sr-folder")
def sr_folder(
    path: str,
    patch_size: int = 96,
    scale: int = 4,
    count: int = 2000,
    lr_path: str | None = None,
    grayscale: bool | None = None,
    seed: int = 0,
) -> PairedImageSource:
    """Random ``patch_size`` crops of a folder of pictures (any sizes) for super-resolution training.

    Low-res crops are the bicubic reductions by ``scale``; with ``lr_path``, a folder holding a low-res
    file of the same name for every picture (``scale`` times smaller), the real low-res crops are used.
    """
    from ganforge.data.image_files import read_image, scan_folder
    from ganforge.data.images import set_channels

    _check_scale(scale)
    if patch_size % scale:
        raise GanforgeError(f"data.patch_size={patch_size}: must be a multiple of scale={scale}")
    files, _, _ = scan_folder(Path(path).expanduser())
    pictures = [read_image(f) for f in files]
    color = grayscale is False or (grayscale is None and any(p.shape[0] == 3 for p in pictures))
    pictures = [set_channels(p.unsqueeze(0), not color)[0] for p in pictures]
    lows = None
    if lr_path is not None:
        lows = []
        for f, hr in zip(files, pictures, strict=True):
            lr_file = Path(lr_path).expanduser() / f.name
            lr = set_channels(read_image(lr_file).unsqueeze(0), not color)[0]
            want = (hr.shape[-2] // scale, hr.shape[-1] // scale)
            if tuple(lr.shape[-2:]) != want:
                raise GanforgeError(
                    f"{lr_file}: low-res picture is {tuple(lr.shape[-2:])}, expected {want} (1/{scale} of {f.name})"
                )
            lows.append(lr)
    which, corners = _random_crops(pictures, patch_size, count, scale, seed)
    high = torch.stack(
        [pictures[k][:, r : r + patch_size, c : c + patch_size] for k, (r, c) in zip(which, corners, strict=False)]
    )
    low = None
    if lows is not None:
        p = patch_size // scale
        low = torch.stack(
            [
                lows[k][:, r // scale : r // scale + p, c // scale : c // scale + p]
                for k, (r, c) in zip(which, corners, strict=False)
            ]
        )
    info = {"path": str(path), "files": len(files), "lr_path": lr_path or ""}
    return paired_source(high, low, scale, Path(path).name or "sr-folder", info)


# -------------------------------------------------------------------------------------- translation


@dataclass
class UnpairedImageSource(ArraySource):
    """Domain A images ``x`` (labels ``y``) and domain B images ``x_b`` (labels ``y_b``), data units.

    A and B are walked by independent epoch-shuffled orders, so a batch pairs nothing on purpose. Images are
    stored at a load side L >= ``size``, the side served (0: L). ``jitter`` takes a uniformly random ``size``
    crop of every image (else the centre) and ``flip`` mirrors it with probability 1/2: the paper's
    augmentation for a user's few hundred pictures (load 286, crop 256), drawn independently for A and B, as
    nothing pairs them. ``real``/``real_b`` serve centre crops (evaluation, pictures of the run).
    """

    x_b: torch.Tensor = field(default_factory=lambda: torch.empty(0))
    y_b: torch.Tensor | None = None
    size: int = 0
    jitter: bool = False
    flip: bool = False
    _order_b: torch.Tensor = field(default_factory=lambda: torch.empty(0, dtype=torch.long))
    _cursor_b: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        self.x_b = self.x_b.float()
        if self.x_b.dim() != 4 or len(self.x_b) == 0:
            raise GanforgeError(f"{self.name}: domain B holds no images")
        if tuple(self.x_b.shape[-2:]) != tuple(self.x.shape[-2:]):
            raise GanforgeError(
                f"{self.name}: domain A images are {tuple(self.x.shape[-2:])} but domain B images are "
                f"{tuple(self.x_b.shape[-2:])}; give both folders the same size"
            )
        load = int(self.x.shape[-1])
        self.size = int(self.size or load)
        if self.size != load:
            if self.x.shape[-2] != load or not 0 < self.size < load:
                raise GanforgeError(f"{self.name}: crops of {self.size} need square images of at least that size")
            self.sample_shape = (int(self.x.shape[1]), self.size, self.size)
            self.info = {**self.info, "shape_b": [int(self.x_b.shape[1]), self.size, self.size]}

    def _crop(self, images: torch.Tensor, rng: torch.Generator | None) -> torch.Tensor:
        """``images`` cut to ``size``: random crops and mirrors drawn from ``rng`` (when ``jitter``/``flip``
        are on), centre crops when ``rng`` is None. Nothing is drawn with both off, so a source without
        augmentation walks the same random stream as before it existed (runs resume exactly)."""
        load, s, n = int(images.shape[-1]), self.size, len(images)
        if load > s:
            if rng is not None and self.jitter:
                tops = torch.randint(0, load - s + 1, (n,), generator=rng).tolist()
                lefts = torch.randint(0, load - s + 1, (n,), generator=rng).tolist()
            else:
                tops = lefts = [(load - s) // 2] * n
            images = torch.stack([im[:, t : t + s, c : c + s] for im, t, c in zip(images, tops, lefts, strict=True)])
        if rng is not None and self.flip:
            which = torch.rand(n, generator=rng) < 0.5
            if bool(which.any()):
                images = images.clone()
                images[which] = images[which].flip(-1)
        return images

    def fit_scaler(self, output: str) -> None:
        from ganforge.data.scaling import Scaler

        both = torch.cat([self.x.flatten(), self.x_b.flatten()])
        self.scaler = Scaler.fit(both, output, per_feature=False, bounds=self.bounds)  # type: ignore[arg-type]

    def _indices_b(self, n: int, rng: torch.Generator) -> torch.Tensor:
        parts = []
        while n > 0:
            if self._cursor_b >= self._order_b.numel():
                self._order_b = torch.randperm(len(self.x_b), generator=rng)
                self._cursor_b = 0
            take = min(n, self._order_b.numel() - self._cursor_b)
            parts.append(self._order_b[self._cursor_b : self._cursor_b + take])
            self._cursor_b += take
            n -= take
        return torch.cat(parts)

    def batch(self, n: int, rng: torch.Generator) -> Batch:
        """``x``: n images of domain A, ``y``: n images of domain B (model units, drawn independently)."""
        a = self.x[self._indices(n, rng)]
        b = self.x_b[self._indices_b(n, rng)]
        a, b = self._crop(a, rng), self._crop(b, rng)
        return Batch(self.scaler.to_model(a), self.scaler.to_model(b))

    def real(self, n: int, seed: int = 12345) -> Batch:
        """``n`` domain-A images in data units (centre crops) with their labels (when known)."""
        batch = super().real(n, seed)
        return Batch(self._crop(batch.x, None), batch.y)

    def real_b(self, n: int, seed: int = 12345) -> Batch:
        """``n`` domain-B images in data units (centre crops) with their labels (when known)."""
        g = torch.Generator().manual_seed(seed)
        idx = torch.randperm(len(self.x_b), generator=g)[: min(n, len(self.x_b))]
        return Batch(self._crop(self.x_b[idx], None), None if self.y_b is None else self.y_b[idx])

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {
            **super().state_dict(),
            "order_b": self._order_b.clone(),
            "cursor_b": torch.tensor(self._cursor_b),
        }

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        super().load_state_dict(state)
        self._order_b = state["order_b"].clone()
        self._cursor_b = int(state["cursor_b"])


def unpaired_source(
    a: torch.Tensor,
    b: torch.Tensor,
    labels_a: torch.Tensor | None,
    labels_b: torch.Tensor | None,
    name: str,
    info: dict,
    num_classes: int | None = None,
    *,
    size: int | None = None,
    jitter: bool = False,
    flip: bool = False,
) -> UnpairedImageSource:
    """Wrap two image stacks in [0, 1] (and optional labels) as an unpaired source; ``size`` (crops served
    from larger stored images), ``jitter`` and ``flip``: see :class:`UnpairedImageSource`."""
    return UnpairedImageSource(
        kind="unpaired-images",
        sample_shape=tuple(a.shape[1:]),
        name=name,
        num_classes=num_classes,
        info={**info, "shape_b": list(b.shape[1:])},
        x=a.float().clamp(0.0, 1.0),
        y=labels_a,
        x_b=b.float().clamp(0.0, 1.0),
        y_b=labels_b,
        bounds=(0.0, 1.0),
        per_feature_scaling=False,
        size=int(size or a.shape[-1]),
        jitter=jitter,
        flip=flip,
    )


@register_source("unpaired-digits")
def unpaired_digits(
    size: int = 16,
    transform: DomainTransform = "invert",
    split: Literal["train", "val", "test"] = "train",
    seed: int = 0,
    val_fraction: float = 0.0,
) -> UnpairedImageSource:
    """Digits (domain A) and transformed digits (domain B: ``invert`` = 1 - x, or ``rotate`` = 90°).

    ``split="train"``: the digits classifier's training split, cut into two disjoint random halves, one
    per domain, so no digit appears in both (truly unpaired). ``split="test"``: the classifier's
    held-out split in both domains (the same digits, for measuring label preservation). Labels are kept
    per domain for evaluation; training never reads them. ``val_fraction`` > 0 takes that share of the
    training digits out of ``train`` as the ``val`` split (both domains, as ``test``), for ``eval.best``.
    """
    from ganforge.data.images import check_size, digits_images, digits_split, resize_images, split_off_validation

    check_size(size, "data")
    domain_transform(torch.zeros(1, 1, 2, 2), transform)  # validates the name
    images, labels = digits_images()
    images = resize_images(images, size)
    train, heldout = digits_split()
    if split != "test" and (val_fraction or split == "val"):
        train, val = split_off_validation(train, val_fraction)
        heldout = val if split == "val" else heldout
    info = {"transform": transform, "split": split, "size": size, "classes": [str(c) for c in range(10)],
            "val_fraction": val_fraction}
    if split in ("test", "val"):
        idx = torch.as_tensor(heldout)
        return unpaired_source(
            images[idx],
            domain_transform(images[idx], transform),
            labels[idx],
            labels[idx],
            "unpaired-digits",
            info,
            num_classes=10,
        )
    perm = np.random.default_rng(seed).permutation(train)
    half = len(perm) // 2
    ia, ib = torch.as_tensor(np.sort(perm[:half])), torch.as_tensor(np.sort(perm[half:]))
    return unpaired_source(
        images[ia],
        domain_transform(images[ib], transform),
        labels[ia],
        labels[ib],
        "unpaired-digits",
        info,
        num_classes=10,
    )


def _domain_folder(side: str, path: str | None, given: str | None, other_given: bool) -> Path:
    """The folder of domain ``side`` ("a" or "b"): ``data.path_<side>`` when set, else the ``A/`` (``B/``)
    sub-folder of ``data.path`` (any case, as Pix2Pix's pairs). Every refusal names the setting to change, as
    the user wrote it: a generic "missing required argument" named an internal object, and a file given as
    ``data.path_b`` was blamed on ``data.path``."""
    from ganforge.data.pairs import _side_folder

    key, upper = f"data.path_{side}", side.upper()
    if given is not None and not given.strip():  # Path("") is the working directory
        raise GanforgeError(f"{key}: empty; give the folder of domain {upper}'s pictures with --set {key}=FOLDER")
    if given is not None:
        folder = Path(given).expanduser()
        if not folder.exists():
            raise GanforgeError(f"{key}: '{given}' does not exist; give the folder of domain {upper}'s pictures")
        if not folder.is_dir():
            raise GanforgeError(
                f"{key}: '{given}' is a file; give the folder of domain {upper}'s pictures "
                f"(e.g. --set {key}={folder.parent})"
            )
        return folder
    if other_given:
        other = f"data.path_{'b' if side == 'a' else 'a'}"
        raise GanforgeError(
            f"{key}: not set, but {other} is; give the folder of domain {upper}'s pictures with --set {key}=FOLDER"
        )
    if path is None:
        raise GanforgeError(
            f"{key}: not set; give the folder of domain {upper}'s pictures with --set {key}=FOLDER, or "
            "data.path=FOLDER holding A/ and B/ sub-folders"
        )
    root = Path(path).expanduser()
    if not path.strip() or not root.is_dir():
        what = "is empty" if not path.strip() else "is a file" if root.exists() else "does not exist"
        raise GanforgeError(
            f"data.path: '{path}' {what}; give a folder holding A/ and B/ (one sub-folder of pictures per domain), "
            "or set data.path_a and data.path_b"
        )
    folder = _side_folder(root, side)
    if folder is None:
        raise GanforgeError(
            f"data.path: '{path}' has no {upper}/ sub-folder; put domain A's pictures in {root / 'A'} and domain "
            f"B's in {root / 'B'} (names need not match), or name both folders with --set data.path_a=FOLDER_A "
            "--set data.path_b=FOLDER_B"
        )
    return folder


@register_source("unpaired-folders")
def unpaired_folders(
    path: str | None = None,
    path_a: str | None = None,
    path_b: str | None = None,
    size: int = 64,
    jitter: bool = False,
    flip: bool = False,
    grayscale: bool | None = None,
    limit: int | None = None,
    seed: int = 0,
) -> UnpairedImageSource:
    """Two folders of pictures, domains A and B, each centre-cropped and resized to ``size``.

    ``path``: a folder holding ``A/`` and ``B/`` (``ganforge train DOMAINS --recipe cyclegan``); ``path_a`` /
    ``path_b`` name the domains' folders themselves and take precedence. File names need not match and the
    counts may differ (nothing is paired). ``jitter``: stored at ``size * 286/256`` and served as random
    ``size`` crops (the paper's jitter, as Pix2Pix's pairs); ``flip``: mirrored at random. Class sub-folders
    give labels (kept for evaluation only). ``grayscale`` applies to both folders (None: each domain is gray
    only if all its pictures are).
    """
    from ganforge.data.image_files import image_folder
    from ganforge.data.images import check_size
    from ganforge.data.pairs import jitter_load_size

    check_size(size, "data")
    folder_a = _domain_folder("a", path, path_a, path_b is not None)
    folder_b = _domain_folder("b", path, path_b, path_a is not None)
    load = jitter_load_size(size) if jitter else size
    a = image_folder(str(folder_a), size=load, grayscale=grayscale, limit=limit, seed=seed)
    b = image_folder(str(folder_b), size=load, grayscale=grayscale, limit=limit, seed=seed)
    info = {"path_a": str(folder_a), "path_b": str(folder_b), "size": size, "files_a": len(a), "files_b": len(b)}
    name = Path(path).expanduser().resolve().name if path is not None and path_a is None else "unpaired-folders"
    return unpaired_source(a.x, b.x, a.y, b.y, name or "unpaired-folders", info, size=size, jitter=jitter,
                           flip=flip)
