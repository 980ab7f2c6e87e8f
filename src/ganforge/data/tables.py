"""Tables: mixed-type records (numbers, integers, categories, booleans, datetimes, missing values).

Reading and typing
    A .csv file (or a pandas DataFrame) is read with pandas. Each column gets a kind:

    ============  =======================================================================================
    kind          rule (first that applies; ``data.columns.NAME=KIND`` overrides it)
    ============  =======================================================================================
    boolean       pandas reads it as bool (True/False cells)
    categorical   text that is not a date; or numbers with at most 2 distinct values; or whole numbers
                  with at most ``CATEGORICAL_MAX_LEVELS`` (10) distinct values. Numbers written with a
                  leading zero (``01234``: zip codes, account numbers) are read as text, so the zeros stay
    id            every value distinct and either text, or whole numbers that are consecutive or in a
                  column whose name looks like an id (``id``, ``*_id``, ``*ID``...); left out of the model
                  (synthetic rows get fresh ids that never collide with real ones)
    datetime      text that pandas parses as dates in every non-missing cell, with one format for the
                  whole column (dd/mm/yyyy when some first field is above 12, mm/dd/yyyy when some second
                  one is; text when neither or both); generated dates are written in that format
    integer       other whole numbers (generated values are rounded)
    numeric       other numbers (generated values keep the data's number of decimals)
    ============  =======================================================================================

    A column that is entirely missing, an empty or one-row table, unknown column names in overrides and
    a target that is not a column are one-line errors.

Encoding (CTGAN's representation, Xu et al. 2019)
    Each continuous column (numeric, integer, datetime) gets *mode-specific normalization*: a variational
    Gaussian mixture (scikit-learn's ``BayesianGaussianMixture``, 10 components, Dirichlet-process prior
    with concentration 0.001, as CTGAN) is fitted per column; components with weight > 0.005 are kept.
    A value x is encoded as a one-hot mode indicator beta (the mode drawn from its posterior
    p(k | x)) and a scalar alpha = (x - mu_k) / (4 sigma_k) clipped to [-0.99, 0.99]. Categorical and
    boolean columns are one-hot. A continuous column with missing values gets an extra two-category
    "missing" indicator. Decoding inverts this; the result is clipped to the column's observed range,
    rounded to its decimals (or to whole numbers), and categories can only be ones seen in the data, so
    every generated value is legal by construction.

    ``encoding="quantile"`` (``data.encoding``; as TabDDPM with scikit-learn's ``QuantileTransformer``,
    ``output_distribution="normal"``) encodes a continuous value instead as one scalar
    alpha = Phi^-1(F(x)) / 4, where F is the column's empirical CDF through at most ``QUANTILES`` (1,000)
    reference quantiles (ties take the mean of their ranks), squeezed into [1/(2n), 1 - 1/(2n)] for n
    references (an affine squeeze, undone exactly when decoding). The generator then learns
    near-Gaussian columns of width 1 (no mode block) and decoding,
    x = F^-1(Phi(4 alpha)), restores each column's empirical marginal -- the Gaussian copula's strength --
    while the GAN still models non-linear relations and mixed types. Range and decimals are enforced
    as for modes (values come from between the training quantiles, then are rounded).

Training-by-sampling and the target
    ``target_share`` (``data.target_share``): when the target column (``data.target``) is categorical or
    boolean, it is the conditioned column of this share of training rows (the other discrete columns share
    the rest uniformly) instead of 1 in (number of discrete columns), so the generator is trained to
    produce rows for each target class and the label-feature relation gets the critic's attention.

Splits
    Rows are split once, with ``split_seed`` (not the training seed, so every training seed sees the same
    rows): ``validation`` (10%) for quality checks during training, ``holdout`` (20%) for the final
    evaluation, the rest for training. The GAN never sees validation or holdout rows.
"""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganforge.data.base import ArraySource, Batch
from ganforge.data.registry import register_source
from ganforge.data.scaling import OutputRange, Scaler
from ganforge.errors import GanforgeError, did_you_mean
from ganforge.fileio import CSV_ENCODING, csv_delimiter
from ganforge.recipes import CATEGORICAL_MAX_LEVELS, looks_like_table  # noqa: F401 (re-export)

KINDS = ("numeric", "integer", "categorical", "boolean", "datetime", "id")
CONTINUOUS_KINDS = ("numeric", "integer", "datetime")
DISCRETE_KINDS = ("categorical", "boolean")
MAX_DECIMALS = 6
GMM_COMPONENTS = 10
GMM_WEIGHT_THRESHOLD = 0.005
GMM_MAX_ROWS = 50_000
ENCODINGS = ("modes", "quantile")
# chosen on validation rows (docs/benchmarks/tables.md): quantile raised breast-cancer's validation quality
# from 0.779 to 0.856 and halved the fit time
DEFAULT_ENCODING = "quantile"
QUANTILES = 1000
QUANTILE_SCALE = 4.0  # alpha = z / 4: the clipped normal scores (|z| <= 3.3) stay inside tanh's range
ID_NAME = re.compile(r"(^|[_\s-])id$|^id[_\s-]|[a-z]ID$|^(uuid|guid|key|index)$", re.IGNORECASE)
DAY_NS = 86_400 * 10**9


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        raise GanforgeError("tables need pandas; install it with `pip install pandas`") from None
    return pd


# --------------------------------------------------------------------------------------------------
# reading and typing
# --------------------------------------------------------------------------------------------------
def read_table(path: str | Path, text_columns: Collection[str] = ()) -> Any:
    """A DataFrame from a .csv file, with one-line errors for missing, empty and unreadable files. Number columns
    with leading zeros, and the columns named in ``text_columns`` (declared categorical: ``1.50`` must come back
    as ``1.50``, not 1.5), keep their cells as written."""
    pd = _pandas()
    path = Path(path)
    if not path.exists():
        raise GanforgeError(f"data file '{path}' does not exist; check the path")
    if path.is_dir():
        raise GanforgeError(f"data file '{path}' is a directory; give a .csv file")
    if path.stat().st_size == 0:
        raise GanforgeError(f"data file '{path}' is empty; a table needs a header row and at least two rows")
    sep = csv_delimiter(path)
    try:
        _refuse_repeated_names(path, sep)
        frame = pd.read_csv(path, skipinitialspace=True, sep=sep)
        numbers = [i for i in range(frame.shape[1]) if pd.api.types.is_numeric_dtype(frame.iloc[:, i])]
        if numbers:  # read again as text: numbers with leading zeros are codes (see _has_leading_zeros)
            text = pd.read_csv(path, skipinitialspace=True, sep=sep, dtype=str)
            for i in numbers:
                declared = str(frame.columns[i]) in text_columns
                if text.shape == frame.shape and (declared or _has_leading_zeros(text.iloc[:, i])):
                    frame.isetitem(i, text.iloc[:, i])
    except UnicodeDecodeError:
        raise GanforgeError(f"{path}: not a UTF-8 text CSV file; save it as UTF-8 CSV") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise GanforgeError(f"{path}: not a readable CSV table ({detail})") from None
    return frame


def _refuse_repeated_names(path: Path, sep: str) -> None:
    """Refuse a header that names two columns alike: pandas would rename the second ``a.1`` and synthetic rows
    would come back under a column the user never had (or beside a real ``a.1``)."""
    with path.open(encoding=CSV_ENCODING, newline="") as handle:
        try:
            header = [name.strip() for name in next(csv.reader(handle, delimiter=sep), [])]
        except csv.Error:  # a NUL byte, an unclosed quote: pandas' reading reports it
            return
    seen: dict[str, int] = {}
    for place, name in enumerate(header, start=1):
        if name and name in seen:
            raise GanforgeError(
                f"{path}: columns {seen[name]} and {place} are both named {name!r}; give each column its own name "
                "in the header row"
            )
        seen.setdefault(name, place)


def _has_leading_zeros(cells: Any) -> bool:
    """Whether a column's text has a number with a leading zero (``01234``, ``007``; not ``0`` or ``0.5``):
    codes such as zip codes or account numbers, kept as text, since reading them as numbers turns 01234 into
    1234 and no column kind could write the zero back."""
    return bool(cells.dropna().str.strip().str.match(r"[-+]?0\d").any())


def _decimals(values: np.ndarray) -> int | None:
    """The fewest decimals d (0..6) that represent every value exactly; None when more are needed."""
    for d in range(MAX_DECIMALS + 1):
        if np.all(np.abs(np.round(values, d) - values) <= 1e-9 * np.maximum(1.0, np.abs(values))):
            return d
    return None


def _is_whole(values: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(values)) and np.all(values == np.round(values)))


def number_format(values: np.ndarray) -> tuple[str, int | None]:
    """How generated values of a numeric column are written back, by the rules that type a table's columns:
    ``("int", 0)`` when every value is a whole number (the ``integer`` kind), else ``("float", d)`` with ``d``
    the fewest decimals (0..``MAX_DECIMALS``) that represent every value exactly (``numeric``), None when more
    are needed. CSV time series (``data/sequences.py``) use it, so a generated count is whole and a price
    keeps its cents as in a table, whose columns get the same answer from their kind (``_fit_column``)."""
    if _is_whole(values):
        return "int", 0
    return "float", _decimals(values)


NUMERIC_DATE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})([ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")


def _numeric_date_format(cells: Any, strict: bool) -> str | None:
    """The one format of cells that all read ``a/b/yyyy`` (or with ``-`` or ``.``, an optional time): day-first
    when some first field is above 12, month-first when some second field is; None when both happen (no
    single reading fits every cell) or the cells mix separators, year widths or time layouts. When neither
    happens the cells read either way, so a wrong guess would silently swap days and months: None unless
    ``strict`` is off (the user declared the column a datetime), then month-first (pandas' default)."""
    parts = cells.str.extract("^" + NUMERIC_DATE.pattern + "$")
    if parts[1].nunique() != 1 or parts[3].str.len().nunique() != 1:
        return None
    times = parts[4].fillna("").str.replace(r"\d+", "d", regex=True)
    if times.nunique() != 1:
        return None
    day_first = bool((parts[0].astype(int) > 12).any())
    month_first = bool((parts[2].astype(int) > 12).any())
    if day_first and month_first:
        return None
    if not day_first and not month_first and strict:
        return None
    sep = parts[1].iloc[0]
    year = "%Y" if len(parts[3].iloc[0]) == 4 else "%y"
    time_layout = {"": "", "d:d": "%H:%M", "d:d:d": "%H:%M:%S", "d:d:d.d": "%H:%M:%S.%f"}
    time = times.iloc[0]
    if time[1:] not in time_layout:
        return None
    fields = f"%d{sep}%m" if day_first else f"%m{sep}%d"
    return f"{fields}{sep}{year}" + (time[0] + time_layout[time[1:]] if time else "")


def _date_format(text: Any, strict: bool = True) -> str | None:
    """The format every non-missing cell of a column is written in (strptime/strftime codes), so the column
    is parsed one consistent way (row-by-row guessing read 02/01/2022 as February 1 in a day-first column)
    and generated dates are written back as the input writes them. ``""``: dates in mixed notations (read
    cell by cell, written back as ISO 8601); None: not a date column (a cell is no date, all are numbers,
    or day and month cannot be told apart: see :func:`_numeric_date_format`)."""
    pd = _pandas()
    cells = text.astype(str).str.strip()
    if cells.str.fullmatch(r"[-+]?\d+(\.\d*)?").all():
        return None
    if not cells.str.contains(r"\d", regex=True).all():
        return None
    numeric_dates = cells.str.fullmatch(NUMERIC_DATE.pattern)
    if numeric_dates.all():
        return _numeric_date_format(cells, strict)
    if numeric_dates.any():  # some cells a/b/yyyy, others another notation: day and month order unknown
        return None
    from pandas.tseries.api import guess_datetime_format

    fmt = guess_datetime_format(cells.iloc[0])
    for attempt in ([fmt] if fmt else []) + ["mixed"]:
        try:
            parsed = pd.to_datetime(cells, errors="coerce", format=attempt)
        except (ValueError, TypeError):
            continue
        if not parsed.isna().any():
            return "" if attempt == "mixed" or "%z" in attempt or "%Z" in attempt else attempt
    return None


def _to_datetimes(text: Any, fmt: str) -> Any:
    """Cells parsed with one format (``""``: cell by cell, as runs saved before ``date_format`` existed)."""
    pd = _pandas()
    try:
        return pd.to_datetime(text.astype(str).str.strip(), errors="coerce", format=fmt or "mixed")
    except (ValueError, TypeError):
        return pd.Series(pd.NaT, index=text.index)


def _parse_datetimes(text: Any) -> Any | None:
    """The column parsed as datetimes (one format for every cell, see :func:`_date_format`), or None when it
    is not a date column."""
    fmt = _date_format(text)
    if fmt is None:
        return None
    parsed = _to_datetimes(text, fmt)
    return None if parsed.isna().any() else parsed


def infer_kind(series: Any, name: str) -> str:
    """The kind of one column by the rules in the module docstring (the series may hold missing values)."""
    pd = _pandas()
    present = series.dropna()
    if present.empty:
        raise GanforgeError(f"column '{name}' has no values (every cell is missing); drop it from the table")
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    n = len(present)
    if pd.api.types.is_numeric_dtype(series):
        values = present.to_numpy(dtype=np.float64)
        levels = len(np.unique(values))
        whole = _is_whole(values)
        if levels <= 2 or (whole and levels <= CATEGORICAL_MAX_LEVELS):
            return "categorical"
        if whole and levels == n and n >= 10:
            ordered = np.sort(values)
            if ID_NAME.search(str(name)) or np.all(np.diff(ordered) == 1):
                return "id"
        return "integer" if whole else "numeric"
    text = present.astype(str)
    if _parse_datetimes(text) is not None:
        return "datetime"
    if text.nunique() == n and n >= 10:
        return "id"
    return "categorical"


@dataclass
class ColumnInfo:
    """What is known about one column: its kind and what its legal values are (all JSON-able)."""

    name: str
    kind: str
    dtype: str = "float"  # how values are written back: float, int, str, bool, datetime
    missing: float = 0.0  # share of missing cells in the training rows
    minimum: float | None = None
    maximum: float | None = None
    decimals: int | None = None
    categories: list[Any] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    unit: str = "s"  # datetimes: "D" (whole days) or "s"
    date_format: str = ""  # datetimes: the input's strptime/strftime format ("": mixed notations, written as ISO)
    id_start: int = 0  # ids: first fresh integer id (above every real one)
    id_width: int = 6
    gmm: dict[str, list[float]] = field(default_factory=dict)  # means, stds, weights of the kept modes
    quantiles: list[float] = field(default_factory=list)  # encoding="quantile": F^-1 at linspace(0, 1)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ColumnInfo:
        return cls(**raw)


def _category_value(value: Any) -> Any:
    """A category as a JSON value (numpy scalars to Python, whole floats to ints, missing to None)."""
    pd = _pandas()
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():  # 2.0 read from a column with gaps is category 2
        return int(value)
    return value


def check_columns(frame: Any, names: list[str], what: str) -> None:
    columns = [str(c) for c in frame.columns]
    for name in names:
        if name not in columns:
            raise GanforgeError(
                f"{what}: no column named '{name}'{did_you_mean(name, columns)}; columns are {', '.join(columns)}"
            )


def check_frame(frame: Any, where: str = "table") -> Any:
    """The DataFrame with string column names, checked: at least 2 rows and 1 column, no empty column."""
    pd = _pandas()
    if not isinstance(frame, pd.DataFrame):
        raise GanforgeError(f"{where}: expected a pandas DataFrame or a .csv path, got {type(frame).__name__}")
    if frame.shape[1] == 0 or len(frame) == 0:
        raise GanforgeError(f"{where}: the table is empty; it needs a header row and at least two rows")
    if len(frame) < 2:
        raise GanforgeError(f"{where}: the table has one row; a synthetic table needs at least two rows to learn from")
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    if len(set(frame.columns)) != frame.shape[1]:
        dup = next(c for c in frame.columns if list(frame.columns).count(c) > 1)
        raise GanforgeError(f"{where}: column name '{dup}' appears twice; give every column its own name")
    for name in frame.columns:
        if frame[name].isna().all():
            raise GanforgeError(f"{where}: column '{name}' has no values (every cell is missing); drop it")
    refuse_infinite(frame, where)
    return frame


def refuse_infinite(frame: Any, where: str) -> None:
    """Refuse +-inf in a number column, naming the column and the row. NaN is a missing cell (learnt as its
    own category); inf was encoded as a number, so training diverged at step 1 ("lower the learning rate") or
    finished and its evaluation failed ("'list' argument must have no negative elements")."""
    pd = _pandas()
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_bool_dtype(column):
            continue
        if pd.api.types.is_numeric_dtype(column):
            try:
                infinite = np.isinf(column.to_numpy(dtype=float, na_value=np.nan))
            except (TypeError, ValueError):  # complex numbers: the kind checks speak of those
                continue
        elif column.dtype == object:  # numbers among other cells
            infinite = np.array([isinstance(v, (float, np.floating)) and bool(np.isinf(v)) for v in column])
        else:
            continue
        if infinite.any():
            i = int(np.flatnonzero(infinite)[0])
            plain = isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 and frame.index.step == 1
            row = f"row {i + 1} below the header" if plain else f"index {frame.index[i]!r}"
            raise GanforgeError(
                f"{where}: column '{name}' holds {column.iloc[i]} ({row}); a table may hold missing cells (NaN) "
                f"but no infinite numbers: drop those rows, or make them missing with "
                f"df['{name}'] = df['{name}'].replace([np.inf, -np.inf], np.nan)"
            )


def infer_schema(frame: Any, overrides: dict[str, str] | None = None, where: str = "table") -> dict[str, str]:
    """Column name -> kind, inferred, with ``overrides`` (``data.columns``) applied and checked."""
    overrides = dict(overrides or {})
    check_columns(frame, list(overrides), f"{where}: data.columns")
    for name, kind in overrides.items():
        if kind not in KINDS:
            raise GanforgeError(
                f"data.columns.{name}={kind!r}: not a column kind{did_you_mean(str(kind), KINDS)}; "
                f"use one of {', '.join(KINDS)}"
            )
    return {name: overrides.get(name) or infer_kind(frame[name], name) for name in frame.columns}


def schema_summary(schema: dict[str, str], name: str = "table", n_rows: int | None = None) -> str:
    """One line: how many columns of each kind, and which columns are ids (left out)."""
    counts: dict[str, int] = {}
    for kind in schema.values():
        counts[kind] = counts.get(kind, 0) + 1
    parts = [f"{counts[k]} {k}" for k in KINDS if k in counts and k != "id"]
    ids = [c for c, k in schema.items() if k == "id"]
    rows = f"{n_rows} rows, " if n_rows is not None else ""
    line = f"{name}: {rows}{len(schema)} columns ({', '.join(parts)})"
    if ids:
        plural = "s" if len(ids) > 1 else ""
        line += f"; id-like column{plural} {', '.join(ids)} left out of the model (fresh ids generated)"
    return line + "; change a type with --set data.columns.NAME=KIND"


# --------------------------------------------------------------------------------------------------
# encoding
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Span:
    """A slice of the encoded row: ``tanh`` (one alpha) or ``softmax`` (a one-hot block). ``discrete``
    marks the one-hot blocks of categorical columns and missing indicators (the conditional vector's
    columns); ``column`` is the table column it belongs to."""

    start: int
    width: int
    activation: str
    column: str
    discrete: bool = False


class TableTransformer:
    """Table <-> encoded float matrix (mode-specific normalization + one-hot), JSON-serializable."""

    def __init__(
        self, columns: list[ColumnInfo], order: list[str], fit_seconds: float = 0.0, encoding: str = "modes"
    ) -> None:
        if encoding not in ENCODINGS:
            raise GanforgeError(
                f"data.encoding={encoding!r}: not a table encoding{did_you_mean(str(encoding), ENCODINGS)}; "
                f"use one of {', '.join(ENCODINGS)}"
            )
        self.columns = columns
        self.order = order  # every column of the input, in order (ids included)
        self.fit_seconds = fit_seconds
        self.encoding = encoding
        self.spans = self._spans()
        self.width = sum(s.width for s in self.spans)
        self.discrete_spans = [s for s in self.spans if s.discrete]

    # --- fitting ------------------------------------------------------------------------------------
    @classmethod
    def fit(
        cls, frame: Any, schema: dict[str, str], seed: int = 0, encoding: str = DEFAULT_ENCODING
    ) -> TableTransformer:
        """Learn each column's legal values and (continuous columns) its Gaussian mixture, or its
        quantiles with ``encoding="quantile"``."""
        if encoding not in ENCODINGS:
            raise GanforgeError(
                f"data.encoding={encoding!r}: not a table encoding{did_you_mean(str(encoding), ENCODINGS)}; "
                f"use one of {', '.join(ENCODINGS)}"
            )
        t0 = time.process_time()
        columns = [cls._fit_column(frame[name], name, kind, seed, encoding) for name, kind in schema.items()]
        return cls(columns, list(schema), time.process_time() - t0, encoding)

    @staticmethod
    def _fit_column(series: Any, name: str, kind: str, seed: int, encoding: str = "modes") -> ColumnInfo:
        pd = _pandas()
        present = series.dropna()
        info = ColumnInfo(name=name, kind=kind, missing=float(series.isna().mean()))
        if kind == "id":
            numeric = pd.to_numeric(present, errors="coerce")
            if numeric.notna().all() and _is_whole(numeric.to_numpy(dtype=np.float64)):
                info.dtype, info.id_start = "int", int(numeric.max()) + 1
            else:
                info.dtype, info.id_width = "str", max(6, len(str(len(series))))
            return info
        if kind in DISCRETE_KINDS:
            tally: dict[Any, int] = {}
            for value in series.tolist():
                key = _category_value(value)
                tally[key] = tally.get(key, 0) + 1
            categories = sorted(tally, key=lambda v: (v is None, type(v).__name__, v if v is not None else 0))
            info.categories = categories
            info.counts = [tally[c] for c in categories]
            sample = next((c for c in categories if c is not None), None)
            info.dtype = (
                "bool"
                if isinstance(sample, (bool, np.bool_))
                else "int"
                if isinstance(sample, (int, np.integer))
                else "float"
                if isinstance(sample, float)
                else "str"
            )
            if info.dtype == "float" and all(c is None or float(c).is_integer() for c in categories):
                info.dtype = "int"
                info.categories = [None if c is None else int(c) for c in categories]
            return info
        values = _continuous_values(present, kind, info)
        info.minimum, info.maximum = float(values.min()), float(values.max())
        if kind == "integer":
            info.dtype, info.decimals = "int", 0
        elif kind == "numeric":
            info.dtype, info.decimals = "float", _decimals(values)
        if encoding == "quantile":
            info.quantiles = _fit_quantiles(values)
        else:
            info.gmm = _fit_modes(values, seed)
        if info.missing > 0:  # the missing indicator's two categories: present, missing
            info.counts = [int(series.notna().sum()), int(series.isna().sum())]
        return info

    # --- layout ----------------------------------------------------------------------------------------
    def _spans(self) -> list[Span]:
        spans: list[Span] = []
        start = 0
        for col in self.columns:
            if col.kind in CONTINUOUS_KINDS:
                if self.encoding == "quantile":
                    spans.append(Span(start, 1, "tanh", col.name))
                    start += 1
                else:
                    k = len(col.gmm["means"])
                    spans += [Span(start, 1, "tanh", col.name), Span(start + 1, k, "softmax", col.name)]
                    start += 1 + k
                if col.missing > 0:
                    spans.append(Span(start, 2, "softmax", col.name + "#missing", discrete=True))
                    start += 2
            elif col.kind in DISCRETE_KINDS:
                spans.append(Span(start, len(col.categories), "softmax", col.name, discrete=True))
                start += len(col.categories)
        return spans

    def discrete_counts(self) -> list[np.ndarray]:
        """Category counts in the training rows of each discrete span (in span order)."""
        out = []
        for col in self.columns:
            if (col.kind in CONTINUOUS_KINDS and col.missing > 0) or col.kind in DISCRETE_KINDS:
                out.append(np.asarray(col.counts, dtype=np.float64))
        return out

    # --- transform -------------------------------------------------------------------------------------
    def transform(self, frame: Any, seed: int = 0) -> np.ndarray:
        """Encoded float32 matrix (N, width); the modes of continuous values are drawn from p(k | x)."""
        rng = np.random.default_rng(seed)
        n = len(frame)
        out = np.zeros((n, self.width), dtype=np.float32)
        spans = iter(self.spans)
        for col in self.columns:
            if col.kind == "id":
                continue
            series = frame[col.name]
            if col.kind in DISCRETE_KINDS:
                span = next(spans)
                index = _category_index(series, col)
                out[np.arange(n), span.start + index] = 1.0
                continue
            alpha_span = next(spans)
            missing = series.isna().to_numpy()
            values = np.full(n, np.nan)
            if (~missing).any():
                values[~missing] = _continuous_values(series[~missing], col.kind, col)
            filled = np.where(missing, (col.minimum + col.maximum) / 2, values)
            if self.encoding == "quantile":
                out[:, alpha_span.start] = _encode_quantiles(filled, col.quantiles)
            else:
                mode_span = next(spans)
                alpha, mode = _encode_modes(filled, col.gmm, rng)
                out[:, alpha_span.start] = alpha
                out[np.arange(n), mode_span.start + mode] = 1.0
            if col.missing > 0:
                miss_span = next(spans)
                out[np.arange(n), miss_span.start + missing.astype(int)] = 1.0
        return out

    def inverse(self, encoded: np.ndarray, id_offset: int = 0) -> Any:
        """A DataFrame with the input's columns, order and value types from an encoded matrix. One-hot
        blocks are read by argmax; continuous values are clipped to the observed range and rounded."""
        pd = _pandas()
        n = encoded.shape[0]
        data: dict[str, Any] = {}
        spans = iter(self.spans)
        for col in self.columns:
            if col.kind == "id":
                data[col.name] = _fresh_ids(col, n, id_offset)
                continue
            if col.kind in DISCRETE_KINDS:
                span = next(spans)
                index = encoded[:, span.start : span.start + span.width].argmax(1)
                data[col.name] = _categories_out(col, index)
                continue
            alpha_span = next(spans)
            alpha = np.clip(encoded[:, alpha_span.start].astype(np.float64), -1.0, 1.0)
            if self.encoding == "quantile":
                values = _decode_quantiles(alpha, col.quantiles)
            else:
                mode_span = next(spans)
                mode = encoded[:, mode_span.start : mode_span.start + mode_span.width].argmax(1)
                means, stds = np.asarray(col.gmm["means"]), np.asarray(col.gmm["stds"])
                values = alpha * 4.0 * stds[mode] + means[mode]
            values = legal_values(values, col)
            missing = np.zeros(n, dtype=bool)
            if col.missing > 0:
                miss_span = next(spans)
                missing = encoded[:, miss_span.start : miss_span.start + 2].argmax(1) == 1
            data[col.name] = _continuous_out(col, values, missing)
        return pd.DataFrame({name: data[name] for name in self.order})

    # --- conditions ------------------------------------------------------------------------------------
    def condition_index(self, column: str, value: str) -> tuple[int, int]:
        """(discrete span number, category number) of ``column = value`` for conditional sampling."""
        info = {c.name: c for c in self.columns}
        if column not in info:
            raise GanforgeError(
                f"--where {column}={value}: no column named '{column}'{did_you_mean(column, self.order)}; "
                f"columns are {', '.join(self.order)}"
            )
        col = info[column]
        if col.kind not in DISCRETE_KINDS:
            usable = [c.name for c in self.columns if c.kind in DISCRETE_KINDS]
            article = "an" if col.kind[0] in "aeiou" else "a"
            raise GanforgeError(
                f"--where {column}={value}: '{column}' is {article} {col.kind} column; conditions take categorical "
                f"columns ({', '.join(usable) or 'this table has none'})"
            )
        labels = ["" if c is None else str(c) for c in col.categories]
        matches = [i for i, label in enumerate(labels) if label == value or label.lower() == value.lower()]
        if not matches:
            raise GanforgeError(
                f"--where {column}={value}: '{value}' never occurs in '{column}'{did_you_mean(value, labels)}; "
                f"its values are {', '.join(labels)}"
            )
        number = next(i for i, s in enumerate(self.discrete_spans) if s.column == column)
        return number, matches[0]

    # --- persistence ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": [c.to_dict() for c in self.columns],
            "order": list(self.order),
            "fit_seconds": round(self.fit_seconds, 4),
            "encoding": self.encoding,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TableTransformer:
        try:
            columns = [ColumnInfo.from_dict(c) for c in raw["columns"]]
            encoding = str(raw.get("encoding", "modes"))  # runs saved before data.encoding existed: modes
            return cls(columns, list(raw["order"]), float(raw.get("fit_seconds", 0.0)), encoding)
        except (KeyError, TypeError, ValueError):
            raise GanforgeError("data.json: the table description is damaged; train the run again") from None


def _continuous_values(series: Any, kind: str, info: ColumnInfo) -> np.ndarray:
    """Float values of a continuous column; datetimes as days (whole-day columns) or seconds since 1970."""
    pd = _pandas()
    if kind != "datetime":
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
        if np.isnan(values).any():
            bad = series[np.isnan(values)].iloc[0]
            raise GanforgeError(
                f"column '{info.name}': {bad!r} is not a number; set data.columns.{info.name}=categorical"
            )
        return values
    if pd.api.types.is_datetime64_any_dtype(series):
        parsed = series
    else:
        if info.minimum is None:  # fitting: the column's one format, kept for parsing and writing back
            fmt = _date_format(series, strict=False)
            if fmt is None:
                raise GanforgeError(
                    f"column '{info.name}': its cells are not dates in one format (day and month order differ "
                    f"between cells, or a cell is no date); set data.columns.{info.name}=categorical"
                )
            info.date_format = fmt
        parsed = _to_datetimes(series, info.date_format)
    if parsed.isna().any():
        bad = series[parsed.isna()].iloc[0]
        raise GanforgeError(f"column '{info.name}': {bad!r} is not a date; set data.columns.{info.name}=categorical")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(None)
    ns = parsed.astype("datetime64[ns]").astype("int64").to_numpy()
    if info.minimum is None:  # fitting: choose the unit once
        info.unit = "D" if np.all(ns % DAY_NS == 0) else "s"
        info.dtype = "datetime"
        info.decimals = 0
    return ns / (DAY_NS if info.unit == "D" else 1e9)


def _fit_modes(values: np.ndarray, seed: int) -> dict[str, list[float]]:
    """CTGAN's variational Gaussian mixture for one column: means, stds, weights of the kept modes."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import BayesianGaussianMixture

    x = values
    if len(x) > GMM_MAX_ROWS:
        x = np.random.default_rng(seed).choice(x, GMM_MAX_ROWS, replace=False)
    distinct = np.unique(x)
    if len(distinct) < 2:
        return {"means": [float(distinct[0])], "stds": [1e-3], "weights": [1.0]}
    spread = float(np.std(x)) or 1.0
    components = min(GMM_COMPONENTS, len(distinct))
    gmm = BayesianGaussianMixture(
        n_components=components,
        weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=0.001,
        max_iter=100,
        n_init=1,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gmm.fit(((x - x.mean()) / spread).reshape(-1, 1))
    keep = gmm.weights_ > GMM_WEIGHT_THRESHOLD
    means = gmm.means_[:, 0][keep] * spread + x.mean()
    stds = np.sqrt(gmm.covariances_.reshape(-1)[keep]) * spread
    weights = gmm.weights_[keep] / gmm.weights_[keep].sum()
    order = np.argsort(means)
    floor = 1e-3 * spread
    return {
        "means": means[order].tolist(),
        "stds": np.maximum(stds[order], floor).tolist(),
        "weights": weights[order].tolist(),
    }


def _fit_quantiles(values: np.ndarray) -> list[float]:
    """The column's empirical quantiles at ``min(QUANTILES, n)`` evenly spaced levels in [0, 1] (as
    scikit-learn's QuantileTransformer with ``n_quantiles=min(1000, n)``)."""
    levels = np.linspace(0.0, 1.0, min(QUANTILES, len(values)))
    return np.quantile(values.astype(np.float64), levels).tolist()


def _quantile_bounds(k: int) -> tuple[np.ndarray, float]:
    levels = np.linspace(0.0, 1.0, k)
    return levels, 0.5 / k


def _encode_quantiles(x: np.ndarray, quantiles: list[float]) -> np.ndarray:
    """alpha = Phi^-1(F(x)) / 4 with F interpolated between the reference quantiles; for tied quantiles
    F is the mean of the interpolation from below and from above (QuantileTransformer's rule), and F is
    squeezed affinely into [1/(2k), 1 - 1/(2k)] (u' = eps + (1 - 2 eps) u) so the extremes stay finite and
    decoding can undo it exactly."""
    from scipy.special import ndtri

    q = np.asarray(quantiles, dtype=np.float64)
    if len(q) < 2 or q[-1] == q[0]:
        return np.zeros(len(x), dtype=np.float32)
    levels, eps = _quantile_bounds(len(q))
    u = 0.5 * (np.interp(x, q, levels) - np.interp(-x, -q[::-1], -levels[::-1]))
    z = ndtri(eps + (1.0 - 2.0 * eps) * u)
    return np.clip(z / QUANTILE_SCALE, -0.99, 0.99).astype(np.float32)


def _decode_quantiles(alpha: np.ndarray, quantiles: list[float]) -> np.ndarray:
    """x = F^-1(Phi(4 alpha)): piecewise-linear between the reference quantiles, so always inside the
    training range."""
    from scipy.special import ndtr

    q = np.asarray(quantiles, dtype=np.float64)
    if len(q) < 2:
        return np.full(len(alpha), q[0] if len(q) else 0.0)
    levels, eps = _quantile_bounds(len(q))
    u = (ndtr(alpha * QUANTILE_SCALE) - eps) / (1.0 - 2.0 * eps)
    return np.interp(u, levels, q)


def _encode_modes(
    x: np.ndarray, gmm: dict[str, list[float]], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(alpha, mode): mode k ~ p(k | x) of the mixture, alpha = (x - mu_k) / (4 sigma_k) in [-0.99, 0.99]."""
    means, stds = np.asarray(gmm["means"]), np.asarray(gmm["stds"])
    weights = np.asarray(gmm["weights"])
    z = (x[:, None] - means[None]) / stds[None]
    log_p = np.log(weights + 1e-12)[None] - np.log(stds)[None] - 0.5 * z**2
    log_p -= log_p.max(1, keepdims=True)
    p = np.exp(log_p) + 1e-6
    p /= p.sum(1, keepdims=True)
    u = rng.random(len(x))[:, None]
    mode = np.minimum((p.cumsum(1) < u).sum(1), len(means) - 1)
    alpha = np.clip((x - means[mode]) / (4 * stds[mode]), -0.99, 0.99)
    return alpha.astype(np.float32), mode


def legal_values(values: np.ndarray, col: ColumnInfo) -> np.ndarray:
    """Clip to the column's observed [min, max] and round to its decimals (whole numbers for integers,
    dates and times)."""
    assert col.minimum is not None and col.maximum is not None
    return legal_numbers(values, col.minimum, col.maximum, col.decimals)


def legal_numbers(values: np.ndarray, minimum: float, maximum: float, decimals: int | None) -> np.ndarray:
    """``values`` clipped to the observed [``minimum``, ``maximum``] and rounded to ``decimals`` (None: not
    rounded), so a generated value is one the column could hold; shared by tables (:func:`legal_values`) and
    sampled CSV time series. Clipped again after rounding, in case rounding's float error steps past a bound."""
    values = np.clip(values, minimum, maximum)
    if decimals is not None:
        values = np.round(values, decimals)
        values = np.clip(values, minimum, maximum)
    return values


def _category_index(series: Any, col: ColumnInfo) -> np.ndarray:
    """Index of each cell's category in ``col.categories`` (unseen values: the most frequent category)."""
    lookup = {(type(c).__name__ if c is not None else "none", c): i for i, c in enumerate(col.categories)}
    by_text = {("" if c is None else str(c)): i for i, c in enumerate(col.categories)}
    common = int(np.argmax(col.counts)) if col.counts else 0
    out = np.empty(len(series), dtype=np.int64)
    for i, value in enumerate(_category_value(v) for v in series.tolist()):
        key = (type(value).__name__ if value is not None else "none", value)
        if key in lookup:
            out[i] = lookup[key]
        else:
            out[i] = by_text.get("" if value is None else str(value), common)
    return out


def _categories_out(col: ColumnInfo, index: np.ndarray) -> Any:
    pd = _pandas()
    values = [col.categories[i] for i in index]
    if col.dtype == "bool":
        return pd.array(values, dtype="boolean") if None in col.categories else np.asarray(values, dtype=bool)
    if col.dtype == "int":
        return pd.array(values, dtype="Int64")
    if col.dtype == "float":
        return np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)
    return pd.array(values, dtype=object)


def _continuous_out(col: ColumnInfo, values: np.ndarray, missing: np.ndarray) -> Any:
    pd = _pandas()
    if col.kind == "datetime":
        scale = DAY_NS if col.unit == "D" else 10**9
        stamps = pd.to_datetime(np.round(values).astype(np.int64) * scale)
        out = pd.Series(stamps).where(~missing)
        iso = "%Y-%m-%d" if col.unit == "D" else "%Y-%m-%d %H:%M:%S"
        return out.dt.strftime(col.date_format or iso).where(~missing).to_numpy()
    if col.dtype == "int":
        arr = pd.array(np.round(values).astype(np.int64), dtype="Int64")
        arr[missing] = pd.NA
        return arr
    return np.where(missing, np.nan, values)


def _fresh_ids(col: ColumnInfo, n: int, offset: int) -> Any:
    """Unique ids for synthetic rows that never equal a real one: integers above the largest real id,
    or ``syn-000001``-style strings."""
    numbers = np.arange(offset, offset + n)
    if col.dtype == "int":
        return col.id_start + numbers
    return np.asarray([f"syn-{i + 1:0{col.id_width}d}" for i in numbers], dtype=object)


def column_numbers(frame: Any, col: ColumnInfo) -> np.ndarray:
    """Float values of a continuous column of ``frame`` (NaN where missing; datetimes in the column's unit)."""
    series = frame[col.name]
    out = np.full(len(series), np.nan)
    present = series.notna().to_numpy()
    if present.any():
        out[present] = _continuous_values(series[present], col.kind, col)
    return out


def row_keys(frame: Any, transformer: TableTransformer) -> list[bytes]:
    """One byte string per row that is equal exactly when two rows agree in every non-id column
    (continuous values compared to 9 decimals, categories by their index, missing as its own value)."""
    parts = []
    for col in transformer.columns:
        if col.kind == "id":
            continue
        if col.kind in CONTINUOUS_KINDS:
            values = np.round(column_numbers(frame, col), 9)
            parts.append(np.where(np.isnan(values), -1.2345e308, values))
        else:
            parts.append(_category_index(frame[col.name], col).astype(np.float64))
    matrix = np.ascontiguousarray(np.column_stack(parts) if parts else np.zeros((len(frame), 0)))
    return [row.tobytes() for row in matrix]


def row_hashes(frame: Any, transformer: TableTransformer) -> list[str]:
    """64-bit BLAKE2b digests of :func:`row_keys` (stored with a run so sampling can refuse copies of
    training rows without keeping the rows themselves)."""
    import hashlib

    return [hashlib.blake2b(key, digest_size=8).hexdigest() for key in row_keys(frame, transformer)]


# --------------------------------------------------------------------------------------------------
# the data source
# --------------------------------------------------------------------------------------------------
def split_rows(n: int, validation: float, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train, validation, holdout) row indices: a seeded permutation cut by the given shares (each
    share at least one row when the table has 10 or more rows)."""
    if not (0 <= validation < 1 and 0 <= holdout < 1 and validation + holdout < 1):
        raise GanforgeError(
            f"data.validation={validation}, data.holdout={holdout}: shares must be in [0, 1) and leave rows to train on"
        )
    order = np.random.default_rng(seed).permutation(n)
    n_hold = int(round(holdout * n))
    n_val = int(round(validation * n))
    if n >= 10:
        n_hold, n_val = max(n_hold, 1 if holdout > 0 else 0), max(n_val, 1 if validation > 0 else 0)
    if n - n_hold - n_val < 2:
        n_hold = n_val = 0
    return np.sort(order[n_hold + n_val :]), np.sort(order[n_hold : n_hold + n_val]), np.sort(order[:n_hold])


@dataclass
class TableSource(ArraySource):
    """A table encoded for the GAN. Batches are drawn by CTGAN's *training-by-sampling*: for each row of
    the batch a discrete column is chosen uniformly, one of its categories with probability proportional
    to log(1 + count), and a training row having that category; ``Batch.y`` holds the chosen category's
    number among all discrete categories (the conditional vector's hot position). Without discrete columns
    batches are plain epoch-shuffled rows."""

    frame: Any = None  # the training rows (pandas)
    validation_frame: Any = None
    holdout_frame: Any = None
    transformer: TableTransformer | None = None
    target: str | None = None
    target_share: float = 0.0
    _col_probs: torch.Tensor | None = None
    _flat_rows: torch.Tensor = field(default_factory=lambda: torch.empty(0, dtype=torch.long))
    _cat_start: torch.Tensor = field(default_factory=lambda: torch.empty(0, dtype=torch.long))
    _cat_count: torch.Tensor = field(default_factory=lambda: torch.empty(0, dtype=torch.long))
    _col_cdf: list[torch.Tensor] = field(default_factory=list)
    _col_offset: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._index_categories()

    def _index_categories(self) -> None:
        """For every discrete category, the training rows that have it (one flat sorted index)."""
        if self.transformer is None or not self.transformer.discrete_spans:
            return
        x = self.x
        rows, starts, counts, offset = [], [], [], 0
        self._col_cdf, self._col_offset = [], []
        for span in self.transformer.discrete_spans:
            block = x[:, span.start : span.start + span.width].argmax(1)
            freq = torch.bincount(block, minlength=span.width).double()
            logf = torch.log1p(freq)
            self._col_cdf.append(torch.cumsum(logf / logf.sum(), 0))
            self._col_offset.append(len(starts))
            for k in range(span.width):
                idx = torch.nonzero(block == k).flatten()
                starts.append(offset)
                counts.append(len(idx))
                rows.append(idx)
                offset += len(idx)
        self._flat_rows = torch.cat(rows)
        self._cat_start = torch.tensor(starts)
        self._cat_count = torch.tensor(counts)
        probs = condition_column_probs(self.transformer, self.target, self.target_share)
        self._col_probs = None if probs is None else torch.tensor(probs, dtype=torch.float64)

    @property
    def num_conditions(self) -> int:
        return 0 if self.transformer is None else sum(s.width for s in self.transformer.discrete_spans)

    def fit_scaler(self, output: OutputRange) -> None:
        """Tables are encoded already (alphas in [-1, 1], one-hot blocks): the scaler is the identity."""
        del output
        self.scaler = Scaler.identity()

    def batch(self, n: int, rng: torch.Generator) -> Batch:
        if not self._col_cdf:
            return super().batch(n, rng)
        n_cols = len(self._col_cdf)
        if self._col_probs is None:
            col = torch.randint(0, n_cols, (n,), generator=rng)
        else:  # data.target_share: the target column more often
            col = torch.multinomial(self._col_probs, n, replacement=True, generator=rng)
        u = torch.rand(n, generator=rng, dtype=torch.float64)
        pick = torch.rand(n, generator=rng, dtype=torch.float64)
        cats = torch.empty(n, dtype=torch.long)
        for j in range(n_cols):
            sel = col == j
            if sel.any():
                cdf = self._col_cdf[j]
                local = torch.clamp(torch.searchsorted(cdf, u[sel].contiguous()), max=len(cdf) - 1)
                cats[sel] = self._col_offset[j] + local
        count = self._cat_count[cats]
        within = torch.clamp((pick * count).long(), max=torch.clamp(count - 1, min=0))
        rows = self._flat_rows[self._cat_start[cats] + within]
        return Batch(self.x[rows], cats)

    def real_frame(self, split: str = "holdout") -> Any:
        """The real rows of a split: ``train``, ``validation`` or ``holdout``."""
        frames = {"train": self.frame, "validation": self.validation_frame, "holdout": self.holdout_frame}
        if split not in frames:
            raise GanforgeError(f"split '{split}': use train, validation or holdout")
        return frames[split]


def condition_column_probs(transformer: TableTransformer, target: str | None, share: float) -> list[float] | None:
    """Probability of each discrete span being the conditioned column in training-by-sampling: the target
    column gets ``share`` and the others (1 - share) / (m - 1) each; None (uniform, CTGAN's rule) when the
    share is 0, the target is not discrete, or it is the only discrete column."""
    spans = transformer.discrete_spans
    if share <= 0 or target is None or len(spans) < 2:
        return None
    index = [i for i, s in enumerate(spans) if s.column == target]
    if not index:
        return None
    rest = (1.0 - share) / (len(spans) - 1)
    return [share if i == index[0] else rest for i in range(len(spans))]


def default_target(frame: Any, schema: dict[str, str]) -> str | None:
    """The column ML efficacy predicts when ``data.target`` is not set: a column named target, label,
    class, outcome or y (any case), else the last column that is not an id."""
    names = [c for c in frame.columns if schema.get(c) != "id"]
    for name in names:
        if str(name).lower() in ("target", "label", "class", "outcome", "y"):
            return name
    return names[-1] if names else None


def table_source(
    frame: Any,
    name: str = "table",
    columns: dict[str, str] | None = None,
    target: str | None = None,
    validation: float = 0.1,
    holdout: float = 0.2,
    split_seed: int = 0,
    encode_seed: int = 0,
    path: str | None = None,
    quiet: bool = False,
    fixed_holdout: Any = None,
    encoding: str = DEFAULT_ENCODING,
    target_share: float = 0.0,
) -> TableSource:
    """A :class:`TableSource` from a DataFrame: checked, typed (a one-line summary printed unless
    ``quiet``), split, and encoded with a transformer fitted on the training rows."""
    import sys

    if columns is not None and not isinstance(columns, dict):
        raise GanforgeError(
            f"data.columns: expected NAME=KIND settings, e.g. data.columns.zip=categorical, got {columns!r}"
        )
    frame = check_frame(frame, name)
    schema = infer_schema(frame, columns, name)
    if target is not None:
        target = str(target)
        check_columns(frame, [target], f"{name}: data.target")
        if schema[target] == "id":
            raise GanforgeError(f"data.target={target}: '{target}' is an id-like column; choose a column to predict")
    if all(kind == "id" for kind in schema.values()):
        raise GanforgeError(f"{name}: every column looks like an id; set a kind with --set data.columns.NAME=KIND")
    if fixed_holdout is not None:  # a published train/test split (SDGym's simulated data)
        holdout_frame = check_frame(fixed_holdout, name)
        train_idx, val_idx, _ = split_rows(len(frame), validation, 0.0, split_seed)
        hold_idx = np.arange(len(holdout_frame))
    else:
        train_idx, val_idx, hold_idx = split_rows(len(frame), validation, holdout, split_seed)
        if holdout > 0 and len(hold_idx) == 0:  # `ganforge eval` would refuse the run after training it
            raise GanforgeError(
                f"{name}: {len(frame)} rows are too few for a holdout split (data.holdout={holdout}) to evaluate "
                "on; add rows, or set data.holdout=0 to train without evaluation"
            )
        holdout_frame = frame.iloc[hold_idx].reset_index(drop=True)
    train = frame.iloc[train_idx].reset_index(drop=True)
    for column, kind in schema.items():
        if kind != "id" and train[column].isna().all():
            raise GanforgeError(f"{name}: column '{column}' has no values in the training rows; drop it")
    if not 0.0 <= float(target_share) < 1.0:
        raise GanforgeError(f"data.target_share={target_share}: must be in [0, 1) (0: CTGAN's uniform choice)")
    transformer = TableTransformer.fit(train, schema, seed=encode_seed, encoding=encoding)
    t0 = time.process_time()
    encoded = transformer.transform(train, seed=encode_seed)
    transformer.fit_seconds += time.process_time() - t0
    summary = schema_summary(schema, name, len(frame))
    if not quiet:
        print(summary, file=sys.stderr)
    info = {
        "table": transformer.to_dict(),
        "target": target or default_target(frame, schema),
        "target_given": target is not None,
        "summary": summary,
        "rows": {"train": len(train_idx), "validation": len(val_idx), "holdout": len(hold_idx)},
        "encode_seconds": round(transformer.fit_seconds, 4),
        "row_hashes": row_hashes(train, transformer),
    }
    target_name = info["target"]
    probs = condition_column_probs(transformer, target_name, float(target_share))
    if probs is not None:
        info["condition_probs"] = probs
    if path is not None:
        info["path"] = path
    return TableSource(
        kind="table",
        sample_shape=(transformer.width,),
        name=name,
        x=torch.from_numpy(encoded),
        info=info,
        frame=train,
        validation_frame=frame.iloc[val_idx].reset_index(drop=True),
        holdout_frame=holdout_frame,
        transformer=transformer,
        target=info["target"],
        target_share=float(target_share),
    )


@register_source("table")
def table_file(
    path: str,
    columns: dict[str, str] | None = None,
    target: str | None = None,
    validation: float = 0.1,
    holdout: float = 0.2,
    split_seed: int = 0,
    encoding: str = DEFAULT_ENCODING,
    target_share: float = 0.0,
) -> TableSource:
    """A user's table (.csv with a header row): mixed column kinds, missing values; see data/tables.py."""
    if Path(str(path)).suffix.lower() != ".csv":
        raise GanforgeError(f"data file '{path}': tables are read from .csv files")
    declared_text = [name for name, kind in (columns or {}).items() if str(kind) == "categorical"]
    frame = read_table(path, declared_text)
    return table_source(
        frame,
        Path(path).stem,
        columns,
        target,
        validation,
        holdout,
        split_seed,
        path=str(path),
        encoding=encoding,
        target_share=target_share,
    )
