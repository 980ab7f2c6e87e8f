"""DCGAN generator and discriminator: shapes, DCGAN rules, conditioning, spectral norm, init."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from ganforge.errors import GanforgeError
from ganforge.nets.conv import (
    SUPPORTED_RESOLUTIONS,
    DCGANDiscriminator,
    DCGANGenerator,
    apply_spectral_norm,
    conv_plan,
    dcgan_init,
)

NZ = 8


@pytest.mark.parametrize("resolution", SUPPORTED_RESOLUTIONS)
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("num_classes", [None, 4])
def test_shapes_at_every_resolution(resolution: int, channels: int, num_classes: int | None) -> None:
    torch.manual_seed(0)
    g = DCGANGenerator(NZ, channels, resolution, width=4, num_classes=num_classes)
    y = None if num_classes is None else torch.tensor([0, 1, 2, 3])
    x = g(torch.randn(4, NZ), y)
    assert x.shape == (4, channels, resolution, resolution)
    for conditioning in ("concat", "projection"):
        d = DCGANDiscriminator(
            channels, resolution, width=4, num_classes=num_classes, conditioning=conditioning
        )
        assert d(x, y).shape == (4, 1)


@pytest.mark.parametrize("resolution", [4, 7, 24, 48, 256, 0])
def test_unsupported_resolution_is_a_clear_error(resolution: int) -> None:
    with pytest.raises(GanforgeError, match="resolution"):
        DCGANGenerator(NZ, 1, resolution)
    with pytest.raises(GanforgeError, match="8, 16, 32, 64, 128 or 28"):
        DCGANDiscriminator(1, resolution)


def test_plan_starts_from_4x4_or_7x7() -> None:
    assert conv_plan(64) == (4, 4)
    assert conv_plan(8) == (4, 1)
    assert conv_plan(28) == (7, 2)


def test_paper_layout_at_64x64() -> None:
    g = DCGANGenerator(100, 3, 64, width=64)
    d = DCGANDiscriminator(3, 64, width=64)
    convt = [m for m in g.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert g.start_channels == 512 and [m.out_channels for m in convt] == [256, 128, 64, 3]
    assert all(m.stride == (2, 2) for m in convt)
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert [m.out_channels for m in convs] == [64, 128, 256, 512]
    assert all(m.stride == (2, 2) for m in convs)
    # no pooling anywhere; batch norm in every hidden layer but not D's first or G's last
    for net in (g, d):
        assert not any(isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)) for m in net.modules())
    assert isinstance(d.body[1], nn.LeakyReLU) and d.body[1].negative_slope == 0.2
    assert sum(isinstance(m, nn.BatchNorm2d) for m in d.modules()) == 3
    assert sum(isinstance(m, nn.BatchNorm2d) for m in g.modules()) == 4
    assert isinstance(g.body[-1], nn.Tanh)


@pytest.mark.parametrize("output, lo, hi", [("tanh", -1.0, 1.0), ("sigmoid", 0.0, 1.0)])
def test_output_activation_bounds_and_attribute(output: str, lo: float, hi: float) -> None:
    torch.manual_seed(0)
    g = DCGANGenerator(NZ, 1, 16, width=4, output=output)
    x = g(torch.randn(16, NZ) * 50)
    assert g.output_activation == output
    assert x.min() >= lo and x.max() <= hi


def test_linear_output_is_unbounded_and_bad_output_rejected() -> None:
    g = DCGANGenerator(NZ, 1, 8, width=4, output="linear")
    assert g.output_activation == "linear"
    assert not any(isinstance(m, (nn.Tanh, nn.Sigmoid)) for m in g.modules())
    with pytest.raises(GanforgeError, match="tanh, sigmoid or linear"):
        DCGANGenerator(NZ, 1, 8, output="relu")  # type: ignore[arg-type]


def test_discriminator_returns_logits_not_probabilities() -> None:
    torch.manual_seed(0)
    d = DCGANDiscriminator(1, 16, width=4).eval()
    with torch.no_grad():
        for m in d.modules():  # push the logits well away from zero
            if isinstance(m, nn.Linear):
                m.weight.mul_(50)
        out = d(torch.rand(32, 1, 16, 16))
    assert not any(isinstance(m, nn.Sigmoid) for m in d.modules())
    assert out.min() < 0 or out.max() > 1


def test_noise_as_4d_tensor_and_shape_errors() -> None:
    g = DCGANGenerator(NZ, 1, 8, width=4)
    assert g(torch.randn(2, NZ, 1, 1)).shape == (2, 1, 8, 8)
    with pytest.raises(GanforgeError, match="noise of size 8"):
        g(torch.randn(2, NZ + 1))
    d = DCGANDiscriminator(3, 32, width=4)
    with pytest.raises(GanforgeError, match=r"\(N, 3, 32, 32\)"):
        d(torch.rand(2, 1, 32, 32))


@pytest.mark.parametrize("conditioning", ["concat", "projection"])
def test_labels_reach_both_networks(conditioning: str) -> None:
    torch.manual_seed(0)
    g = DCGANGenerator(NZ, 1, 16, width=4, num_classes=10).eval()
    d = DCGANDiscriminator(1, 16, width=4, num_classes=10, conditioning=conditioning).eval()
    z = torch.randn(5, NZ)
    y0, y1 = torch.zeros(5, dtype=torch.long), torch.full((5,), 7)
    with torch.no_grad():
        assert not torch.allclose(g(z, y0), g(z, y1))
        x = torch.rand(5, 1, 16, 16)
        assert not torch.allclose(d(x, y0), d(x, y1))
    with pytest.raises(GanforgeError, match="conditional on 10 classes"):
        g(z)
    with pytest.raises(GanforgeError, match="out of range"):
        d(x, torch.full((5,), 10))


def test_unconditional_networks_ignore_labels() -> None:
    torch.manual_seed(0)
    g = DCGANGenerator(NZ, 1, 8, width=4).eval()
    z = torch.randn(3, NZ)
    assert torch.equal(g(z), g(z, torch.tensor([0, 1, 2])))


def test_concat_adds_label_channels_to_the_first_conv() -> None:
    d = DCGANDiscriminator(3, 16, width=4, num_classes=5, conditioning="concat")
    assert d.body[0].in_channels == 8
    p = DCGANDiscriminator(3, 16, width=4, num_classes=5, conditioning="projection")
    assert p.body[0].in_channels == 3 and p.head.embed is not None
    with pytest.raises(GanforgeError, match="concat or projection"):
        DCGANDiscriminator(3, 16, num_classes=5, conditioning="add")  # type: ignore[arg-type]


def test_gradients_flow_from_discriminator_to_generator_and_label_embedding() -> None:
    torch.manual_seed(0)
    g = DCGANGenerator(NZ, 3, 32, width=4, num_classes=3)
    d = DCGANDiscriminator(3, 32, width=4, num_classes=3, conditioning="projection")
    y = torch.tensor([0, 1, 2, 0])
    d(g(torch.randn(4, NZ), y), y).mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in g.parameters())


def test_spectral_norm_wraps_every_weight_and_drops_batch_norm() -> None:
    torch.manual_seed(0)
    d = DCGANDiscriminator(3, 32, width=8, spectral_norm=True, num_classes=4, conditioning="projection")
    weighted = [m for m in d.modules() if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding))]
    assert weighted and all(parametrize.is_parametrized(m, "weight") for m in weighted)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in d.modules())
    with_bn = DCGANDiscriminator(3, 32, width=8, spectral_norm=True, batch_norm=True)
    assert any(isinstance(m, nn.BatchNorm2d) for m in with_bn.modules())
    # power iteration converges: the effective weight's top singular value approaches 1
    x, y = torch.rand(8, 3, 32, 32), torch.arange(8) % 4
    for _ in range(30):
        d(x, y)
    conv = d.body[2]
    sigma = torch.linalg.matrix_norm(conv.weight.detach().flatten(1), ord=2)
    assert abs(float(sigma) - 1.0) < 0.05


def test_dcgan_init_statistics() -> None:
    torch.manual_seed(0)
    g = DCGANGenerator(100, 3, 64, width=32)
    big = g.body[0].weight.detach()  # 256 x 128 x 4 x 4 values
    assert abs(float(big.mean())) < 1e-3
    assert abs(float(big.std()) - 0.02) < 1e-3
    bn = g.project_act[0]
    bn_w = bn.weight.detach()
    assert abs(float(bn_w.mean()) - 1.0) < 0.01 and abs(float(bn_w.std()) - 0.02) < 0.01
    assert torch.all(bn.bias == 0) and torch.all(g.body[-2].bias == 0)


def test_dcgan_init_reaches_through_spectral_norm() -> None:
    torch.manual_seed(0)
    net = apply_spectral_norm(nn.Sequential(nn.Conv2d(64, 64, 3), nn.Linear(10, 10)))
    net.apply(dcgan_init)
    original = net[0].parametrizations.weight.original.detach()
    assert abs(float(original.std()) - 0.02) < 2e-3


def test_minibatch_std_lets_the_discriminator_see_the_batch() -> None:
    torch.manual_seed(0)
    d = DCGANDiscriminator(1, 16, width=4, minibatch_std=True).eval()
    plain = DCGANDiscriminator(1, 16, width=4).eval()
    assert d.head.features == plain.head.features + 4 * 4
    x = torch.rand(4, 1, 16, 16)
    x2 = x.clone()
    x2[1:] = x[0]  # same first image, collapsed rest of the batch
    with torch.no_grad():
        assert not torch.allclose(d(x)[0], d(x2)[0])
        assert torch.allclose(plain(x)[0], plain(x2)[0])


@pytest.mark.parametrize("resolution", [8, 16, 28, 32])
def test_extra_convs_add_3x3_stride_1_layers_without_changing_shapes(resolution: int) -> None:
    torch.manual_seed(0)
    _, stages = conv_plan(resolution)
    for extra in (1, 2):
        g = DCGANGenerator(NZ, 1, resolution, width=4, extra_convs=extra)
        d = DCGANDiscriminator(1, resolution, width=4, batch_norm=False, extra_convs=extra)
        x = g(torch.randn(3, NZ))
        assert x.shape == (3, 1, resolution, resolution) and d(x).shape == (3, 1)
        g3 = [m for m in g.modules() if isinstance(m, nn.Conv2d)]
        d3 = [m for m in d.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]
        assert len(g3) == extra * stages  # after the projection and after each upsampling but the last
        assert len(d3) == extra * stages  # after each stride-2 convolution
        assert all(m.stride == (1, 1) and m.in_channels == m.out_channels for m in g3 + d3)
        assert not any(isinstance(m, nn.BatchNorm2d) for m in d.modules())  # batch_norm=False holds for them


def test_extra_convs_default_keeps_the_paper_nets() -> None:
    torch.manual_seed(0)
    g0, g_def = DCGANGenerator(NZ, 1, 16, width=4, extra_convs=0), DCGANGenerator(NZ, 1, 16, width=4)
    assert [type(m) for m in g0.modules()] == [type(m) for m in g_def.modules()]
    d = DCGANDiscriminator(1, 16, width=4)
    assert all(m.kernel_size == (4, 4) for m in d.modules() if isinstance(m, nn.Conv2d))
    with pytest.raises(GanforgeError, match="extra_convs"):
        DCGANDiscriminator(1, 16, extra_convs=-1)
