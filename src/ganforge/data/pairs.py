"""Aligned image pairs (A, B) for paired translation (Pix2Pix): readers and the paired source.

kind ``"paired-images"`` (:class:`ImagePairSource`): ``batch.x`` is the input image A (N, C_a, S, S),
``batch.y`` its aligned target B (N, C_b, S, S), both in model units. Augmentation follows the paper
("random jitter": resize 256 -> 286, random 256 crop; mirroring): images are stored at ``load_size``
and every batch takes the *same* random ``size`` crop and the same horizontal flip of A and B, so the
pair stays aligned pixel for pixel. ``real(n)`` gives unaugmented centre crops (for evaluation).

``pairs`` reads a user's pairs in any of the three layouts the public pix2pix data sets use:

* a folder with sub-folders ``A/`` and ``B/`` whose files are matched by name (file stem, so ``x.png``
  matches ``x.jpg``); names present on one side only are listed in the error;
* a folder of side-by-side ``AB`` pictures (A left half, B right half; ``direction: b2a`` swaps), as
  facades / maps / edges2shoes ship; sub-folders ``train/``, ``val/``, ``test/`` are splits;
* a ``.npz`` archive of two image arrays (``a`` and ``b``, or the two arrays it holds, in order).

Built-in pairs made offline are in :mod:`ganforge.data.builtin_pairs`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from ganforge.data.base import ArraySource, Batch
from ganforge.data.registry import register_source
from ganforge.data.scaling import Scaler
from ganforge.errors import GanforgeError
from ganforge.fileio import refuse_damaged_numpy_file

Direction = Literal["a2b", "b2a"]
JITTER_RATIO = 286 / 256  # the paper's resize-then-crop jitter
SPLIT_DIRS = {"train": ("train",), "test": ("test", "val"), "val": ("val",)}


def jitter_load_size(size: int) -> int:
    """The paper's load size for crop ``size``: 286 for 256, scaled (36 for 32, 72 for 64, 143 for 128)."""
    return int(round(size * JITTER_RATIO))


@dataclass
class ImagePairSource(ArraySource):
    """Input images ``x`` (N, C_a, L, L) and their targets ``x_b`` (N, C_b, L, L) in data units [0, 1].

    ``size`` <= L is the crop side served; ``jitter`` takes a uniformly random crop (else the centre);
    ``flip`` mirrors each pair left-right with probability 1/2. ``y`` holds optional class labels (digits)
    and ``label_maps`` (N, L, L) optional exact per-pixel classes (scenes), both for evaluation only.
    """

    x_b: torch.Tensor = field(default_factory=lambda: torch.empty(0))
    size: int = 0
    jitter: bool = False
    flip: bool = False
    label_maps: torch.Tensor | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.x_b = self.x_b.float()
        if self.x.dim() != 4 or len(self.x) == 0 or self.x_b.dim() != 4 or len(self.x_b) == 0:
            raise GanforgeError(f"{self.name}: no image pairs (one side is empty); give at least one pair")
        if len(self.x) != len(self.x_b) or self.x.shape[-2:] != self.x_b.shape[-2:]:
            raise GanforgeError(
                f"{self.name}: {len(self.x)} A images of {tuple(self.x.shape[-2:])} do not pair with {len(self.x_b)} "
                f"B images of {tuple(self.x_b.shape[-2:])}; A and B need one image each, of the same size"
            )
        load = int(self.x.shape[-1])
        self.size = int(self.size or load)
        if self.x.shape[-2] != load or not 0 < self.size <= load:
            raise GanforgeError(f"{self.name}: crops of {self.size} need square images of at least that size")
        self.sample_shape = (int(self.x.shape[1]), self.size, self.size)
        self.info = {**self.info, "shape_b": [int(self.x_b.shape[1]), self.size, self.size], "size": self.size}

    def fit_scaler(self, output: str) -> None:
        both = torch.cat([self.x.flatten(), self.x_b.flatten()])
        self.scaler = Scaler.fit(both, output, per_feature=False, bounds=self.bounds)  # type: ignore[arg-type]

    def crop_pairs(
        self, idx: torch.Tensor, rng: torch.Generator | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """A, B (and label maps) of ``idx`` cut to ``size``: random crops/flips from ``rng`` (the same for A
        and B of a pair), or centre crops when ``rng`` is None."""
        a, b = self.x[idx], self.x_b[idx]
        maps = None if self.label_maps is None else self.label_maps[idx]
        load, s, n = int(a.shape[-1]), self.size, len(idx)
        if rng is not None and self.jitter and load > s:
            tops = torch.randint(0, load - s + 1, (n,), generator=rng).tolist()
            lefts = torch.randint(0, load - s + 1, (n,), generator=rng).tolist()
        else:
            tops = lefts = [(load - s) // 2] * n
        flips = (torch.rand(n, generator=rng) < 0.5).tolist() if rng is not None and self.flip else [False] * n
        if load > s:
            a = torch.stack([im[:, t : t + s, c : c + s] for im, t, c in zip(a, tops, lefts, strict=True)])
            b = torch.stack([im[:, t : t + s, c : c + s] for im, t, c in zip(b, tops, lefts, strict=True)])
            if maps is not None:
                maps = torch.stack([m[t : t + s, c : c + s] for m, t, c in zip(maps, tops, lefts, strict=True)])
        if any(flips):
            which = torch.tensor(flips)
            a, b = a.clone(), b.clone()
            a[which], b[which] = a[which].flip(-1), b[which].flip(-1)
            if maps is not None:
                maps = maps.clone()
                maps[which] = maps[which].flip(-1)
        return a, b, maps

    def batch(self, n: int, rng: torch.Generator) -> Batch:
        """``x``: n inputs A, ``y``: their targets B (model units), identically cropped and flipped."""
        a, b, _ = self.crop_pairs(self._indices(n, rng), rng)
        return Batch(self.scaler.to_model(a), self.scaler.to_model(b))

    def real(self, n: int, seed: int = 12345) -> Batch:
        """``n`` pairs in data units (centre crops, no flips): ``x`` inputs A, ``y`` targets B."""
        a, b, _ = self.crop_pairs(self._pick(n, seed), None)
        return Batch(a, b)

    def _pick(self, n: int, seed: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        return torch.randperm(len(self), generator=g)[: min(n, len(self))]

    def heldout(
        self, n: int, seed: int = 12345
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """(A, B, class labels or None, label maps or None) of ``n`` pairs, centre crops, data units."""
        idx = self._pick(n, seed)
        a, b, maps = self.crop_pairs(idx, None)
        return a, b, None if self.y is None else self.y[idx], maps


def pair_source(
    a: torch.Tensor,
    b: torch.Tensor,
    *,
    name: str,
    size: int | None = None,
    jitter: bool = False,
    flip: bool = False,
    labels: torch.Tensor | None = None,
    label_maps: torch.Tensor | None = None,
    num_classes: int | None = None,
    info: dict | None = None,
) -> ImagePairSource:
    """Wrap aligned stacks A (N, C_a, L, L) and B (N, C_b, L, L) in [0, 1] as a paired source."""
    return ImagePairSource(
        kind="paired-images",
        sample_shape=tuple(a.shape[1:]),
        name=name,
        num_classes=num_classes,
        info=dict(info or {}),
        x=a.float().clamp(0.0, 1.0),
        y=labels,
        x_b=b.float().clamp(0.0, 1.0),
        bounds=(0.0, 1.0),
        per_feature_scaling=False,
        size=int(size or a.shape[-1]),
        jitter=jitter,
        flip=flip,
        label_maps=label_maps,
    )


# ------------------------------------------------------------------------------------------- readers


def _fit_square(images: list[torch.Tensor], side: int) -> torch.Tensor:
    """Centre-crop each (C, H, W) picture to a square and resize to ``side`` (bilinear, antialiased)."""
    from ganforge.data.images import resize_images

    out = []
    for im in images:
        h, w = im.shape[-2:]
        m = min(h, w)
        top, left = (h - m) // 2, (w - m) // 2
        out.append(resize_images(im[None, :, top : top + m, left : left + m], side)[0])
    return torch.stack(out)


def _common_channels(images: list[torch.Tensor], grayscale: bool | None) -> list[torch.Tensor]:
    """One channel count for a side: gray when ``grayscale`` (or when every picture is gray), else RGB."""
    from ganforge.data.images import set_channels

    gray = grayscale if grayscale is not None else all(im.shape[0] == 1 for im in images)
    return [set_channels(im[None], gray)[0] for im in images]


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _side_folder(path: Path, side: str) -> Path | None:
    for d in path.iterdir():
        if d.is_dir() and d.name.lower() == side:
            return d
    return None


def _by_stem(folder: Path) -> dict[str, Path]:
    """The pictures of one side keyed by file stem (pairs are matched by stem, so ``x.png`` pairs with
    ``x.jpg``). Two pictures of one stem on one side (``img00.jpg`` next to ``img00.png``) are refused: keeping
    either would silently drop the other and maybe pair the wrong picture."""
    from ganforge.data.image_files import _images_in

    files: dict[str, Path] = {}
    for p in _images_in(folder, recursive=False):
        first = files.setdefault(p.stem, p)
        if first is not p:
            raise GanforgeError(
                f"pairs: '{folder}' holds both {first.name} and {p.name}, one name (pairs are matched by name, "
                "whatever the suffix); keep one of them, or rename the other"
            )
    return files


def read_ab_folders(folder_a: Path, folder_b: Path) -> tuple[list[str], list[torch.Tensor], list[torch.Tensor]]:
    """Pictures of ``folder_a`` and ``folder_b`` matched by file stem; every name must be on both sides (once)
    and both pictures of a pair must have the same size."""
    from ganforge.data.image_files import IMAGE_SUFFIXES, read_image

    files_a, files_b = _by_stem(folder_a), _by_stem(folder_b)
    for folder, files in ((folder_a, files_a), (folder_b, files_b)):
        if not files:
            raise GanforgeError(
                f"pairs: '{folder}' holds no pictures ({', '.join(IMAGE_SUFFIXES)}); both A and B need one per pair"
            )
    only_a, only_b = sorted(set(files_a) - set(files_b)), sorted(set(files_b) - set(files_a))
    if only_a or only_b:
        parts = []
        if only_a:
            parts.append(f"{len(only_a)} in {folder_a.name}/ only ({_listing(only_a)})")
        if only_b:
            parts.append(f"{len(only_b)} in {folder_b.name}/ only ({_listing(only_b)})")
        raise GanforgeError(
            f"pairs: unmatched names in '{folder_a.parent}': {'; '.join(parts)}; every A picture needs a B picture "
            "of the same name"
        )
    names = sorted(files_a)
    a_images, b_images = [], []
    for name in names:
        a, b = read_image(files_a[name]), read_image(files_b[name])
        if a.shape[-2:] != b.shape[-2:]:
            raise GanforgeError(
                f"pairs: {files_a[name]} is {a.shape[-1]}x{a.shape[-2]} but {files_b[name]} is "
                f"{b.shape[-1]}x{b.shape[-2]}; the two pictures of a pair must have the same size"
            )
        a_images.append(a)
        b_images.append(b)
    return names, a_images, b_images


def read_side_by_side(folder: Path) -> tuple[list[str], list[torch.Tensor], list[torch.Tensor]]:
    """Side-by-side ``AB`` pictures of ``folder``: A is the left half, B the right half."""
    from ganforge.data.image_files import IMAGE_SUFFIXES, _images_in, read_image

    files = _images_in(folder, recursive=False)
    if not files:
        raise GanforgeError(
            f"pairs: '{folder}' holds no pictures ({', '.join(IMAGE_SUFFIXES)}); give sub-folders A/ and B/ or "
            "side-by-side AB pictures"
        )
    names, a_images, b_images = [], [], []
    for f in files:
        im = read_image(f)
        h, w = int(im.shape[-2]), int(im.shape[-1])
        if w <= h:  # a plain picture (a folder of photos given to --recipe pix2pix) would be cut into two strips
            raise GanforgeError(
                f"pairs: {f} is {w}x{h} pixels, not a side-by-side AB picture (about twice as wide as tall: A left, "
                "B right); give sub-folders A/ and B/ of matching names for separate pictures"
            )
        if w % 2 or w < 2:
            raise GanforgeError(
                f"pairs: {f} is {w} pixels wide, which cannot be split into two halves; a side-by-side AB picture "
                "has an even width (A left, B right)"
            )
        names.append(f.stem)
        a_images.append(im[..., : w // 2])
        b_images.append(im[..., w // 2 :])
    return names, a_images, b_images


def read_npz_pairs(file: Path, a_key: str | None, b_key: str | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Two image arrays of a ``.npz`` archive (``a_key``/``b_key``; default ``a``/``b`` or its two arrays)."""
    from ganforge.data.image_files import _check_file, _to_nchw
    from ganforge.data.images import to_unit_range

    _check_file(file, "pairs file")
    refuse_damaged_numpy_file(file)
    try:
        with np.load(file, allow_pickle=False) as archive:
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise GanforgeError(f"{file}: is a single .npy array; pairs need a .npz archive with two arrays")
            keys = list(archive.files)
            if a_key is None and b_key is None:
                if "a" in keys and "b" in keys:
                    a_key, b_key = "a", "b"
                elif len(keys) == 2:
                    a_key, b_key = keys
                else:
                    arrays = "array" if len(keys) == 1 else "arrays"
                    raise GanforgeError(
                        f"{file}: holds {len(keys)} {arrays} ({', '.join(keys) or 'none'}); name the pair with "
                        "data.a_key and data.b_key (or save exactly two arrays, or arrays 'a' and 'b')"
                    )
            missing = [k for k in (a_key, b_key) if k not in keys]
            if missing:
                raise GanforgeError(f"{file}: no array named '{missing[0]}' (it holds {', '.join(keys)})")
            a, b = archive[a_key], archive[b_key]
    except GanforgeError:
        raise
    except Exception as exc:  # noqa: BLE001 - numpy's parser of a damaged archive raises many types
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise GanforgeError(f"{file}: not a readable .npz archive ({detail})") from None
    out = []
    for key, arr in ((a_key, a), (b_key, b)):
        arr = _to_nchw(arr, "auto", file)
        if arr.shape[0] == 0:
            raise GanforgeError(f"{file}: '{key}' holds 0 images; both sides need one image per pair")
        out.append(torch.from_numpy(np.ascontiguousarray(to_unit_range(arr, f"{file}['{key}']"))))
    if out[0].shape[0] != out[1].shape[0] or out[0].shape[-2:] != out[1].shape[-2:]:
        raise GanforgeError(
            f"{file}: '{a_key}' holds {out[0].shape[0]} images of {tuple(out[0].shape[-2:])} but '{b_key}' holds "
            f"{out[1].shape[0]} of {tuple(out[1].shape[-2:])}; the arrays must pair image for image at one size"
        )
    return out[0], out[1]


def _split_folder(path: Path, split: str) -> tuple[Path, str]:
    """The folder of ``split`` inside ``path`` (``train/``; ``test/`` or ``val/``) when it has split folders."""
    for name in SPLIT_DIRS[split]:
        if (path / name).is_dir():
            return path / name, f"{split} split ({name}/)"
    if split == "test" and (path / "train").is_dir():
        raise GanforgeError(f"pairs: '{path}' has train/ but neither test/ nor val/; add held-out pairs there")
    if split == "val":
        raise GanforgeError(f"pairs: '{path}' has no val/ folder; add pairs kept for choosing there (beside test/)")
    return path, "all pairs (no split folders)"


@register_source("pairs")
def pairs(
    path: str,
    size: int = 256,
    direction: Direction = "a2b",
    split: Literal["train", "test", "val"] = "train",
    jitter: bool = True,
    flip: bool = True,
    grayscale_a: bool | None = None,
    grayscale_b: bool | None = None,
    a_key: str | None = None,
    b_key: str | None = None,
    limit: int | None = None,
) -> ImagePairSource:
    """A user's aligned pairs: folders ``A/`` + ``B/`` matched by name, side-by-side ``AB`` pictures, or a .npz.

    Pictures are centre-cropped to squares and resized to the load size (``size * 286/256`` with
    ``jitter``, the paper's random jitter; else ``size``); batches crop ``size`` at random and mirror
    with probability 1/2 (``flip``), the same for A and B. ``direction: b2a`` swaps the sides.
    ``grayscale_a``/``grayscale_b``: True -> 1 channel, False -> RGB, None -> gray only if every picture of
    that side is gray. With ``split`` folders (``train/``, ``test/`` or ``val/``) the split is used: ``test``
    reads ``test/`` (else ``val/``), ``val`` reads ``val/`` (the evaluations during training, when ``test/``
    is there too).
    """
    from ganforge.data.images import check_size

    check_size(size, "data")
    if direction not in ("a2b", "b2a"):
        raise GanforgeError(f"data.direction='{direction}': choose a2b or b2a")
    root = Path(path).expanduser()
    if not root.exists():
        raise GanforgeError(f"pairs: '{root}' does not exist; give a folder (A/ + B/, or AB pictures) or a .npz")
    load = jitter_load_size(size) if jitter else size
    if root.is_file():
        if root.suffix.lower() != ".npz":
            raise GanforgeError(f"pairs: '{root}' is a file but not a .npz archive; give a folder or a .npz")
        a_t, b_t = read_npz_pairs(root, a_key, b_key)
        names = [str(i) for i in range(len(a_t))]
        a_list, b_list = list(a_t), list(b_t)
        layout = "npz"
        where = "all pairs"
    else:
        folder, where = _split_folder(root, split)
        side_a, side_b = _side_folder(folder, "a"), _side_folder(folder, "b")
        if side_a is not None or side_b is not None:
            if side_a is None or side_b is None:
                have = (side_a or side_b).name  # type: ignore[union-attr]
                raise GanforgeError(f"pairs: '{folder}' has {have}/ but not its other side; add both A/ and B/")
            names, a_list, b_list = read_ab_folders(side_a, side_b)
            layout = "A/B folders"
        else:
            names, a_list, b_list = read_side_by_side(folder)
            layout = "side-by-side AB"
    if limit is not None:
        if limit < 1:
            raise GanforgeError(f"data.limit={limit}: must be at least 1 (or leave it unset for all pairs)")
        names, a_list, b_list = names[:limit], a_list[:limit], b_list[:limit]
    if direction == "b2a":
        a_list, b_list = b_list, a_list
    facts = _stored_facts(a_list, load)
    a = _fit_square(_common_channels(a_list, grayscale_a), load)
    b = _fit_square(_common_channels(b_list, grayscale_b), load)
    info = {"path": str(root), "layout": layout, "direction": direction, "split": where, "pairs": len(names),
            **facts}
    return pair_source(a, b, name=root.stem or "pairs", size=size, jitter=jitter, flip=flip, info=info)


def _stored_facts(images: list[torch.Tensor], load: int) -> dict[str, object]:
    """What :func:`pairs` does to the user's pictures, for :func:`pairs_line`: the smallest and largest stored
    sizes (``"WxH"``, as the ``images`` source keeps them), how many were not square (centre-cropped), the
    largest share of a longer side cut away (percent), and the load size they were resized to."""
    sides = [(int(im.shape[-1]), int(im.shape[-2])) for im in images]
    extremes = dict.fromkeys((min(sides, key=lambda s: s[0] * s[1]), max(sides, key=lambda s: s[0] * s[1])))
    cut = max(1 - min(w, h) / max(w, h) for w, h in sides)
    return {"stored_sizes": [f"{w}x{h}" for w, h in extremes], "cropped": sum(w != h for w, h in sides),
            "cut_percent": int(round(100 * cut)), "load_size": load,
            "squares": [min(min(w, h) for w, h in sides), max(min(w, h) for w, h in sides)]}


def pairs_line(source: ImagePairSource) -> str:
    """The one line ``ganforge train PAIRS --recipe pix2pix`` can print (as ``images`` prints its own, see
    :func:`ganforge.training.defaults.image_line`): the sizes the pictures were stored at and what was done to
    reach the size trained at (centre crop to a square, resize to the load size, random crops). Nothing else
    tells a user that 48x40 pictures were enlarged six-fold, or that 70x50 ones lost 20 columns. ``""`` for
    a source without the facts (the built-in pairs, made at their size)."""
    info = source.info
    stored = info.get("stored_sizes")
    if not stored:
        return ""
    n, load, size = len(source), int(info["load_size"]), int(source.size)
    parts = []
    cropped = int(info.get("cropped") or 0)
    if cropped:
        parts.append(
            f"{cropped} of {n} centre-cropped to squares (up to {info.get('cut_percent', 0)} % of the longer side cut)"
        )
    small, large = (int(v) for v in info["squares"])
    if small > load:
        parts.append(f"reduced to {load}x{load}")
    elif large < load:
        factor = load / large if small == large else None
        parts.append(f"enlarged{f' {factor:.1f}x' if factor and factor >= 1.5 else ''} to {load}x{load}")
    elif (small, large) != (load, load):
        parts.append(f"resized to {load}x{load}")
    if source.jitter and load > size:
        parts.append(f"random {size}x{size} crops" + (" and mirrors" if source.flip else ""))
    else:
        parts.append(f"{size}x{size}" + (", mirrored at random" if source.flip else ""))
    layout = f" ({info['layout']})" if info.get("layout") else ""
    return (
        f"pairs: {n} pair{'' if n == 1 else 's'}{layout} stored at {' to '.join(stored)} -> {', '.join(parts)} "
        "(data.size and data.jitter can be --set)"
    )
