"""PacGAN packing: shapes, which samples share a pack, and D sized for m samples by the model builder."""

import pytest
import torch
from torch import nn

from ganforge.data.toy import grid25
from ganforge.errors import GanforgeError
from ganforge.gans.packing import PackedDiscriminator, pack_samples, packed_shape
from ganforge.gans.registry import build_model


def test_packed_shape_multiplies_the_first_feature_axis() -> None:
    assert packed_shape((2,), 4) == (8,)
    assert packed_shape((3, 8, 8), 2) == (6, 8, 8)
    assert packed_shape((2,), 1) == (2,)
    with pytest.raises(GanforgeError, match="model.pack"):
        packed_shape((2,), 0)


def test_pack_samples_groups_consecutive_samples() -> None:
    x = torch.arange(12.0).reshape(6, 2)
    packed = pack_samples(x, 3)
    assert packed.shape == (2, 6)
    assert packed[0].tolist() == [0, 1, 2, 3, 4, 5]  # samples 0, 1, 2 concatenated
    images = torch.randn(8, 3, 4, 4)
    packed_images = pack_samples(images, 4)
    assert packed_images.shape == (2, 12, 4, 4)
    assert torch.equal(packed_images[1, 3:6], images[5])  # pack 1 holds samples 4..7, channel-concatenated


def test_packed_discriminator_returns_one_logit_per_pack() -> None:
    d = PackedDiscriminator(nn.Sequential(nn.Flatten(), nn.Linear(8, 1)), pack=4)
    assert d(torch.randn(64, 2)).shape == (16, 1)
    with pytest.raises(GanforgeError, match="multiple of 4"):
        d(torch.randn(10, 2))  # training mode: a ragged batch is a user error
    d.eval()
    assert d(torch.randn(2, 2)).shape == (1, 1)  # eval mode completes the last pack


def test_builder_sizes_discriminator_for_packs() -> None:
    source = grid25()
    gan = build_model({"type": "gan", "pack": 4, "discriminator": {"type": "mlp", "hidden": [16]}}, source)
    first = next(m for m in gan.discriminator.modules() if isinstance(m, nn.Linear))
    assert first.in_features == 8  # 4 samples x 2 coordinates
    assert gan.discriminate(torch.randn(32, 2)).shape == (8, 1)
    with pytest.raises(GanforgeError, match="conditional"):
        build_model({"type": "gan", "pack": 2, "conditional": True}, source)
