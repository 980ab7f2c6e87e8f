"""Real data handed to ``gf.train(gan, data=...)`` as a Python object: a numpy array, a tensor, a torch
``Dataset`` or a ``DataLoader``; a list of numbers, or a pandas DataFrame / Series of numbers, is read as an array
(a DataFrame with text or category columns is a table: ``gf.TableGAN``).

Arrays of shape (N,) or (N, D) are numbers / points (data units kept; the generator's scaler maps them);
(N, H, W), (N, C, H, W) and (N, H, W, C) with C in {1, 3} are images, whose pixel values are read by the rule
image files follow (:func:`~ganforge.data.images.to_unit_range`): uint8 / uint16 divided by 255 / 65535, numbers
in [0, 1] kept, in [0, 255] divided by 255, anything else refused (0-16, as scikit-learn's digits, is a scale of
its own, not dark 8-bit pictures). A Dataset yields samples or ``(sample, label)`` pairs, the label a class
index 0, 1, 2, ... that points keep as images do (a conditional GAN needs it); a DataLoader contributes its
``dataset`` (ganforge draws its own batches, so the run stays repeatable and resumable) and its ``batch_size``,
which becomes ``train.batch_size`` unless the user set that (:func:`loader_batch_size`). Everything is read into
memory once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ganforge.data.base import ArraySource, DataSource
from ganforge.errors import GanforgeError, quote

MAX_ITEMS = 5_000_000  # a Dataset longer than this is refused: it would not fit in memory anyway
INTEGER_DTYPES = (torch.uint8, getattr(torch, "uint16", torch.uint8), torch.int16, torch.int32, torch.int64)


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
    try:  # a frame of numbers and bools is object-typed as one array: read it as floats
        return np.array(obj.to_numpy(dtype=float, na_value=np.nan) if is_frame(obj) else obj)  # a copy, writable
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


def _class_index(label: Any, i: int) -> int:
    """Item ``i``'s label as a class index: one whole number >= 0. ``int(label)`` truncated 0.9 and 1.8 to 0
    and 1, silently merging classes, and a negative label indexes a conditional network's embedding from its
    end; both are refused, as is a label that is not one number (a one-hot vector, a name)."""
    where = f"data: the Dataset's item {i} has label {quote(label)}"
    if isinstance(label, torch.Tensor):
        label = label.detach().cpu()
        label = label.double() if label.is_floating_point() else label  # numpy has no bfloat16
    array = np.asarray(label)
    if array.size != 1 or array.dtype.kind not in "biuf":
        raise GanforgeError(f"{where}; a label must be one whole number, a class index 0, 1, 2, ...")
    number = array.reshape(()).item()
    if array.dtype.kind == "f" and not float(number).is_integer():
        raise GanforgeError(f"{where}, not a whole number; labels are class indices 0, 1, 2, ...: map them to "
                            "those first (int() would silently merge classes)")
    if number < 0:
        raise GanforgeError(f"{where}; labels are class indices 0, 1, 2, ...: renumber them from 0")
    return int(number)


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
                ys.append(_class_index(item[1], i))
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
        if array.dtype == np.uint16:  # 16-bit pictures (divided by 65535, as files are); torch 2.2 has no uint16
            from ganforge.data.images import to_unit_range

            array = to_unit_range(array, "data") if array.ndim >= 3 else array.astype(np.int64)
        x = torch.as_tensor(array)
    if x.dtype == torch.bool or not (x.is_floating_point() or x.dtype in INTEGER_DTYPES):
        raise GanforgeError(f"data: expected numbers, got an array of {x.dtype}")
    if x.dim() == 0:  # a stray number (gf.train(data=5)) reached an IndexError
        raise GanforgeError(f"data: got the single number {x.item():g}; give samples, e.g. an array (N,) or (N, D)")
    if x.dim() == 1:
        x = x[:, None]
    if x.shape[0] == 0:
        raise GanforgeError("data: the array is empty; give at least one sample")
    if x.dim() == 2:
        xf = x.float()
        if not torch.isfinite(xf).all():
            raise GanforgeError("data: the array holds NaN or infinite values; remove or fill them first")
        kind = "numbers" if x.shape[1] == 1 else "points"
        classes = None if labels is None else int(labels.max()) + 1  # as image_source: labels 0..max
        return ArraySource(kind=kind, sample_shape=(x.shape[1],), name=name, x=xf, y=labels, num_classes=classes,
                           info={"rows": int(x.shape[0])})
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
    from ganforge.data.images import image_source, to_unit_range

    # the rule image files follow, so an array and the same pictures saved as a file train alike
    pixels = x.float() if x.is_floating_point() else x  # numpy has no bfloat16; uint8 stays uint8 (divided by 255)
    try:
        images = torch.from_numpy(to_unit_range(pixels.numpy(), "data"))
    except GanforgeError as exc:
        lo, hi = float(pixels.min()), float(pixels.max())
        fix = " (images scaled to [-1, 1] for a tanh generator: give (x + 1) / 2)" if -1 <= lo < 0 and hi <= 1 else ""
        if three_d:  # windows of a series are 3-D too, and their values need not be pixels
            fix += "; a 3-D array is read as (N, H, W) images: pass windows (N, T, F) as gf.data.sequences(array)"
        raise GanforgeError(f"{exc}{fix}") from None
    return image_source(images.contiguous(), labels, name=name, info={"images": int(x.shape[0])})
