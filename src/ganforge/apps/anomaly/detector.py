"""``AnomalyDetector``: a GAN anomaly detector with the scikit-learn outlier-detector interface.

    det = gf.AnomalyDetector(method="ganomaly").fit(X_normal)     # rows (N, D), images (N, C, H, W)
    det.anomaly_score(X)          # larger = more anomalous (the method's score, see models.py)
    det.predict(X)                # +1 normal, -1 anomaly (scikit-learn's convention)
    det.score_samples(X)          # -anomaly_score (scikit-learn: larger = more normal)
    det.decision_function(X)      # threshold_ - anomaly_score: negative = anomaly

Calibration: ``fit`` holds out ``validation_fraction`` of the (normal) data, trains on the rest, and sets
``threshold_`` to the (1 - ``false_alarm_rate``) quantile of the held-out scores, so about that fraction
of new normal samples is flagged. Nothing but normal data is ever seen: no anomaly, no test set.

Input kinds (``kind="auto"`` picks from the number of axes): ``table`` (N, D) — each column standardized
with the training mean and sd; ``image`` (N, C, H, W) in [0, 1] — mapped to [-1, 1], residual maps per pixel;
``sequence`` (N, T, F) windows — per-feature standardization pooled over time, GRU networks. A 3-D array is
ambiguous: ``auto`` keeps reading it as windows (N, T, F), as it always has, and warns when its last two axes
are equal (the shape of grayscale images, e.g. scikit-learn's ``load_digits().images``); ``kind="image"``
reads (N, H, W) as one-channel images (N, 1, H, W). The kind used is ``kind_`` after ``fit``.

Column names: fitted on a DataFrame whose column names are all strings, the detector keeps them in
``feature_names_in_`` (and in its saved file) and refuses a DataFrame with other names or another order at
score time, as scikit-learn does: the networks see columns by position, so swapped columns would score
silently wrong.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from scipy import sparse
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.exceptions import NotFittedError

from ganforge import register_app
from ganforge.apps.anomaly.models import METHODS, SCORE_CHUNK, DetectorModel, build_model, train_model
from ganforge.errors import GanforgeError, as_user_error, did_you_mean, in_range, quote, range_text, whole_number
from ganforge.fileio import atomic_write_text

Kind = Literal["auto", "table", "image", "sequence"]
KINDS = ("auto", "table", "image", "sequence")
DETECTOR_FILE = "detector.json"
WEIGHTS_FILE = "detector.safetensors"


# numpy >= 1.25 keeps its warnings in np.exceptions (numpy 2 has them nowhere else); 1.24 in the main namespace
_COMPLEX_WARNING: type[Warning] = getattr(np, "exceptions", np).ComplexWarning


class InvalidInputError(GanforgeError, ValueError):
    """Data the detector cannot take (1-D, empty, NaN / infinity, sparse, complex, wrong sample shape, too few
    samples). A :class:`GanforgeError` (one line; the CLI exits with code 2) that is also the ``ValueError``
    scikit-learn raises for such data, so ``except ValueError`` and scikit-learn's tooling catch it."""


class NonNumericInputError(InvalidInputError, TypeError):
    """Values that are not numbers (strings, dicts, ...): also a ``TypeError``, as ``np.asarray`` and
    scikit-learn's ``check_array`` raise for some of them."""


class DetectorNotFittedError(GanforgeError, NotFittedError):
    """``predict`` / ``score_samples`` / ... / ``save`` before ``fit``: scikit-learn's ``NotFittedError``
    (a ``ValueError`` and ``AttributeError``) that is also a one-line :class:`GanforgeError`."""


SETTINGS: dict[str, tuple[bool, float, bool, float | None, bool, str]] = {
    # name: (whole number, lower bound, lower bound excluded, upper bound (excluded) or None, None allowed, hint)
    "steps": (True, 1, False, None, False, ""),
    "batch_size": (True, 1, False, None, False, ""),
    "lr": (False, 0, True, None, False, ", e.g. 1e-3"),
    "latent": (True, 1, False, None, True, ", or None to size it from the input"),
    "hidden": (True, 1, False, None, True, ", or None to size it from the input"),
    "validation_fraction": (False, 0, True, 1, False, ", e.g. 0.1"),
    "false_alarm_rate": (False, 0, True, 1, False, ", e.g. 0.05"),
    "seed": (True, 0, False, 2**63, False, ""),
}
"""The numeric parameters of :class:`AnomalyDetector` and their ranges, checked by :func:`check_setting` at the
start of ``fit`` (scikit-learn's convention: ``__init__`` only stores them)."""


def check_setting(name: str, value: Any) -> Any:
    """``value`` of the :class:`AnomalyDetector` parameter ``name`` in :data:`SETTINGS`' range (a whole number
    as an ``int``: a whole float such as ``2.0``, ``np.int64(2)`` or a 0-d tensor is taken as 2, the rule of
    :func:`~ganforge.errors.whole_number`), else a one-line :class:`GanforgeError` naming
    the parameter. Without it ``steps=2.5`` or ``latent=1.5`` were torch's TypeErrors, ``lr=-1`` torch's
    "Invalid learning rate", ``batch_size=-3`` a "negative dimension" RuntimeError, ``seed=-1`` numpy's
    ValueError, all raised deep inside ``fit``; and ``latent=0`` / ``hidden=0`` / ``batch_size=0`` fitted
    silently with the default size (``0 or default``): ``None`` is the way to ask for the default."""
    whole, low, open_low, high, none_ok, hint = SETTINGS[name]
    if value is None and none_ok:
        return None
    want = f"give {'a whole number' if whole else 'a number'} {range_text(low, open_low, high)}{hint}"
    number = whole_number(value) if whole else None
    if number is None and (not isinstance(value, numbers.Real) or isinstance(value, bool)):
        raise GanforgeError(f"AnomalyDetector {name}={quote(value)}: not a number ({type(value).__name__}); {want}")
    if not whole:
        number = float(value)
    if number is None or not math.isfinite(number) or not in_range(number, low, open_low, high):
        raise GanforgeError(f"AnomalyDetector {name}={quote(value)}: {want}")
    return number


def _kind_of(x: np.ndarray, kind: str) -> str:
    """The input kind: ``kind`` itself unless ``auto``, then from the number of axes (module doc). A 3-D array
    whose last two axes are equal may be grayscale images, not windows: a warning says how to choose."""
    if kind != "auto":
        return kind
    if x.ndim == 3 and x.shape[1] == x.shape[2]:
        warnings.warn(
            f"fit data of shape {x.shape} is read as windows of a series (N, T, F) (kind_='sequence'); for "
            "grayscale images (N, H, W) give kind='image' (kind='sequence' silences this warning)",
            UserWarning, stacklevel=3,
        )
    return {2: "table", 3: "sequence", 4: "image"}.get(x.ndim, "?")


def feature_names(x: Any) -> np.ndarray | None:
    """The column names of a DataFrame (pandas, polars, ...) when all are strings, as scikit-learn's
    ``feature_names_in_`` records them; None for arrays and for integer or mixed column labels."""
    if isinstance(x, (np.ndarray, torch.Tensor)):
        return None
    columns = getattr(x, "columns", None)
    if columns is None or isinstance(columns, str):
        return None
    try:
        names = list(columns)
    except TypeError:
        return None
    if not names or not all(isinstance(c, str) for c in names):
        return None
    return np.asarray(names, dtype=object)


def _names_differ(where: str, got: list[str], fitted: list[str]) -> str:
    """One line on how a DataFrame's column names differ from the fitted ones (set or order)."""

    def few(names: list[str]) -> str:
        return ", ".join(names[:5]) + (f", ... ({len(names)} in all)" if len(names) > 5 else "")

    missing = [n for n in fitted if n not in got]
    unexpected = [n for n in got if n not in fitted]
    if missing or unexpected:
        parts = ([f"missing {few(missing)}"] if missing else []) + ([f"unexpected {few(unexpected)}"]
                                                                   if unexpected else [])
        how = "; ".join(parts)
    else:
        at = next(i for i, (a, b) in enumerate(zip(got, fitted, strict=True)) if a != b)
        how = f"the same columns in another order, column {at} is {got[at]!r} where fit had {fitted[at]!r}"
    return (f"{where}: the DataFrame's column names differ from those seen in fit: {how}; give the fitted "
            "columns in the fitted order: X[det.feature_names_in_]")


def as_array(x: Any, where: str = "input") -> np.ndarray:
    """``x`` (array-like, torch tensor, DataFrame) as float32 numpy, checked: dense, real, numeric, 2-D to 4-D,
    non-empty, finite. Anything else is an :class:`InvalidInputError` (a ``ValueError``), as in scikit-learn."""
    if isinstance(x, (str, bytes, os.PathLike)):  # np.asarray('data.csv') is text: "not numeric" did not say why
        raise NonNumericInputError(
            f"{where}: {quote(str(x))} is a file name or text, not data; the detector takes arrays, tensors or "
            "DataFrames: read the file first (pd.read_csv(path), np.load(path)), or give the file to the command "
            "line: ganforge anomaly fit PATH --out RUN (ganforge anomaly score RUN PATH to score)"
        )
    if sparse.issparse(x) or (isinstance(x, torch.Tensor) and x.layout != torch.strided):
        raise InvalidInputError(f"{where}: a sparse matrix; sparse input is not supported, give a dense array "
                                "(X.toarray())")
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    try:
        with warnings.catch_warnings():  # casting complex values to float32 would silently drop the imaginary part
            warnings.simplefilter("error", _COMPLEX_WARNING)
            arr = np.asarray(x, dtype=np.float32)
    except _COMPLEX_WARNING:
        msg = f"{where}: Complex data not supported; give real numbers (e.g. X.real or abs(X))"
        raise InvalidInputError(msg) from None
    except (TypeError, ValueError) as exc:
        if "complex" in str(exc):  # Python complex numbers in a list or object array
            raise InvalidInputError(f"{where}: Complex data not supported; give real numbers") from None
        raise NonNumericInputError(f"{where}: not numeric ({exc}); give numbers only") from None
    if arr.ndim == 1:
        raise InvalidInputError(
            f"{where}: a 1-D array of {arr.shape[0]} values; give one sample per row, shape (N, D). Reshape your data "
            "with X.reshape(-1, 1) if it holds a single feature or X.reshape(1, -1) if it is a single sample"
        )
    if arr.ndim not in (2, 3, 4):
        raise InvalidInputError(
            f"{where}: shape {arr.shape}; expected rows (N, D), windows (N, T, F) or images (N, C, H, W)"
        )
    if arr.shape[0] == 0:
        raise InvalidInputError(f"{where}: empty, 0 sample(s) (shape={arr.shape}) while a minimum of 1 is required; "
                                "give at least one sample")
    if arr.size == 0:
        what = "0 feature(s)" if arr.ndim == 2 else "no values per sample"
        raise InvalidInputError(f"{where}: empty, {what} (shape={arr.shape}) while a minimum of 1 is required; "
                                "give samples with at least one value")
    if not np.isfinite(arr).all():
        bad = int(np.argwhere(~np.isfinite(arr))[0][0])
        raise InvalidInputError(f"{where}: sample {bad} holds NaN or infinity; remove or fill it")
    return arr


def _json_number(value: Any) -> Any:
    """``json.dumps``' fallback for :meth:`AnomalyDetector.save`: a numpy scalar or 0-d tensor parameter (which
    :func:`check_setting` accepts) as its Python number (``json`` refuses ``np.int64``, so a detector fitted with
    one could not be saved); anything else is refused."""
    if isinstance(value, np.generic) or (isinstance(value, torch.Tensor) and value.ndim == 0):
        return value.item()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


@register_app()
class AnomalyDetector(OutlierMixin, BaseEstimator):
    """GAN anomaly detector fitted on normal data only (AnoGAN, EGBAD or GANomaly; see ``models.py``).

    Parameters are plain values so ``sklearn.base.clone`` and pipelines work. ``steps``: training steps
    (one D and one G update each); ``latent`` / ``hidden``: network sizes (None: from the input size).

    scikit-learn conventions: methods called before ``fit`` raise :class:`DetectorNotFittedError` (a
    ``NotFittedError``); data it cannot take (1-D, empty, NaN / infinity, sparse, complex, non-numeric, a
    sample shape other than the fitted one) raises :class:`InvalidInputError` (a ``ValueError``); both are
    one-line ``GanforgeError``s. After ``fit``, ``n_features_in_`` is ``X.shape[1]`` (as scikit-learn counts
    it: columns of a table, time steps of windows (N, T, F), channels of images (N, C, H, W)) and
    ``sample_shape_`` the whole per-sample shape. Beside 2-D tables, images (N, C, H, W) and windows
    (N, T, F) are valid input, which scikit-learn's 2-D-only checks do not cover (its tag
    ``input_tags.three_d_array`` is set). A sample's score is its own, whatever it is scored with
    (``score_samples(X)[i] == score_samples(X[i:i + 1])``) up to float32 rounding: matrix products of other
    batch sizes round differently (about 1e-7 relative). AnoGAN's latent search starts every sample from the
    best of the same seeded codes and runs in float64, so its 200 steps do not grow that rounding (models.py).

    ``kind``: ``auto`` reads (N, D) as a table, (N, T, F) as windows and (N, C, H, W) as images; give
    ``kind="image"`` for grayscale images (N, H, W) (read as (N, 1, H, W); they may be scored as (N, H, W)
    too) and ``kind="sequence"`` for windows. ``kind_`` is the kind fitted. Fitted on a DataFrame with
    string column names, ``feature_names_in_`` holds them and scoring a DataFrame with other names or another
    column order is an :class:`InvalidInputError` (arrays score with a warning, as in scikit-learn).
    """

    def __init__(self, method: str = "ganomaly", kind: Kind = "auto", steps: int = 2000, batch_size: int = 64,
                 lr: float = 1e-3, latent: int | None = None, hidden: int | None = None,
                 validation_fraction: float = 0.1, false_alarm_rate: float = 0.05, seed: int = 0,
                 options: dict[str, Any] | None = None) -> None:
        self.method = method
        self.kind = kind
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.latent = latent
        self.hidden = hidden
        self.validation_fraction = validation_fraction
        self.false_alarm_rate = false_alarm_rate
        self.seed = seed
        self.options = options

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")

    def __sklearn_tags__(self) -> Any:  # scikit-learn >= 1.6; older versions never call it
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

    def _require_fitted(self, action: str = "first") -> None:
        if not hasattr(self, "model_"):
            raise DetectorNotFittedError(
                f"this AnomalyDetector is not fitted yet; call fit(normal_data) {action}"
            )

    # ------------------------------------------------------------------ units

    def _check_settings(self) -> dict[str, Any]:
        """Every parameter checked (at the start of ``fit``, as scikit-learn validates): the numeric ones by
        :func:`check_setting`, returned with whole numbers as ``int`` under their names, plus ``options``
        (a dict, ``{}`` for None). ``kind`` is one of :data:`KINDS` (a typo such as ``"images"`` used to read
        as an expected dimension of 0: "needs 0-D input"); ``options`` a mapping of option names (a string
        such as ``"knn"`` was a TypeError about ``**``)."""
        if self.method not in METHODS:
            build_model(str(self.method), (2,))  # raises the one-line error with a suggestion
        if not isinstance(self.kind, str) or self.kind not in KINDS:
            raise GanforgeError(f"AnomalyDetector kind={quote(self.kind)}: unknown kind"
                                f"{did_you_mean(str(self.kind), KINDS)}; give one of {', '.join(KINDS)}")
        options = {} if self.options is None else self.options
        if not isinstance(options, Mapping) or not all(isinstance(k, str) for k in options):
            raise GanforgeError(f"AnomalyDetector options={quote(self.options)}: give a dict of the method's options "
                                "by name, e.g. options={'score': 'knn'}, or None")
        settings = {name: check_setting(name, getattr(self, name)) for name in SETTINGS}
        return {**settings, "options": dict(options)}

    def _fit_units(self, x: np.ndarray) -> None:
        if self.kind_ == "image":
            if x.min() < 0 or x.max() > 1:
                raise InvalidInputError(f"images must lie in [0, 1]; got values in [{x.min():.3g}, {x.max():.3g}]")
            self.mean_ = np.full(x.shape[1:2], 0.5, dtype=np.float32)
            self.scale_ = np.full(x.shape[1:2], 0.5, dtype=np.float32)
            return
        axes = (0,) if self.kind_ == "table" else (0, 1)
        self.mean_ = x.mean(axis=axes).astype(np.float32)
        sd = x.std(axis=axes).astype(np.float32)
        self.scale_ = np.where(sd > 1e-8, sd, 1.0).astype(np.float32)

    def _to_model(self, x: np.ndarray) -> torch.Tensor:
        if self.kind_ == "image":
            shape = (1, -1, 1, 1)
        elif self.kind_ == "sequence":
            shape = (1, 1, -1)
        else:
            shape = (1, -1)
        return torch.from_numpy((x - self.mean_.reshape(shape)) / self.scale_.reshape(shape)).float()

    def _check_input(self, x: Any, where: str = "X") -> np.ndarray:
        self._require_fitted()
        self._check_names(x, where)
        arr = as_array(x, where)
        if self.kind_ == "image" and arr.ndim == 3 and [1, *arr.shape[1:]] == list(self.sample_shape_):
            arr = arr[:, None]  # grayscale (N, H, W) for a detector fitted on one channel
        got, fitted = arr.shape[1:], tuple(self.sample_shape_)
        if got != fitted:
            # scikit-learn's wording when the number of features (X.shape[1]) differs; both sample shapes in any case
            head = (f"{where} has {got[0]} features, but AnomalyDetector is expecting {fitted[0]} features as input"
                    if got[0] != fitted[0] else f"{where}: wrong sample shape")
            raise InvalidInputError(
                f"{head} (samples of shape {got}, fitted on {fitted}); "
                "give data with the same columns / image size / window length"
            )
        return arr

    def _check_names(self, x: Any, where: str) -> None:
        """scikit-learn's column-name check: a DataFrame's names must be the fitted ones in the fitted order
        (the networks read columns by position); a mismatch between names and no names is only a warning."""
        names = feature_names(x)
        fitted = getattr(self, "feature_names_in_", None)
        if fitted is not None and names is not None:
            if list(names) != list(fitted):
                raise InvalidInputError(_names_differ(where, list(names), list(fitted)))
        elif fitted is not None:
            warnings.warn("X does not have valid feature names, but AnomalyDetector was fitted with feature names",
                          UserWarning, stacklevel=4)
        elif names is not None and fitted is None:
            warnings.warn("X has feature names, but AnomalyDetector was fitted without feature names", UserWarning,
                          stacklevel=4)

    # ------------------------------------------------------------------ scikit-learn interface

    def fit(self, X: Any, y: Any = None) -> AnomalyDetector:  # noqa: N803 - scikit-learn's name
        """Train on normal samples ``X`` (``y`` is ignored) and calibrate ``threshold_``."""
        return self._fit(X, "fit data")

    def _fit(self, X: Any, where: str) -> AnomalyDetector:  # noqa: N803
        """:meth:`fit`, with ``where`` naming the data in errors (the CLI gives the file's name)."""
        settings = self._check_settings()
        names = feature_names(X)
        x = as_array(X, where)
        self.kind_ = _kind_of(x, self.kind)
        if self.kind_ == "image" and x.ndim == 3:
            x = x[:, None]  # grayscale (N, H, W): one channel
        expected = {"table": 2, "sequence": 3, "image": 4}.get(self.kind_, 0)
        if x.ndim != expected:
            also = " or 3-D (N, H, W)" if self.kind_ == "image" else ""
            raise InvalidInputError(f"{where}: kind={self.kind!r} needs {expected}-D input{also}, got shape {x.shape}")
        n_val = int(round(settings["validation_fraction"] * x.shape[0]))
        if x.shape[0] - n_val < 2 or n_val < 1:
            n = x.shape[0]
            few = "1 sample is" if n == 1 else f"{n} samples are"
            raise InvalidInputError(
                f"{where}: {few} too few to train and hold out a validation split; give at least 10"
            )
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_  # a refit on an array forgets the names of an earlier DataFrame
        order = np.random.default_rng(settings["seed"]).permutation(x.shape[0])
        val, train = x[order[:n_val]], x[order[n_val:]]
        self.sample_shape_ = list(x.shape[1:])
        self.n_features_in_ = int(x.shape[1])  # scikit-learn's count: X.shape[1]
        self._fit_units(train)
        shape = x.shape[1:] if self.kind_ == "sequence" else (int(np.prod(x.shape[1:])),)
        torch.manual_seed(settings["seed"])
        options = settings["options"]
        self.model_: DetectorModel = build_model(self.method, shape, settings["latent"], settings["hidden"], **options)
        self.model_options_ = {**options, **self.model_.scoring_options()}
        train_units = self._flat(self._to_model(train))
        self.history_ = train_model(self.model_, train_units, settings["steps"], settings["batch_size"],
                                    settings["lr"], settings["seed"])
        self.model_.remember(train_units)
        val_scores = self.anomaly_score(val)
        self.validation_scores_ = val_scores
        self.threshold_ = float(np.quantile(val_scores, 1.0 - settings["false_alarm_rate"]))
        self.offset_ = -self.threshold_  # scikit-learn: decision_function = score_samples - offset_
        self.n_train_ = int(train.shape[0])
        if names is not None:  # set last: the held-out split above is scored as an array, without names
            self.feature_names_in_ = names
        return self

    def _flat(self, t: torch.Tensor) -> torch.Tensor:
        return t if self.kind_ == "sequence" else t.reshape(t.shape[0], -1)

    def _score(self, x: np.ndarray, chunk: int = SCORE_CHUNK) -> tuple[np.ndarray, np.ndarray]:
        scores, residuals = [], []
        state = torch.random.get_rng_state()
        try:
            for start in range(0, x.shape[0], chunk):
                t = self._flat(self._to_model(x[start:start + chunk]))
                s, r = self.model_.score(t, seed=int(self.seed))  # checked whole by fit (or load)
                scores.append(s.numpy().astype(np.float64))
                residuals.append(r.reshape(r.shape[0], *self.sample_shape_).numpy())
        finally:
            torch.random.set_rng_state(state)
        return np.concatenate(scores), np.concatenate(residuals)

    def anomaly_score(self, X: Any) -> np.ndarray:  # noqa: N803
        """The method's anomaly score per sample (larger = more anomalous); deterministic given ``seed``."""
        return self._score(self._check_input(X))[0]

    def residuals(self, X: Any) -> np.ndarray:  # noqa: N803
        """x - x_hat per sample in the detector's units (sd units for tables, [-1, 1] units for images):
        per-feature residuals for rows, per-pixel maps (N, C, H, W) for images, (N, T, F) for windows."""
        return self._score(self._check_input(X))[1]

    def score_samples(self, X: Any) -> np.ndarray:  # noqa: N803
        """scikit-learn's convention: the opposite of the anomaly score (larger = more normal)."""
        return -self.anomaly_score(X)

    def decision_function(self, X: Any) -> np.ndarray:  # noqa: N803
        """threshold_ - anomaly score: negative for samples flagged as anomalies."""
        return self.score_samples(X) - self.offset_

    def predict(self, X: Any) -> np.ndarray:  # noqa: N803
        """+1 for normal, -1 for anomaly (score above the calibrated threshold)."""
        return np.where(self.anomaly_score(X) > self.threshold_, -1, 1)

    # ------------------------------------------------------------------ persistence

    def save(self, folder: str | Path, extra: dict[str, Any] | None = None) -> Path:
        """Write ``detector.json`` (settings, units, threshold) and ``detector.safetensors`` to ``folder``."""
        from safetensors.torch import save_file

        self._require_fitted("before save")
        out = Path(folder)
        if out.exists() and not out.is_dir():  # mkdir's bare FileExistsError said nothing of what to give
            raise GanforgeError(f"save: '{out}' is a file; give a folder to hold {DETECTOR_FILE} and {WEIGHTS_FILE} "
                                "(a new one, or the detector's own)")
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a part of the path is a file, no permission, a read-only disk
            raise (as_user_error(exc) or exc) from None
        state = {k: v.contiguous() for k, v in self.model_.state_dict().items()}
        tmp = out / (WEIGHTS_FILE + ".tmp")
        save_file(state, str(tmp))
        tmp.replace(out / WEIGHTS_FILE)
        meta = {
            "format": "ganforge-anomaly-detector/1",
            "params": self.get_params(),
            "kind": self.kind_,
            "sample_shape": self.sample_shape_,
            "mean": self.mean_.tolist(),
            "scale": self.scale_.tolist(),
            "threshold": self.threshold_,
            "model_options": self.model_options_,
            "feature_names_in": (None if getattr(self, "feature_names_in_", None) is None
                                 else [str(n) for n in self.feature_names_in_]),
            "n_train": self.n_train_,
            "extra": extra or {},
        }
        # numpy scalars (batch_size=np.int64(64), what a search over np.arange gives) are written as numbers
        atomic_write_text(out / DETECTOR_FILE, json.dumps(meta, indent=2, default=_json_number) + "\n")
        return out

    @classmethod
    def load(cls, folder: str | Path) -> AnomalyDetector:
        """A detector written by :meth:`save` (``ganforge anomaly fit``)."""
        from safetensors.torch import load_file

        path = Path(folder)
        meta_path = path / DETECTOR_FILE
        if not path.exists():
            raise GanforgeError(
                f"'{path}' does not exist; fit a detector first: ganforge anomaly fit DATA --out {path}"
            )
        if not path.is_dir():
            inside = path.name in (DETECTOR_FILE, WEIGHTS_FILE)
            raise GanforgeError(
                f"'{path}' is a file; give the detector's folder (the --out of ganforge anomaly fit, holding "
                f"{DETECTOR_FILE} and {WEIGHTS_FILE})" + (f": {path.parent}" if inside else "")
            )
        present = [name for name in (DETECTOR_FILE, WEIGHTS_FILE) if (path / name).exists()]
        if len(present) == 1:
            missing = WEIGHTS_FILE if present == [DETECTOR_FILE] else DETECTOR_FILE
            raise GanforgeError(
                f"'{path}': {missing} is missing beside {present[0]} (an interrupted fit or a partial copy?); "
                f"copy it back, or fit again: ganforge anomaly fit NORMAL_DATA --out NEW_FOLDER"
            )
        if not present:
            what = "a GAN training run" if (path / "config.yaml").exists() else "no anomaly detector"
            raise GanforgeError(
                f"'{path}' is {what}, not fitted for anomaly scoring (no {DETECTOR_FILE} or {WEIGHTS_FILE}); "
                "give the folder written by ganforge anomaly fit NORMAL_DATA --out FOLDER"
            )
        try:
            meta = json.loads(meta_path.read_text())
            det = cls(**meta["params"])
            det.kind_ = meta["kind"]
            det.sample_shape_ = list(meta["sample_shape"])
            det.n_features_in_ = int(det.sample_shape_[0])
            det.mean_ = np.asarray(meta["mean"], dtype=np.float32)
            det.scale_ = np.asarray(meta["scale"], dtype=np.float32)
            det.threshold_ = float(meta["threshold"])
            det.offset_ = -det.threshold_
            det.n_train_ = int(meta["n_train"])
            det.extra_ = meta.get("extra", {})
            if meta.get("feature_names_in") is not None:
                det.feature_names_in_ = np.asarray([str(n) for n in meta["feature_names_in"]], dtype=object)
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise GanforgeError(f"{meta_path}: damaged detector file ({exc}); fit the detector again") from None
        # A file written before round 12 has no model_options: its GANomaly scored with the then default, latent.
        legacy = dict(det.options or {})
        if det.method == "ganomaly":
            legacy.setdefault("score", "latent")
        det.model_options_ = meta.get("model_options") or legacy
        settings = det._check_settings()  # whole floats as ints (a file's latent 2.0), an edited file in one line
        shape = det.sample_shape_ if det.kind_ == "sequence" else [int(np.prod(det.sample_shape_))]
        model = build_model(det.method, shape, settings["latent"], settings["hidden"], **det.model_options_)
        try:
            model.load_state_dict(load_file(str(path / WEIGHTS_FILE)))
        except Exception as exc:  # noqa: BLE001 - safetensors / torch raise several types for a bad file
            reason = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise GanforgeError(f"{path / WEIGHTS_FILE}: weights do not load ({reason}); fit again") from None
        det.model_ = model.eval()
        return det
