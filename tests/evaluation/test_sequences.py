import math
from pathlib import Path

import numpy as np
import pytest
import torch

from ganforge.data.sequences import sine_sequences
from ganforge.errors import GanforgeError
from ganforge.evaluation.sequences import (
    discriminative_score,
    discriminative_score_repeats,
    embedding_plot,
    predictive_score,
    predictive_score_repeats,
)


@pytest.fixture(scope="module")
def real() -> torch.Tensor:
    return torch.from_numpy(sine_sequences(400, 24, 5, np.random.default_rng(1)))


@pytest.fixture(scope="module")
def same_distribution() -> torch.Tensor:
    return torch.from_numpy(sine_sequences(400, 24, 5, np.random.default_rng(2)))


@pytest.fixture(scope="module")
def noise() -> torch.Tensor:
    return torch.rand(400, 24, 5, generator=torch.Generator().manual_seed(0))


def test_discriminative_score_near_zero_for_identical_data(real: torch.Tensor) -> None:
    score = discriminative_score(real, real, iterations=50, batch_size=32, seed=0)
    assert 0.0 <= score < 0.1


def test_discriminative_score_near_half_for_obviously_different_data(
    real: torch.Tensor, noise: torch.Tensor
) -> None:
    score = discriminative_score(real, noise, iterations=400, batch_size=32, seed=0)
    assert score > 0.4


def test_discriminative_score_is_deterministic_per_seed(real: torch.Tensor, noise: torch.Tensor) -> None:
    kwargs = {"iterations": 20, "batch_size": 32}
    a = discriminative_score(real, noise, seed=5, **kwargs)
    assert a == discriminative_score(real.numpy(), noise.numpy(), seed=5, **kwargs)


def test_predictive_score_lower_for_matching_data(
    real: torch.Tensor, same_distribution: torch.Tensor, noise: torch.Tensor
) -> None:
    matching = predictive_score(real, same_distribution, iterations=100, batch_size=32, seed=0)
    garbage = predictive_score(real, noise, iterations=100, batch_size=32, seed=0)
    assert math.isfinite(matching) and math.isfinite(garbage)
    assert 0.0 < matching < garbage
    assert garbage - matching > 0.03


def test_repeats_give_mean_and_std(real: torch.Tensor, same_distribution: torch.Tensor) -> None:
    kwargs = {"iterations": 10, "batch_size": 32}
    mean, std = predictive_score_repeats(real, same_distribution, repeats=3, seed=0, **kwargs)
    scores = [predictive_score(real, same_distribution, seed=s, **kwargs) for s in range(3)]
    assert mean == pytest.approx(np.mean(scores)) and std == pytest.approx(np.std(scores))
    assert std > 0  # different seeds give different classifiers
    d_mean, d_std = discriminative_score_repeats(real[:50], same_distribution[:50], repeats=2, **kwargs)
    assert 0.0 <= d_mean <= 0.5 and d_std >= 0.0


def test_data_outside_unit_range_is_min_max_normalised(real: torch.Tensor, noise: torch.Tensor) -> None:
    kwargs = {"iterations": 30, "batch_size": 32, "seed": 0}
    in_units = predictive_score(real, noise, **kwargs)
    # an affine change of units applied to both sets: normalising by the real min-max undoes it exactly
    lo = real.reshape(-1, 5).amin(0)
    width = real.reshape(-1, 5).amax(0) - lo
    shifted = predictive_score(real * 100 + 7, noise * 100 + 7, **kwargs)
    normalised = predictive_score((real - lo) / width, (noise - lo) / width, **kwargs)
    assert shifted == pytest.approx(normalised, abs=1e-4)
    assert shifted != pytest.approx(in_units, abs=1e-4)  # sines already in [0, 1] are used as they are


def test_single_feature_predicts_its_own_next_step() -> None:
    x = torch.from_numpy(sine_sequences(60, 10, 1, np.random.default_rng(0)))
    assert math.isfinite(predictive_score(x, x, iterations=5, batch_size=16))


def test_metric_input_errors(real: torch.Tensor) -> None:
    with pytest.raises(GanforgeError, match=r"\(T, F\)"):
        discriminative_score(real, real[:, :10], iterations=1)
    with pytest.raises(GanforgeError, match="3-D"):
        predictive_score(real[0], real, iterations=1)
    bad = real.clone()
    bad[0, 0, 0] = float("nan")
    with pytest.raises(GanforgeError, match="NaN"):
        predictive_score(real, bad, iterations=1)


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_embedding_plot_writes_png(
    tmp_path: Path, real: torch.Tensor, noise: torch.Tensor, method: str
) -> None:
    out = embedding_plot(real[:60], noise[:60], tmp_path / "plots" / f"{method}.png", method=method)
    assert out.is_file() and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(GanforgeError, match="'umap' is unknown"):
        embedding_plot(real, noise, tmp_path / "x.png", method="umap")  # type: ignore[arg-type]


def test_scores_train_their_networks_even_when_called_inside_no_grad(
    real: torch.Tensor, noise: torch.Tensor
) -> None:
    # evaluation during training runs under torch.no_grad(); the post-hoc networks must still learn
    kwargs = {"iterations": 20, "batch_size": 32, "seed": 3}
    with torch.no_grad():
        inside = (discriminative_score(real, noise, **kwargs), predictive_score(real, noise, **kwargs))
    assert inside == (discriminative_score(real, noise, **kwargs), predictive_score(real, noise, **kwargs))
