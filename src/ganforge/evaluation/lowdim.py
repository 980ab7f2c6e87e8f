"""Metrics for low-dimensional samples (numbers and 2-D points): distances, moments, mode coverage.

Everything here compares a set of *real* samples with a set of *fake* (generated) samples, both in data
units, given as numpy arrays or torch tensors of shape (N,) or (N, D) (trailing dimensions are
flattened). The functions:

* :func:`wasserstein1` — earth mover's distance W1 between the two empirical distributions.
* :func:`ks_statistic` — two-sample Kolmogorov-Smirnov statistic (max over dimensions).
* :func:`moment_errors` — how far the fake mean and standard deviation are from the real ones.
* :func:`mode_coverage` — the mode-collapse protocol of VEEGAN / PacGAN / GDPP on a Gaussian mixture with
  known means: modes captured, fraction of high-quality samples, reverse KL of the mode histogram.
* :func:`lowdim_report` — all of the above as one flat ``dict[str, float]``.

The published toy protocols and their tables are summarised in ``docs/notes/toy_protocols.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import ot
from scipy import stats
from scipy.spatial.distance import cdist

from ganforge.errors import GanforgeError

# numpy array, torch tensor, or anything np.asarray accepts (nested lists of numbers).
ArrayLike = Any

# Iteration cap for the network simplex in ot.emd2. When POT's default cap (100 000) is reached it only
# warns and returns a non-optimal cost; this bound is far above what 2 000 x 2 000 problems need.
_EMD_MAX_ITER = 10_000_000


def as_points(x: ArrayLike, name: str = "samples") -> np.ndarray:
    """Return ``x`` as a finite float64 array of shape (N, D).

    A 1-D input of N numbers becomes (N, 1); inputs with more than two dimensions keep their first axis
    and flatten the rest. Torch tensors are detached and copied to the CPU.
    """
    if hasattr(x, "detach"):  # a torch tensor; avoids importing torch here
        x = x.detach().cpu().double().numpy()
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise GanforgeError(f"{name} must be numbers (an array or tensor), got {type(x).__name__}") from exc
    if arr.ndim == 0:
        raise GanforgeError(f"{name} must be an array of shape (N,) or (N, D), got a single number")
    if arr.size == 0:
        raise GanforgeError(f"{name} is empty (shape {tuple(arr.shape)}); pass at least one sample")
    arr = arr[:, None] if arr.ndim == 1 else arr.reshape(arr.shape[0], -1)
    bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
    if bad:
        raise GanforgeError(
            f"{name} contain {bad} non-finite values (NaN or inf); if these are generated samples the "
            "generator has diverged — evaluate an earlier checkpoint or lower the learning rate"
        )
    return arr


def _pair(real: ArrayLike, fake: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    r, f = as_points(real, "real samples"), as_points(fake, "fake samples")
    if r.shape[1] != f.shape[1]:
        raise GanforgeError(
            f"real samples have {r.shape[1]} dimensions but fake samples have {f.shape[1]}; "
            "compare samples of the same data kind and shape"
        )
    return r, f


def _subsample(x: np.ndarray, max_samples: int, rng: np.random.Generator) -> np.ndarray:
    if x.shape[0] <= max_samples:
        return x
    return x[rng.choice(x.shape[0], size=max_samples, replace=False)]


def wasserstein1(real: ArrayLike, fake: ArrayLike, *, max_samples: int = 2000, seed: int = 0) -> float:
    """Wasserstein-1 (earth mover's) distance between the two empirical distributions.

    ``W1(P, Q) = min over couplings pi of P and Q of  E_(x, y)~pi ||x - y||_2``, with P and Q putting equal
    weight 1/n (1/m) on each real (fake) sample; n and m may differ.

    * D = 1: exact, on all samples, by scipy's closed form ``integral |F_P(t) - F_Q(t)| dt`` (sorting).
    * D > 1: exact optimal-transport cost (POT's ``ot.emd2``, network simplex) on the Euclidean cost matrix.
      Its cost grows with n * m, so each set is first subsampled without replacement to at most
      ``max_samples`` points (seeded by ``seed``, so repeated calls agree). The subsampled value is an
      estimate of the population W1 with an upward bias of order n^(-1/D).
    """
    if max_samples < 1:
        raise GanforgeError(f"max_samples must be at least 1, got {max_samples}")
    r, f = _pair(real, fake)
    if r.shape[1] == 1:
        return float(stats.wasserstein_distance(r[:, 0], f[:, 0]))
    rng = np.random.default_rng(seed)
    r, f = _subsample(r, max_samples, rng), _subsample(f, max_samples, rng)
    cost = cdist(r, f)  # exact Euclidean distances; ot.dist expands |x|^2 - 2xy + |y|^2 and loses ~1e-8
    a = np.full(r.shape[0], 1.0 / r.shape[0])
    b = np.full(f.shape[0], 1.0 / f.shape[0])
    return float(ot.emd2(a, b, cost, numItermax=_EMD_MAX_ITER))


def ks_statistic(real: ArrayLike, fake: ArrayLike) -> float:
    """Two-sample Kolmogorov-Smirnov statistic ``sup_t |F_real(t) - F_fake(t)|`` (scipy ``ks_2samp``).

    For D > 1 the statistic of each coordinate's marginal is computed and the largest is returned
    (a marginal check: it cannot see differences in the joint structure, e.g. correlations).
    """
    r, f = _pair(real, fake)
    return float(max(stats.ks_2samp(r[:, d], f[:, d]).statistic for d in range(r.shape[1])))


def moment_errors(real: ArrayLike, fake: ArrayLike) -> dict[str, Any]:
    """Errors of the first two moments, per dimension, summarised by Euclidean norms.

    ``mean_error = ||mean(fake) - mean(real)||_2`` and ``std_error = ||std(fake) - std(real)||_2`` where mean
    and std are taken per dimension (population std, ddof = 0). Also returns the per-dimension
    ``fake_mean``, ``fake_std``, ``real_mean``, ``real_std`` as lists of floats.
    """
    r, f = _pair(real, fake)
    r_mean, f_mean = r.mean(axis=0), f.mean(axis=0)
    r_std, f_std = r.std(axis=0), f.std(axis=0)
    return {
        "mean_error": float(np.linalg.norm(f_mean - r_mean)),
        "std_error": float(np.linalg.norm(f_std - r_std)),
        "fake_mean": f_mean.tolist(),
        "fake_std": f_std.tolist(),
        "real_mean": r_mean.tolist(),
        "real_std": r_std.tolist(),
    }


@dataclass(frozen=True)
class ModeCoverage:
    """Result of :func:`mode_coverage`.

    ``modes``: mixture components captured; ``num_modes``: K; ``high_quality``: fraction of all samples
    that are high quality; ``kl``: reverse KL of the high-quality mode histogram from uniform (NaN when
    there is no high-quality sample); ``histogram``: high-quality samples assigned to each component.
    """

    modes: int
    num_modes: int
    high_quality: float
    kl: float
    histogram: tuple[int, ...]

    def as_dict(self) -> dict[str, float]:
        """The scalar fields, as floats, under the keys used by :func:`lowdim_report`."""
        return {"modes": float(self.modes), "high_quality": self.high_quality, "kl": self.kl}


def _mixture_std(std: float | ArrayLike, num_modes: int) -> np.ndarray:
    s = np.asarray(std.detach().cpu().double().numpy() if hasattr(std, "detach") else std, dtype=np.float64)
    if s.ndim == 0:
        s = np.full(num_modes, float(s))
    if s.shape != (num_modes,):
        raise GanforgeError(
            f"mixture std must be one number or one per mode ({num_modes}), got shape {tuple(s.shape)}"
        )
    if not np.all(np.isfinite(s) & (s > 0)):
        raise GanforgeError(f"mixture std must be positive and finite, got {s.tolist()}")
    return s


def mode_coverage(
    samples: ArrayLike,
    means: ArrayLike,
    std: float | ArrayLike,
    *,
    hq_sigmas: float = 3.0,
    min_count: int = 1,
) -> ModeCoverage:
    """Mode-collapse metrics on a mixture of isotropic Gaussians with known ``means`` (K, D) and ``std``.

    The protocol of VEEGAN (Srivastava et al., 2017, Table 1), reused by PacGAN (Lin et al., 2018,
    Table 1) and GDPP (Elfeki et al., 2019, Table 1); the papers evaluate 2 500 generated samples:

    * each sample x is assigned to its nearest mode ``k*(x) = argmin_k ||x - mu_k|| / sigma_k`` (the plain
      Euclidean nearest mean when all modes share one std);
    * x is **high quality** when ``||x - mu_k*|| <= hq_sigmas * sigma_k*`` (3 std for the 2-D ring and
      grid; VEEGAN and GDPP use 10 for their 1200-D mixture);
    * ``histogram[k]`` counts the high-quality samples assigned to mode k (low-quality samples are left
      out), and a mode is **captured** when ``histogram[k] >= min_count`` — 1 in all three papers
      ("the number of mixture components whose mean is nearest to at least one high quality sample");
    * ``high_quality = sum_k histogram[k] / N``, over all N samples;
    * ``kl = KL(p || u) = sum_k p_k log(K p_k)`` with ``p = histogram / sum(histogram)`` and u uniform over
      the K modes (natural log, no smoothing, 0 log 0 = 0). This is the "reverse KL" column of PacGAN
      Table 1: its code logs the entropy H(p) of this same histogram and KL(p || u) = log K - H(p). The
      reverse direction stays finite when modes are missed; it is 0 for a perfectly balanced histogram
      and log K when every high-quality sample sits in one mode. NaN when no sample is high quality.

    Real samples are not all "high quality": in D dimensions ||x - mu|| / sigma follows a chi
    distribution, so the expected fraction is :func:`reference_high_quality` (98.89 % for D = 2).
    """
    x = as_points(samples, "samples")
    mu = as_points(means, "mixture means")
    if x.shape[1] != mu.shape[1]:
        raise GanforgeError(
            f"samples have {x.shape[1]} dimensions but the mixture means have {mu.shape[1]}; "
            "pass means of shape (K, D) for D-dimensional samples"
        )
    if not (math.isfinite(hq_sigmas) and hq_sigmas > 0):
        raise GanforgeError(f"hq_sigmas must be a positive number of standard deviations, got {hq_sigmas}")
    if min_count < 1:
        raise GanforgeError(f"min_count must be at least 1, got {min_count}")
    k = mu.shape[0]
    sigma = _mixture_std(std, k)

    scaled = cdist(x, mu) / sigma[None, :]  # (N, K) distances in units of each mode's std
    nearest = scaled.argmin(axis=1)
    good = scaled[np.arange(x.shape[0]), nearest] <= hq_sigmas
    histogram = np.bincount(nearest[good], minlength=k)
    n_good = int(histogram.sum())
    if n_good:
        p = histogram[histogram > 0] / n_good
        kl = float(np.sum(p * np.log(k * p)))
    else:
        kl = math.nan
    return ModeCoverage(
        modes=int(np.count_nonzero(histogram >= min_count)),
        num_modes=k,
        high_quality=n_good / x.shape[0],
        kl=kl,
        histogram=tuple(int(c) for c in histogram),
    )


def reference_high_quality(dim: int, hq_sigmas: float = 3.0) -> float:
    """Fraction of samples from a D-dim isotropic Gaussian within ``hq_sigmas`` std of its mean.

    ``||x - mu||^2 / sigma^2`` is chi-squared with D degrees of freedom, so the fraction is
    ``chi2.cdf(hq_sigmas^2, D)``: 0.9973 for D = 1 and ``1 - exp(-hq_sigmas^2 / 2) = 0.9889`` for D = 2 —
    the score of perfect (real) samples under :func:`mode_coverage`.
    """
    if dim < 1:
        raise GanforgeError(f"dim must be at least 1, got {dim}")
    return float(stats.chi2.cdf(hq_sigmas**2, df=dim))


def lowdim_report(
    real: ArrayLike,
    fake: ArrayLike,
    mixture_means: ArrayLike | None = None,
    mixture_std: float | ArrayLike | None = None,
    *,
    max_samples: int = 2000,
    seed: int = 0,
    hq_sigmas: float = 3.0,
) -> dict[str, float]:
    """All low-dimensional metrics of ``fake`` against ``real`` as one flat dict of floats.

    Keys: ``w1``, ``ks``, ``mean_error``, ``std_error``; when the data is a known Gaussian mixture (both
    ``mixture_means`` and ``mixture_std`` given) also ``modes``, ``high_quality`` and ``kl`` from
    :func:`mode_coverage` on the fake samples.
    """
    if (mixture_means is None) != (mixture_std is None):
        raise GanforgeError(
            "lowdim_report needs both mixture_means and mixture_std for mode coverage, or neither"
        )
    r, f = _pair(real, fake)
    moments = moment_errors(r, f)
    report = {
        "w1": wasserstein1(r, f, max_samples=max_samples, seed=seed),
        "ks": ks_statistic(r, f),
        "mean_error": moments["mean_error"],
        "std_error": moments["std_error"],
    }
    if mixture_means is not None:
        report.update(mode_coverage(f, mixture_means, mixture_std, hq_sigmas=hq_sigmas).as_dict())
    return report
