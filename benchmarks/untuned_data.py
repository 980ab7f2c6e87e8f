"""2-D data sets no ganforge recipe was tuned for, and scoring code that does not use ganforge.

Used by ``benchmarks/untuned_defaults.py`` (the table in docs/benchmarks/untuned_defaults.md) and by
``tests/test_untuned_defaults.py``. Everything here is numpy/scipy only, so the scores are independent of
``ganforge.evaluation``:

* ``within_3std`` — share of samples within 3 std of their nearest mode centre (the "% high quality" of
  VEEGAN/PacGAN, recomputed here);
* ``modes`` — modes holding at least one such sample;
* ``weight_tv`` — total-variation distance between the mode weights of those samples and the true
  weights, ``TV = 1/2 sum_k |p_k - w_k|``;
* ``precision`` — the k-NN precision of Kynkäänniemi et al. (2019): the share of generated samples that
  fall inside the union of balls around real samples, each ball reaching the real sample's k-th nearest
  real neighbour (k = 3). Real-vs-real gives the floor a perfect generator reaches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree


@dataclass(frozen=True)
class Mixture2D:
    """A mixture of isotropic Gaussians: ``means`` (K, 2), ``weights`` (K,), one ``std``."""

    means: np.ndarray
    weights: np.ndarray
    std: float

    def sample(self, n: int, seed: int) -> np.ndarray:
        rs = np.random.RandomState(seed)
        k = rs.choice(len(self.weights), size=n, p=self.weights)
        return self.means[k] + self.std * rs.randn(n, 2)


def ring12(radius: float = 2.0, std: float = 0.05) -> Mixture2D:
    """12 equal Gaussians on a circle (the shipped ring has 8, radius 1, std 0.01)."""
    angles = 2 * np.pi * np.arange(12) / 12 + 0.1
    means = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return Mixture2D(means, np.full(12, 1 / 12), std)


def grid9_unequal(spacing: float = 3.0, std: float = 0.1) -> Mixture2D:
    """A 3x3 grid whose mode weights are proportional to 1..9 (the shipped grid has 25 equal modes)."""
    axis = spacing * np.array([-1.0, 0.0, 1.0])
    means = np.array([(x, y) for x in axis for y in axis]) + np.array([0.7, -1.3])
    weights = np.arange(1, 10, dtype=float)
    return Mixture2D(means, weights / weights.sum(), std)


def spiral(n: int, seed: int, turns: float = 2.0, noise: float = 0.04) -> np.ndarray:
    """Points along an Archimedean spiral r = theta / (2 pi) (``turns`` turns) with Gaussian noise."""
    rs = np.random.RandomState(seed)
    t = np.sqrt(rs.rand(n)) * turns * 2 * np.pi  # uniform along the arc length, roughly
    r = t / (2 * np.pi)
    x = np.stack([r * np.cos(t), r * np.sin(t)], axis=1) * 3.0
    return x + noise * rs.randn(n, 2)


def mode_scores(samples: np.ndarray, mixture: Mixture2D) -> dict[str, float]:
    """``within_3std``, ``modes`` (covered), ``weight_tv`` of ``samples`` against ``mixture``."""
    d = np.linalg.norm(samples[:, None, :] - mixture.means[None], axis=2)
    nearest = d.argmin(axis=1)
    good = d[np.arange(len(samples)), nearest] <= 3 * mixture.std
    counts = np.bincount(nearest[good], minlength=len(mixture.weights)).astype(float)
    p = counts / max(counts.sum(), 1.0)
    return {
        "within_3std": float(good.mean()),
        "modes": int((counts > 0).sum()),
        "weight_tv": float(0.5 * np.abs(p - mixture.weights).sum()),
    }


def knn_precision(real: np.ndarray, fake: np.ndarray, k: int = 3) -> float:
    """Share of ``fake`` inside the k-NN balls of ``real`` (Kynkäänniemi et al. 2019)."""
    tree = cKDTree(real)
    radii = tree.query(real, k=k + 1)[0][:, -1]  # the 0-th neighbour is the point itself
    dist, idx = tree.query(fake, k=32)
    inside = (dist <= radii[idx]).any(axis=1)
    return float(inside.mean())
