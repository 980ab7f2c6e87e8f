"""Built-in distributions: the published mixture geometries and repeatable sampling."""

import numpy as np
import pytest
import torch

import ganforge as gf
from ganforge.data.registry import build_source
from ganforge.data.toy import grid25, grid_means, normal, ring8, ring_means, uniform
from ganforge.errors import GanforgeError


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


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: gf.data.normal(0, 1, dim=2.5), r"gf\.data\.normal\(dim=2\.5\): give a whole number"),
        (lambda: gf.data.normal("10", 1), r"gf\.data\.normal\(mean='10'\): text, not a number; give a number"),
        (lambda: gf.data.normal([0, 1], 1), r"gf\.data\.normal\(mean=\[0, 1\]\): give a number"),
        (lambda: gf.data.normal(std=0), r"normal\(std=0\): give a number > 0"),
        (lambda: gf.data.ring8(modes=0), r"gf\.data\.ring8\(modes=0\): must be >= 1"),
        (lambda: gf.data.ring8(modes=-2), r"ring8\(modes=-2\): must be >= 1"),
        (lambda: gf.data.ring8(modes=2.5), r"ring8\(modes=2\.5\): give a whole number"),
        (lambda: gf.data.ring8(mode=3), r"ring8\(mode=\.\.\.\): no such argument \(did you mean 'modes'\?\)"),
        (lambda: gf.data.grid25(side=0), r"gf\.data\.grid25\(side=0\): must be >= 1"),
        (lambda: gf.data.mixture1d(3.0), r"mixture1d\(means=3\.0\): give a list of numbers"),
        (lambda: gf.data.mixture1d([]), r"mixture1d\(means=\[\]\): give a list of numbers \(at least 1\)"),
        (lambda: gf.data.moons(noise=-1), r"gf\.data\.moons\(noise=-1\): give a number >= 0"),
        (lambda: gf.data.swissroll(noise=-1), r"swissroll\(noise=-1\): give a number >= 0"),
        (lambda: gf.data.uniform(dim=0), r"uniform\(dim=0\): must be >= 1"),
        (lambda: gf.data.uniform(1, 0), r"high \(0\) must be greater than low \(1\)"),
        (lambda: gf.data.normal(float("nan")), r"normal\(mean=nan\): nan is not a finite number"),
    ],
)
def test_sources_called_from_python_check_their_arguments_when_made(call, match) -> None:  # noqa: ANN001
    """Called directly, the sources skipped the checks a recipe gets: dim=2.5 gave sample_shape (2.5,), modes=0 a
    ZeroDivisionError, modes=2.5 three modes, mean="10" a TypeError and noise=-1 scikit-learn's error, at train."""
    with pytest.raises(GanforgeError, match=match):
        call()


def test_python_arguments_are_converted_as_a_recipe_s_settings_are() -> None:
    """A tuple of means, numpy scalars and whole floats are what they say (numpy floats in ``info`` would not
    serialise into data.json)."""
    assert gf.data.mixture1d((-1, 1)).num_classes == 2
    assert gf.data.ring8(np.int64(4)).num_classes == 4 and gf.data.normal(dim=8.0).sample_shape == (8,)
    assert type(gf.data.normal(np.float32(3)).info["mean"]) is float


def test_the_new_bounds_hold_in_recipes_too() -> None:
    """``data.noise=-1`` passed the recipe's checks and failed in scikit-learn at the first batch."""
    with pytest.raises(GanforgeError, match=r"data\.noise: input should be greater than or equal to 0"):
        build_source("moons", {"noise": -1})
    with pytest.raises(GanforgeError, match=r"data\.means: list should have at least 1 item"):
        build_source("mixture1d", {"means": []})
