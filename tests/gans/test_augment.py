"""DiffAugment ops (formulas, differentiability, same transform on every D input) and instance noise."""

import pytest
import torch
from torch import nn

from ganforge.data.toy import grid25
from ganforge.errors import GanforgeError
from ganforge.gans.augment import (
    DiffAugmentDiscriminator,
    InstanceNoiseDiscriminator,
    brightness,
    contrast,
    cutout,
    diff_augment,
    parse_policy,
    saturation,
    translation,
)
from ganforge.gans.registry import build_model


def _images(n: int = 4, c: int = 3, s: int = 8) -> torch.Tensor:
    return torch.rand(n, c, s, s, generator=torch.Generator().manual_seed(0))


def test_color_ops_follow_their_formulas() -> None:
    x = _images()
    torch.manual_seed(1)
    r = torch.rand(4, 1, 1, 1)
    torch.manual_seed(1)
    assert torch.allclose(brightness(x), x + r - 0.5)
    torch.manual_seed(1)
    m = x.mean(1, keepdim=True)
    assert torch.allclose(saturation(x), (x - m) * 2 * r + m, atol=1e-6)
    torch.manual_seed(1)
    m = x.mean((1, 2, 3), keepdim=True)
    assert torch.allclose(contrast(x), (x - m) * (r + 0.5) + m, atol=1e-6)


def test_translation_shifts_with_zero_padding() -> None:
    x = _images(n=16)
    torch.manual_seed(2)
    out = translation(x)
    assert out.shape == x.shape
    torch.manual_seed(2)
    ty, tx = torch.randint(-1, 2, (16, 1)), torch.randint(-1, 2, (16, 1))  # 8 * 1/8 = 1 pixel at most
    for i in range(16):
        dy, dx = int(ty[i]), int(tx[i])
        expected = torch.zeros_like(x[i])
        ys, yd = slice(max(-dy, 0), 8 - max(dy, 0)), slice(max(dy, 0), 8 - max(-dy, 0))
        xs, xd = slice(max(-dx, 0), 8 - max(dx, 0)), slice(max(dx, 0), 8 - max(-dx, 0))
        expected[:, yd, xd] = x[i][:, ys, xs]
        assert torch.equal(out[i], expected), (dy, dx)


def test_cutout_zeroes_a_square_of_half_the_side() -> None:
    x = torch.ones(32, 1, 8, 8)
    out = cutout(x)
    zeros = (out == 0).flatten(1).sum(1)
    assert zeros.max().item() == 16  # a 4x4 square when fully inside
    assert zeros.min().item() >= 4  # clipped at a corner: at least 2x2 remains inside
    assert set(out.unique().tolist()) <= {0.0, 1.0}


def test_diff_augment_is_differentiable_everywhere_it_keeps_pixels() -> None:
    x = _images().requires_grad_(True)
    torch.manual_seed(3)
    out = diff_augment(x, parse_policy("color,translation,cutout"))
    weights = torch.randn_like(out)
    (out * weights).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert (x.grad != 0).float().mean() > 0.3  # gradient reaches the pixels that survive translation/cutout


def test_same_transform_for_real_and_fake_given_the_same_random_draws() -> None:
    """One op T for every D input: identical inputs with identical random draws give identical outputs,
    and the wrapper augments whatever it is given (real or fake) while training, nothing in eval."""
    x = _images()
    torch.manual_seed(4)
    a = diff_augment(x, ("color", "translation"))
    torch.manual_seed(4)
    b = diff_augment(x.clone(), ("color", "translation"))
    assert torch.equal(a, b)
    seen = []
    d = DiffAugmentDiscriminator(nn.Sequential(nn.Flatten(), nn.Identity()), "translation,cutout")
    d.net.register_forward_hook(lambda m, i, o: seen.append(i[0]))
    d(x)
    assert not torch.equal(seen[-1], x)
    d.eval()
    d(x)
    assert torch.equal(seen[-1], x)


def test_policy_and_data_errors_are_one_line() -> None:
    with pytest.raises(GanforgeError, match="did you mean 'color'"):
        parse_policy("colour")
    with pytest.raises(GanforgeError, match="not images"):
        build_model({"type": "gan", "augment": {"diffaugment": "color"}}, grid25())


def test_instance_noise_anneals_linearly_with_the_training_step() -> None:
    net = nn.Identity()
    noisy = InstanceNoiseDiscriminator(net, std=0.2, anneal_steps=100)
    assert noisy.sigma(0) == pytest.approx(0.2)
    assert noisy.sigma(50) == pytest.approx(0.1)
    assert noisy.sigma(150) == 0.0
    x = torch.zeros(20000, 1)
    assert noisy(x).std().item() == pytest.approx(0.2, rel=0.05)  # clock None: t = 0
    noisy.eval()
    assert torch.equal(noisy(x), x)
    assert InstanceNoiseDiscriminator(net, std=0.3).sigma(10**6) == 0.3  # no annealing: constant


def test_builder_wires_instance_noise_to_the_gan_step() -> None:
    gan = build_model({"type": "gan", "instance_noise": {"std": 0.5, "anneal_steps": 10}}, grid25())
    noisy = gan.discriminator
    assert isinstance(noisy, InstanceNoiseDiscriminator)
    gan.phases(4)
    assert noisy.sigma() == pytest.approx(0.3)
    gan.phases(10)
    assert noisy.sigma() == 0.0
    with pytest.raises(GanforgeError, match="instance_noise"):
        build_model({"type": "gan", "instance_noise": {"sigma": 0.5}}, grid25())
