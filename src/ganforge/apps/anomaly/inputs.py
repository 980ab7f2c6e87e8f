"""Files -> samples for the anomaly commands: CSV rows (tables), CSV series cut into windows (sequences),
.npy/.npz arrays, image folders and single pictures. Each reader returns the array and one name per sample
(row number, window start, image file), so score files can say which sample each score belongs to.

Options that a file's kind does not use (``--window`` / ``--stride`` for images, ``--size`` for rows,
``--columns`` for arrays, ``--stride`` without ``--window``) are refused when fitting (``scoring=False``):
silently ignoring them would fit something other than what the user asked for."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ganforge.errors import GanforgeError, did_you_mean, quote

INDEX_NAMES = ("", "Unnamed: 0", "index")
"""Header cells of a column that pandas' ``to_csv`` writes for the DataFrame's index (empty by default)."""


@dataclass
class Samples:
    """Samples read from a file: ``x`` (N, ...), per-sample ``names``, the ``kind`` and CSV ``columns``;
    ``index_column`` names a CSV column that looks like a saved pandas index (see :func:`index_like`)."""

    x: np.ndarray
    names: list[str]
    kind: str
    columns: list[str] = field(default_factory=list)
    index_column: str | None = None


def windows(series: np.ndarray, length: int, stride: int = 1, where: str = "the series",
            scoring: bool = False) -> np.ndarray:
    """Overlapping windows ``(N, length, F)`` of a series ``(T, F)``: window i covers rows
    ``[i * stride, i * stride + length)``. ``scoring``: the window comes from the fitted detector, so the
    fix for a short series is more rows (``score`` has no ``--window``), not another window."""
    if length < 2:
        raise GanforgeError(f"--window {length}: a window needs at least 2 time steps")
    if stride < 1:
        raise GanforgeError(f"--stride {stride}: give a positive stride")
    if series.shape[0] < length:
        n = series.shape[0]
        rows = f"{n} row{'s' if n != 1 else ''}"
        if scoring:
            raise GanforgeError(f"{where}: {rows}, fewer than one window of {length} (the detector's window); give "
                                f"at least {length} rows, or refit the detector with a shorter --window")
        raise GanforgeError(f"{where}: {rows}, fewer than one window of {length}; give a longer series or a "
                            "shorter --window")
    starts = np.arange(0, series.shape[0] - length + 1, stride)
    return np.stack([series[s:s + length] for s in starts]).astype(np.float32)


def csv_names(path: Path) -> list[str]:
    """A CSV's column names: its header row, or ``x0, x1, ...`` when the first row is numbers (as
    :func:`ganforge.data.files.read_csv` names them)."""
    from ganforge.fileio import CSV_ENCODING, csv_delimiter

    try:
        with path.open(newline="", encoding=CSV_ENCODING) as handle:
            rows = csv.reader(handle, delimiter=csv_delimiter(path))
            first = next((r for r in rows if r and any(c.strip() for c in r)), [])
    except (UnicodeDecodeError, csv.Error) as exc:
        raise GanforgeError(f"{path}: not a readable text CSV file ({exc}); save it as UTF-8 CSV") from None
    cells = [c.strip() for c in first]
    try:
        [float(c) for c in cells]
    except ValueError:
        return cells
    return [f"x{i}" for i in range(len(cells))]


def select_columns(path: Path, spec: str | list[str]) -> list[str]:
    """The column names ``spec`` picks from the CSV ``path``: names or 0-based indices (``date`` excluded:
    ``temp,sales`` or ``1,2``; a range ``1-30``), comma-separated or as a list. A token that is a column's
    name means that column, even when it looks like a number; duplicates and unknown columns are one line."""
    tokens = [t.strip() for t in spec.split(",")] if isinstance(spec, str) else [str(t).strip() for t in spec]
    names = csv_names(path)
    picked: list[str] = []
    for token in tokens:
        if token in names:
            picked.append(token)
            continue
        span = re.fullmatch(r"(\d+)(?:-(\d+))?", token)
        if span is None:
            hint = did_you_mean(token, names) if token else " (an empty name: two commas in a row?)"
            raise GanforgeError(f"--columns: {path} has no column named {quote(token)}{hint}; columns are "
                                f"{', '.join(n or quote(n) for n in names)} (or 0-based indices "
                                f"0..{len(names) - 1})")
        first, last = int(span.group(1)), int(span.group(2) or span.group(1))
        if last < first or last >= len(names):
            raise GanforgeError(f"--columns {token}: {path} has {len(names)} columns; give indices from 0 to "
                                f"{len(names) - 1}")
        picked += names[first:last + 1]
    if not picked:
        raise GanforgeError("--columns: no column given; name at least one, e.g. --columns a,b")
    repeated = next((n for i, n in enumerate(picked) if n in picked[:i]), None)
    if repeated is not None:
        raise GanforgeError(f"--columns: column {quote(repeated)} is given twice (or two columns share that name); "
                            "give each column once")
    return picked


def numeric_columns(path: Path) -> list[str]:
    """The columns whose first value is a number: what ``--columns`` would keep of a CSV with a date, id or
    text column (the hint of the error that column gives)."""
    from ganforge.fileio import CSV_ENCODING, csv_delimiter

    names = csv_names(path)
    has_header = names != [f"x{i}" for i in range(len(names))]
    try:
        with path.open(newline="", encoding=CSV_ENCODING) as handle:
            rows = (r for r in csv.reader(handle, delimiter=csv_delimiter(path)) if r and any(c.strip() for c in r))
            first = next(rows, [])
            if has_header:
                first = next(rows, [])
    except (UnicodeDecodeError, csv.Error):
        return []
    keep = []
    for i, (name, cell) in enumerate(zip(names, first, strict=False)):
        try:
            float(cell)
        except ValueError:
            continue
        keep.append(name if name and "," not in name and name not in names[:i] else str(i))
    return keep


def index_like(values: np.ndarray, columns: list[str]) -> str | None:
    """The first column's name when it looks like a pandas index saved by ``to_csv`` (header cell empty,
    ``Unnamed: 0`` or ``index``, values 0, 1, ..., N-1): it would be fitted as a feature, and a row's number
    says nothing about whether it is normal."""
    if values.shape[0] < 2 or not columns or columns[0] not in INDEX_NAMES:
        return None
    return columns[0] if np.array_equal(values[:, 0], np.arange(values.shape[0])) else None


def read_samples(path: str | Path, window: int | None = None, stride: int | None = None, size: int | None = None,
                 columns: str | list[str] | None = None, scoring: bool = False) -> Samples:
    """Read a data file, a picture or an image folder for fitting or scoring (see the module doc).

    ``columns``: CSV columns to use (names or 0-based indices, :func:`select_columns`). ``scoring``: the
    options come from a fitted detector, not from the user: short series get a score-time hint, and options
    the data does not use are not refused (they were checked when fitting)."""
    from ganforge.data.files import read_array, read_csv
    from ganforge.data.image_files import IMAGE_SUFFIXES, read_image

    file = Path(path).expanduser()
    if not file.exists():
        raise GanforgeError(f"'{file}' does not exist; check the path")
    if not scoring:
        if stride is not None and window is None:
            raise GanforgeError(f"--stride {stride}: the step between windows needs --window LENGTH; add --window "
                                "to score windows of a series, or drop --stride to score single rows")
        if window is not None and window < 2:
            raise GanforgeError(f"--window {window}: a window holds at least 2 rows; drop --window to score single "
                                "rows")
    stride = 1 if stride is None else stride
    is_picture = file.is_file() and file.suffix.lower() in IMAGE_SUFFIXES
    is_csv = file.is_file() and file.suffix.lower() == ".csv"
    if not scoring:
        if window is not None and (file.is_dir() or is_picture):
            raise GanforgeError(f"--window {window}: cuts a CSV series (or an (N, F) array) into windows; {file} "
                                "holds images: drop --window")
        if columns is not None and not is_csv:
            raise GanforgeError(f"--columns picks columns of a .csv file; {file} is not one: drop --columns (select "
                                "the columns before saving the array)")
    if file.is_dir():
        return _read_folder(file, size)
    if file.stat().st_size == 0:
        raise GanforgeError(f"'{file}' is empty; it needs at least one sample")
    if is_picture:
        picture = read_image(file, size).numpy().astype(np.float32)
        return Samples(picture[None], [file.name], "image")
    if size is not None and not scoring and file.suffix.lower() != ".npz":
        raise GanforgeError(f"--size {size}: resizes images (a folder of pictures or an .npz with 'images'); "
                            f"{file} holds no pictures: drop --size")
    if is_csv:
        picked = select_columns(file, columns) if columns is not None else None
        try:
            values, names = read_csv(file, picked)
        except GanforgeError as exc:
            numeric = numeric_columns(file)
            if scoring or picked or "is not a number" not in str(exc) or not numeric:
                raise
            raise GanforgeError(f"{exc} (or leave it out: --columns {','.join(numeric)})") from None
        index_column = None if picked else index_like(values, names)
        if window:
            x = windows(values, window, stride, str(file), scoring)
            return Samples(x, [str(i * stride) for i in range(x.shape[0])], "sequence", names, index_column)
        return Samples(values.astype(np.float32), [str(i) for i in range(values.shape[0])], "table", names,
                       index_column)
    key = None
    if file.suffix.lower() == ".npz":
        from ganforge.recipes import npz_array_specs

        dims = {k: len(shape) for k, (shape, _) in npz_array_specs(file).items()}
        if "images" in dims:
            from ganforge.data.image_files import images_npz

            if window is not None and not scoring:
                raise GanforgeError(f"--window {window}: cuts a series into windows; {file} holds images: drop "
                                    "--window")
            x = images_npz(str(file), size=size).x.numpy().astype(np.float32)
            return Samples(x, [str(i) for i in range(x.shape[0])], "image")
        if size is not None and not scoring:
            raise GanforgeError(f"--size {size}: resizes images; {file} holds no array named 'images': drop --size "
                                "(or save pictures with np.savez(FILE, images=x))")
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
        if window and kind != "table":
            if not scoring:
                raise GanforgeError(f"--window {window}: cuts a series (T, F) into windows; {file} already holds "
                                    f"{kind} samples of shape {arr.shape}: drop --window")
        elif window:
            arr = windows(arr, window, stride, str(file), scoring)
            kind = "sequence"
        return Samples(arr, [str(i) for i in range(arr.shape[0])], kind)
    raise GanforgeError(f"'{file}': unknown file type; give a .csv, .npy or .npz file, a picture "
                        f"({', '.join(IMAGE_SUFFIXES)}) or a folder of pictures")


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
