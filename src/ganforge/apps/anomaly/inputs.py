"""Files -> samples for the anomaly commands: CSV rows (tables), CSV series cut into windows (sequences),
.npy/.npz arrays and image folders. Each reader returns the array and one name per sample (row number,
window start, image file), so score files can say which sample each score belongs to."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ganforge.errors import GanforgeError


@dataclass
class Samples:
    """Samples read from a file: ``x`` (N, ...), per-sample ``names``, the ``kind`` and CSV ``columns``."""

    x: np.ndarray
    names: list[str]
    kind: str
    columns: list[str] = field(default_factory=list)


def windows(series: np.ndarray, length: int, stride: int = 1) -> np.ndarray:
    """Overlapping windows ``(N, length, F)`` of a series ``(T, F)``: window i covers rows
    ``[i * stride, i * stride + length)``."""
    if length < 2:
        raise GanforgeError(f"--window {length}: a window needs at least 2 time steps")
    if stride < 1:
        raise GanforgeError(f"--stride {stride}: give a positive stride")
    if series.shape[0] < length:
        raise GanforgeError(f"the series has {series.shape[0]} rows, fewer than one window of {length}; "
                            "give a shorter --window")
    starts = np.arange(0, series.shape[0] - length + 1, stride)
    return np.stack([series[s:s + length] for s in starts]).astype(np.float32)


def read_samples(path: str | Path, window: int | None = None, stride: int = 1, size: int | None = None) -> Samples:
    """Read a data file or image folder for fitting or scoring (see the module doc)."""
    from ganforge.data.files import read_array, read_csv

    file = Path(path).expanduser()
    if not file.exists():
        raise GanforgeError(f"'{file}' does not exist; check the path")
    if file.is_dir():
        return _read_folder(file, size)
    if file.stat().st_size == 0:
        raise GanforgeError(f"'{file}' is empty; it needs at least one sample")
    if window is not None and window < 2:
        raise GanforgeError(f"--window {window}: a window holds at least 2 rows; drop --window to score single rows")
    if file.suffix.lower() == ".csv":
        values, columns = read_csv(file)
        if window:
            x = windows(values, window, stride)
            return Samples(x, [str(i * stride) for i in range(x.shape[0])], "sequence", columns)
        return Samples(values.astype(np.float32), [str(i) for i in range(values.shape[0])], "table", columns)
    key = None
    if file.suffix.lower() == ".npz":
        from ganforge.recipes import npz_array_specs

        dims = {k: len(shape) for k, (shape, _) in npz_array_specs(file).items()}
        if "images" in dims:
            from ganforge.data.image_files import images_npz

            x = images_npz(str(file), size=size).x.numpy().astype(np.float32)
            return Samples(x, [str(i) for i in range(x.shape[0])], "image")
        stacks = [k for k, d in dims.items() if d >= 2]  # labels and weights beside the samples are 1-D
        if len(dims) > 1 and len(stacks) != 1:
            raise GanforgeError(
                f"{file}: holds arrays {', '.join(dims)}; the anomaly commands read one array of samples "
                "(N, ...): save it alone, or images under the name 'images'"
            )
        key = stacks[0] if stacks else None
    if file.suffix.lower() in (".npy", ".npz"):
        arr = np.asarray(read_array(file, key), dtype=np.float32)
        if arr.ndim == 1:
            arr = arr[:, None]
        kind = {2: "table", 3: "sequence", 4: "image"}.get(arr.ndim)
        if kind is None:
            raise GanforgeError(f"{file}: shape {arr.shape}; expected (N, D) rows, (N, T, F) windows or (N, C, H, W)")
        if kind == "table" and window:
            arr = windows(arr, window, stride)
            kind = "sequence"
        return Samples(arr, [str(i) for i in range(arr.shape[0])], kind)
    raise GanforgeError(f"'{file}': unknown file type; give a .csv, .npy or .npz file or a folder of images")


def _read_folder(folder: Path, size: int | None) -> Samples:
    from ganforge.data.image_files import _images_in, read_image

    files = sorted(_images_in(folder, recursive=True))
    if not files:
        raise GanforgeError(f"image folder '{folder}' holds no images; put PNG or JPEG files there")
    pictures = [read_image(f, size).numpy() for f in files]
    shapes = {p.shape for p in pictures}
    if len(shapes) > 1:
        raise GanforgeError(f"images in '{folder}' have different sizes ({', '.join(map(str, sorted(shapes)))}); "
                            "give --size to resize them all")
    names = [str(f.relative_to(folder)) for f in files]
    return Samples(np.stack(pictures).astype(np.float32), names, "image")
