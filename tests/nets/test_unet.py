"""Pix2Pix networks: U-Net and pair PatchGAN shapes at every size, skips, dropout, patch scaling."""

import pytest
import torch

from ganforge.data.images import set_channels
from ganforge.errors import GanforgeError
from ganforge.nets.unet import (
    LumaKeepingGenerator,
    PairPatchDiscriminator,
    UNetGenerator,
    init_weights,
    patch_layers_for,
    patch_receptive_field,
)

SIZES = (32, 64, 128, 256)


@pytest.mark.parametrize("size", SIZES)
def test_unet_keeps_the_size_at_every_power_of_two(size: int) -> None:
    torch.manual_seed(0)
    g = UNetGenerator(1, 3, size, width=2)
    out = g(torch.rand(2, 1, size, size) * 2 - 1)
    assert out.shape == (2, 3, size, size) and out.abs().max() <= 1.0
    assert g.depth == size.bit_length() - 1 and len(g.down) == len(g.up) == g.depth
    assert sum(isinstance(m, torch.nn.Dropout) for m in g.modules()) == 3  # the paper's 3 dropout layers


def test_unet_bottleneck_is_one_pixel_and_skips_reach_the_output() -> None:
    torch.manual_seed(0)
    g = UNetGenerator(1, 1, 32, width=4, dropout=0.0, norm="none").eval()
    h = torch.rand(1, 1, 32, 32)
    for layer in g.down:
        h = layer(h)
    assert h.shape[-2:] == (1, 1)
    # the outermost skip carries the input's fine detail: one input pixel changes the output near it more
    # than a chain through the 1x1 bottleneck alone would allow to stay local
    x = torch.rand(1, 1, 32, 32, requires_grad=True)
    g(x)[0, 0, 5, 5].backward()
    grad = x.grad[0, 0].abs()
    assert grad[4:8, 4:8].sum() > 0 and grad[4:8, 4:8].max() >= grad.max() * 0.5


@pytest.mark.parametrize("size", [16, 48, 512])
def test_unet_refuses_other_sizes(size: int) -> None:
    with pytest.raises(GanforgeError, match="power of 2 between 32 and 256"):
        UNetGenerator(1, 1, size, width=2)


def test_unet_explains_bad_inputs() -> None:
    g = UNetGenerator(3, 3, 32, width=2)
    with pytest.raises(GanforgeError, match=r"\(N, 3, H, W\)"):
        g(torch.rand(1, 1, 32, 32))
    with pytest.raises(GanforgeError, match="multiple of 32"):
        g(torch.rand(1, 3, 40, 40))
    assert g(torch.rand(1, 3, 64, 64)).shape == (1, 3, 64, 64)  # fully convolutional on multiples


def test_patch_receptive_fields_and_their_scaling_with_the_image() -> None:
    assert [patch_receptive_field(n) for n in range(1, 6)] == [16, 34, 70, 142, 286]
    assert {s: patch_layers_for(s) for s in SIZES} == {32: 1, 64: 1, 128: 2, 256: 3}  # 70x70 at 256


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("conditional", [True, False])
def test_pair_patchgan_gives_a_logit_map_at_every_size(size: int, conditional: bool) -> None:
    torch.manual_seed(0)
    d = PairPatchDiscriminator(1, 3, width=2, n_layers=patch_layers_for(size), conditional=conditional)
    assert d.net[0].in_channels == (4 if conditional else 3)
    side = d.output_size(size)
    out = d(torch.rand(2, 1, size, size), torch.rand(2, 3, size, size))
    assert out.shape == (2, 1, side, side) and side >= 14


def test_pair_patchgan_sees_its_receptive_field_and_the_condition() -> None:
    torch.manual_seed(0)
    d = PairPatchDiscriminator(1, 1, width=4, n_layers=2, norm="none")
    cond = torch.rand(1, 1, 64, 64, requires_grad=True)
    image = torch.rand(1, 1, 64, 64, requires_grad=True)
    d(cond, image)[0, 0, 5, 5].backward()
    rows, cols = torch.nonzero(image.grad[0, 0], as_tuple=True)
    assert rows.max() - rows.min() + 1 <= 34 and cols.max() - cols.min() + 1 <= 34
    assert rows.max() - rows.min() + 1 > 28
    assert cond.grad.abs().sum() > 0  # a conditional D reads the input too
    unconditional = PairPatchDiscriminator(1, 1, width=4, n_layers=2, conditional=False)
    torch.testing.assert_close(
        unconditional(torch.zeros(1, 1, 32, 32), image[:, :, :32, :32]),
        unconditional(torch.ones(1, 1, 32, 32), image[:, :, :32, :32]),
    )
    with pytest.raises(GanforgeError, match="too small"):
        PairPatchDiscriminator(1, 1, width=2, n_layers=5)(torch.rand(1, 1, 32, 32), torch.rand(1, 1, 32, 32))


def test_init_follows_the_paper() -> None:
    torch.manual_seed(0)
    g = UNetGenerator(1, 1, 64, width=16)
    init_weights(g)
    weights = torch.cat([m.weight.detach().flatten() for m in g.modules() if isinstance(m, torch.nn.Conv2d)])
    assert abs(float(weights.std()) - 0.02) < 0.002 and abs(float(weights.mean())) < 0.002


class FixedChroma(torch.nn.Module):
    channels_in, channels_out, size = 1, 2, 32

    def __init__(self, chroma: torch.Tensor) -> None:
        super().__init__()
        self.value = chroma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.value


def test_luma_keeping_generator_keeps_the_input_luma_and_rebuilds_rgb_from_the_true_chroma() -> None:
    torch.manual_seed(0)
    rgb = torch.rand(4, 3, 32, 32)
    luma = set_channels(rgb, True)  # BT.601, the gray of the built-in gray2color pairs
    true_chroma = 2 * torch.cat([(rgb[:, 2:] - luma) / 1.772, (rgb[:, :1] - luma) / 1.402], dim=1)
    assert true_chroma.abs().max() <= 1.0  # the full chroma range fits the U-Net's tanh
    out = LumaKeepingGenerator(FixedChroma(true_chroma))(2 * luma - 1)  # model units: 2 d - 1
    torch.testing.assert_close(out, 2 * rgb - 1, atol=1e-5, rtol=0)
    net = LumaKeepingGenerator(UNetGenerator(1, 2, 32, width=4))  # any chroma: the luma stays the input's
    gray = torch.rand(2, 1, 32, 32) * 2 - 1
    colour = net(gray)
    assert colour.shape == (2, 3, 32, 32)
    torch.testing.assert_close(set_channels((colour + 1) / 2, True), (gray + 1) / 2, atol=1e-5, rtol=0)
    with pytest.raises(GanforgeError, match="1 channel to 2"):
        LumaKeepingGenerator(UNetGenerator(1, 3, 32, width=4))
