"""The evaluator for ``table`` runs: quality, utility and privacy of a synthetic table, with baselines.

Every number compares synthetic rows with real rows the GAN never saw (the run's ``holdout`` split; the
``validation`` split during training):

* **column shapes** (SDMetrics' definitions): per continuous column the KS complement 1 - sup|F_r - F_s|,
  per categorical column the TV complement 1 - 1/2 sum_c |p_r(c) - p_s(c)|; averaged.
* **column-pair trends**: for two continuous columns the correlation similarity 1 - |r_r - r_s| / 2
  (Pearson r on rows where both are present); for any other pair the contingency similarity
  1 - 1/2 sum_{a,b} |p_r(a, b) - p_s(a, b)| with continuous columns cut into 10 equal-width bins over the
  real range; averaged over all pairs.
* **quality** = (shapes + trends) / 2, as the SDMetrics quality report.
* **ML efficacy** exactly as SDGym's ``evaluate.py``: features built by its FeatureMaker (continuous:
  log(max(x, 0.01)) when min >= 0 and max >= 1000, else (x - min) / (max - min) * 5; categories with
  at most 2 values as their index, others one-hot), at most 50,000 shuffled rows; models trained on
  the synthetic rows and tested on the real holdout: binary: DecisionTree(max_depth=15,
  class_weight=balanced), AdaBoost, LogisticRegression(lbfgs, balanced, max_iter=50), MLP(50,
  max_iter=50); multiclass: DecisionTree(max_depth=30, balanced), MLP(100, max_iter=50); regression on
  log(clip(y, 1, 20000)): LinearRegression, MLPRegressor(100, max_iter=50). Reported: mean accuracy and
  F1 (binary F1 / macro F1) over the models, or mean R^2. Differences from SDGym: every model gets
  ``random_state=0`` (SDGym leaves them unseeded) and missing feature values are filled with the real
  column's median (SDGym's data has none).
* **privacy**: DCR (distance to closest record) with equal-size real samples: m rows of the training
  split and m of the holdout (m = the smaller split); for each synthetic row the nearest training and
  nearest holdout row (continuous columns scaled by the training range, categories one-hot / sqrt(2) so a
  mismatch costs 1, missing as its own value). ``dcr_share`` = the share of synthetic rows closer to
  the training sample than to the holdout sample (ties count 1/2), with a 95% normal interval: about 0.5
  means the model is no closer to the rows it trained on than to unseen rows of the same population;
  near 1 means it reproduces its training rows. ``exact_copies`` counts synthetic rows equal to a
  training row in every column (ids left out). Distances are computed in chunks (no N x N matrix).
* **out-of-range rate**: the share of synthetic cells that are not legal: continuous values outside the
  training range, categories never seen in training; **wrong decimals**: the share of continuous cells
  with more decimals than the column has (a whole-number column given 41.37).

Baselines computed beside (same rows, same metrics): the Gaussian copula and independent columns
(gans/table_baselines.py) fitted on the training split, and ``identity`` (the training rows themselves:
the ceiling for quality and efficacy, and what a full copy does to privacy).
"""

from __future__ import annotations

import math
import time
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ganforge.data.tables import (
    CONTINUOUS_KINDS,
    DISCRETE_KINDS,
    ColumnInfo,
    TableTransformer,
    _category_index,
    _category_value,
    column_numbers,
    row_keys,
)
from ganforge.errors import GanforgeError
from ganforge.evaluation.suite import register_evaluator

if TYPE_CHECKING:
    from ganforge.runs import Run

BINS = 10
ML_MAX_ROWS = 50_000
DCR_CHUNK = 1024
HEADLINE = (
    "quality",
    "column_shapes",
    "pair_trends",
    "ml_efficacy",
    "dcr_share",
    "exact_copies",
    "out_of_range",
    "wrong_decimals",
)


# --------------------------------------------------------------------------------------------------
# column codes shared by the metrics
# --------------------------------------------------------------------------------------------------
def _numeric(frame: Any, col: ColumnInfo) -> np.ndarray:
    """Float values of a continuous column (NaN where missing)."""
    return column_numbers(frame, col)


def _codes(frame: Any, col: ColumnInfo, real_range: tuple[float, float] | None = None) -> tuple[np.ndarray, int]:
    """Integer codes of a column: category index (missing is a category), or one of ``BINS`` equal-width
    bins over ``real_range`` for continuous columns (missing: an extra code)."""
    if col.kind in DISCRETE_KINDS:
        return _category_index(frame[col.name], col), len(col.categories)
    values = _numeric(frame, col)
    lo, hi = real_range if real_range is not None else (col.minimum, col.maximum)
    width = (hi - lo) or 1.0
    codes = np.clip(np.floor((values - lo) / width * BINS), 0, BINS - 1)
    codes = np.where(np.isnan(values), BINS, codes).astype(np.int64)
    return codes, BINS + 1


def _tv_complement(a: np.ndarray, b: np.ndarray, k: int) -> float:
    p = np.bincount(a, minlength=k) / max(len(a), 1)
    q = np.bincount(b, minlength=k) / max(len(b), 1)
    return float(1.0 - 0.5 * np.abs(p - q).sum())


def _ks_complement(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if len(a) == 0 or len(b) == 0:
        return float(len(a) == len(b))
    from scipy.stats import ks_2samp

    return float(1.0 - ks_2samp(a, b).statistic)


# --------------------------------------------------------------------------------------------------
# quality
# --------------------------------------------------------------------------------------------------
def quality_report(real: Any, synthetic: Any, transformer: TableTransformer) -> dict[str, Any]:
    """Column shapes, column-pair trends and their mean (see the module docstring); per-column scores too."""
    cols = [c for c in transformer.columns if c.kind != "id"]
    shapes: dict[str, float] = {}
    numeric_r, numeric_s, codes_r, codes_s, sizes = {}, {}, {}, {}, {}
    for col in cols:
        if col.kind in CONTINUOUS_KINDS:
            numeric_r[col.name], numeric_s[col.name] = _numeric(real, col), _numeric(synthetic, col)
            shapes[col.name] = _ks_complement(numeric_r[col.name], numeric_s[col.name])
            present = numeric_r[col.name][~np.isnan(numeric_r[col.name])]
            rng = (float(present.min()), float(present.max())) if len(present) else (col.minimum, col.maximum)
        else:
            rng = None
        codes_r[col.name], sizes[col.name] = _codes(real, col, rng)
        codes_s[col.name], _ = _codes(synthetic, col, rng)
        if col.kind in DISCRETE_KINDS:
            shapes[col.name] = _tv_complement(codes_r[col.name], codes_s[col.name], sizes[col.name])
    trends: list[float] = []
    pairs: dict[tuple[str, str], float] = {}
    for i, a in enumerate(cols):
        for b in cols[i + 1 :]:
            if a.kind in CONTINUOUS_KINDS and b.kind in CONTINUOUS_KINDS:
                trends.append(
                    _correlation_similarity(numeric_r[a.name], numeric_r[b.name], numeric_s[a.name], numeric_s[b.name])
                )
            else:
                k = sizes[b.name]
                joint_r = codes_r[a.name] * k + codes_r[b.name]
                joint_s = codes_s[a.name] * k + codes_s[b.name]
                trends.append(_tv_complement(joint_r, joint_s, sizes[a.name] * k))
            pairs[(a.name, b.name)] = trends[-1]
    shape = float(np.mean(list(shapes.values()))) if shapes else 1.0
    trend = float(np.mean(trends)) if trends else 1.0
    return {
        "quality": (shape + trend) / 2,
        "column_shapes": shape,
        "pair_trends": trend,
        "per_column": shapes,
        "per_pair": pairs,
    }


def _correlation_similarity(ra: np.ndarray, rb: np.ndarray, sa: np.ndarray, sb: np.ndarray) -> float:
    def corr(x: np.ndarray, y: np.ndarray) -> float:
        ok = ~(np.isnan(x) | np.isnan(y))
        if ok.sum() < 2 or np.std(x[ok]) == 0 or np.std(y[ok]) == 0:
            return 0.0
        return float(np.corrcoef(x[ok], y[ok])[0, 1])

    return 1.0 - abs(corr(ra, rb) - corr(sa, sb)) / 2


# --------------------------------------------------------------------------------------------------
# ML efficacy (SDGym's evaluate.py)
# --------------------------------------------------------------------------------------------------
def problem_type(transformer: TableTransformer, target: str) -> str:
    col = next(c for c in transformer.columns if c.name == target)
    if col.kind in DISCRETE_KINDS:
        return "binary_classification" if len(col.categories) <= 2 else "multiclass_classification"
    return "regression"


def _models(problem: str) -> list[Any]:
    from sklearn.ensemble import AdaBoostClassifier
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.tree import DecisionTreeClassifier

    if problem == "binary_classification":
        return [
            DecisionTreeClassifier(max_depth=15, class_weight="balanced", random_state=0),
            AdaBoostClassifier(random_state=0),
            LogisticRegression(solver="lbfgs", class_weight="balanced", max_iter=50, random_state=0),
            MLPClassifier(hidden_layer_sizes=(50,), max_iter=50, random_state=0),
        ]
    if problem == "multiclass_classification":
        return [
            DecisionTreeClassifier(max_depth=30, class_weight="balanced", random_state=0),
            MLPClassifier(hidden_layer_sizes=(100,), max_iter=50, random_state=0),
        ]
    return [LinearRegression(), MLPRegressor(hidden_layer_sizes=(100,), max_iter=50, random_state=0)]


class FeatureMaker:
    """SDGym's FeatureMaker on DataFrames: min/max from the real training rows, one-hot encoders fitted on
    the first table they see (the model's training rows) and reused for the test rows."""

    def __init__(self, transformer: TableTransformer, target: str, reference: Any, seed: int = 0) -> None:
        self.transformer, self.target, self.seed = transformer, target, seed
        self.columns = [c for c in transformer.columns if c.kind != "id"]
        self.stats: dict[str, tuple[float, float, float]] = {}
        for col in self.columns:
            if col.kind in CONTINUOUS_KINDS:
                values = _numeric(reference, col)
                present = values[~np.isnan(values)]
                self.stats[col.name] = (float(present.min()), float(present.max()), float(np.median(present)))
        self.encoders: dict[str, Any] = {}

    def make(self, frame: Any) -> tuple[np.ndarray, np.ndarray]:
        frame = frame.sample(frac=1.0, random_state=self.seed).iloc[:ML_MAX_ROWS] if len(frame) else frame
        features, labels = [], np.zeros(0)
        for col in self.columns:
            if col.name == self.target:
                labels = _category_index(frame[col.name], col) if col.kind in DISCRETE_KINDS else _numeric(frame, col)
                continue
            if col.kind in CONTINUOUS_KINDS:
                lo, hi, median = self.stats[col.name]
                x = _numeric(frame, col)
                x = np.where(np.isnan(x), median, x)
                feature = np.log(np.maximum(x, 1e-2)) if lo >= 0 and hi >= 1e3 else (x - lo) / ((hi - lo) or 1.0) * 5
                features.append(feature[:, None])
            else:
                index = _category_index(frame[col.name], col)
                if len(col.categories) <= 2:
                    features.append(index[:, None].astype(np.float64))
                else:
                    from sklearn.preprocessing import OneHotEncoder

                    encoder = self.encoders.get(col.name)
                    if encoder is None:
                        encoder = self.encoders[col.name] = OneHotEncoder(sparse_output=False, handle_unknown="ignore")
                        features.append(encoder.fit_transform(index[:, None]))
                    else:
                        features.append(encoder.transform(index[:, None]))
        x = np.column_stack(features) if features else np.zeros((len(frame), 1))
        return x, labels


def ml_efficacy(train: Any, test: Any, transformer: TableTransformer, target: str, reference: Any) -> dict[str, Any]:
    """Train SDGym's models on ``train`` (synthetic or real rows), score them on the real ``test`` rows."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import accuracy_score, f1_score, r2_score

    problem = problem_type(transformer, target)
    train = train[train[target].notna()] if problem == "regression" else train
    test = test[test[target].notna()] if problem == "regression" else test
    if len(test) == 0 or len(train) == 0:
        return {"problem": problem, "skipped": "no rows to train or test on"}
    maker = FeatureMaker(transformer, target, reference)
    x_train, y_train = maker.make(train)
    x_test, y_test = maker.make(test)
    scores: list[dict[str, float]] = []
    if problem == "regression":
        y_train, y_test = np.log(np.clip(y_train, 1, 20000)), np.log(np.clip(y_test, 1, 20000))
    for model in _models(problem):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            if problem != "regression" and len(np.unique(y_train)) == 1:
                pred = np.full(len(y_test), y_train[0])
            else:
                model.fit(x_train, y_train)
                pred = model.predict(x_test)
        if problem == "regression":
            scores.append({"model": type(model).__name__, "r2": float(r2_score(y_test, pred))})
        else:
            average = "binary" if problem == "binary_classification" else "macro"
            positive = {"pos_label": int(np.max(y_test))} if average == "binary" else {}
            f1 = f1_score(y_test, pred, average=average, zero_division=0, **positive)
            scores.append(
                {"model": type(model).__name__, "accuracy": float(accuracy_score(y_test, pred)), "f1": float(f1)}
            )
    key = "r2" if problem == "regression" else "accuracy"
    out = {"problem": problem, "metric": key, "ml_efficacy": float(np.mean([s[key] for s in scores])), "models": scores}
    if problem != "regression":
        out["f1"] = float(np.mean([s["f1"] for s in scores]))
    return out


# --------------------------------------------------------------------------------------------------
# privacy
# --------------------------------------------------------------------------------------------------
def distance_features(frame: Any, transformer: TableTransformer, reference: Any) -> np.ndarray:
    """Rows as float32 vectors for DCR: continuous columns scaled by the reference's range (missing: a
    separate 0/1 coordinate and value 0), categories one-hot / sqrt(2) so a mismatch costs distance 1."""
    parts = []
    for col in transformer.columns:
        if col.kind == "id":
            continue
        if col.kind in CONTINUOUS_KINDS:
            ref = _numeric(reference, col)
            lo, hi = np.nanmin(ref), np.nanmax(ref)
            x = (_numeric(frame, col) - lo) / ((hi - lo) or 1.0)
            missing = np.isnan(x)
            parts.append(np.where(missing, 0.0, x)[:, None])
            if col.missing > 0 or missing.any():
                parts.append(missing[:, None].astype(np.float64))
        else:
            index = _category_index(frame[col.name], col)
            one_hot = np.zeros((len(frame), len(col.categories)))
            one_hot[np.arange(len(frame)), index] = 1.0 / math.sqrt(2.0)
            parts.append(one_hot)
    return np.hstack(parts).astype(np.float32)


def nearest_distances(queries: np.ndarray, reference: np.ndarray, chunk: int = DCR_CHUNK) -> np.ndarray:
    """Euclidean distance from each query row to its nearest reference row, in blocks of ``chunk`` x
    ``4 * chunk`` (memory O(chunk^2), never queries x reference). The nearest row is found with float32
    matrix products (|q|^2 - 2 q.r + |r|^2) on rows centred on the reference's mean (so values far from the
    origin do not drown in rounding); its distance is then taken again in float64 from the two rows,
    because that expansion's rounding (up to 3e-3 on 40 columns) would keep an exact copy off 0."""
    if len(reference) == 0:
        return np.full(len(queries), np.inf)
    q64, r64 = np.asarray(queries, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    centre = r64.mean(0)  # far from the origin, float32's |q|^2 - 2 q.r loses the difference
    q_all = torch.from_numpy(np.ascontiguousarray(q64 - centre, dtype=np.float32))
    r_all = torch.from_numpy(np.ascontiguousarray(r64 - centre, dtype=np.float32))
    r_sq = (r_all**2).sum(1)
    nearest = torch.empty(len(q_all), dtype=torch.long)
    block = 4 * chunk
    for i in range(0, len(q_all), chunk):
        q = q_all[i : i + chunk]
        q_sq = (q**2).sum(1, keepdim=True)
        best = torch.full((len(q),), float("inf"))
        where = torch.zeros(len(q), dtype=torch.long)
        for j in range(0, len(r_all), block):
            d2 = q_sq - 2 * q @ r_all[j : j + block].T + r_sq[j : j + block][None]
            value, index = d2.min(1)
            closer = value < best
            best = torch.where(closer, value, best)
            where = torch.where(closer, index + j, where)
        nearest[i : i + chunk] = where
    exact = q64 - r64[nearest.numpy()]
    return np.sqrt((exact**2).sum(1))


def privacy_report(
    synthetic: Any, train: Any, holdout: Any, transformer: TableTransformer, seed: int = 0
) -> dict[str, Any]:
    """DCR share (closer to training than to holdout rows) with a 95% interval, median DCR, exact copies."""
    rng = np.random.default_rng(seed)
    m = min(len(train), len(holdout))
    out: dict[str, Any] = {}
    syn = distance_features(synthetic, transformer, train)
    if m > 0:
        train_sample = train.iloc[np.sort(rng.choice(len(train), m, replace=False))]
        hold_sample = holdout.iloc[np.sort(rng.choice(len(holdout), m, replace=False))]
        d_train = nearest_distances(syn, distance_features(train_sample, transformer, train))
        d_hold = nearest_distances(syn, distance_features(hold_sample, transformer, train))
        closer = (d_train < d_hold - 1e-6).astype(np.float64) + 0.5 * (np.abs(d_train - d_hold) <= 1e-6)
        share = float(closer.mean())
        half = 1.96 * math.sqrt(max(share * (1 - share), 1e-12) / len(closer))
        out.update(
            dcr_share=share,
            dcr_share_low=max(0.0, share - half),
            dcr_share_high=min(1.0, share + half),
            dcr_median=float(np.median(nearest_distances(syn, distance_features(train, transformer, train)))),
            dcr_sample_median=float(np.median(d_train)),
            dcr_holdout_median=float(np.median(d_hold)),
            dcr_rows=m,
        )
    out["exact_copies"] = exact_copies(synthetic, train, transformer)
    return out


def exact_copies(synthetic: Any, train: Any, transformer: TableTransformer) -> int:
    """Synthetic rows equal to some training row in every non-id column (data/tables.py: row_keys)."""
    seen = set(row_keys(train, transformer))
    return int(sum(k in seen for k in row_keys(synthetic, transformer)))


def out_of_range_rate(synthetic: Any, transformer: TableTransformer, decimals: bool = False) -> float:
    """Share of synthetic cells outside what the training rows allow: continuous values outside the
    observed range, categories never seen, missing cells in a column that has none. With ``decimals``:
    instead the share of continuous cells with more decimals than the column has (integers: any)."""
    bad, total = 0, 0
    for col in transformer.columns:
        if col.kind == "id":
            continue
        series = synthetic[col.name]
        total += len(series)
        if col.kind in DISCRETE_KINDS:
            if decimals:
                continue
            allowed = {("" if c is None else str(c)) for c in col.categories}
            text = ["" if (c := _category_value(v)) is None else str(c) for v in series.tolist()]
            bad += sum(t not in allowed for t in text)
            continue
        present = series.notna().to_numpy()
        try:
            values = _numeric(synthetic, col)[present]
        except GanforgeError:
            bad += int(present.sum())
            continue
        assert col.minimum is not None and col.maximum is not None
        tol = 1e-9 * max(1.0, abs(col.minimum), abs(col.maximum))
        if decimals:
            if col.decimals is not None:
                rounded = np.round(values, col.decimals)
                bad += int((np.abs(rounded - values) > 1e-9 * np.maximum(1.0, np.abs(values))).sum())
            continue
        bad += int(((values < col.minimum - tol) | (values > col.maximum + tol)).sum())
        if col.missing == 0:
            bad += int((~present).sum())
    return bad / max(total, 1)


# --------------------------------------------------------------------------------------------------
# the whole report
# --------------------------------------------------------------------------------------------------
def evaluate_table(
    synthetic: Any, train: Any, holdout: Any, transformer: TableTransformer, target: str | None, seed: int = 0
) -> dict[str, Any]:
    """Quality vs the holdout, ML efficacy (train on ``synthetic``, test on the holdout), privacy, legality."""
    out: dict[str, Any] = {}
    out.update({k: v for k, v in quality_report(holdout, synthetic, transformer).items() if not k.startswith("per_")})
    if target is not None:
        ml = ml_efficacy(synthetic, holdout, transformer, target, train)
        out["ml_efficacy"] = ml.get("ml_efficacy")
        if "f1" in ml:
            out["ml_f1"] = ml["f1"]
        for model in ml.get("models", []):  # each model's score (accuracy or R^2)
            out[f"ml_{model['model']}"] = model.get(ml["metric"])
    out.update(privacy_report(synthetic, train, holdout, transformer, seed))
    out["out_of_range"] = out_of_range_rate(synthetic, transformer)
    out["wrong_decimals"] = out_of_range_rate(synthetic, transformer, decimals=True)
    return out


def _live_table(run: Run) -> tuple[Any, TableTransformer]:
    source = run.real_data()
    transformer = getattr(source, "transformer", None)
    if transformer is None or getattr(source, "frame", None) is None:
        raise GanforgeError(f"{run.path}: the run's table cannot be re-read; check data.path in its config.yaml")
    return source, transformer


@register_evaluator("table")
def evaluate_table_run(run: Run, n: int, metrics: list[str]) -> dict[str, Any]:
    """While training (the GAN in training mode: ``eval.every``): quality on the validation split only.
    Otherwise: the full report on the holdout split for the GAN and the baselines beside it."""
    from ganforge.gans.table_baselines import GaussianCopula, IndependentColumns

    source, transformer = _live_table(run)
    target = source.info.get("target")
    if run.gan.training:
        real = source.validation_frame if len(source.validation_frame) else source.frame
        state = torch.get_rng_state()
        try:
            synthetic = run.sample(rows=n)
        finally:
            torch.set_rng_state(state)
        report = quality_report(real, synthetic, transformer)
        return {
            "validation_quality": report["quality"],
            "validation_shapes": report["column_shapes"],
            "validation_trends": report["pair_trends"],
            "n_validation": len(real),
        }
    train, holdout = source.frame, source.holdout_frame
    if len(holdout) == 0:
        raise GanforgeError(f"{run.path}: the table has too few rows for a holdout split (data.holdout); add rows")
    rows = len(train)
    timings: dict[str, dict[str, float]] = {}
    t0 = time.process_time()
    gan_rows = run.sample(rows=rows)
    timings["ganforge"] = {"sample_seconds": time.process_time() - t0}
    tables = {"ganforge": gan_rows}
    for cls in (GaussianCopula, IndependentColumns):
        t0 = time.process_time()
        model = cls(transformer).fit(train, seed=0)
        fit = time.process_time() - t0
        t0 = time.process_time()
        tables[cls.name] = model.sample(rows, seed=0)
        timings[cls.name] = {"fit_seconds": fit, "sample_seconds": time.process_time() - t0}
    tables["identity"] = train
    results = {name: evaluate_table(frame, train, holdout, transformer, target) for name, frame in tables.items()}
    for name, t in timings.items():
        results[name].update(t)
    chosen = list(metrics) if metrics else list(HEADLINE)
    known = sorted({k for r in results.values() for k in r})
    unknown = [m for m in chosen if m not in known]
    if unknown:  # the list names metrics, not the timings and row counts stored beside them
        listed = [k for k in known if not k.endswith(("_seconds", "_rows")) and not k.startswith("n_")]
        raise GanforgeError(f"metric '{unknown[0]}' does not apply to tables; available: {', '.join(listed)}")
    out: dict[str, Any] = {
        "n_synthetic": rows,
        "n_train": len(train),
        "n_holdout": len(holdout),
        "target": target,
        "problem": problem_type(transformer, target) if target else None,
        "reference": "real holdout rows the GAN never saw (data.holdout split)",
    }
    out.update({k: results["ganforge"].get(k) for k in chosen})
    out["comparison"] = {name: {k: r.get(k) for k in chosen} for name, r in results.items()}
    return out
