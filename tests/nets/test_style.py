"""StyleGAN nets: mapping, modulated conv, noise, generator controls, discriminator, path length penalty."""

import pytest
import torch
import torch.nn.functional as F

from ganforge.errors import GanforgeError
from ganforge.nets.layers import EqualizedLinear, MinibatchStdDev
from ganforge.nets.style import (
    MappingNetwork,
    ModulatedConv2d,
    NoiseInjection,
    StyleDiscriminator,
    StyleGenerator,
    mix_styles,
    path_length_penalty,
)


def _generator(resolution: int = 16, seed: int = 0) -> StyleGenerator:
    torch.manual_seed(seed)
    return StyleGenerator(z_dim=16, w_dim=16, resolution=resolution, channels=3, width=32, mapping_layers=2)


def test_mapping_is_invariant_to_the_scale_of_z() -> None:
    torch.manual_seed(0)
    mapping = MappingNetwork(8, 12, num_layers=3)
    z = torch.randn(5, 8)
    assert mapping(z).shape == (5, 12)
    assert torch.allclose(mapping(z), mapping(3.0 * z), atol=1e-5)  # pixel norm first


def test_equalized_linear_scales_weights_at_run_time() -> None:
    layer = EqualizedLinear(4, 3, lr_mul=0.01, bias_init=1.0)
    x = torch.randn(2, 4)
    expected = x @ (layer.weight * 0.01 / 2.0).T + layer.bias * 0.01
    assert torch.allclose(layer(x), expected)
    assert torch.allclose(layer.bias * 0.01, torch.ones(3))


def test_demodulated_conv_keeps_unit_variance() -> None:
    torch.manual_seed(0)
    conv = ModulatedConv2d(64, 32, 3, w_dim=8, demodulate=True)
    x = torch.randn(4, 64, 24, 24)
    w = 5.0 * torch.randn(4, 8)  # large, sample-specific styles
    interior = conv(x, w)[..., 1:-1, 1:-1]  # zero padding lowers the border variance
    assert 0.9 < interior.std().item() < 1.1
    plain = ModulatedConv2d(64, 32, 3, w_dim=8, demodulate=False)
    assert not 0.8 < plain(x, w).std().item() < 1.25


def test_grouped_modulated_conv_equals_per_sample_convolution() -> None:
    torch.manual_seed(0)
    conv = ModulatedConv2d(3, 5, 3, w_dim=4)
    x, w = torch.randn(2, 3, 6, 6), torch.randn(2, 4)
    styles = conv.affine(w)
    for i in range(2):
        weight = conv.weight * conv.weight_gain * styles[i][None, :, None, None]
        weight = weight / weight.square().sum(dim=(1, 2, 3), keepdim=True).add(1e-8).sqrt()
        expected = F.conv2d(x[i : i + 1], weight, padding=1)
        assert torch.allclose(conv(x, w)[i : i + 1], expected, atol=1e-5)


def test_noise_injection_modes() -> None:
    noise = NoiseInjection(4, seed=1)
    x = torch.zeros(2, 3, 4, 4)
    assert torch.equal(noise(x, "random"), x)  # strength starts at zero
    with torch.no_grad():
        noise.strength.fill_(0.5)
    assert torch.equal(noise(x, "const"), noise(x, "const"))
    assert torch.equal(noise(x, "const")[0, 0], noise(x, "const")[1, 2])  # one map for all channels
    assert not torch.equal(noise(x, "random"), noise(x, "random"))
    assert torch.equal(noise(x, "none"), x)
    with pytest.raises(GanforgeError, match="noise_mode"):
        noise(x, "fixed")  # type: ignore[arg-type]


@pytest.mark.parametrize(("resolution", "num_ws"), [(8, 4), (16, 6), (32, 8)])
def test_generator_and_discriminator_shapes(resolution: int, num_ws: int) -> None:
    g = _generator(resolution)
    d = StyleDiscriminator(channels=3, resolution=resolution, width=32)
    assert g.num_ws == num_ws
    images = g(torch.randn(3, 16))
    assert images.shape == (3, 3, resolution, resolution)
    assert d(images).shape == (3, 1)
    assert StyleDiscriminator(3, resolution, 32, mbstd=False)(images).shape == (3, 1)


def test_resolution_must_be_a_power_of_two() -> None:
    with pytest.raises(GanforgeError, match="power of two"):
        StyleGenerator(resolution=24)
    with pytest.raises(GanforgeError, match="power of two"):
        StyleDiscriminator(resolution=2)


def test_w_avg_tracks_the_mean_w_in_train_mode_only() -> None:
    g = _generator()
    z = torch.randn(8, 16)
    g.eval()
    g.map(z)
    assert torch.equal(g.w_avg, torch.zeros(16))
    g.train()
    g.map(z)
    assert torch.allclose(g.w_avg, (1 - g.w_avg_beta) * g.mapping(z).mean(0), atol=1e-6)


@pytest.mark.parametrize("noise_mode", ["const", "none"])
def test_truncation_psi_zero_gives_the_average_w_image(noise_mode: str) -> None:
    g = _generator()
    g.train()
    for _ in range(5):
        g.map(torch.randn(16, 16))
    g.eval()
    for layer in g.modules():  # make noise matter, so "const" is really exercised
        if isinstance(layer, NoiseInjection):
            layer.strength.data.fill_(0.3)
    a = g(torch.randn(4, 16), truncation_psi=0.0, noise_mode=noise_mode)
    b = g(torch.randn(4, 16), truncation_psi=0.0, noise_mode=noise_mode)
    average = g(ws=g.w_avg[None].expand(4, -1), noise_mode=noise_mode)
    assert torch.allclose(a, b, atol=1e-6) and torch.allclose(a, average, atol=1e-6)
    assert not torch.allclose(g(torch.randn(4, 16), noise_mode=noise_mode), a, atol=1e-3)


def test_ws_input_and_style_mixing_crossover() -> None:
    g = _generator().eval()
    z1, z2 = torch.randn(2, 16), torch.randn(2, 16)
    out1 = g(z1, noise_mode="const")
    assert torch.allclose(g(ws=g.map(z1), noise_mode="const"), out1, atol=1e-6)
    assert torch.allclose(
        g(z1, mix_z=z2, crossover=0, noise_mode="const"), g(z2, noise_mode="const"), atol=1e-6
    )
    assert torch.allclose(g(z1, mix_z=z2, crossover=g.num_ws, noise_mode="const"), out1, atol=1e-6)
    mixed = mix_styles(g.map(z1), g.map(z2), 2)
    assert torch.equal(mixed[:, :2], g.map(z1)[:, :2]) and torch.equal(mixed[:, 2:], g.map(z2)[:, 2:])
    with pytest.raises(GanforgeError, match="crossover"):
        g(z1, mix_z=z2)


def _layout_and_detail(change: torch.Tensor) -> tuple[float, float]:
    """Energy of a change in the 4x4 layout (block means, minus the overall colour) and in the rest."""
    blocks = F.adaptive_avg_pool2d(change, 4)
    detail = change - F.interpolate(blocks, size=change.shape[-2:], mode="nearest")
    layout = blocks - blocks.mean(dim=(2, 3), keepdim=True)
    return layout.square().mean().item(), detail.square().mean().item()


@pytest.mark.parametrize("seed", [0, 1])
def test_coarse_styles_move_the_layout_more_than_fine_styles(seed: int) -> None:
    # Swap the 4x4 layers' styles (ws 0, 1) or the last block's (the last 3) for another latent's and
    # compare how much each swap moves the 4x4 layout of the image. The overall colour is left out of the
    # layout on purpose: fine styles legitimately control the colour scheme (Karras et al. 2019, Fig. 3).
    g = _generator(resolution=32, seed=seed).eval()
    ws_a, ws_b = g.map(torch.randn(8, 16)), g.map(torch.randn(8, 16))
    base = g.synthesis(ws_a, "const")
    coarse = g.synthesis(mix_styles(ws_b, ws_a, 2), "const") - base
    last = g.num_ws - 3
    fine = g.synthesis(mix_styles(ws_a, ws_b, last), "const") - base
    coarse_layout, coarse_detail = _layout_and_detail(coarse)
    fine_layout, fine_detail = _layout_and_detail(fine)
    assert coarse_layout > 1.5 * fine_layout
    assert coarse_layout / coarse_detail > fine_layout / fine_detail


def test_minibatch_stddev_feature() -> None:
    x = torch.randn(8, 3, 4, 4)
    y = MinibatchStdDev(group_size=4)(x)
    assert y.shape == (8, 4, 4, 4)
    group = x[[0, 2, 4, 6]]  # sample i is grouped with i + 2, i + 4, i + 6
    expected = (group.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
    assert torch.allclose(y[0, 3], torch.full((4, 4), expected.item()), atol=1e-6)
    same = MinibatchStdDev(group_size=4)(x[:1].repeat(4, 1, 1, 1))
    assert same[:, 3].max() < 1e-3  # identical samples: no spread


def test_path_length_penalty_matches_a_linear_generator() -> None:
    gen = torch.Generator().manual_seed(0)
    n, layers, w_dim, side = 3, 4, 5, 4
    a_matrix = torch.randn(w_dim, side * side, generator=gen, requires_grad=True)
    ws = torch.randn(n, layers, w_dim, generator=gen, requires_grad=True)
    images = (ws.sum(dim=1) @ a_matrix).reshape(n, 1, side, side)  # every layer's w has the same effect
    y = torch.randn(n, 1, side, side, generator=gen)
    result = path_length_penalty(images, ws, mean_path_length=0.5, decay=0.1, noise=y)
    lengths = (y.reshape(n, -1) @ a_matrix.T).norm(dim=1)  # J_w^T y = A y for each layer
    a = 0.5 + 0.1 * (lengths.mean() - 0.5)
    assert torch.allclose(result.path_lengths, lengths, atol=1e-5)
    assert result.mean_path_length.item() == pytest.approx(a.item(), rel=1e-5)
    assert result.penalty.item() == pytest.approx((lengths - a).square().mean().item(), rel=1e-5)
    result.penalty.backward()
    assert a_matrix.grad is not None and a_matrix.grad.abs().sum() > 0
    with pytest.raises(GanforgeError, match="require grad"):
        path_length_penalty(images.detach(), ws.detach(), 0.0)


def test_path_length_penalty_on_the_generator() -> None:
    g = _generator(resolution=8).train()
    ws = g.map(torch.randn(4, 16)).detach().requires_grad_(True)
    result = path_length_penalty(g.synthesis(ws), ws, torch.tensor(0.0))
    assert result.path_lengths.shape == (4,) and (result.path_lengths > 0).all()
    result.penalty.backward()
    assert g.const.grad is not None
