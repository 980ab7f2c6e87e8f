"""Image metrics: FID, KID, Inception Score and precision/recall/density/coverage.

Two layers:

* On feature vectors ``(N, d)`` (any array-like; computed in float64): :func:`frechet_distance`,
  :func:`intra_frechet_distance` (per class, with labels), :func:`kernel_inception_distance`,
  :func:`inception_score` (on logits) and :func:`precision_recall_density_coverage`. These carry the
  formulas.
* On images ``(N, C, H, W)`` in data units [0, 1] and a feature network (``"digits"``, ``"inception"``
  or any ``nn.Module`` returning ``(N, d)``, see :mod:`ganforge.nets.features`): :func:`fid`,
  :func:`kid`, :func:`image_inception_score`, :func:`prdc` and :func:`noise_floor`. Features are
  computed once per image set and reused for the metric and its noise floor.

Every FID/KID result is a :class:`MetricResult` carrying the value, its *noise floor* (the same metric
between two disjoint random halves of the real set, each the size of the fake set where the real set
allows), the sample counts, the feature network and the reference split — a FID is meaningless
without them. Values from the digits network compare ganforge runs with each other; only Inception
features on the standard protocol compare with published numbers.

These are cross-checked in the tests against torchmetrics' ``FrechetInceptionDistance``,
``KernelInceptionDistance`` and ``InceptionScore`` (with an identity feature module) and against
``scipy.linalg.sqrtm``. They are written out here rather than routed through torchmetrics because the
torchmetrics classes draw KID subsets and IS shuffles from the global RNG and keep their own feature
buffers, while a result here needs seeded subsets and one feature pass shared with its noise floor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from scipy.special import log_softmax
from torch import nn

from ganforge.errors import GanforgeError
from ganforge.nets.features import FeatureNetwork, feature_name, resolve_features

ArrayLike = torch.Tensor | np.ndarray
FeatureSpec = str | nn.Module


# --------------------------------------------------------------------------------------------------
# Metrics on feature vectors
# --------------------------------------------------------------------------------------------------


def _as_features(x: ArrayLike | Any, what: str, min_rows: int = 2) -> np.ndarray:
    array = x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, np.float64)
    if array.ndim != 2 or array.shape[0] < min_rows:
        raise GanforgeError(f"{what} must be a (N, d) feature array with N >= {min_rows}; got shape {array.shape}")
    if not np.isfinite(array).all():
        raise GanforgeError(f"{what} contains NaN or inf; check the generator output or the feature network")
    return array


def _same_dim(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape[1] != b.shape[1]:
        raise GanforgeError(
            f"feature sets have different dimensions ({a.shape[1]} vs {b.shape[1]}); "
            "compute both with the same feature network"
        )


def _psd_sqrt(cov: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(cov)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def gaussian_frechet_distance(mu_a: ArrayLike, cov_a: ArrayLike, mu_b: ArrayLike, cov_b: ArrayLike) -> float:
    """Fréchet distance between N(mu_a, S_a) and N(mu_b, S_b), in float64.

    d^2 = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^{1/2}). The trace of the matrix square root
    is taken as the sum of square roots of the eigenvalues of the symmetric PSD matrix
    S_a^{1/2} S_b S_a^{1/2}, which has the same spectrum as S_a S_b; this stays real and stable when a
    covariance is singular (fewer samples than dimensions, dead features). Rounding can leave a value
    of order -1e-12 for identical inputs; it is returned as 0.
    """
    mu_a, mu_b = (np.asarray(m, np.float64).ravel() for m in (mu_a, mu_b))
    cov_a, cov_b = (np.asarray(c, np.float64) for c in (cov_a, cov_b))
    root_a = _psd_sqrt(cov_a)
    middle = root_a @ cov_b @ root_a
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0.0, None)).sum()
    value = float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_sqrt)
    return max(value, 0.0)


def frechet_distance(feats_a: ArrayLike, feats_b: ArrayLike) -> float:
    """FID formula on two feature sets: Gaussians fitted by sample mean and unbiased (N-1) covariance.

    With fewer images than feature dimensions in a set (a class's few hundred images in Inception's 2048
    dimensions) the d x d eigen-decompositions are replaced by an exact small one. Writing the centred
    sets as A = (X_a - mu_a)^T / sqrt(N_a - 1) (d x N_a) and B likewise, S_a = A A^T, S_b = B B^T, and the
    non-zero eigenvalues of S_a S_b are those of (A^T B)(A^T B)^T, so

        Tr (S_a S_b)^{1/2} = ||A^T B||_* (the sum of A^T B's singular values),  Tr S_a = ||A||_F^2,

    which costs an N_a x N_b SVD instead of two d x d ones and gives the same number.
    """
    a, b = _as_features(feats_a, "first feature set"), _as_features(feats_b, "second feature set")
    _same_dim(a, b)
    if min(len(a), len(b)) >= a.shape[1]:
        return gaussian_frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    mu_a, mu_b = a.mean(0), b.mean(0)
    centred_a = (a - mu_a) / np.sqrt(len(a) - 1)
    centred_b = (b - mu_b) / np.sqrt(len(b) - 1)
    trace_sqrt = np.linalg.svd(centred_a @ centred_b.T, compute_uv=False).sum()
    value = float(((mu_a - mu_b) ** 2).sum() + (centred_a**2).sum() + (centred_b**2).sum() - 2.0 * trace_sqrt)
    return max(value, 0.0)


INTRA_FID_MIN_IMAGES = 10  # a class enters intra-FID with at least this many generated and twice as many real images


def _labels(labels: ArrayLike) -> np.ndarray:
    return np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels).ravel()


def intra_fid_classes(
    real_labels: ArrayLike, fake_labels: ArrayLike, min_images: int = INTRA_FID_MIN_IMAGES
) -> list[Any]:
    """The classes :func:`intra_frechet_distance` scores: at least ``min_images`` generated images and
    2 x ``min_images`` real ones (the real ones are split in halves for the floor)."""
    real_y, fake_y = _labels(real_labels), _labels(fake_labels)
    return [k for k in np.unique(real_y) if (fake_y == k).sum() >= min_images and (real_y == k).sum() >= 2 * min_images]


def intra_frechet_distance(
    real: ArrayLike,
    real_labels: ArrayLike,
    fake: ArrayLike,
    fake_labels: ArrayLike,
    splits: int = 10,
    seed: int = 0,
    min_images: int = INTRA_FID_MIN_IMAGES,
) -> dict[str, float | int]:
    """Intra-FID (Miyato and Koyama 2018, "cGANs with Projection Discriminator"): the FID of each class's
    generated images against the real images of that class, averaged over classes,

        intra-FID = (1 / K) sum_k FID(real | y = k, generated | y = k).

    A class-conditional generator that draws good images of the wrong class keeps its FID (the mixture over
    classes still matches) but not its intra-FID. Returned with the like-for-like references the image
    evaluator gives FID, per class then averaged: ``intra_fid_noise_floor``
    (two disjoint random halves of the class's real images, m_k = min(generated_k, real_k // 2) each, mean over
    ``splits`` splits) and ``intra_fid_matched`` (half A against the first m_k generated images of the class).
    Classes with fewer than ``min_images`` generated images or 2 x ``min_images`` real ones are left out
    (``n_intra_fid_classes`` counts the others); an error when none is left."""
    real_f, fake_f = _as_features(real, "real features"), _as_features(fake, "generated features")
    _same_dim(real_f, fake_f)
    real_y, fake_y = _labels(real_labels), _labels(fake_labels)
    if len(real_y) != len(real_f) or len(fake_y) != len(fake_f):
        raise GanforgeError(
            f"intra-FID needs one label per image: {len(real_y)} labels for {len(real_f)} real images, "
            f"{len(fake_y)} for {len(fake_f)} generated"
        )
    values, floors, matched = [], [], []
    for label in intra_fid_classes(real_y, fake_y, min_images):
        real_k, fake_k = real_f[real_y == label], fake_f[fake_y == label]
        m = min(len(fake_k), len(real_k) // 2)
        values.append(frechet_distance(real_k, fake_k))
        split_floors, split_matched = [], []
        for r in range(splits):
            first, second = random_halves(len(real_k), m, seed + r)
            half_a, half_b = real_k[first.numpy()], real_k[second.numpy()]
            split_floors.append(frechet_distance(half_a, half_b))
            split_matched.append(frechet_distance(half_a, fake_k[:m]))
        floors.append(float(np.mean(split_floors)))
        matched.append(float(np.mean(split_matched)))
    if not values:
        raise GanforgeError(
            f"intra-FID needs at least {min_images} generated and {2 * min_images} real images of some class; "
            f"got {len(fake_f)} generated and {len(real_f)} real in all: use more images per class (eval: --n)"
        )
    return {
        "intra_fid": float(np.mean(values)),
        "intra_fid_matched": float(np.mean(matched)),
        "intra_fid_noise_floor": float(np.mean(floors)),
        "n_intra_fid_classes": len(values),
    }


def _poly_kernel(x: torch.Tensor, y: torch.Tensor, degree: int, gamma: float, coef: float) -> torch.Tensor:
    return (x @ y.T * gamma + coef) ** degree


def _unbiased_mmd2(x: torch.Tensor, y: torch.Tensor, degree: int, gamma: float, coef: float) -> float:
    m = x.shape[0]
    k_xx = _poly_kernel(x, x, degree, gamma, coef)
    k_yy = _poly_kernel(y, y, degree, gamma, coef)
    k_xy = _poly_kernel(x, y, degree, gamma, coef)
    within = (k_xx.sum() - k_xx.diagonal().sum() + k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1))
    return float(within - 2.0 * k_xy.sum() / (m * m))


def kernel_inception_distance(
    feats_a: ArrayLike,
    feats_b: ArrayLike,
    subsets: int = 100,
    subset_size: int = 1000,
    degree: int = 3,
    gamma: float | None = None,
    coef: float = 1.0,
    seed: int = 0,
) -> tuple[float, float]:
    """KID (Bińkowski et al. 2018): mean and std over subsets of the unbiased MMD^2, polynomial kernel.

    k(x, y) = (gamma x·y + coef)^degree, by default (x·y / d + 1)^3. For each of ``subsets`` draws,
    m = min(subset_size, N_a, N_b) rows are taken without replacement from each set and

        MMD^2 = [sum_{i!=j} k(a_i, a_j) + sum_{i!=j} k(b_i, b_j)] / (m(m-1)) - 2 sum_{i,j} k(a_i, b_j) / m^2.

    The std is the population std (ddof 0) over subsets, as in the reference code and torchmetrics.
    Subsets come from ``torch.randperm`` on a generator seeded with ``seed`` (a, then b, per subset).
    """
    a, b = _as_features(feats_a, "first feature set"), _as_features(feats_b, "second feature set")
    _same_dim(a, b)
    if subsets < 1 or subset_size < 2 or degree < 1 or coef < 0 or (gamma is not None and gamma <= 0):
        raise GanforgeError(
            f"KID needs subsets >= 1, subset_size >= 2, degree >= 1, coef >= 0, gamma > 0; got "
            f"subsets={subsets}, subset_size={subset_size}, degree={degree}, coef={coef}, gamma={gamma}"
        )
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    m = min(subset_size, len(ta), len(tb))
    g = 1.0 / a.shape[1] if gamma is None else float(gamma)
    gen = torch.Generator().manual_seed(seed)
    values = []
    for _ in range(subsets):
        x = ta[torch.randperm(len(ta), generator=gen)[:m]]
        y = tb[torch.randperm(len(tb), generator=gen)[:m]]
        values.append(_unbiased_mmd2(x, y, degree, g, coef))
    scores = np.asarray(values)
    return float(scores.mean()), float(scores.std())


def inception_score(logits: ArrayLike, splits: int = 10) -> tuple[float, float]:
    """Inception Score (Salimans et al. 2016) from class logits: mean and std over ``splits``.

    For each contiguous split s (rows N·s/splits up to N·(s+1)/splits, in the given order):
    IS_s = exp( mean_x KL(p(y|x) || p_s(y)) ), with p(y|x) = softmax(logits) and p_s(y) the mean of
    p(y|x) over the split. The std is the population std (ddof 0) over splits, as in the original code.
    """
    z = _as_features(logits, "logits", min_rows=1)
    if not 1 <= splits <= len(z):
        raise GanforgeError(f"inception score needs 1 <= splits <= N; got splits={splits}, N={len(z)}")
    log_p = log_softmax(z, axis=1)
    p = np.exp(log_p)
    scores = []
    n = len(z)
    for s in range(splits):
        lo, hi = n * s // splits, n * (s + 1) // splits
        log_marginal = np.log(p[lo:hi].mean(axis=0))
        kl = (p[lo:hi] * (log_p[lo:hi] - log_marginal)).sum(axis=1).mean()
        scores.append(np.exp(kl))
    values = np.asarray(scores)
    return float(values.mean()), float(values.std())


def _pairwise_rows(x: torch.Tensor, y: torch.Tensor, chunk: int) -> Any:
    """Yield (start, distances of rows x[start:start+chunk] to all of y), bounding memory to chunk x |y|."""
    for start in range(0, len(x), chunk):
        yield start, torch.cdist(x[start : start + chunk], y)


def _knn_radii(x: torch.Tensor, k: int, chunk: int) -> torch.Tensor:
    """Distance from each row to its k-th nearest other row (the row itself, at distance 0, is skipped)."""
    radii = torch.empty(len(x), dtype=x.dtype)
    for start, d in _pairwise_rows(x, x, chunk):
        radii[start : start + len(d)] = d.kthvalue(k + 1, dim=1).values
    return radii


def precision_recall_density_coverage(
    real: ArrayLike, fake: ArrayLike, k: int = 5, chunk: int = 2048
) -> dict[str, float]:
    """Improved precision/recall (Kynkäänniemi et al. 2019) and density/coverage (Naeem et al. 2020).

    With r_i the distance from real point x_i to its k-th nearest other real point, s_j the same
    for fake point y_j among the fakes, and B(c, r) the closed ball:

    * precision = (1/M) sum_j 1[ y_j in U_i B(x_i, r_i) ]   — fakes that land on the real manifold
    * recall    = (1/N) sum_i 1[ x_i in U_j B(y_j, s_j) ]   — reals that the fake manifold covers
    * density   = (1/(kM)) sum_j sum_i 1[ y_j in B(x_i, r_i) ] — can exceed 1 when fakes crowd reals
    * coverage  = (1/N) sum_i 1[ min_j ||x_i - y_j|| <= r_i ]  — reals with a fake in their ball

    Euclidean distances in float64, computed in row chunks so memory stays chunk x N.
    """
    x = torch.from_numpy(_as_features(real, "real features"))
    y = torch.from_numpy(_as_features(fake, "fake features"))
    _same_dim(x.numpy(), y.numpy())
    if not 1 <= k < min(len(x), len(y)):
        raise GanforgeError(
            f"PRDC needs 1 <= k < number of samples in each set; got k={k}, N_real={len(x)}, N_fake={len(y)}"
        )
    r_real = _knn_radii(x, k, chunk)
    r_fake = _knn_radii(y, k, chunk)
    in_real_balls = torch.zeros(len(y), dtype=torch.long)  # per fake: how many real balls contain it
    covered_by_fake = torch.zeros(len(x), dtype=torch.bool)  # per real: inside some fake ball
    nearest_fake = torch.full((len(x),), float("inf"), dtype=x.dtype)
    for start, d in _pairwise_rows(y, x, chunk):  # d[j, i] = ||y_j - x_i||
        rows = slice(start, start + len(d))
        in_real_balls[rows] = (d <= r_real[None, :]).sum(dim=1)
        covered_by_fake |= (d <= r_fake[rows, None]).any(dim=0)
        nearest_fake = torch.minimum(nearest_fake, d.min(dim=0).values)
    return {
        "precision": float((in_real_balls > 0).double().mean()),
        "recall": float(covered_by_fake.double().mean()),
        "density": float(in_real_balls.double().sum() / (k * len(y))),
        "coverage": float((nearest_fake <= r_real).double().mean()),
    }


# --------------------------------------------------------------------------------------------------
# Metrics on images
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricResult:
    """One image metric with what it takes to read it.

    ``noise_floor`` is the same metric between two disjoint random halves of the real set of
    ``noise_floor_n`` samples each (``min(n_fake, n_real // 2)``); a model is only distinguishable
    from the data by this metric when ``value`` clearly exceeds it. With ``noise_floor_n < n_fake``
    the floor is an overestimate (these metrics' finite-sample bias falls with sample size).
    """

    metric: str
    value: float
    std: float | None
    noise_floor: float | None
    noise_floor_n: int | None
    n_real: int
    n_fake: int
    features: str
    reference: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)

    def __str__(self) -> str:
        spread = f" ± {self.std:.4g}" if self.std is not None else ""
        floor = ""
        if self.noise_floor is not None:
            floor = f", noise floor {self.noise_floor:.4g} (real halves of {self.noise_floor_n})"
        against = f" vs {self.n_real} real from {self.reference}" if self.n_real else ""
        where = f"[{self.features} features, {self.n_fake} samples{against}]"
        return f"{self.metric} {self.value:.4g}{spread}{floor} {where}"


def _as_images(images: ArrayLike | Any, what: str) -> torch.Tensor:
    x = images if isinstance(images, torch.Tensor) else torch.as_tensor(np.asarray(images))
    if x.ndim != 4 or len(x) < 2:
        raise GanforgeError(f"{what} must be images shaped (N, C, H, W) with N >= 2; got {tuple(x.shape)}")
    x = x.detach().float()
    lo, hi = float(x.min()), float(x.max())
    if lo < -1e-3 or hi > 1 + 1e-3 or not np.isfinite([lo, hi]).all():
        raise GanforgeError(
            f"{what} must be in data units [0, 1]; got values in [{lo:.3g}, {hi:.3g}]; "
            "map generator output back with source.scaler.to_data"
        )
    return x.clamp(0.0, 1.0)


def _device_of(net: nn.Module) -> torch.device:
    for tensor in (*net.parameters(), *net.buffers()):
        return tensor.device
    return torch.device("cpu")


@torch.no_grad()
def _run(
    net: nn.Module, call: Callable[[torch.Tensor], torch.Tensor], images: ArrayLike, batch_size: int
) -> torch.Tensor:
    x = _as_images(images, "images")
    device = _device_of(net)
    was_training = net.training
    net.eval()
    try:
        out = [call(x[i : i + batch_size].to(device)).detach().cpu() for i in range(0, len(x), batch_size)]
    finally:
        net.train(was_training)
    return torch.cat(out).double()


def compute_features(net: FeatureSpec, images: ArrayLike, batch_size: int = 256) -> torch.Tensor:
    """Run feature network ``net`` (a module, ``"digits"`` or ``"inception"``) on ``images``
    (N, C, H, W) in [0, 1], in eval mode and batches on the network's device; returns ``(N, d)`` as CPU
    float64."""
    net = resolve_features(net)
    feats = _run(net, net, images, batch_size)
    if feats.ndim != 2:
        raise GanforgeError(
            f"feature network {feature_name(net)} returned shape {tuple(feats.shape)}; "
            "a feature network must return (N, d)"
        )
    return feats


def random_halves(n: int, m: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of two disjoint random sets of ``m`` of ``n`` items (a seeded permutation's first ``m`` and next
    ``m``): the two real halves every noise floor compares."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return perm[:m], perm[m : 2 * m]


def _floor_size(n_real: int, n_fake: int, metric: str) -> int:
    m = min(n_fake, n_real // 2)
    if m < 2:
        raise GanforgeError(
            f"{metric} noise floor needs at least 4 real samples (two halves of 2); got {n_real}; "
            "pass more real images or with_noise_floor=False"
        )
    return m


FeatureMetric = Callable[[torch.Tensor, torch.Tensor], float | tuple[float, float]]


def _feature_metric(metric: str | FeatureMetric, **kwargs: Any) -> FeatureMetric:
    if callable(metric):
        return metric
    if metric == "fid":
        return frechet_distance
    if metric == "kid":
        return lambda a, b: kernel_inception_distance(a, b, **kwargs)
    raise GanforgeError(f"unknown metric '{metric}' for a noise floor; use 'fid', 'kid' or a callable(a, b)")


def _scalar(value: float | tuple[float, float]) -> float:
    return float(value[0]) if isinstance(value, tuple) else float(value)


def noise_floor(
    metric: str | FeatureMetric,
    real_images: ArrayLike,
    n: int | None = None,
    features: FeatureSpec = "digits",
    seed: int = 0,
    batch_size: int = 256,
    **metric_kwargs: Any,
) -> float:
    """``metric`` ("fid", "kid" or a callable on two feature sets) between two disjoint random halves
    of ``real_images``, each of ``n`` samples (default and maximum: half the real set)."""
    net = resolve_features(features)
    feats = compute_features(net, real_images, batch_size)
    m = _floor_size(len(feats), len(feats) if n is None else n, str(metric))
    a, b = random_halves(len(feats), m, seed)
    return _scalar(_feature_metric(metric, **metric_kwargs)(feats[a], feats[b]))


def _paired(
    metric: str,
    real_images: ArrayLike,
    fake_images: ArrayLike,
    features: FeatureSpec,
    batch_size: int,
    reference: str,
    with_noise_floor: bool,
    seed: int,
    fn: Callable[[torch.Tensor, torch.Tensor], float | tuple[float, float]],
) -> MetricResult:
    net = resolve_features(features)
    real = compute_features(net, _as_images(real_images, "real images"), batch_size)
    fake = compute_features(net, _as_images(fake_images, "generated images"), batch_size)
    value = fn(real, fake)
    floor, floor_n = None, None
    if with_noise_floor:
        floor_n = _floor_size(len(real), len(fake), metric)
        a, b = random_halves(len(real), floor_n, seed)
        floor = _scalar(fn(real[a], real[b]))
    return MetricResult(
        metric=metric,
        value=_scalar(value),
        std=float(value[1]) if isinstance(value, tuple) else None,
        noise_floor=floor,
        noise_floor_n=floor_n,
        n_real=len(real),
        n_fake=len(fake),
        features=feature_name(net),
        reference=reference,
    )


def fid(
    real_images: ArrayLike,
    fake_images: ArrayLike,
    features: FeatureSpec = "digits",
    *,
    batch_size: int = 256,
    reference: str = "real",
    with_noise_floor: bool = True,
    seed: int = 0,
) -> MetricResult:
    """Fréchet distance between the feature Gaussians of real and generated images, with noise floor.

    ``reference`` names the real split (e.g. ``"digits/test"``) for the record; ``seed`` picks the
    halves of the noise floor.
    """
    return _paired(
        "fid",
        real_images,
        fake_images,
        features,
        batch_size,
        reference,
        with_noise_floor,
        seed,
        frechet_distance,
    )


def kid(
    real_images: ArrayLike,
    fake_images: ArrayLike,
    features: FeatureSpec = "digits",
    *,
    subsets: int = 100,
    subset_size: int = 1000,
    degree: int = 3,
    gamma: float | None = None,
    coef: float = 1.0,
    batch_size: int = 256,
    reference: str = "real",
    with_noise_floor: bool = True,
    seed: int = 0,
) -> MetricResult:
    """KID (mean ± std over subsets) between real and generated images, with noise floor."""

    def fn(a: torch.Tensor, b: torch.Tensor) -> tuple[float, float]:
        return kernel_inception_distance(a, b, subsets, subset_size, degree, gamma, coef, seed)

    return _paired("kid", real_images, fake_images, features, batch_size, reference, with_noise_floor, seed, fn)


def image_inception_score(
    images: ArrayLike, classifier: FeatureSpec = "digits", splits: int = 10, batch_size: int = 256
) -> MetricResult:
    """Inception Score of ``images`` under ``classifier`` (its ``logits`` for the built-in networks;
    any other module must return logits when called). The IS has no reference set or noise floor."""
    net = resolve_features(classifier)
    logits = _run(net, net.logits if isinstance(net, FeatureNetwork) else net, images, batch_size)
    mean, std = inception_score(logits, splits)
    return MetricResult("is", mean, std, None, None, 0, len(logits), feature_name(net), "none")


def prdc(
    real_images: ArrayLike,
    fake_images: ArrayLike,
    features: FeatureSpec = "digits",
    k: int = 5,
    batch_size: int = 256,
    reference: str = "real",
) -> dict[str, Any]:
    """Precision, recall, density and coverage of generated images, with counts and network name."""
    net = resolve_features(features)
    real = compute_features(net, _as_images(real_images, "real images"), batch_size)
    fake = compute_features(net, _as_images(fake_images, "generated images"), batch_size)
    scores: dict[str, Any] = precision_recall_density_coverage(real, fake, k)
    scores.update(k=k, n_real=len(real), n_fake=len(fake), features=feature_name(net), reference=reference)
    return scores
