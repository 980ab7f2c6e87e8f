"""Image metrics: formulas against independent references, then behaviour on real digits."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.linalg
import torch
from torch import nn

from ganforge.data.images import digits_images
from ganforge.errors import GanforgeError
from ganforge.evaluation import image_metrics as im
from ganforge.nets.features import load_digits_classifier


class _Identity(nn.Module):
    """A 'feature network' that returns its input: lets torchmetrics' metrics run on given features."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.num_features = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def _gaussian_sets(n_a: int, n_b: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mix_a, mix_b = rng.normal(size=(d, d)), rng.normal(size=(d, d)) * 0.7
    a = rng.normal(size=(n_a, d)) @ mix_a + 0.3
    b = rng.normal(size=(n_b, d)) @ mix_b - 0.2
    return a, b


def _fid_sqrtm(a: np.ndarray, b: np.ndarray) -> float:
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(s_a @ s_b).real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a + s_b - 2 * root))


@pytest.fixture(scope="module")
def digits() -> torch.Tensor:
    return digits_images()[0]


@pytest.fixture(scope="module")
def classifier() -> nn.Module:
    return load_digits_classifier()


# ---------------------------------------------------------------------------------------------- FID


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_frechet_distance_matches_scipy_sqrtm(seed: int) -> None:
    a, b = _gaussian_sets(400, 300, 12, seed)
    ours, ref = im.frechet_distance(a, b), _fid_sqrtm(a, b)
    assert ref > 1.0
    assert ours == pytest.approx(ref, rel=1e-6)


def test_frechet_distance_matches_torchmetrics() -> None:
    from torchmetrics.image.fid import FrechetInceptionDistance

    a, b = _gaussian_sets(300, 250, 10, 5)
    metric = FrechetInceptionDistance(feature=_Identity(10))
    metric.update(torch.from_numpy(a), real=True)
    metric.update(torch.from_numpy(b), real=False)
    assert im.frechet_distance(a, b) == pytest.approx(float(metric.compute()), rel=1e-6)


def test_frechet_distance_closed_form_for_diagonal_gaussians() -> None:
    # Commuting (diagonal) covariances: d^2 = |mu_a - mu_b|^2 + sum_i (sigma_a,i - sigma_b,i)^2.
    mu_a, mu_b = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    sd_a, sd_b = np.array([1.0, 2.0, 0.5]), np.array([3.0, 1.0, 0.5])
    expected = 1.0 + 4.0 + (4.0 + 1.0 + 0.0)
    got = im.gaussian_frechet_distance(mu_a, np.diag(sd_a**2), mu_b, np.diag(sd_b**2))
    assert got == pytest.approx(expected, rel=1e-12)


def test_frechet_distance_is_zero_on_identical_sets_and_handles_singular_covariance() -> None:
    a, _ = _gaussian_sets(50, 2, 8, 3)
    assert im.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    few = a[:5]  # 5 samples in 8 dimensions: singular covariances
    value = im.frechet_distance(few, a[5:10] + 1.0)
    assert math.isfinite(value) and value > 0


@pytest.mark.parametrize(("n_a", "n_b", "dim"), [(30, 50, 100), (8, 6, 300)])
def test_frechet_distance_below_the_feature_dimension_equals_the_full_formula(n_a: int, n_b: int, dim: int) -> None:
    """Below the feature dimension the distance comes from the N_a x N_b SVD (nuclear norm of A^T B); it must
    equal the d x d formula."""
    a, b = _gaussian_sets(n_a, n_b, dim, 7)
    full = im.gaussian_frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    assert full > 1.0
    assert im.frechet_distance(a, b) == pytest.approx(full, rel=1e-5)
    assert im.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)


def test_intra_fid_is_the_mean_of_per_class_fids_and_sees_a_swapped_label() -> None:
    """Two classes far apart: generated sets that match per class score near their floor; the same images with
    labels swapped keep the pooled FID and get a large intra-FID."""
    rng = np.random.default_rng(0)
    real = np.concatenate([rng.normal(0.0, 1.0, (200, 4)), rng.normal(5.0, 1.0, (200, 4))])
    real_y = np.repeat([0, 1], 200)
    fake = np.concatenate([rng.normal(0.0, 1.0, (150, 4)), rng.normal(5.0, 1.0, (150, 4))])
    fake_y = np.repeat([0, 1], 150)
    right = im.intra_frechet_distance(real, real_y, fake, fake_y, splits=3)
    expected = np.mean([im.frechet_distance(real[real_y == k], fake[fake_y == k]) for k in (0, 1)])
    assert right["intra_fid"] == pytest.approx(expected, rel=1e-12)
    assert right["n_intra_fid_classes"] == 2
    assert right["intra_fid_matched"] < 3 * right["intra_fid_noise_floor"]
    swapped = im.intra_frechet_distance(real, real_y, fake, 1 - fake_y, splits=3)
    assert swapped["intra_fid"] > 40.0 > 10 * right["intra_fid"]  # |mu_0 - mu_1|^2 = 4 x 25 = 100
    assert im.frechet_distance(real, fake) < 1.0  # the pooled FID cannot tell


def test_intra_fid_leaves_out_small_classes_and_fails_when_none_is_left() -> None:
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(60, 3)), rng.normal(size=(40, 3))
    real_y = np.array([0] * 30 + [1] * 30)
    fake_y = np.array([0] * 35 + [1] * 5)  # class 1: 5 generated images, below the 10 needed
    assert im.intra_frechet_distance(real, real_y, fake, fake_y, splits=2)["n_intra_fid_classes"] == 1
    assert im.intra_fid_classes(real_y, fake_y) == [0]
    with pytest.raises(GanforgeError, match="more images per class"):
        im.intra_frechet_distance(real, real_y, fake[:8], fake_y[:8], splits=2)
    with pytest.raises(GanforgeError, match="one label per image"):
        im.intra_frechet_distance(real, real_y[:10], fake, fake_y)


def test_feature_errors_are_one_line() -> None:
    with pytest.raises(GanforgeError, match="different dimensions"):
        im.frechet_distance(np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(GanforgeError, match=r"\(N, d\)"):
        im.frechet_distance(np.zeros(4), np.zeros((4, 2)))
    with pytest.raises(GanforgeError, match="NaN"):
        im.frechet_distance(np.full((4, 2), np.nan), np.zeros((4, 2)))


# ---------------------------------------------------------------------------------------------- KID


def _mmd2_direct(x: np.ndarray, y: np.ndarray) -> float:
    d, m = x.shape[1], len(x)

    def k(u: np.ndarray, v: np.ndarray) -> float:
        return (u @ v / d + 1.0) ** 3

    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
    return (xx + yy) / (m * (m - 1)) - 2 * xy / m**2


def test_kid_matches_direct_formula_when_subset_is_whole_set() -> None:
    a, b = _gaussian_sets(30, 30, 4, 7)
    mean, std = im.kernel_inception_distance(a, b, subsets=3, subset_size=1000)
    assert mean == pytest.approx(_mmd2_direct(a, b), rel=1e-10)
    assert std == pytest.approx(0.0, abs=1e-9)  # every subset is the whole set


def test_kid_matches_torchmetrics_with_same_subsets() -> None:
    from torchmetrics.image.kid import KernelInceptionDistance

    a, b = _gaussian_sets(120, 90, 6, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        metric = KernelInceptionDistance(feature=_Identity(6), subsets=7, subset_size=40)
    metric.update(torch.from_numpy(a), real=True)
    metric.update(torch.from_numpy(b), real=False)
    torch.manual_seed(11)  # torchmetrics draws subsets from the global generator, in the same order
    ref_mean, ref_std = metric.compute()
    mean, std = im.kernel_inception_distance(a, b, subsets=7, subset_size=40, seed=11)
    assert mean == pytest.approx(float(ref_mean), rel=1e-9)
    assert std == pytest.approx(float(ref_std), rel=1e-9)


def test_kid_is_near_zero_for_same_distribution_and_positive_for_shift() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(400, 5)), rng.normal(size=(400, 5))
    same, same_std = im.kernel_inception_distance(a, b, subsets=20, subset_size=200)
    shifted, _ = im.kernel_inception_distance(a, b + 1.0, subsets=20, subset_size=200)
    assert abs(same) < 3 * same_std + 1e-3
    assert shifted > 20 * abs(same)


# ----------------------------------------------------------------------------------------------- IS


def _is_direct(logits: np.ndarray, splits: int) -> tuple[float, float]:
    n = len(logits)
    scores = []
    for s in range(splits):
        part = logits[n * s // splits : n * (s + 1) // splits]
        p = np.exp(part - part.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        marginal = p.mean(0)
        kl = np.mean([sum(pi * math.log(pi / mj) for pi, mj in zip(row, marginal, strict=True)) for row in p])
        scores.append(math.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))


def test_inception_score_matches_direct_formula() -> None:
    logits = np.random.default_rng(3).normal(scale=3.0, size=(103, 7))
    mean, std = im.inception_score(logits, splits=4)
    ref_mean, ref_std = _is_direct(logits, 4)
    assert mean == pytest.approx(ref_mean, rel=1e-10)
    assert std == pytest.approx(ref_std, rel=1e-8)


def test_inception_score_matches_torchmetrics_single_split() -> None:
    from torchmetrics.image.inception import InceptionScore

    logits = torch.from_numpy(np.random.default_rng(4).normal(scale=2.0, size=(64, 5)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        metric = InceptionScore(feature=_Identity(5), splits=1)
    metric.update(logits)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # its std over a single split is undefined
        reference = float(metric.compute()[0])
    assert im.inception_score(logits, splits=1)[0] == pytest.approx(reference, rel=1e-9)


def test_inception_score_limits() -> None:
    assert im.inception_score(np.zeros((20, 10)), splits=2)[0] == pytest.approx(1.0)
    confident = np.tile(np.eye(10) * 50.0, (3, 1))  # every class equally often, each predicted surely
    assert im.inception_score(confident, splits=1)[0] == pytest.approx(10.0, rel=1e-6)
    with pytest.raises(GanforgeError, match="splits"):
        im.inception_score(np.zeros((3, 4)), splits=5)


# --------------------------------------------------------------------------------------------- PRDC


def test_prdc_on_hand_computed_points() -> None:
    # 1-D, k = 1. Real 0, 1, 2, 10: nearest-other distances r = 1, 1, 1, 8 -> balls [-1,1] [0,2] [1,3]
    # [2,18]. Fake 0.5, 2.5, 30: nearest-other s = 2, 2, 27.5 -> balls [-1.5,2.5] [0.5,4.5] [2.5,57.5].
    real = np.array([[0.0], [1.0], [2.0], [10.0]])
    fake = np.array([[0.5], [2.5], [30.0]])
    got = im.precision_recall_density_coverage(real, fake, k=1)
    # precision: 0.5 in balls of 0 and 1; 2.5 in balls of 2 and 10; 30 in none -> 2/3
    # recall: 0, 1, 2 in fake balls (2 is in [-1.5, 2.5]), 10 in [2.5, 57.5] -> 4/4
    # density: (2 + 2 + 0) / (k * M) = 4/3
    # coverage: nearest fake to 0, 1, 2, 10 is 0.5, 0.5, 0.5, 7.5; within r = 1, 1, 1, 8 -> 4/4
    assert got == pytest.approx({"precision": 2 / 3, "recall": 1.0, "density": 4 / 3, "coverage": 1.0})


def test_prdc_k2_and_chunking_agree_with_unchunked() -> None:
    # 2-D, k = 2, by hand: real square corners (0,0),(1,0),(0,1),(1,1): 2nd-nearest other distance is 1
    # for each. Fake (0.5,0.5) lies within 0.707 of all four -> density 4/(2*2); fake (3,3) in none.
    real = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    fake = np.array([[0.5, 0.5], [3.0, 3.0], [3.0, 4.0]])
    got = im.precision_recall_density_coverage(real, fake, k=2)
    assert got["precision"] == pytest.approx(1 / 3)
    assert got["density"] == pytest.approx(4 / 6)
    assert got["coverage"] == pytest.approx(1.0)
    # fake 2nd-nearest radii: (0.5,.5)->sqrt(2*2.5^2)=3.54 covers all reals; recall 1
    assert got["recall"] == pytest.approx(1.0)
    a, b = _gaussian_sets(70, 50, 3, 9)
    assert im.precision_recall_density_coverage(a, b, k=3, chunk=7) == pytest.approx(
        im.precision_recall_density_coverage(a, b, k=3)
    )


def test_prdc_identical_sets_are_perfect_and_disjoint_sets_zero() -> None:
    a, _ = _gaussian_sets(60, 2, 3, 10)
    same = im.precision_recall_density_coverage(a, a, k=3)
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0
    far = im.precision_recall_density_coverage(a, a + 1e6, k=3)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


# ------------------------------------------------------------------------------------ image metrics


def test_fid_of_real_halves_is_far_below_real_vs_noise(digits: torch.Tensor, classifier: nn.Module) -> None:
    gen = torch.Generator().manual_seed(0)
    noise = torch.rand(digits.shape, generator=gen)
    result = im.fid(digits, noise, classifier, reference="digits/all")
    assert result.metric == "fid" and result.features == "digits" and result.reference == "digits/all"
    assert result.n_real == result.n_fake == len(digits)
    assert result.noise_floor_n == len(digits) // 2
    assert result.noise_floor is not None and result.noise_floor < result.value / 20
    assert result.noise_floor == pytest.approx(im.noise_floor("fid", digits, features=classifier, seed=0))
    assert set(result.to_dict()) >= {"value", "noise_floor", "n_real", "n_fake", "features", "reference"}


def test_fid_decreases_as_noise_on_real_digits_shrinks(digits: torch.Tensor, classifier: nn.Module) -> None:
    gen = torch.Generator().manual_seed(1)
    eps = torch.randn(digits.shape, generator=gen)
    values = [
        im.fid(digits, (digits + s * eps).clamp(0, 1), classifier, with_noise_floor=False).value
        for s in (0.4, 0.2, 0.1, 0.05)
    ]
    assert all(hi > lo for hi, lo in zip(values, values[1:], strict=False)), values
    assert values[0] > 10 * values[-1]


def test_kid_and_is_on_images(digits: torch.Tensor, classifier: nn.Module) -> None:
    gen = torch.Generator().manual_seed(2)
    noise = torch.rand(digits.shape, generator=gen)
    result = im.kid(digits, noise, classifier, subsets=10, subset_size=300)
    assert result.std is not None and result.noise_floor is not None
    assert result.value > 10 * abs(result.noise_floor)
    real_is = im.image_inception_score(digits, classifier, splits=5)
    noise_is = im.image_inception_score(noise, classifier, splits=5)
    assert real_is.value > 8.0 > noise_is.value  # 10 balanced, confidently classified classes vs noise


def test_prdc_on_images_and_user_feature_network(digits: torch.Tensor) -> None:
    flatten = nn.Flatten()  # any module returning (N, d) works as a feature network
    scores = im.prdc(digits[:600], digits[600:1200], flatten, k=5)
    assert scores["features"] == "Flatten" and scores["n_real"] == scores["n_fake"] == 600
    blank = im.prdc(digits[:600], torch.zeros(50, 1, 8, 8), flatten, k=5)
    assert scores["precision"] > 0.8 and scores["coverage"] > 0.5
    assert blank["coverage"] < 0.05


def test_image_inputs_are_checked(digits: torch.Tensor, classifier: nn.Module) -> None:
    with pytest.raises(GanforgeError, match=r"data units \[0, 1\]"):
        im.fid(digits, digits * 2 - 1, classifier)
    with pytest.raises(GanforgeError, match=r"\(N, C, H, W\)"):
        im.fid(digits, digits[:, 0], classifier)
    with pytest.raises(GanforgeError, match="unknown feature network 'digit'.*did you mean 'digits'"):
        im.fid(digits, digits, "digit")
    with pytest.raises(GanforgeError, match="noise floor"):
        im.fid(digits[:3], digits[:3], classifier)
