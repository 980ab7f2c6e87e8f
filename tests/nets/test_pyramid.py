"""Laplacian pyramid round trip and the LAPGAN level networks."""

import pytest
import torch

from ganforge.errors import GanforgeError
from ganforge.nets.pyramid import (
    LaplacianLevelDiscriminator,
    LaplacianLevelGenerator,
    downsample,
    laplacian_pyramid,
    reconstruct,
    upsample,
)


@pytest.mark.parametrize(("shape", "levels"), [((2, 3, 32, 32), 3), ((1, 1, 33, 17), 4), ((3, 2, 8, 8), 1)])
def test_pyramid_reconstructs_exactly(shape: tuple[int, ...], levels: int) -> None:
    x = torch.rand(shape, generator=torch.Generator().manual_seed(0))
    pyramid = laplacian_pyramid(x, levels)
    assert len(pyramid) == levels
    assert (reconstruct(pyramid) - x).abs().max().item() < 1e-5


def test_pyramid_shapes_halve_and_coarsest_is_the_gaussian_level() -> None:
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    pyramid = laplacian_pyramid(x, 3)
    assert [tuple(p.shape[-2:]) for p in pyramid] == [(32, 32), (16, 16), (8, 8)]
    assert torch.allclose(pyramid[-1], downsample(downsample(x)))
    assert torch.allclose(pyramid[0], x - upsample(downsample(x), (32, 32)))


def test_residuals_of_a_constant_image_vanish() -> None:
    x = torch.full((1, 3, 16, 16), 0.7)
    *residuals, coarsest = laplacian_pyramid(x, 3)
    assert all(r.abs().max().item() < 1e-6 for r in residuals)
    assert torch.allclose(coarsest, torch.full_like(coarsest, 0.7))


def test_downsample_blurs_away_the_nyquist_checkerboard() -> None:
    i, j = torch.meshgrid(torch.arange(16), torch.arange(16), indexing="ij")
    checker = ((i + j) % 2).float()[None, None]
    small = downsample(checker)
    assert small.shape[-2:] == (8, 8)
    interior = small[..., 1:-1, 1:-1]  # replicate padding only disturbs the border
    assert torch.allclose(interior, torch.full_like(interior, 0.5), atol=1e-6)
    assert (checker[..., ::2, ::2] - 0.5).abs().min() == 0.5  # plain decimation would alias to a constant 0/1


def test_too_many_levels_is_a_user_error() -> None:
    with pytest.raises(GanforgeError, match="at most 4 levels"):
        laplacian_pyramid(torch.rand(1, 1, 8, 8), 5)
    with pytest.raises(GanforgeError):
        laplacian_pyramid(torch.rand(1, 1, 8, 8), 0)


@pytest.mark.parametrize("resolution", [8, 16])
def test_level_networks_shapes(resolution: int) -> None:
    torch.manual_seed(0)
    g = LaplacianLevelGenerator(noise_dim=2, channels=3, resolution=resolution, width=8)
    d = LaplacianLevelDiscriminator(channels=3, resolution=resolution, width=8)
    coarse = upsample(torch.rand(4, 3, resolution // 2, resolution // 2), (resolution, resolution))
    residual = g(coarse)
    assert residual.shape == (4, 3, resolution, resolution)
    assert d(residual, coarse).shape == (4, 1)


def test_level_generator_is_conditional_and_noise_driven() -> None:
    torch.manual_seed(0)
    g = LaplacianLevelGenerator(noise_dim=1, channels=1, resolution=8, width=8).eval()
    noise = g.sample_noise(2, torch.Generator().manual_seed(3))
    assert torch.equal(noise, g.sample_noise(2, torch.Generator().manual_seed(3)))
    a, b = torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8)
    assert not torch.allclose(g(a, noise), g(b, noise))
    assert not torch.allclose(g(a, noise), g(a, g.sample_noise(2)))
    assert (g(a, noise) < 0).any()  # linear output: residuals may be negative

    unconditional = LaplacianLevelGenerator(noise_dim=1, channels=1, resolution=8, width=8, cond=False).eval()
    assert torch.equal(unconditional(a, noise), unconditional(b, noise))


def test_level_discriminator_sees_the_coarse_image() -> None:
    torch.manual_seed(0)
    d = LaplacianLevelDiscriminator(channels=1, resolution=8, width=8)
    residual = torch.randn(2, 1, 8, 8)
    assert not torch.allclose(d(residual, torch.zeros(2, 1, 8, 8)), d(residual, torch.ones(2, 1, 8, 8)))
    with pytest.raises(GanforgeError, match="coarse image"):
        d(residual)


def test_level_networks_reject_wrong_shapes() -> None:
    g = LaplacianLevelGenerator(noise_dim=1, channels=3, resolution=8, width=4)
    with pytest.raises(GanforgeError, match=r"\(N, 3, 8, 8\)"):
        g(torch.rand(1, 3, 16, 16))
    with pytest.raises(GanforgeError, match="noise"):
        g(torch.rand(1, 3, 8, 8), torch.rand(1, 2, 8, 8))


def test_folded_level_networks_run_at_half_the_side_and_keep_every_pixel() -> None:
    torch.manual_seed(0)
    g = LaplacianLevelGenerator(noise_dim=2, channels=3, resolution=16, width=8, fold=2).eval()
    d = LaplacianLevelDiscriminator(channels=3, resolution=16, width=8, fold=2)
    noise = g.sample_noise(4)
    assert noise.shape == (4, 2, 8, 8)  # noise planes at R / fold
    coarse = torch.rand(4, 3, 16, 16)
    residual = g(coarse, noise)
    assert residual.shape == (4, 3, 16, 16) and d(residual, coarse).shape == (4, 1)
    # space-to-depth drops no pixel: changing one pixel of the coarse image moves the residual
    moved = coarse.clone()
    moved[0, 1, 15, 15] += 1.0
    assert not torch.allclose(g(moved, noise)[0], residual[0])
    assert torch.allclose(g(moved, noise)[1:], residual[1:])
    with pytest.raises(GanforgeError, match="fold=3"):
        LaplacianLevelGenerator(noise_dim=1, channels=1, resolution=16, fold=3)
    with pytest.raises(GanforgeError, match="fold=0"):
        LaplacianLevelDiscriminator(channels=1, resolution=16, fold=0)
