"""The cheap baselines every table report prints beside the GAN: a Gaussian copula and independent columns.

Both model each column's marginal from the training rows and differ only in how columns are joined:

* marginals: a continuous column (numeric, integer, datetime) by its empirical distribution, sampled by
  the inverse of its empirical CDF with linear interpolation between order statistics (values stay in the
  observed range and are rounded like the data); a categorical column by its category frequencies,
  mapped to the CDF interval of its category, u ~ U(F(c-), F(c)) (SDV's frequency encoding); a missing
  cell of a continuous column by a separate present/missing indicator column.
* :class:`GaussianCopula`: z = Phi^-1(u) per column, Sigma = the correlation of z over the training
  rows; synthetic z ~ N(0, Sigma), u = Phi(z), each column mapped back through its marginal.
* :class:`IndependentColumns`: the same with Sigma = I (every column drawn on its own), which keeps
  each column's shape and loses every relation between columns.

numpy/scipy only (the ``copulas`` package is BUSL-licensed).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import norm

from ganforge.data.tables import (
    CONTINUOUS_KINDS,
    DISCRETE_KINDS,
    ColumnInfo,
    TableTransformer,
    _categories_out,
    _category_index,
    _continuous_out,
    _continuous_values,
    _fresh_ids,
    legal_values,
)


class GaussianCopula:
    """Gaussian copula over empirical marginals (see the module docstring)."""

    independent = False
    name = "gaussian_copula"

    def __init__(self, transformer: TableTransformer) -> None:
        self.transformer = transformer
        self.columns: list[tuple[ColumnInfo, str]] = []  # (column, part): part "value" or "missing"
        self.sorted_values: dict[str, np.ndarray] = {}
        self.cdf: dict[str, np.ndarray] = {}
        self.correlation = np.eye(0)

    def fit(self, frame: Any, seed: int = 0) -> GaussianCopula:
        rng = np.random.default_rng(seed)
        us = []
        for col in self.transformer.columns:
            if col.kind == "id":
                continue
            series = frame[col.name]
            if col.kind in DISCRETE_KINDS:
                index = _category_index(series, col)
                counts = np.bincount(index, minlength=len(col.categories)).astype(np.float64)
                us.append(self._fit_discrete(col.name, counts, index, rng))
                self.columns.append((col, "value"))
                continue
            missing = series.isna().to_numpy()
            values = _continuous_values(series[~missing], col.kind, col)
            self.sorted_values[col.name] = np.sort(values)
            full = np.empty(len(series))
            full[~missing] = values
            full[missing] = rng.choice(values, int(missing.sum())) if missing.any() else 0
            ranks = np.argsort(np.argsort(full + rng.random(len(full)) * 1e-9 * (np.ptp(full) + 1)))
            us.append((ranks + 0.5) / len(full))
            self.columns.append((col, "value"))
            if col.missing > 0:
                counts = np.bincount(missing.astype(int), minlength=2).astype(np.float64)
                us.append(self._fit_discrete(col.name + "#missing", counts, missing.astype(int), rng))
                self.columns.append((col, "missing"))
        u = np.clip(np.column_stack(us), 1e-6, 1 - 1e-6)
        z = norm.ppf(u)
        if self.independent or z.shape[1] < 2:
            self.correlation = np.eye(z.shape[1])
        else:
            corr = np.corrcoef(z, rowvar=False)
            corr = np.nan_to_num(corr, nan=0.0)
            np.fill_diagonal(corr, 1.0)
            self.correlation = _nearest_correlation(corr)
        return self

    def _fit_discrete(self, key: str, counts: np.ndarray, index: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        cdf = np.concatenate([[0.0], np.cumsum(counts) / counts.sum()])
        self.cdf[key] = cdf
        lo, hi = cdf[index], cdf[index + 1]
        return lo + (hi - lo) * rng.random(len(index))

    def sample(self, n: int, seed: int = 0) -> Any:
        """``n`` rows with the table's columns, order and types."""
        import pandas as pd

        rng = np.random.default_rng(seed)
        k = len(self.columns)
        z = rng.standard_normal((n, k)) @ np.linalg.cholesky(self.correlation).T if k else np.zeros((n, 0))
        u = norm.cdf(z)
        data: dict[str, Any] = {}
        missing: dict[str, np.ndarray] = {}
        values: dict[str, np.ndarray] = {}
        for j, (col, part) in enumerate(self.columns):
            if part == "missing":
                missing[col.name] = np.searchsorted(self.cdf[col.name + "#missing"], u[:, j], side="right") - 1 == 1
            elif col.kind in DISCRETE_KINDS:
                index = np.clip(
                    np.searchsorted(self.cdf[col.name], u[:, j], side="right") - 1, 0, len(col.categories) - 1
                )
                data[col.name] = _categories_out(col, index)
            else:
                sorted_values = self.sorted_values[col.name]
                grid = (np.arange(len(sorted_values)) + 0.5) / len(sorted_values)
                values[col.name] = legal_values(np.interp(u[:, j], grid, sorted_values), col)
        for col in self.transformer.columns:
            if col.kind == "id":
                data[col.name] = _fresh_ids(col, n, 0)
            elif col.kind in CONTINUOUS_KINDS:
                data[col.name] = _continuous_out(col, values[col.name], missing.get(col.name, np.zeros(n, dtype=bool)))
        return pd.DataFrame({name: data[name] for name in self.transformer.order})


class IndependentColumns(GaussianCopula):
    """Every column drawn from its own marginal, independently of the others."""

    independent = True
    name = "independent"


def _nearest_correlation(corr: np.ndarray) -> np.ndarray:
    """``corr`` made positive definite: negative eigenvalues raised to 1e-6, rescaled to a unit diagonal."""
    w, v = np.linalg.eigh((corr + corr.T) / 2)
    fixed = (v * np.maximum(w, 1e-6)) @ v.T
    d = np.sqrt(np.diag(fixed))
    return fixed / d[:, None] / d[None, :]
