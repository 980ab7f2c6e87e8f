"""Built-in distributions: the published mixture geometries and repeatable sampling."""

import torch

from ganforge.data.toy import grid25, grid_means, normal, ring8, ring_means, uniform


def test_ring_and_grid_geometry() -> None:
    ring = ring_means(8, 1.0)
    assert torch.allclose(ring.norm(dim=1), torch.ones(8))
    assert len({tuple(p) for p in ring.round(decimals=4).tolist()}) == 8
    grid = grid_means(5, 2.0)
    assert sorted(set(grid[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0] and grid.shape == (25, 2)


def test_mixture_samples_lie_near_their_component() -> None:
    src = grid25()
    x, comp = src.draw(5000, torch.Generator().manual_seed(0))
    dist = (x - src.mixture.means[comp]).norm(dim=1)
    assert dist.mean().item() < 3 * 0.05 and src.mixture.std == 0.05 and ring8().mixture.std == 0.01


def test_sampling_is_repeatable_for_a_generator_seed() -> None:
    a = normal(10, 1).batch(8, torch.Generator().manual_seed(3)).x
    b = normal(10, 1).batch(8, torch.Generator().manual_seed(3)).x
    assert torch.equal(a, b)


def test_scaler_makes_n10_1_trainable_and_inverts() -> None:
    src = normal(10, 1)
    src.fit_scaler("linear")
    batch = src.batch(20000, torch.Generator().manual_seed(0)).x
    assert abs(batch.mean().item()) < 0.05 and abs(batch.std().item() - 1) < 0.05
    assert abs(src.scaler.to_data(batch).mean().item() - 10) < 0.05


def test_uniform_in_sigmoid_range() -> None:
    src = uniform()
    src.fit_scaler("sigmoid")
    x = src.batch(1000, torch.Generator().manual_seed(0)).x
    assert x.min() >= -0.01 and x.max() <= 1.01


def test_loading_a_run_does_not_import_scikit_learn() -> None:
    """scikit-learn takes about a second to import; only the sources that draw from it (moons, swissroll,
    digits) import it, not every command that loads a run."""
    import subprocess
    import sys

    code = "import sys, ganforge.runs, ganforge.data.toy; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr
