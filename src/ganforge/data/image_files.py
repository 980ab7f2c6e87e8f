"""Image data from files: folders of pictures, MNIST-format IDX, CIFAR-10 batches, .npz stacks.

Also the standard image sets (MNIST, Fashion-MNIST, CIFAR-10) downloaded once into a cache directory
(``$GANFORGE_CACHE`` or ``~/.cache/ganforge``) and then read with the same loaders.

Every reader validates what it reads and turns a missing, empty, truncated, corrupt or mis-typed file
into a one-line :class:`~ganforge.errors.GanforgeError` naming the file. CIFAR-10's python batches are
pickles; they are read with an unpickler that can only rebuild plain containers and numpy arrays, so a
tampered file cannot run code.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import math
import os
import pickle
import struct
import tarfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from ganforge.data.base import ArraySource
from ganforge.data.images import check_size, image_source, resize_images, set_channels, to_unit_range
from ganforge.data.registry import register_source
from ganforge.errors import GanforgeError
from ganforge.fileio import refuse_damaged_numpy_file

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def _check_file(path: Path, what: str) -> None:
    if not path.exists():
        raise GanforgeError(f"{what} '{path}' does not exist; check the path")
    if path.is_dir():
        raise GanforgeError(f"{what} '{path}' is a directory; give the file itself")
    if path.stat().st_size == 0:
        raise GanforgeError(f"{what} '{path}' is empty (0 bytes); the file is incomplete, copy it again")


def _limit(n: int, limit: int | None) -> int:
    if limit is not None and limit < 1:
        raise GanforgeError(f"data.limit={limit}: must be at least 1 (or leave it unset for all images)")
    return n if limit is None else min(n, limit)


def _finish(x: torch.Tensor, size: int | None, grayscale: bool | None = None) -> torch.Tensor:
    x = set_channels(x, grayscale)
    return x if size is None else resize_images(x, size)


# ------------------------------------------------------------------------------------ image files


def _on_white(image: Any) -> Any:
    """A picture with an alpha channel (RGBA, LA, PA, or a palette with a transparent colour) composited on white,
    as a viewer shows it: dropping the alpha exposed whatever colour the transparent pixels happen to store (an
    icon's transparent corners read green in one audit). Pictures without alpha are returned as they are."""
    from PIL import Image

    if image.mode not in ("RGBA", "LA", "PA") and not (image.mode == "P" and "transparency" in image.info):
        return image
    gray = image.mode in ("LA",)
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    flat = Image.alpha_composite(white, rgba).convert("RGB")
    return flat.convert("L") if gray else flat


def _pixels(image: Any, path: Path) -> np.ndarray:
    """A decoded Pillow image as float32 (C, H, W) in [0, 1], C = 1 for gray modes, 3 otherwise; transparent
    pixels composited on white (:func:`_on_white`)."""
    image = _on_white(image)
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        raw = np.asarray(image, dtype=np.float64)
        arr = raw / (65535.0 if raw.size and raw.max() > 255 else 255.0)
        arr = np.clip(arr, 0.0, 1.0).astype(np.float32)
    elif mode == "F":
        arr = to_unit_range(np.asarray(image, dtype=np.float32), str(path))
    elif mode in ("1", "L", "LA"):
        arr = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    else:  # P, RGB, CMYK, YCbCr, ... -> RGB (alpha was composited on white above)
        arr = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


EXIF_ORIENTATION = 0x0112


def upright(image: Any) -> Any:
    """``image`` turned as its EXIF orientation says (a phone's portrait photo is stored landscape with a tag
    that viewers obey): the picture as the user sees it. The same object when it has no such tag."""
    from PIL import ImageOps

    if image.getexif().get(EXIF_ORIENTATION, 1) in (0, 1):
        return image
    return ImageOps.exif_transpose(image)


@contextmanager
def _readable(path: Path) -> Iterator[None]:
    """Whatever Pillow raises for a file that is not a picture it can read, as one line naming the file."""
    from PIL import Image, UnidentifiedImageError

    try:
        yield
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise GanforgeError(f"{path}: not a readable image ({reason}); re-export it as PNG or JPEG") from None


def check_readable(path: str | Path) -> None:
    """Refuse, as :func:`read_image` would, a file whose header is not a picture's (nothing is decoded): a
    command that writes one output per picture checks all of them before it writes the first."""
    from PIL import Image

    path = Path(path)
    _check_file(path, "image file")
    with _readable(path), Image.open(path):
        pass


def read_image(path: str | Path, size: int | None = None, crop: bool = True) -> torch.Tensor:
    """One picture file as (C, H, W) in [0, 1]; with ``size``, centre-cropped to a square and resized.

    ``crop=False`` resizes the whole picture to ``size x size`` (squashing a non-square one).
    """
    from PIL import Image

    path = Path(path)
    _check_file(path, "image file")
    with _readable(path), Image.open(path) as image:
        if size is not None and image.format == "JPEG":
            image.draft("RGB" if image.mode != "L" else "L", (size, size))  # decode at >= size, faster
        image.load()
        arr = _pixels(upright(image), path)
    x = torch.from_numpy(np.ascontiguousarray(arr))
    if size is None:
        return x
    if crop:
        h, w = x.shape[1:]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        x = x[:, top : top + side, left : left + side]
    return resize_images(x.unsqueeze(0), size)[0]


def _area(size: tuple[int, int]) -> int:
    return size[0] * size[1]


def _stored_size(path: Path) -> tuple[int, int]:
    """(width, height) of a picture file from its header (nothing decoded; the file was read once already)."""
    from PIL import Image

    with Image.open(path) as image:
        return image.size


def _images_in(folder: Path, recursive: bool) -> list[Path]:
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(
        p for p in found
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
    )


def scan_folder(path: Path) -> tuple[list[Path], list[int] | None, list[str]]:
    """Files of an image folder and, when it has one sub-folder per class, their labels and class names.

    Class mode: every non-hidden sub-folder holding images (searched recursively) is a class; classes are
    the sorted sub-folder names, labels index into them. Flat mode: the images directly inside ``path``.
    """
    if not path.exists():
        raise GanforgeError(f"image folder '{path}' does not exist; check data.path")
    if not path.is_dir():
        raise GanforgeError(f"data.path '{path}' is a file; image-folder needs a folder of PNG/JPEG files")
    top = _images_in(path, recursive=False)
    class_dirs = sorted(d for d in path.iterdir() if d.is_dir() and not d.name.startswith("."))
    per_class = [(d.name, _images_in(d, recursive=True)) for d in class_dirs]
    per_class = [(name, files) for name, files in per_class if files]
    if per_class and top:
        raise GanforgeError(
            f"image folder '{path}' has images both at its top level ({top[0].name}, ...) and in class "
            "sub-folders; move the loose images into a sub-folder (one per class) or remove the sub-folders"
        )
    if per_class:
        files = [f for _, fs in per_class for f in fs]
        labels = [k for k, (_, fs) in enumerate(per_class) for _ in fs]
        return files, labels, [name for name, _ in per_class]
    if not top:
        raise GanforgeError(
            f"image folder '{path}' holds no images ({', '.join(IMAGE_SUFFIXES)}); put the pictures there "
            "directly, or one sub-folder per class"
        )
    return top, None, []


@register_source("image-folder")
def image_folder(
    path: str,
    size: int = 64,
    grayscale: bool | None = None,
    crop: bool = True,
    limit: int | None = None,
    seed: int = 0,
) -> ArraySource:
    """A folder of pictures (PNG, JPEG, ...); one sub-folder per class gives class labels.

    Every picture is centre-cropped to a square (``crop=False`` squashes instead) and resized to
    ``size x size``. ``grayscale``: True -> 1 channel, False -> RGB, None -> 1 channel only if every
    picture is gray. ``limit`` keeps a random (``seed``) subset of that many pictures.
    ``info["classes"]`` holds the class names (the sorted sub-folder names).
    """
    check_size(size, "data")
    folder = Path(path).expanduser()
    files, labels, classes = scan_folder(folder)
    keep = np.arange(len(files))
    if _limit(len(files), limit) < len(files):
        keep = np.sort(np.random.default_rng(seed).choice(len(files), size=limit, replace=False))
    pictures = [read_image(files[i], size, crop) for i in keep]
    color = grayscale is False or (grayscale is None and any(p.shape[0] == 3 for p in pictures))
    x = torch.stack([set_channels(p.unsqueeze(0), not color)[0] for p in pictures])
    y = None if labels is None else [labels[i] for i in keep]
    sides = [_stored_size(files[i]) for i in keep]  # (width, height) as stored, for the line saying what was done
    extremes = dict.fromkeys((min(sides, key=_area), max(sides, key=_area)))  # smallest, largest; once if equal
    info = {"path": str(folder), "classes": classes, "files": len(keep),
            "stored_sizes": [f"{w}x{h}" for w, h in extremes],
            "converted": sum(p.shape[0] != x.shape[1] for p in pictures)}
    return image_source(x, y, name=folder.name or "images", num_classes=len(classes) or None, info=info)


# ------------------------------------------------------------------------------------------- IDX

# IDX type codes (LeCun's MNIST format): the third byte of the magic number. Data is big-endian.
IDX_DTYPES: dict[int, str] = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


MAX_IDX_BYTES = 1 << 31
"""The largest IDX payload read (2 GiB; MNIST's training images are 47 MB). Checked against the header's
sizes *before* reading, so a gzip bomb is never inflated past what its header promised."""


def _read_prefix(path: Path, what: str, count: int) -> bytes:
    """Up to ``count`` bytes of the file, gunzipped on the fly when it starts with the gzip magic ``1f 8b``
    (whatever its suffix): never more than ``count`` bytes are decompressed."""
    _check_file(path, what)
    with path.open("rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    try:
        with (gzip.open(path, "rb") if gzipped else path.open("rb")) as f:
            return f.read(count)
    except (OSError, EOFError, zlib.error) as exc:
        raise GanforgeError(
            f"{path}: corrupt or truncated gzip data ({exc}); download or copy it again"
        ) from None


def read_idx(path: str | Path) -> np.ndarray:
    """An IDX file (plain or gzipped) as a numpy array in native byte order.

    Layout: magic ``00 00 <type code> <ndim>``, then ``ndim`` big-endian uint32 sizes, then the values
    big-endian, row-major. The magic, the type code and ``4 + 4 * ndim + prod(sizes) * itemsize ==
    file size`` are all checked (the product in Python integers: int64 would wrap for 2**31 cubed), so a
    truncated or mislabelled file is refused rather than misread; a payload over :data:`MAX_IDX_BYTES` is
    refused from its header alone.
    """
    path = Path(path)
    head = _read_prefix(path, "IDX file", 4 + 4 * 255)
    if len(head) < 4 or head[:2] != b"\x00\x00":
        raise GanforgeError(
            f"{path}: not an IDX file (magic number {head[:4].hex() or 'missing'}, expected 0000xxyy); "
            "give MNIST-format files such as train-images-idx3-ubyte"
        )
    code, ndim = head[2], head[3]
    if code not in IDX_DTYPES:
        raise GanforgeError(
            f"{path}: unknown IDX data type code 0x{code:02x}; valid codes are "
            f"{', '.join(f'0x{c:02x}' for c in IDX_DTYPES)}"
        )
    if ndim == 0:
        raise GanforgeError(f"{path}: IDX header declares 0 dimensions; the file is corrupt")
    header = 4 + 4 * ndim
    if len(head) < header:
        raise GanforgeError(f"{path}: truncated IDX header ({len(head)} bytes for {ndim} dimensions)")
    dims = struct.unpack(f">{ndim}I", head[4:header])
    dtype = np.dtype(IDX_DTYPES[code])
    expected = math.prod(dims) * dtype.itemsize
    shape = "x".join(map(str, dims))
    if expected > MAX_IDX_BYTES:
        raise GanforgeError(
            f"{path}: header says {shape} values = {expected:,} bytes, more than the {MAX_IDX_BYTES:,} read; "
            "the file is corrupt or not a dataset this tool can hold"
        )
    raw = _read_prefix(path, "IDX file", header + expected + 1)  # one byte more: trailing data shows
    actual = len(raw) - header
    if actual != expected:
        state = "truncated" if actual < expected else "has trailing data"
        raise GanforgeError(
            f"{path}: {state}: header says {shape} values of {dtype.itemsize} byte(s) = "
            f"{expected} bytes but the file holds {'more' if actual > expected else actual}; download or copy "
            "it again"
        )
    values = np.frombuffer(raw, dtype=dtype, offset=header, count=expected // dtype.itemsize)
    return values.reshape(dims).astype(dtype.newbyteorder("="))


def _idx_images(path: Path, limit: int | None) -> tuple[torch.Tensor, int]:
    """Images (n, C, H, W) in [0, 1] (the first ``limit``) and the file's total image count."""
    arr = read_idx(path)
    if arr.ndim == 4 and arr.shape[-1] in (1, 3, 4):
        arr = arr.transpose(0, 3, 1, 2)
    elif arr.ndim == 3:
        arr = arr[:, None]
    else:
        raise GanforgeError(
            f"{path}: IDX array of shape {arr.shape} is not a stack of images; "
            "expected (N, H, W) or (N, H, W, C)"
        )
    if arr.shape[0] == 0:
        raise GanforgeError(f"{path}: holds 0 images")
    total = arr.shape[0]
    arr = arr[: _limit(total, limit)]
    return torch.from_numpy(np.ascontiguousarray(to_unit_range(arr, str(path)))), total


def _idx_labels(path: Path, total: int, keep: int) -> np.ndarray:
    """The first ``keep`` labels of a labels file that must hold exactly ``total`` (one per image)."""
    labels = read_idx(path)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise GanforgeError(
            f"{path}: labels must be a 1-D integer IDX array, got {labels.dtype} {labels.shape}"
        )
    if labels.shape[0] != total:
        raise GanforgeError(
            f"{path}: {labels.shape[0]} labels for {total} images; give the matching labels file"
        )
    return labels[:keep].astype(np.int64)


@register_source("idx")
def idx(
    images: str, labels: str | None = None, size: int | None = None, limit: int | None = None
) -> ArraySource:
    """MNIST-format IDX files (plain or .gz): an images file and an optional labels file.

    ``size`` resizes (bilinear, antialiased); ``limit`` keeps the first that many images.
    """
    check_size(size, "data")
    x, total = _idx_images(Path(images).expanduser(), limit)
    y = None if labels is None else _idx_labels(Path(labels).expanduser(), total, x.shape[0])
    return image_source(_finish(x, size), y, name=Path(images).name, info={"path": str(images)})


# -------------------------------------------------------------------------------------- CIFAR-10


def _module_attr(modules: tuple[str, ...], name: str) -> Callable[..., Any]:
    for module in modules:
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    raise pickle.UnpicklingError(f"numpy has no {name}")


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    """Protocol-2 pickles written by Python 3 store bytes as ``_codecs.encode(text, 'latin1')``."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise pickle.UnpicklingError("refusing _codecs.encode with anything but a latin1 string")
    return text.encode("latin1")


# The only globals a CIFAR batch needs: numpy array / dtype reconstruction and latin1 bytes.
_SAFE_GLOBALS: dict[tuple[str, str], Callable[[], Any]] = {
    ("numpy", "ndarray"): lambda: np.ndarray,
    ("numpy", "dtype"): lambda: np.dtype,
    ("_codecs", "encode"): lambda: _latin1_encode,
}
for _mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _SAFE_GLOBALS[(_mod, "_reconstruct")] = lambda: _module_attr(
        ("numpy._core.multiarray", "numpy.core.multiarray"), "_reconstruct"
    )
for _mod in ("numpy.core.numeric", "numpy._core.numeric"):
    _SAFE_GLOBALS[(_mod, "_frombuffer")] = lambda: _module_attr(
        ("numpy._core.numeric", "numpy.core.numeric"), "_frombuffer"
    )


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds only dicts, lists, strings, bytes, numbers and numpy arrays.

    Any other global (a function or class a pickle could call to run code) is refused.
    """

    def find_class(self, module: str, name: str) -> Any:
        factory = _SAFE_GLOBALS.get((module, name))
        if factory is None:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return factory()


def safe_unpickle(path: Path) -> Any:
    """Load a pickle with :class:`SafeUnpickler` (Python 2 strings come back as bytes)."""
    _check_file(path, "CIFAR-10 file")
    try:
        with path.open("rb") as handle:
            return SafeUnpickler(handle, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            MemoryError, OverflowError) as exc:
        raise GanforgeError(
            f"{path}: not a CIFAR-10 python batch ({str(exc)[:120]}); copy it again"
        ) from None


def _str_keys(obj: Any, path: Path) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise GanforgeError(f"{path}: not a CIFAR-10 python batch (holds a {type(obj).__name__}, not a dict)")
    return {k.decode("latin1") if isinstance(k, bytes) else str(k): v for k, v in obj.items()}


def read_cifar_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch: uint8 images (N, 3, 32, 32) and int64 labels (N,).

    Each row of ``data`` holds 3072 bytes: the red, green and blue 32x32 planes, each row-major.
    """
    path = Path(path)
    batch = _str_keys(safe_unpickle(path), path)
    data, labels = batch.get("data"), batch.get("labels")
    if not isinstance(data, np.ndarray) or labels is None:
        raise GanforgeError(f"{path}: CIFAR-10 batch lacks 'data' or 'labels' (keys: {', '.join(batch)})")
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise GanforgeError(f"{path}: 'data' is {data.dtype} {data.shape}, expected uint8 (N, 3072)")
    y = np.asarray(labels)
    in_range = y.size == 0 or (y.dtype.kind in "iu" and 0 <= y.min() <= y.max() < 10)
    if y.shape != (data.shape[0],) or y.dtype.kind not in "iu" or not in_range:
        raise GanforgeError(f"{path}: 'labels' must be {data.shape[0]} integers 0..9")
    return data.reshape(-1, 3, 32, 32), y.astype(np.int64)


def cifar_batches_dir(path: Path) -> Path:
    """The folder holding the batches: ``path`` itself or its ``cifar-10-batches-py`` sub-folder."""
    if not path.is_dir():
        raise GanforgeError(f"CIFAR-10 folder '{path}' does not exist or is not a folder; check data.path")
    for candidate in (path, path / "cifar-10-batches-py"):
        if (candidate / "test_batch").exists() or (candidate / "data_batch_1").exists():
            return candidate
    raise GanforgeError(
        f"'{path}' holds no CIFAR-10 python batches (data_batch_1..5, test_batch); give the extracted "
        "cifar-10-batches-py folder"
    )


CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _cifar_source(folder: Path, split: str, size: int | None, limit: int | None, name: str) -> ArraySource:
    folder = cifar_batches_dir(folder)
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    missing = [n for n in names if not (folder / n).exists()]
    if missing:
        raise GanforgeError(
            f"CIFAR-10 folder '{folder}' lacks {', '.join(missing)}; extract the full archive"
        )
    parts = [read_cifar_batch(folder / n) for n in names]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    n = _limit(images.shape[0], limit)
    x = torch.from_numpy(images[:n]).float().div_(255.0)
    classes = CIFAR10_CLASSES
    if (folder / "batches.meta").exists():
        meta = _str_keys(safe_unpickle(folder / "batches.meta"), folder / "batches.meta")
        found = meta.get("label_names")
        if isinstance(found, list) and len(found) == 10:
            classes = [c.decode("latin1") if isinstance(c, bytes) else str(c) for c in found]
    info = {"path": str(folder), "split": split, "classes": classes}
    return image_source(_finish(x, size), labels[:n], name=name, num_classes=10, info=info)


@register_source("cifar10")
def cifar10(
    path: str, split: Literal["train", "test"] = "train", size: int | None = None, limit: int | None = None
) -> ArraySource:
    """CIFAR-10 from its python batches folder (data_batch_1..5, test_batch): 32x32 RGB, 10 classes.

    The batches are pickles; they are read without running any code they might contain.
    """
    check_size(size, "data")
    return _cifar_source(Path(path).expanduser(), split, size, limit, "cifar10")


# ------------------------------------------------------------------------------------------ .npz


def _to_nchw(arr: np.ndarray, layout: str, path: Path) -> np.ndarray:
    """(N, H, W) -> (N, 1, H, W); 4-D arrays by ``layout``.

    ``auto`` takes the channel axis to be whichever of axis 1 and the last axis has at most 4 entries
    (gray, gray+alpha, RGB, RGBA); when both or neither do, the layout must be given.
    """
    if arr.ndim == 3:
        return arr[:, None]
    if arr.ndim != 4:
        raise GanforgeError(
            f"{path}: images array has shape {arr.shape}; expected (N, H, W), (N, H, W, C) or (N, C, H, W)"
        )
    if layout == "auto":
        first, last = arr.shape[1] <= 4, arr.shape[-1] <= 4
        if first == last:
            raise GanforgeError(
                f"{path}: cannot tell the channel axis of shape {arr.shape}; set data.layout=NHWC or NCHW"
            )
        layout = "NCHW" if first else "NHWC"
    return arr if layout == "NCHW" else arr.transpose(0, 3, 1, 2)


@register_source("images-npz")
def images_npz(
    path: str,
    images_key: str = "images",
    labels_key: str = "labels",
    layout: Literal["auto", "NHWC", "NCHW"] = "auto",
    size: int | None = None,
    grayscale: bool | None = None,
    limit: int | None = None,
) -> ArraySource:
    """A .npz archive of images (N, H, W), (N, H, W, C) or (N, C, H, W), uint8 or float, optional labels.

    uint8 values are divided by 255; floats must lie in [0, 1] (or [0, 255]). Labels (array
    ``labels_key``) are used when the archive has them.
    """
    check_size(size, "data")
    file = Path(path).expanduser()
    _check_file(file, "data file")
    refuse_damaged_numpy_file(file)
    try:
        with np.load(file, allow_pickle=False) as archive:
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise GanforgeError(f"{file}: is a single .npy array; images-npz needs a .npz archive")
            keys = list(archive.files)
            if images_key not in keys:
                raise GanforgeError(
                    f"{file}: no array named '{images_key}' (it holds {', '.join(keys) or 'nothing'}); "
                    "set data.images_key"
                )
            images = archive[images_key]
            labels = archive[labels_key] if labels_key in keys else None
            if not all(isinstance(a, np.ndarray) for a in (images, labels) if a is not None):
                raise GanforgeError(f"{file}: '{images_key}' or '{labels_key}' is not a NumPy array")
    except GanforgeError:
        raise
    except Exception as exc:  # noqa: BLE001 - numpy's parser of a damaged archive raises many types
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise GanforgeError(f"{file}: not a readable .npz archive ({detail})") from None
    if labels is None and labels_key != "labels":
        raise GanforgeError(
            f"{file}: no array named '{labels_key}' (it holds {', '.join(keys)}); fix data.labels_key"
        )
    arr = _to_nchw(images, layout, file)
    if arr.shape[0] == 0:
        raise GanforgeError(f"{file}: '{images_key}' holds 0 images")
    n = _limit(arr.shape[0], limit)
    x = torch.from_numpy(np.ascontiguousarray(to_unit_range(arr[:n], f"{file}['{images_key}']")))
    y = None
    if labels is not None:
        if labels.dtype.kind not in "iu" or labels.ndim != 1 or labels.shape[0] != arr.shape[0]:
            raise GanforgeError(
                f"{file}: '{labels_key}' must be {arr.shape[0]} integers (one per image), got "
                f"{labels.dtype} {labels.shape}"
            )
        y = labels[:n]
    return image_source(_finish(x, size, grayscale), y, name=file.stem, info={"path": str(file)})


# ------------------------------------------------------------------------------------- downloads

# Where the standard sets are fetched from (module-level so a mirror can be swapped in).
MIRRORS: dict[str, str] = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "cifar10": "https://www.cs.toronto.edu/~kriz/",
}
IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
# MD5 of the published files: a download that does not match (an HTML error page, a cut connection)
# is discarded instead of being cached.
MD5: dict[str, str] = {
    "mnist/train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "mnist/train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "mnist/t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "mnist/t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    "cifar10/cifar-10-python.tar.gz": "c58f30108f718f92721af3b95e74349a",
}
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                   "Bag", "Ankle boot"]


def cache_root(cache_dir: str | None = None) -> Path:
    """Where downloads are kept: ``cache_dir``, else ``$GANFORGE_CACHE``, else ``~/.cache/ganforge``."""
    chosen = cache_dir or os.environ.get("GANFORGE_CACHE") or Path.home() / ".cache" / "ganforge"
    return Path(chosen).expanduser()


def download(url: str, dest: Path, md5: str | None, manual_hint: str) -> Path:
    """Fetch ``url`` into ``dest`` (written to a temporary file, checked, then renamed into place).

    Any failure (no network, HTTP error, checksum mismatch) raises a one-line GanforgeError that says how
    to place the file by hand (``manual_hint``).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    digest = hashlib.md5(usedforsecurity=False)
    try:
        with urllib.request.urlopen(url, timeout=60) as response, tmp.open("wb") as out:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        if md5 is not None and digest.hexdigest() != md5:
            raise OSError(f"checksum mismatch (md5 {digest.hexdigest()}, expected {md5})")
        os.replace(tmp, dest)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise GanforgeError(f"could not download {url} ({reason}); {manual_hint}") from None
    finally:
        tmp.unlink(missing_ok=True)  # a failed or interrupted download leaves nothing half-written
    return dest


def _cached_idx(dataset: str, split: str, cache_dir: str | None) -> tuple[Path, Path]:
    folder = cache_root(cache_dir) / dataset
    found = []
    for name in IDX_FILES[split]:
        plain = folder / name.removesuffix(".gz")
        if plain.exists():
            found.append(plain)
        elif (folder / name).exists():
            found.append(folder / name)
        else:
            hint = (f"to work offline, place {' and '.join(IDX_FILES[split])} (gzipped or not) in {folder} "
                    "(or set GANFORGE_CACHE)")
            found.append(download(MIRRORS[dataset] + name, folder / name, MD5.get(f"{dataset}/{name}"), hint))
    return found[0], found[1]


def _idx_dataset(
    dataset: str, split: str, size: int | None, limit: int | None, cache_dir: str | None, classes: list[str]
) -> ArraySource:
    check_size(size, "data")
    images_path, labels_path = _cached_idx(dataset, split, cache_dir)
    x, total = _idx_images(images_path, limit)
    y = _idx_labels(labels_path, total, x.shape[0])
    info = {"path": str(images_path.parent), "split": split, "classes": classes}
    return image_source(_finish(x, size), y, name=dataset, num_classes=10, info=info)


@register_source("mnist")
def mnist(
    split: Literal["train", "test"] = "train",
    size: int | None = None,
    limit: int | None = None,
    cache_dir: str | None = None,
) -> ArraySource:
    """MNIST handwritten digits (60,000 train / 10,000 test, 28x28 gray), downloaded once into the cache.

    Offline: put the four IDX files in ``$GANFORGE_CACHE/mnist`` (default ``~/.cache/ganforge/mnist``).
    """
    return _idx_dataset("mnist", split, size, limit, cache_dir, [str(d) for d in range(10)])


@register_source("fashion-mnist")
def fashion_mnist(
    split: Literal["train", "test"] = "train",
    size: int | None = None,
    limit: int | None = None,
    cache_dir: str | None = None,
) -> ArraySource:
    """Fashion-MNIST clothing images (60,000 train / 10,000 test, 28x28 gray), downloaded once.

    Offline: put the four IDX files in ``$GANFORGE_CACHE/fashion-mnist``.
    """
    return _idx_dataset("fashion-mnist", split, size, limit, cache_dir, FASHION_CLASSES)


def _extract_cifar(archive: Path, dest: Path) -> None:
    """Extract only the batch files of ``archive`` into ``dest/cifar-10-batches-py`` (no path tricks)."""
    wanted = {f"data_batch_{i}" for i in range(1, 6)} | {"test_batch", "batches.meta"}
    out = dest / "cifar-10-batches-py"
    out.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                name = Path(member.name).name
                if member.isfile() and name in wanted:
                    handle = tar.extractfile(member)
                    if handle is not None:
                        (out / name).write_bytes(handle.read())
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise GanforgeError(f"{archive}: corrupt archive ({exc}); delete it and try again") from None


@register_source("cifar10-download")
def cifar10_download(
    split: Literal["train", "test"] = "train",
    size: int | None = None,
    limit: int | None = None,
    cache_dir: str | None = None,
) -> ArraySource:
    """CIFAR-10 (50,000 train / 10,000 test, 32x32 RGB, 10 classes), downloaded once into the cache.

    Offline: extract cifar-10-python.tar.gz into ``$GANFORGE_CACHE/cifar10`` (giving cifar-10-batches-py).
    """
    check_size(size, "data")
    folder = cache_root(cache_dir) / "cifar10"
    batches = folder / "cifar-10-batches-py"
    if not (batches / "test_batch").exists():
        hint = (f"to work offline, download {CIFAR10_ARCHIVE} yourself and extract it into {folder} "
                "(or set GANFORGE_CACHE)")
        archive = download(MIRRORS["cifar10"] + CIFAR10_ARCHIVE, folder / CIFAR10_ARCHIVE,
                           MD5.get(f"cifar10/{CIFAR10_ARCHIVE}"), hint)
        _extract_cifar(archive, folder)
        archive.unlink(missing_ok=True)
    return _cifar_source(batches, split, size, limit, "cifar10")
