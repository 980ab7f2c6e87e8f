"""Sequence data (N, T, F): TimeGAN's sine benchmark, windows cut from a CSV time series, and .npy arrays.

All three return a :class:`SequenceSource`, an :class:`~ganforge.data.base.ArraySource` whose samples stay
in the data's own units and whose scaler uses **one shift and scale per feature, shared by all time
steps** (statistics pooled over samples and steps). That is TimeGAN's normalisation: its ``MinMaxScaler``
in ``timegan.py`` takes each feature's min and max over every sample and step, and generated sequences
are mapped back with the same numbers, so samples come back in the CSV's units.

A CSV series also records each column's type in the source's ``info`` (kept in the run's ``data.json``):
``dtypes`` ("int" for whole numbers, else "float") and ``decimals``, by the rule tables use
(:func:`~ganforge.data.tables.number_format`), beside its observed ``data_min`` / ``data_max``.
:func:`column_formats` reads them back, so ``ganforge sample RUN -o out.csv`` writes counts as integers and
prices with their decimals, within the observed range; runs trained before this record exist have none and
are written as before.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import torch
from pydantic import Field

from ganforge.data.base import ArraySource
from ganforge.data.registry import checked_python_call, register_source
from ganforge.data.scaling import OutputRange, Scaler
from ganforge.data.tables import MAX_DECIMALS, legal_numbers, number_format
from ganforge.errors import GanforgeError, quote
from ganforge.fileio import CSV_ENCODING, csv_delimiter


class SequenceSource(ArraySource):
    """Sequences (N, T, F) in data units, scaled per feature with statistics pooled over time.

    The base :class:`ArraySource` would fit one shift and scale per (t, f) position, which distorts the
    shape of a series (each step stretched differently) and breaks when a position is constant.
    """

    def fit_scaler(self, output: OutputRange) -> None:
        features = self.x.shape[-1]
        self.scaler = Scaler.fit(self.x.reshape(-1, features), output, per_feature=True, bounds=self.bounds)


def _sequence_source(name: str, x: np.ndarray, info: dict, y: np.ndarray | None = None) -> SequenceSource:
    tensor = torch.from_numpy(np.array(x, dtype=np.float32))  # a copy: windows may be a read-only strided view
    labels = None if y is None else torch.as_tensor(np.ascontiguousarray(y)).long()
    num_classes = None if labels is None else int(labels.max()) + 1
    return SequenceSource(
        kind="sequences",
        sample_shape=tuple(tensor.shape[1:]),
        name=name,
        num_classes=num_classes,
        x=tensor,
        y=labels,
        info=info,
    )


def _positive(name: str, source: str, value: int) -> int:
    try:
        whole = int(value)
        ok = whole == value and whole >= 1 and not isinstance(value, bool)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise GanforgeError(f"data.{name} of '{source}' must be a positive integer, got {value!r}")
    return whole


def sine_sequences(n: int, seq_len: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """TimeGAN's sine data: ``x[i, t, k] = (sin(f_ik t + p_ik) + 1) / 2`` with ``f_ik, p_ik ~ U(0, 0.1)``.

    Draws are taken in TimeGAN's order (per sample, per feature: frequency then phase), steps
    ``t = 0 .. seq_len - 1``. Values lie in [0, 1] (in practice [0.5, 1], as the argument stays in
    [0, 0.1 * seq_len + 0.1]).
    """
    draws = rng.uniform(0.0, 0.1, size=(n, dim, 2))
    freq, phase = draws[..., 0], draws[..., 1]
    t = np.arange(seq_len, dtype=np.float64)
    signal = np.sin(freq[:, None, :] * t[None, :, None] + phase[:, None, :])
    return ((signal + 1.0) * 0.5).astype(np.float32)


@checked_python_call
@register_source("sines")
def sines(n: int = 10000, seq_len: int = 24, dim: int = 5, seed: Annotated[int, Field(ge=0)] = 0) -> SequenceSource:
    """TimeGAN's sine benchmark: n sequences of seq_len steps, dim sines with random frequency and phase."""
    n = _positive("n", "sines", n)
    seq_len = _positive("seq_len", "sines", seq_len)
    dim = _positive("dim", "sines", dim)
    x = sine_sequences(n, seq_len, dim, np.random.default_rng(seed))
    return _sequence_source("sines", x, {"seq_len": seq_len, "features": dim, "seed": seed})


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def read_numeric_csv(
    path: str | Path, columns: list[str | int] | None = None, delimiter: str = ","
) -> tuple[np.ndarray, list[str]]:
    """Read a numeric CSV into (rows, columns) float64 and the column names.

    The first row is a header when any of its cells is not a number (else columns are named ``0, 1, ...``).
    ``columns`` selects columns by header name or 0-based index. Empty, non-numeric and NaN/inf cells in
    the selected columns raise a one-line error naming the row and column.
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise GanforgeError(
            f"data.path: no such file '{path}'; give the path to a CSV file with numeric columns"
        )
    try:
        with file.open(newline="", encoding=CSV_ENCODING) as handle:
            rows = [row for row in csv.reader(handle, delimiter=delimiter) if any(cell.strip() for cell in row)]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise GanforgeError(f"{file}: not a readable text CSV file ({exc}); save it as UTF-8 CSV") from None
    if not rows:
        raise GanforgeError(f"{file}: the CSV file is empty; it needs rows of numbers")
    has_header = not all(_is_number(cell) for cell in rows[0])
    names = [c.strip() for c in rows[0]] if has_header else [str(i) for i in range(len(rows[0]))]
    body = rows[1:] if has_header else rows
    first_line = 2 if has_header else 1
    if isinstance(columns, (str, int)):
        columns = [columns]
    if columns is None:
        picked = list(range(len(names)))
    else:
        picked = []
        for col in columns:
            if isinstance(col, int) and not isinstance(col, bool) and 0 <= col < len(names):
                picked.append(col)
            elif str(col) in names:
                picked.append(names.index(str(col)))
            else:
                raise GanforgeError(
                    f"data.columns: '{col}' is not a column of {file}; its columns are: {', '.join(names)} "
                    f"(or 0-based indices below {len(names)})"
                )
    if not picked:
        raise GanforgeError(f"data.columns selects no column of {file}; name at least one")
    values = np.empty((len(body), len(picked)), dtype=np.float64)
    for r, row in enumerate(body):
        if len(row) != len(names):
            raise GanforgeError(
                f"{file}, line {first_line + r}: {len(row)} cells but the file has {len(names)} columns"
            )
        for c, col in enumerate(picked):
            cell = row[col].strip()
            try:
                value = float(cell)
            except ValueError:
                numeric = [n for i, n in enumerate(names) if i != col and _numeric_column(body, i)]
                example = f"--set 'data.columns=[{','.join(numeric) or 'a,b'}]'"
                fix = "fill the empty cell" if not cell else f"leave the column out ({example})"
                raise GanforgeError(
                    f"{file}, line {first_line + r}, column '{names[col]}': '{cell}' is not a number; {fix}"
                ) from None
            if not math.isfinite(value):
                raise GanforgeError(
                    f"{file}, line {first_line + r}, column '{names[col]}': {cell} is not a finite number; "
                    "fill or drop missing values first"
                )
            values[r, c] = value
    return values, [names[c] for c in picked]


def _numeric_column(body: list[list[str]], index: int) -> bool:
    """Whether every cell of a column is a finite number, so it can be suggested in ``data.columns`` (the
    suggestion once listed every other column, text and dates included, and the same text column again)."""
    for row in body:
        try:
            if not math.isfinite(float(row[index].strip())):
                return False
        except (ValueError, IndexError):
            return False
    return True


def sliding_windows(series: np.ndarray, seq_len: int, stride: int = 1) -> np.ndarray:
    """Every window ``series[i : i + seq_len]`` for ``i = 0, stride, 2 stride, ...``: (W, seq_len, F)."""
    windows = np.lib.stride_tricks.sliding_window_view(series, seq_len, axis=0)  # (rows - T + 1, F, T)
    return np.ascontiguousarray(windows[::stride].transpose(0, 2, 1))


@register_source("timeseries-csv")
def timeseries_csv(
    path: str,
    seq_len: int = 24,
    columns: list[str | int] | str | int | None = None,
    stride: int = 1,
    reverse: bool = False,
    delimiter: str | None = None,
) -> SequenceSource:
    """Sliding windows of seq_len rows cut from a numeric CSV time series (TimeGAN's stock/energy loading).
    ``delimiter``: the cell separator, by default the file's own (``,``, or ``;`` / tab / ``|`` when the file
    uses one; :func:`~ganforge.fileio.csv_delimiter`). ``columns``: a list of names or 0-based indices, or one.

    As TimeGAN's ``real_data_loading``: rows are optionally flipped (``reverse=True`` for a newest-first
    file; TimeGAN always flips, "to make chronological data"), then every window of ``seq_len``
    consecutive rows becomes one sample. Differences, on purpose: samples stay in the CSV's units and the
    scaler does TimeGAN's per-feature min-max (pooled over all windows and steps, which equals the whole
    series' min and max), so generated samples come back in those units; windows are kept in time order
    because batches are drawn from a fresh permutation every epoch (TimeGAN shuffles once for the same
    reason); and the last window is included (TimeGAN's loop stops one window short).
    """
    seq_len = _positive("seq_len", "timeseries-csv", seq_len)
    stride = _positive("stride", "timeseries-csv", stride)
    if isinstance(columns, (str, int)):  # `--set data.columns=temp_c`: one column
        columns = [columns]
    series, names = read_numeric_csv(path, columns, delimiter or csv_delimiter(path))
    if reverse:
        series = series[::-1]
    if len(series) < seq_len:
        raise GanforgeError(
            f"{path}: {len(series)} data rows are too few for windows of seq_len={seq_len}; "
            "lower data.seq_len or give a longer series"
        )
    x = sliding_windows(series, seq_len, stride)
    if len(x) < 2:  # one window cannot train a GAN or be evaluated against another: say so before training
        raise GanforgeError(
            f"{path}: {len(series)} rows give {len(x)} window of seq_len={seq_len} with stride={stride}; lower "
            "data.stride or data.seq_len (at least 2 windows are needed)"
        )
    info = {
        "path": str(path),
        "columns": names,
        "seq_len": seq_len,
        "stride": stride,
        "reverse": bool(reverse),
        "rows": int(len(series)),
        "data_min": series.min(axis=0).tolist(),
        "data_max": series.max(axis=0).tolist(),
    }
    formats = [number_format(series[:, j]) for j in range(series.shape[1])]
    info["dtypes"] = [dtype for dtype, _ in formats]
    info["decimals"] = [decimals for _, decimals in formats]
    return _sequence_source(Path(path).stem, x, info)


@dataclass(frozen=True)
class ColumnFormat:
    """How one feature of a CSV series is written back: whole numbers or a number of decimals (None: as
    many as the value needs), within the range the training series held."""

    integer: bool
    decimals: int | None
    minimum: float
    maximum: float

    def legal(self, values: np.ndarray) -> np.ndarray:
        """``values`` clipped to the observed range and rounded as the column was (tables' rule)."""
        return legal_numbers(values, self.minimum, self.maximum, self.decimals)


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond float's range in a crafted data.json
        return False


def column_formats(info: Any, features: int, where: str = "data.json") -> list[ColumnFormat] | None:
    """Each feature's :class:`ColumnFormat` from a sequence source's ``info`` (a run's ``data.json``), or None
    when it records none (runs trained before it was recorded, sequences not read from a CSV): such samples
    are written as plain floats, as before. A record that is there but malformed is one line naming
    ``where``: the run folder is damaged, and guessing types from it would write wrong numbers."""
    if not isinstance(info, dict) or ("dtypes" not in info and "decimals" not in info):
        return None
    dtypes, decimals = info.get("dtypes"), info.get("decimals")
    lows, highs = info.get("data_min"), info.get("data_max")
    lists = (dtypes, decimals, lows, highs)
    if not all(isinstance(v, list) and len(v) == features for v in lists):
        raise GanforgeError(
            f"{where}: 'dtypes', 'decimals', 'data_min' and 'data_max' must each list the {features} features; "
            "the run folder is damaged, re-create data.json by training again"
        )
    out = []
    for dtype, places, low, high in zip(*lists, strict=True):
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) and _finite(v) for v in (low, high))
        places_ok = places is None or (type(places) is int and 0 <= places <= MAX_DECIMALS)
        if dtype not in ("int", "float") or not places_ok or not numbers or not low <= high:
            raise GanforgeError(
                f"{where}: a feature's type record (dtype {quote(dtype)}, decimals {quote(places)}, range "
                f"{quote(low)}..{quote(high)}) is not valid; the run folder is damaged, re-create data.json by "
                "training again"
            )
        integer = dtype == "int"
        out.append(ColumnFormat(integer, 0 if integer else places, float(low), float(high)))
    return out


def _load_array(file: Path, key: str | None, what: str) -> np.ndarray:
    try:
        loaded = np.load(file, allow_pickle=False)
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded:
                keys = list(loaded.files)
                if key is None:
                    if len(keys) != 1:
                        raise GanforgeError(f"{file} holds arrays {', '.join(keys)}; choose one with data.{what}")
                    key = keys[0]
                if key not in keys:
                    raise GanforgeError(f"data.{what}: '{key}' is not in {file}; it holds {', '.join(keys)}")
                loaded = loaded[key]
    except GanforgeError:
        raise
    except Exception as exc:  # noqa: BLE001 - numpy's parser of a damaged file raises many types
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise GanforgeError(f"{file}: cannot read it as a NumPy .npy/.npz file ({detail})") from None
    if not isinstance(loaded, np.ndarray):  # a zip member that is not an .npy comes back as bytes
        raise GanforgeError(f"{file}: '{key}' is not a NumPy array")
    return loaded


def _checked_sequences(x: np.ndarray, where: str) -> np.ndarray:
    """``x`` if it is a non-empty, finite, real (N, T, F) array; else a one-line error naming ``where``."""
    if x.ndim != 3:
        hint = " (for one feature add a last axis of size 1: x[..., None])" if x.ndim == 2 else ""
        raise GanforgeError(f"{where}: the array has shape {x.shape}; sequences must be 3-D (N, T, F){hint}")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise GanforgeError(f"{where}: the array holds {x.dtype} values; sequences must be real numbers")
    if min(x.shape) < 1:
        raise GanforgeError(f"{where}: the array has shape {x.shape}; every axis needs at least one entry")
    bad = ~np.isfinite(x)
    if bad.any():
        at = tuple(int(i) for i in np.argwhere(bad)[0])
        raise GanforgeError(f"{where}: value at index {at} is {x[at]}; remove or fill NaN/inf values first")
    return x


def _checked_labels(y: np.ndarray, n: int, what: str) -> np.ndarray:
    """``y`` flattened, if it is ``n`` non-negative integers (one class per sequence); else a one-line error
    that starts with ``what``."""
    y = y.reshape(-1)
    if len(y) != n or not np.issubdtype(y.dtype, np.integer) or (len(y) and y.min() < 0):
        raise GanforgeError(f"{what} must be {n} non-negative integers (one per sequence)")
    return y


def sequences(x: np.ndarray | torch.Tensor, labels: np.ndarray | torch.Tensor | None = None) -> SequenceSource:
    """Sequences given from Python, ``gf.train(gan, data=gf.data.sequences(x))``: an (N, T, F) array or tensor
    (N sequences of T steps and F features) in its own units, with optional integer labels (one per sequence).
    A bare 3-D array passed as ``data=`` is read as (N, H, W) grayscale images; this says it is sequences."""
    array = _checked_sequences(np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x), "data")
    y = None
    if labels is not None:
        given = np.asarray(labels.detach().cpu() if isinstance(labels, torch.Tensor) else labels)
        y = _checked_labels(given, len(array), "data: labels")
    info = {"seq_len": int(array.shape[1]), "features": int(array.shape[2])}
    return _sequence_source("sequences", array.astype(np.float32), info, y)


@register_source("sequences-npy")
def sequences_npy(path: str, key: str | None = None, labels_key: str | None = None) -> SequenceSource:
    """Sequences from a .npy array (N, T, F), or an array in a .npz (key; optional integer labels_key)."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise GanforgeError(
            f"data.path: no such file '{path}'; give a .npy or .npz file holding (N, T, F) sequences"
        )
    x = _checked_sequences(_load_array(file, key, "key"), str(file))
    y = None
    if labels_key is not None:
        if file.suffix != ".npz":
            raise GanforgeError("data.labels_key needs a .npz file holding both the sequences and the labels")
        y = _checked_labels(_load_array(file, labels_key, "labels_key"), len(x), f"{file}: labels '{labels_key}'")
    info = {"path": str(path), "key": key, "seq_len": int(x.shape[1]), "features": int(x.shape[2])}
    return _sequence_source(file.stem, x.astype(np.float32), info, y)
