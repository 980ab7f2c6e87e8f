"""Tests for the low-dimensional metrics: hand-computed distances, scipy agreement, the mode protocol."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from scipy import stats

from ganforge.errors import GanforgeError
from ganforge.evaluation.lowdim import (
    ModeCoverage,
    as_points,
    ks_statistic,
    lowdim_report,
    mode_coverage,
    moment_errors,
    reference_high_quality,
    wasserstein1,
)

GRID_MEANS = np.array(list(itertools.product(range(-4, 5, 2), repeat=2)), dtype=float)
RING_MEANS = np.stack([np.cos(2 * np.pi * np.arange(8) / 8), np.sin(2 * np.pi * np.arange(8) / 8)], axis=1)


def sample_mixture(means: np.ndarray, std: float, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    comp = rng.integers(0, len(means), size=n)
    return means[comp] + std * rng.normal(size=(n, means.shape[1]))


# ---------------------------------------------------------------- Wasserstein-1


def test_w1_1d_shift_equals_shift() -> None:
    x = np.random.default_rng(0).normal(size=500)
    assert wasserstein1(x, x + 0.7) == pytest.approx(0.7, abs=1e-12)
    assert wasserstein1(x, x) == 0.0


def test_w1_1d_hand_computed_unequal_sizes() -> None:
    # P = {0, 2} (1/2 each), Q = {1}: every unit of mass moves 1.
    assert wasserstein1([0.0, 2.0], [1.0]) == pytest.approx(1.0)
    # P = {0, 1, 3}, Q = {5, 6, 8}: sorted pairing, each moves 5.
    assert wasserstein1([[0.0], [1.0], [3.0]], [[5.0], [6.0], [8.0]]) == pytest.approx(5.0)


def test_w1_2d_translation_gives_shift_norm() -> None:
    x = np.random.default_rng(1).normal(size=(60, 2))
    assert wasserstein1(x, x + np.array([3.0, 4.0])) == pytest.approx(5.0, abs=1e-9)


def test_w1_2d_finds_optimal_not_index_pairing() -> None:
    real = [[0.0, 0.0], [3.0, 0.0]]
    fake = [[3.0, 1.0], [0.0, 1.0]]  # index pairing would cost sqrt(10) each
    assert wasserstein1(real, fake) == pytest.approx(1.0)


def test_w1_2d_unequal_sizes() -> None:
    # all mass at the origin spreads to (1, 0) and (3, 0) half each: (1 + 3) / 2
    assert wasserstein1([[0.0, 0.0]], [[1.0, 0.0], [3.0, 0.0]]) == pytest.approx(2.0)


def test_w1_subsampling_is_seeded_and_close_to_full() -> None:
    rng = np.random.default_rng(2)
    real, fake = rng.normal(size=(400, 2)), rng.normal(size=(400, 2)) + [1.0, 0.0]
    full = wasserstein1(real, fake, max_samples=400)
    sub_a = wasserstein1(real, fake, max_samples=200, seed=3)
    assert sub_a == wasserstein1(real, fake, max_samples=200, seed=3)
    assert sub_a != wasserstein1(real, fake, max_samples=200, seed=4)
    assert sub_a == pytest.approx(full, abs=0.2)


def test_w1_accepts_torch_tensors() -> None:
    x = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    assert wasserstein1(x, x + torch.tensor([0.0, 2.0])) == pytest.approx(2.0, abs=1e-6)


# ---------------------------------------------------------------- Kolmogorov-Smirnov


def test_ks_matches_scipy_and_is_zero_for_identical() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=300), rng.normal(loc=0.3, size=200)
    assert ks_statistic(a, b) == pytest.approx(stats.ks_2samp(a, b).statistic)
    assert ks_statistic(a, a) == 0.0
    assert ks_statistic([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]) == 1.0


def test_ks_is_max_over_dimensions() -> None:
    rng = np.random.default_rng(4)
    real = rng.normal(size=(300, 2))
    fake = np.column_stack([real[:, 0], real[:, 1] + 1.0])  # only dimension 1 differs
    expected = stats.ks_2samp(real[:, 1], fake[:, 1]).statistic
    assert expected > 0.3
    assert ks_statistic(real, fake) == pytest.approx(expected)


# ---------------------------------------------------------------- moments


def test_moment_errors_hand_computed() -> None:
    real = [[0.0, 0.0], [2.0, 2.0]]  # mean (1, 1), std (1, 1)
    fake = [[3.0, 1.0], [3.0, 1.0]]  # mean (3, 1), std (0, 0)
    m = moment_errors(real, fake)
    assert m["mean_error"] == pytest.approx(2.0)
    assert m["std_error"] == pytest.approx(math.sqrt(2.0))
    assert m["fake_mean"] == [3.0, 1.0] and m["fake_std"] == [0.0, 0.0]
    assert m["real_mean"] == [1.0, 1.0] and m["real_std"] == [1.0, 1.0]


# ---------------------------------------------------------------- mode coverage


def test_all_samples_at_the_means_cover_every_mode() -> None:
    cov = mode_coverage(np.repeat(GRID_MEANS, 4, axis=0), GRID_MEANS, 0.05)
    assert isinstance(cov, ModeCoverage)
    assert (cov.modes, cov.num_modes, cov.high_quality) == (25, 25, 1.0)
    assert cov.kl == pytest.approx(0.0, abs=1e-12)
    assert cov.histogram == (4,) * 25


def test_collapse_to_one_mode_gives_log_k() -> None:
    samples = np.tile(RING_MEANS[3], (100, 1)) + 0.005
    cov = mode_coverage(samples, RING_MEANS, 0.01)
    assert cov.modes == 1 and cov.high_quality == 1.0
    assert cov.kl == pytest.approx(math.log(8))
    assert cov.histogram[3] == 100 and sum(cov.histogram) == 100


def test_half_the_modes_gives_log_two() -> None:
    samples = np.repeat(RING_MEANS[:4], 10, axis=0)
    cov = mode_coverage(samples, RING_MEANS, 0.01)
    assert cov.modes == 4 and cov.kl == pytest.approx(math.log(2))


def test_far_away_samples_are_not_high_quality() -> None:
    cov = mode_coverage(np.full((50, 2), 100.0), GRID_MEANS, 0.05)
    assert (cov.modes, cov.high_quality, sum(cov.histogram)) == (0, 0.0, 0)
    assert math.isnan(cov.kl)


def test_high_quality_threshold_and_low_quality_excluded_from_histogram() -> None:
    mean = GRID_MEANS[12]  # (0, 0)
    inside = mean + [2.99 * 0.05, 0.0]
    outside = mean + [0.0, 3.01 * 0.05]
    cov = mode_coverage([inside, outside, GRID_MEANS[0]], GRID_MEANS, 0.05)
    assert cov.high_quality == pytest.approx(2 / 3)
    assert cov.histogram[12] == 1 and cov.histogram[0] == 1 and cov.modes == 2
    assert cov.kl == pytest.approx(math.log(25 / 2))  # two HQ samples on two modes
    assert mode_coverage([inside], GRID_MEANS, 0.05, hq_sigmas=2.0).high_quality == 0.0


def test_min_count_sets_how_many_samples_capture_a_mode() -> None:
    samples = np.concatenate([np.repeat(RING_MEANS[:1], 5, axis=0), RING_MEANS[1:2]])
    assert mode_coverage(samples, RING_MEANS, 0.01).modes == 2
    assert mode_coverage(samples, RING_MEANS, 0.01, min_count=2).modes == 1


def test_per_mode_std_uses_normalised_distance() -> None:
    means = np.array([[0.0], [1.0]])
    # 0.4 from mode 0 (std 0.1 -> 4 sigma) and 0.6 from mode 1 (std 1 -> 0.6 sigma): belongs to mode 1
    cov = mode_coverage([[0.4]], means, [0.1, 1.0])
    assert cov.histogram == (0, 1) and cov.high_quality == 1.0


@pytest.mark.parametrize(("means", "std"), [(GRID_MEANS, 0.05), (RING_MEANS, 0.01)])
def test_real_samples_score_the_chi_distribution_fraction(means: np.ndarray, std: float) -> None:
    """2 500 real samples (the papers' evaluation size): HQ ~ 1 - exp(-4.5) = 98.89 %, all modes, KL ~ 0."""
    expected = reference_high_quality(2)
    assert expected == pytest.approx(1 - math.exp(-4.5))
    n = 2500
    se = math.sqrt(expected * (1 - expected) / n)
    cov = mode_coverage(sample_mixture(means, std, n, seed=5), means, std)
    assert abs(cov.high_quality - expected) < 4 * se
    assert cov.modes == len(means)
    assert cov.kl < 0.03  # multinomial noise alone gives about (K - 1) / (2 N)


def test_reference_high_quality_one_dimension() -> None:
    assert reference_high_quality(1) == pytest.approx(stats.norm.cdf(3) - stats.norm.cdf(-3))


def test_mode_coverage_accepts_torch() -> None:
    means = torch.tensor(RING_MEANS, dtype=torch.float32)
    cov = mode_coverage(means.repeat(2, 1), means, 0.01)
    assert cov.modes == 8 and cov.kl == pytest.approx(0.0, abs=1e-9)


# ---------------------------------------------------------------- report and errors


def test_lowdim_report_keys_and_values() -> None:
    real = sample_mixture(GRID_MEANS, 0.05, 600, seed=6)
    fake = np.repeat(GRID_MEANS[:1], 600, axis=0)  # collapsed generator
    rep = lowdim_report(real, fake, GRID_MEANS, 0.05)
    assert set(rep) == {"w1", "ks", "mean_error", "std_error", "modes", "high_quality", "kl"}
    assert all(isinstance(v, float) for v in rep.values())
    assert rep["modes"] == 1.0 and rep["kl"] == pytest.approx(math.log(25))
    assert rep["w1"] > 2.0 and rep["ks"] > 0.5
    plain = lowdim_report(real, real)
    assert set(plain) == {"w1", "ks", "mean_error", "std_error"}
    assert plain["w1"] == pytest.approx(0.0, abs=1e-12) and plain["ks"] == 0.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: wasserstein1(np.zeros((3, 2)), np.zeros((3, 3))), "dimensions"),
        (lambda: ks_statistic([], [1.0]), "empty"),
        (lambda: wasserstein1([1.0, float("nan")], [1.0]), "non-finite"),
        (lambda: wasserstein1([1.0], [1.0], max_samples=0), "max_samples"),
        (lambda: mode_coverage(np.zeros((3, 2)), GRID_MEANS, 0.0), "positive"),
        (lambda: mode_coverage(np.zeros((3, 2)), GRID_MEANS, [0.1, 0.1]), "one per mode"),
        (lambda: mode_coverage(np.zeros((3, 3)), GRID_MEANS, 0.05), "dimensions"),
        (lambda: mode_coverage(np.zeros((3, 2)), GRID_MEANS, 0.05, min_count=0), "min_count"),
        (lambda: lowdim_report([1.0], [1.0], mixture_means=[[0.0]]), "both"),
        (lambda: as_points(3.0), "single number"),
    ],
)
def test_user_errors_are_one_line_ganforge_errors(call, message: str) -> None:  # noqa: ANN001
    with pytest.raises(GanforgeError, match=message) as info:
        call()
    assert "\n" not in str(info.value)
