"""Real data handed to ``gf.train(gan, data=...)`` as a Python object: a numpy array, a tensor, a torch
``Dataset`` or a ``DataLoader``; a list of numbers, or a pandas DataFrame / Series of numbers, is read as an array
(a DataFrame with text or category columns is a table: ``gf.TableGAN``).

Arrays of shape (N,) or (N, D) are numbers / points (data units kept; the generator's scaler maps them);
(N, H, W) and (N, C, H, W) with C in {1, 3} are images, uint8 divided by 255, floats expected in [0, 1].
A Dataset yields samples or ``(sample, label)`` pairs; a DataLoader contributes its ``dataset`` (ganforge
draws its own batches, so the run stays repeatable and resumable) and its ``batch_size``, which becomes
``train.batch_size`` unless the user set that (:func:`loader_batch_size`). Everything is read into memory once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ganforge.data.base import ArraySource, DataSource
from ganforge.errors import GanforgeError

MAX_ITEMS = 5_000_000  # a Dataset longer than this is refused: it would not fit in memory anyway


def is_channels_last(shape: tuple[int, ...]) -> bool:
    """Whether a 4-D image stack is (N, H, W, C): its second axis is not 1 or 3 channels and its last one is."""
    return len(shape) == 4 and shape[1] not in (1, 3) and shape[-1] in (1, 3)


def is_data_object(obj: Any) -> bool:
    return isinstance(obj, (np.ndarray, torch.Tensor, torch.utils.data.Dataset, torch.utils.data.DataLoader,
                            list)) or is_frame(obj)


def is_frame(obj: Any) -> bool:
    """Whether ``obj`` is a pandas DataFrame or Series (duck-typed: pandas is not imported for this)."""
    return not isinstance(obj, np.ndarray) and hasattr(obj, "to_numpy") and hasattr(obj, "dtypes")


def _as_array(obj: Any) -> np.ndarray:
    """A list, DataFrame or Series of numbers as an array; text columns and ragged lists in one line."""
    if is_frame(obj) and hasattr(obj, "select_dtypes"):
        other = [str(c) for c in obj.select_dtypes(exclude=["number", "bool"]).columns]
        if other:
            raise GanforgeError(
                f"data: the DataFrame's columns {', '.join(other[:3])}{' ...' if len(other) > 3 else ''} are not "
                "numbers; a table of mixed columns trains with gf.train(data=df) (no recipe) or gf.TableGAN()"
            )
    try:
        return np.array(obj.to_numpy() if is_frame(obj) else obj)  # a copy: a frame's array may be read-only
    except ValueError:
        raise GanforgeError("data: the list's rows differ in length; give a rectangular array of numbers") from None


def loader_batch_size(obj: Any) -> int | None:
    """The batch size a DataLoader was built with, which its user expects training to use (ganforge draws its
    own batches from the loader's dataset, so without this the recipe's batch would silently replace it).
    None for anything else, for a loader with a custom ``batch_sampler`` (no ``batch_size``), and for 1:
    torch's default, most likely left unset, and too small for a GAN (one sample per batch-norm batch)."""
    if not isinstance(obj, torch.utils.data.DataLoader):
        return None
    size = obj.batch_size
    return int(size) if isinstance(size, int) and size > 1 else None


def _from_dataset(dataset: torch.utils.data.Dataset) -> tuple[torch.Tensor, torch.Tensor | None]:
    try:
        n = len(dataset)  # type: ignore[arg-type]
    except TypeError:
        raise GanforgeError("data: an iterable Dataset has no length; pass a map-style Dataset or an array") from None
    if not 0 < n <= MAX_ITEMS:
        raise GanforgeError(f"data: the Dataset holds {n} items; give 1 to {MAX_ITEMS}")
    xs, ys = [], []
    for i in range(n):
        item = dataset[i]
        if isinstance(item, (tuple, list)):
            if len(item) not in (1, 2):
                raise GanforgeError(f"data: item {i} has {len(item)} parts; a Dataset must give x or (x, label)")
            xs.append(torch.as_tensor(np.asarray(item[0])))
            if len(item) == 2:
                ys.append(int(item[1]))
        else:
            xs.append(torch.as_tensor(np.asarray(item)))
    if ys and len(ys) != len(xs):
        raise GanforgeError("data: some Dataset items have a label and some do not")
    try:
        x = torch.stack(xs)
    except RuntimeError:
        raise GanforgeError("data: the Dataset's samples differ in shape; every sample must have one shape") from None
    return x, (torch.tensor(ys) if ys else None)


def source_from_object(obj: Any, name: str = "array") -> DataSource:
    """A :class:`DataSource` for an array, tensor, Dataset or DataLoader (see the module docstring)."""
    labels = None
    if isinstance(obj, torch.utils.data.DataLoader):
        obj = obj.dataset
    if isinstance(obj, torch.utils.data.Dataset) and not isinstance(obj, torch.Tensor):
        x, labels = _from_dataset(obj)
    elif isinstance(obj, torch.Tensor):
        x = obj.detach().cpu()
    else:
        array = obj if isinstance(obj, np.ndarray) else _as_array(obj)
        if array.dtype.kind not in "biuf":  # text, objects, dates: torch's TypeError listed its dtypes instead
            raise GanforgeError(f"data: expected numbers, got an array of {array.dtype}")
        x = torch.as_tensor(array)
    if x.dtype == torch.bool or not (x.is_floating_point() or x.dtype in (torch.uint8, torch.int16, torch.int32,
                                                                           torch.int64)):
        raise GanforgeError(f"data: expected numbers, got an array of {x.dtype}")
    if x.dim() == 1:
        x = x[:, None]
    if x.shape[0] == 0:
        raise GanforgeError("data: the array is empty; give at least one sample")
    if x.dim() == 2:
        xf = x.float()
        if not torch.isfinite(xf).all():
            raise GanforgeError("data: the array holds NaN or infinite values; remove or fill them first")
        kind = "numbers" if x.shape[1] == 1 else "points"
        return ArraySource(kind=kind, sample_shape=(x.shape[1],), name=name, x=xf, info={"rows": int(x.shape[0])})
    three_d = x.dim() == 3
    if three_d:
        x = x[:, None]
    if is_channels_last(tuple(x.shape)):
        x = x.permute(0, 3, 1, 2)  # NHWC -> NCHW
    if x.dim() != 4 or x.shape[1] not in (1, 3):
        raise GanforgeError(
            f"data: an array of shape {tuple(x.shape)} is neither (N, D) points nor (N, H, W[, C]) / (N, C, H, W) "
            "images with 1 or 3 channels"
        )
    from ganforge.data.images import image_source

    images = x.float() / 255.0 if x.dtype == torch.uint8 or float(x.max()) > 1.0 else x.float()
    if float(images.min()) < 0 or float(images.max()) > 1:
        lo, hi = float(x.min()), float(x.max())
        fix = " (images scaled to [-1, 1] for a tanh generator: give (x + 1) / 2)" if lo >= -1 and hi <= 1 else ""
        if three_d:  # windows of a series are 3-D too, and their values need not be pixels
            fix += "; a 3-D array is read as (N, H, W) images: pass windows (N, T, F) as gf.data.sequences(array)"
        raise GanforgeError(f"data: image values must lie in [0, 1] (floats) or [0, 255] (integers), these span "
                            f"[{lo:g}, {hi:g}]{fix}")
    return image_source(images.contiguous(), labels, name=name, info={"images": int(x.shape[0])})
