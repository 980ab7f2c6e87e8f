"""Users' own numeric data: .csv, .npy and .npz files of shape (N, D).

Every way a file can be wrong (missing, empty, unreadable, not numeric, NaN/inf, wrong shape) is a
one-line :class:`~ganforge.errors.GanforgeError` naming the file and the place in it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch

from ganforge.data.base import ArraySource
from ganforge.data.registry import register_source
from ganforge.errors import GanforgeError
from ganforge.fileio import CSV_ENCODING, csv_delimiter, refuse_damaged_numpy_file

NUMERIC_SUFFIXES = (".csv", ".npy", ".npz")


def _check_file(path: Path) -> None:
    if not path.exists():
        raise GanforgeError(f"data file '{path}' does not exist; check the path")
    if path.is_dir():
        raise GanforgeError(f"data file '{path}' is a directory; give a .csv, .npy or .npz file")
    if path.stat().st_size == 0:
        raise GanforgeError(f"data file '{path}' is empty; it needs at least one row of numbers")


def read_csv(path: Path, columns: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Numbers from a CSV file: an optional header row, then one sample per row (``,`` or the file's
    ``;`` / tab / ``|`` separator, :func:`~ganforge.fileio.csv_delimiter`)."""
    delimiter = csv_delimiter(path)
    try:
        with path.open(newline="", encoding=CSV_ENCODING) as handle:
            rows = [r for r in csv.reader(handle, delimiter=delimiter) if r and any(c.strip() for c in r)]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise GanforgeError(f"{path}: not a readable text CSV file ({exc}); save it as UTF-8 CSV") from None
    if not rows:
        raise GanforgeError(f"{path}: no rows; it needs at least one row of numbers")

    def is_number(cell: str) -> bool:
        try:
            float(cell)
            return True
        except ValueError:
            return False

    header = [c.strip() for c in rows[0]] if not all(is_number(c) for c in rows[0]) else None
    body = rows[1:] if header else rows
    names = header or [f"x{i}" for i in range(len(rows[0]))]
    if not body:
        raise GanforgeError(f"{path}: only a header row; it needs at least one row of numbers")
    keep = list(range(len(names)))
    if columns:
        missing = [c for c in columns if c not in names]
        if missing:
            raise GanforgeError(f"{path}: no column named {missing[0]!r}; columns are {', '.join(names)}")
        keep = [names.index(c) for c in columns]
    values = np.empty((len(body), len(keep)), dtype=np.float64)
    for i, row in enumerate(body):
        line = i + (2 if header else 1)
        if len(row) != len(names):
            raise GanforgeError(f"{path}, line {line}: {len(row)} values where the file has {len(names)} columns")
        for j, col in enumerate(keep):
            try:
                values[i, j] = float(row[col])
            except ValueError:
                fix = (
                    "fill the empty cell or drop the row"
                    if not row[col].strip()
                    else ("this reads numeric columns only: drop or encode the column")
                )
                raise GanforgeError(
                    f"{path}, line {line}, column '{names[col]}': {row[col]!r} is not a number; {fix}"
                ) from None
    return values, [names[c] for c in keep]


def read_array(path: Path, key: str | None = None) -> np.ndarray:
    """An array from .npy (no pickles) or .npz (array ``key``, or the only array in it)."""
    refuse_damaged_numpy_file(path)
    try:
        if path.suffix == ".npy":
            return np.load(path, allow_pickle=False)
        with np.load(path, allow_pickle=False) as archive:
            names = list(archive.files)
            if not names:
                raise GanforgeError(f"{path}: the .npz archive holds no arrays")
            if key is None:
                if len(names) > 1:
                    raise GanforgeError(f"{path}: holds arrays {', '.join(names)}; choose one with data.key=NAME")
                key = names[0]
            if key not in names:
                raise GanforgeError(f"{path}: no array named '{key}'; it holds {', '.join(names)}")
            member = archive[key]
            if not isinstance(member, np.ndarray):  # a zip member that is not an .npy comes back as bytes
                raise GanforgeError(f"{path}: '{key}' in the archive is not a NumPy array")
            return member
    except GanforgeError:
        raise
    except Exception as exc:  # noqa: BLE001 - numpy's parser of a damaged header raises many types
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise GanforgeError(f"{path}: not a readable {path.suffix} file ({detail})") from None


def load_numeric(path: str | Path, columns: list[str] | None = None, key: str | None = None) -> np.ndarray:
    """(N, D) float array from a .csv/.npy/.npz file, validated: numeric, finite, non-empty."""
    path = Path(path)
    _check_file(path)
    suffix = path.suffix.lower()
    if suffix not in NUMERIC_SUFFIXES:
        raise GanforgeError(f"data file '{path}': unsupported type '{suffix}'; use .csv, .npy or .npz")
    values = read_csv(path, columns)[0] if suffix == ".csv" else read_array(path, key)
    if values.dtype.kind not in "biuf":
        raise GanforgeError(f"{path}: holds {values.dtype} values; it must hold numbers")
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.shape[0] == 0:
        hint = (
            "; a 3-D array: pictures train from an .npz saved as np.savez(FILE, images=x), sequences (N, T, F) with "
            "--recipe timeseries-gru or from an .npz saved as np.savez(FILE, samples=x)"
            if values.ndim == 3
            else ""
        )
        raise GanforgeError(f"{path}: expected a table of shape (samples, features), got shape {values.shape}{hint}")
    with np.errstate(over="ignore"):
        single = values.astype(np.float32)  # what training uses: 1e308 becomes inf here
    bad = ~np.isfinite(single)
    if bad.any():
        row, col = map(int, np.argwhere(bad)[0])
        raise GanforgeError(
            f"{path}: non-finite value ({values[row, col]}) at row {row + 1}, column {col + 1} (values must be "
            "finite and within float32, |x| <= 3.4e38); remove or replace that value first"
        )
    return single


@register_source("file")
def numeric_file(path: str, columns: list[str] | None = None, key: str | None = None) -> ArraySource:
    """A user's numeric data file (.csv with optional header, .npy, .npz), one sample per row."""
    values = load_numeric(path, columns, key)
    dim = values.shape[1]
    info: dict[str, object] = {"path": str(path)}
    if Path(path).suffix.lower() == ".csv":  # the user's column names, so samples keep them (ganforge sample)
        info["columns"] = [str(c) for c in columns] if columns else csv_header(Path(path), dim)
    return ArraySource(
        kind="numbers" if dim == 1 else "points",
        sample_shape=(dim,),
        name=Path(path).name,
        x=torch.from_numpy(values),
        info=info,
    )


def csv_header(path: Path, count: int) -> list[str]:
    """The names in a CSV's header row (``x0, x1, ...`` when its first row is numbers)."""
    with path.open(newline="", encoding=CSV_ENCODING) as handle:
        first = next(
            (r for r in csv.reader(handle, delimiter=csv_delimiter(path)) if r and any(c.strip() for c in r)), []
        )
    cells = [c.strip() for c in first]
    try:
        [float(c) for c in cells]
    except ValueError:
        if len(cells) == count:
            return cells
    return [f"x{i}" for i in range(count)]
