"""The image network builders: shapes at every supported resolution, conditioning, the notes' MLP."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from ganforge.api import build_config
from ganforge.data.registry import source_from_config
from ganforge.errors import GanforgeError
from ganforge.gans.base import output_activation_of
from ganforge.gans.registry import build_model, build_network
from ganforge.nets.conv import SUPPORTED_RESOLUTIONS
from ganforge.nets.layers import MinibatchStdDev


def _pair(spec: dict, shape: tuple[int, ...], num_classes: int | None = None, noise_dim: int = 16):
    g = build_network(spec, "model.generator", "generator", noise_dim, shape, num_classes)
    d = build_network(spec, "model.discriminator", "discriminator", noise_dim, shape, num_classes)
    return g, d


@pytest.mark.parametrize("resolution", SUPPORTED_RESOLUTIONS)
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_shapes_at_every_resolution(resolution: int, channels: int) -> None:
    torch.manual_seed(0)
    g, d = _pair({"type": "dcgan", "width": 4}, (channels, resolution, resolution))
    x = g(torch.randn(2, 16)).detach()
    assert x.shape == (2, channels, resolution, resolution)
    assert float(x.abs().max()) <= 1.0  # tanh output
    assert d(x).shape == (2, 1)
    assert output_activation_of(g) == "tanh"


def test_dcgan_extra_convs_setting_reaches_each_network_on_its_own() -> None:
    torch.manual_seed(0)
    shape = (1, 16, 16)
    g = build_network({"type": "dcgan", "width": 4, "extra_convs": 1}, "model.generator", "generator", 16, shape, None)
    d = build_network({"type": "dcgan", "width": 4}, "model.discriminator", "discriminator", 16, shape, None)
    assert sum(isinstance(m, nn.Conv2d) for m in g.modules()) == 2  # 3x3 at 4x4 and at 8x8
    assert all(m.kernel_size == (4, 4) for m in d.modules() if isinstance(m, nn.Conv2d))
    assert d(g(torch.randn(2, 16))).shape == (2, 1)


@pytest.mark.parametrize("conditioning", ["concat", "projection"])
@pytest.mark.parametrize("resolution", [8, 28])
def test_conditional_dcgan_labels_reach_both_networks(conditioning: str, resolution: int) -> None:
    torch.manual_seed(0)
    spec = {"type": "dcgan", "width": 4, "conditioning": conditioning}
    g, d = _pair(spec, (1, resolution, resolution), num_classes=10)
    g.eval(), d.eval()
    z = torch.randn(1, 16).repeat(2, 1)  # the same noise for two labels
    y = torch.tensor([3, 7])
    x = g(z, y)
    assert x.shape == (2, 1, resolution, resolution)
    assert not torch.allclose(x[0], x[1]), "the generator ignores its label"
    same = x[:1].repeat(2, 1, 1, 1)
    logits = d(same, y)
    assert logits.shape == (2, 1)
    assert not torch.allclose(logits[0], logits[1]), "the discriminator ignores its label"
    with pytest.raises(GanforgeError, match="labels"):
        d(same)


def test_dcgan_sigmoid_output_and_spectral_norm() -> None:
    g, d = _pair({"type": "dcgan", "width": 4, "output": "sigmoid", "spectral_norm": True}, (1, 16, 16))
    assert output_activation_of(g) == "sigmoid"
    x = g(torch.randn(3, 16)).detach()
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(parametrize.is_parametrized(m, "weight") for m in convs)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in d.modules())  # SN replaces batch norm in D


@pytest.mark.parametrize(
    ("shape", "match"),
    [((2,), "for images"), ((1, 16, 8), "square"), ((1, 20, 20), "square images of side")],
)
def test_dcgan_rejects_data_it_cannot_fit(shape: tuple[int, ...], match: str) -> None:
    with pytest.raises(GanforgeError, match=match):
        build_network({"type": "dcgan"}, "model.generator", "generator", 16, shape, None)


def test_mlp_image_is_the_notes_network() -> None:
    """Seed 001: Dense(128, relu, input 100) -> Dense(784, tanh); D Dense(128, leaky 0.2) -> Dense(1)."""
    g, d = _pair({"type": "mlp-image"}, (1, 28, 28), noise_dim=100)
    g_linear = [m for m in g.modules() if isinstance(m, nn.Linear)]
    d_linear = [m for m in d.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in g_linear] == [(100, 128), (128, 784)]
    assert [(m.in_features, m.out_features) for m in d_linear] == [(784, 128), (128, 1)]
    assert any(isinstance(m, nn.ReLU) for m in g.modules())
    assert any(isinstance(m, nn.LeakyReLU) and m.negative_slope == 0.2 for m in d.modules())
    assert output_activation_of(g) == "tanh"
    x = g(torch.randn(5, 100))
    assert x.shape == (5, 1, 28, 28)
    assert d(x).shape == (5, 1)


def test_mlp_image_sigmoid_output_seed_003() -> None:
    g, _ = _pair({"type": "mlp-image", "output": "sigmoid"}, (1, 28, 28), noise_dim=100)
    assert output_activation_of(g) == "sigmoid"
    x = g(torch.randn(4, 100)).detach()
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0


@pytest.mark.parametrize("conditioning", ["concat", "projection"])
def test_conditional_mlp_image(conditioning: str) -> None:
    torch.manual_seed(0)
    spec = {"type": "mlp-image", "hidden": [32], "conditioning": conditioning}
    g, d = _pair(spec, (3, 8, 8), num_classes=4)
    assert output_activation_of(g) == "tanh"
    z = torch.randn(1, 16).repeat(2, 1)
    y = torch.tensor([0, 3])
    x = g(z, y)
    assert x.shape == (2, 3, 8, 8)
    assert not torch.allclose(x[0], x[1])
    logits = d(x[:1].repeat(2, 1, 1, 1), y)
    assert logits.shape == (2, 1)
    assert not torch.allclose(logits[0], logits[1])


def test_mlp_image_rejects_bad_settings() -> None:
    with pytest.raises(GanforgeError, match="hidden"):
        build_network({"type": "mlp-image", "hidden": []}, "model.generator", "generator", 8, (1, 8, 8), None)
    with pytest.raises(GanforgeError, match="not a setting"):
        build_network({"type": "mlp-image", "widht": 3}, "model.generator", "generator", 8, (1, 8, 8), None)


def test_digits_dcgan_discriminator_scores_each_image_on_its_own() -> None:
    """The recipe's R1 term is mean_i ||grad_x_i D(x_i)||^2, read off the gradient of sum_i D(x_i): that is each
    image's own gradient only if D mixes no samples (no batch norm, no minibatch stddev), checked here through
    the Jacobian of the logits, whose off-diagonal blocks must vanish in training mode."""
    config = build_config("digits-dcgan")
    assert "r1" in config.model["penalties"]
    gan = build_model(config.model, source_from_config(config.data))
    d = gan.discriminator.train()
    assert not any(isinstance(m, (nn.BatchNorm2d, MinibatchStdDev)) for m in d.modules())
    torch.manual_seed(0)
    x = torch.rand(3, 1, 16, 16) * 2 - 1
    jacobian = torch.autograd.functional.jacobian(lambda t: d(t).squeeze(1), x).flatten(2)  # (3, 3, 256)
    own = jacobian[torch.arange(3), torch.arange(3)]
    assert own.abs().sum(1).min() > 0  # D does look at each image
    off_diagonal = jacobian.clone()
    off_diagonal[torch.arange(3), torch.arange(3)] = 0
    assert off_diagonal.abs().max() == 0
