"""Built-in 1-D and 2-D distributions: the notes' numbers and the standard mode-coverage benchmarks.

Each is a :class:`~ganforge.data.base.DistributionSource` drawing fresh samples per batch from a torch
``Generator``, so runs are repeatable and resumable. Mixtures return the component index as label ``y``
and record their means and std for mode-coverage evaluation.

Their settings are checked when the source is made, whether a recipe names it (``data.modes``, by
``build_source``) or Python calls it (``gf.data.ring8(modes=0)``, by :func:`checked_python_call`), with the
same rules: the annotations, ``Field`` bounds included, and :func:`ganforge.config.check_value`.
"""

from __future__ import annotations

import math
from typing import Annotated

import numpy as np
import torch
from pydantic import Field

from ganforge.data.base import DistributionSource, Mixture
from ganforge.data.registry import checked_python_call, register_source
from ganforge.errors import GanforgeError

Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]


@checked_python_call
@register_source("uniform")
def uniform(low: float = 0.0, high: float = 1.0, dim: int = 1) -> DistributionSource:
    """Uniform numbers on [low, high) — seed 000's "random numbers between 0 and 1"."""
    if not high > low:  # names the setting both ways: data.high in a recipe, high= in Python
        raise GanforgeError(f"uniform: high ({high:g}) must be greater than low ({low:g}); swap them or widen "
                            "the range")

    def draw(n: int, rng: torch.Generator) -> tuple[torch.Tensor, None]:
        return low + (high - low) * torch.rand(n, dim, generator=rng), None

    return DistributionSource(
        kind="numbers" if dim == 1 else "points",
        sample_shape=(dim,),
        name="uniform",
        draw=draw,
        info={"low": low, "high": high},
    )


@checked_python_call
@register_source("normal")
def normal(mean: float = 10.0, std: Positive = 1.0, dim: int = 1) -> DistributionSource:
    """Gaussian numbers N(mean, std^2) — seed 002's "numbers around 10"."""

    def draw(n: int, rng: torch.Generator) -> tuple[torch.Tensor, None]:
        return mean + std * torch.randn(n, dim, generator=rng), None

    return DistributionSource(
        kind="numbers" if dim == 1 else "points",
        sample_shape=(dim,),
        name="normal",
        draw=draw,
        info={"mean": mean, "std": std},
    )


def _gaussian_mixture(
    name: str, means: torch.Tensor, std: float, weights: torch.Tensor | None = None
) -> DistributionSource:
    """Mixture of isotropic Gaussians with shared ``std``; label = component index."""
    k, dim = means.shape
    probs = torch.full((k,), 1.0 / k) if weights is None else weights / weights.sum()

    def draw(n: int, rng: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        comp = torch.multinomial(probs, n, replacement=True, generator=rng)
        return means[comp] + std * torch.randn(n, dim, generator=rng), comp

    return DistributionSource(
        kind="numbers" if dim == 1 else "points",
        sample_shape=(dim,),
        name=name,
        num_classes=k,
        mixture=Mixture(means, std),
        draw=draw,
    )


def ring_means(modes: int = 8, radius: float = 1.0, endpoint: bool = False) -> torch.Tensor:
    """Means of ``modes`` components on a circle: (r cos θ_k, r sin θ_k) with θ_k = 2πk/K, k = 0..K-1.

    ``endpoint=True`` reproduces the GDPP / Unrolled-GAN demo code, θ_k = ``linspace(0, 2π, K)``: the first
    and last means coincide (up to ~2.4e-16), so there are only K - 1 distinct clusters, the doubled one
    carrying weight 2/K (their code uses (sin θ, cos θ), a mirror image of this ring).
    """
    if endpoint:
        angles = torch.linspace(0, 2 * math.pi, modes, dtype=torch.float64)
    else:
        angles = torch.arange(modes, dtype=torch.float64) * (2 * math.pi / modes)
    return (radius * torch.stack([angles.cos(), angles.sin()], dim=1)).float()


def grid_means(side: int = 5, spacing: float = 2.0) -> torch.Tensor:
    """Means on a centred square grid; side 5, spacing 2 gives {-4, -2, 0, 2, 4}^2."""
    ticks = (torch.arange(side, dtype=torch.float32) - (side - 1) / 2) * spacing
    gx, gy = torch.meshgrid(ticks, ticks, indexing="ij")
    return torch.stack([gx.flatten(), gy.flatten()], dim=1)


@checked_python_call
@register_source("mixture1d")
def mixture1d(
    means: Annotated[list[float], Field(min_length=1)] = (-2.0, 2.0),  # type: ignore[assignment]
    std: Positive = 0.5,
) -> DistributionSource:
    """1-D mixture of equal-weight Gaussians with a shared std."""
    return _gaussian_mixture("mixture1d", torch.tensor(list(means), dtype=torch.float32).unsqueeze(1), std)


@checked_python_call
@register_source("ring8")
def ring8(modes: int = 8, radius: Positive = 1.0, std: Positive = 0.01, endpoint: bool = False) -> DistributionSource:
    """2-D ring of Gaussians (default: 8 modes, radius 1, std 0.01 — the PacGAN/VEEGAN-style ring).

    ``endpoint: true`` gives the GDPP / Unrolled-GAN code's ring (7 distinct clusters, see :func:`ring_means`).
    """
    return _gaussian_mixture("ring8", ring_means(modes, radius, endpoint), std)


@checked_python_call
@register_source("grid25")
def grid25(side: int = 5, spacing: Positive = 2.0, std: Positive = 0.05) -> DistributionSource:
    """2-D grid of Gaussians (default: 25 modes at {-4,-2,0,2,4}^2, std 0.05)."""
    return _gaussian_mixture("grid25", grid_means(side, spacing), std)


def _sklearn_source(name: str, make) -> DistributionSource:  # noqa: ANN001 - a sklearn generator function
    def draw(n: int, rng: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=rng))
        x, y = make(n, np.random.RandomState(seed))
        return torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y).long()

    return DistributionSource(kind="points", sample_shape=(2,), name=name, draw=draw)


@checked_python_call
@register_source("moons")
def moons(noise: NonNegative = 0.05) -> DistributionSource:
    """scikit-learn's two interleaving half circles (labels: which moon)."""
    from sklearn.datasets import make_moons  # here: importing scikit-learn costs every command about a second

    source = _sklearn_source("moons", lambda n, rs: make_moons(n, noise=noise, random_state=rs))
    source.num_classes = 2
    return source


@checked_python_call
@register_source("swissroll")
def swissroll(noise: NonNegative = 0.25) -> DistributionSource:
    """scikit-learn's swiss roll, projected to 2-D (its x and z coordinates), scaled by 1/5."""

    from sklearn.datasets import make_swiss_roll  # here, as moons' import

    def make(n: int, rs: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
        x, t = make_swiss_roll(n, noise=noise, random_state=rs)
        return x[:, [0, 2]] / 5.0, np.zeros(n, dtype=np.int64)

    source = _sklearn_source("swissroll", make)
    return source
