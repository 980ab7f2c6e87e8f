"""Convolutional generator and discriminator after DCGAN (Radford, Metz & Chintala 2016).

The paper's architecture guidelines, followed here:

* no pooling: the discriminator downsamples with stride-2 convolutions, the generator upsamples with
  stride-2 transposed convolutions (each halves / doubles the side: kernel 4, stride 2, padding 1);
* batch normalization in both networks, except the generator's output layer and the discriminator's
  input layer (normalizing those made training oscillate in the paper);
* ReLU in the generator with ``tanh`` on the output; leaky ReLU (slope 0.2) in the discriminator;
* the noise is projected by one linear layer (a matrix multiplication) to a 4x4 stack of feature maps;
  the last discriminator layer reads the 4x4 maps into a single logit;
* all weights start N(0, 0.02) (:func:`dcgan_init`).

Channel widths follow the paper's 64x64 net: the generator's 4x4 maps have ``8 * width`` channels
(``2**(stages - 1) * width`` for fewer stages, at most ``8 * width``), halved after every upsampling;
the discriminator mirrors it. Resolutions: any power of two from 8 to 128, and 28 (MNIST), which starts
from 7x7 maps (7 -> 14 -> 28). The discriminator returns raw logits of shape (N, 1), never a sigmoid:
the objectives apply the numerically stable log-sigmoid themselves.

Conditioning (optional ``num_classes``): the generator concatenates a learned label embedding to ``z``;
the discriminator either stacks one-hot label maps onto its input channels (``"concat"``) or scores with
a projection head ``psi(h) + <E[y], h>`` (``"projection"``, Miyato & Koyama 2018).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn
from torch.nn.utils import parametrize

from ganforge.errors import GanforgeError
from ganforge.nets.conditioning import LabelEmbedding, ProjectionHead, check_labels, label_maps
from ganforge.nets.layers import MinibatchStdDev

OutputActivation = Literal["tanh", "sigmoid", "linear"]
Conditioning = Literal["concat", "projection"]
SUPPORTED_RESOLUTIONS = (8, 16, 28, 32, 64, 128)
MAX_WIDTH_MULT = 8  # the paper's widest layer is 8x the narrowest (1024 vs 128)
LRELU_SLOPE = 0.2


def conv_plan(resolution: int) -> tuple[int, int]:
    """``(start, stages)``: the side of the smallest feature maps and the number of 2x resolution steps.

    Powers of two 8..128 start from 4x4 (``stages = log2(resolution) - 2``); 28 starts from 7x7 (2 stages).
    """
    if resolution == 28:
        return 7, 2
    if resolution in SUPPORTED_RESOLUTIONS:
        return 4, int(math.log2(resolution)) - 2
    raise GanforgeError(
        f"resolution {resolution} is not supported by the DCGAN nets; use 8, 16, 32, 64, 128 or 28 "
        "(resize the images with data.size)"
    )


def stage_widths(width: int, stages: int) -> list[int]:
    """Channels entering each upsampling stage of the generator, widest first (the discriminator's reversed).

    ``width * 2**(stages - 1 - i)``, capped at ``MAX_WIDTH_MULT * width``.
    """
    if width < 1:
        raise GanforgeError(f"width={width}: the conv nets need at least 1 channel per layer (64 is typical)")
    return [width * min(2 ** (stages - 1 - i), MAX_WIDTH_MULT) for i in range(stages)]


def _weight_of(module: nn.Module) -> torch.Tensor:
    """The trainable weight, looking through a parametrization such as spectral norm."""
    if parametrize.is_parametrized(module, "weight"):
        return module.parametrizations.weight.original
    return module.weight


@torch.no_grad()
def dcgan_init(module: nn.Module) -> None:
    """DCGAN initialization for one module (use with ``net.apply(dcgan_init)``).

    Convolutions, transposed convolutions and linear layers: weights ~ N(0, 0.02), biases 0 (the
    paper's "zero-centered Normal distribution with standard deviation 0.02"). Batch norm: scale
    ~ N(1, 0.02), shift 0, so each layer starts close to the identity. Other modules are left alone.
    """
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(_weight_of(module), 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.BatchNorm1d)) and module.affine:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def apply_spectral_norm(net: nn.Module) -> nn.Module:
    """Spectral-normalize every convolution, linear layer and embedding of ``net`` in place.

    Each weight ``W`` is used as ``W / sigma(W)`` with ``sigma`` its largest singular value (one power
    iteration per training step, Miyato et al. 2018), which bounds every layer's Lipschitz constant by 1.
    """
    kinds = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)
    for m in [m for m in net.modules() if isinstance(m, kinds)]:
        if not parametrize.is_parametrized(m, "weight") and not m.weight.is_meta:
            nn.utils.parametrizations.spectral_norm(m)
    # on ``meta`` (the build that only counts parameters, gans/registry.check_network_memory) the parameters are
    # the same without it, and its power iteration would run PyTorch's reference kernels, which import dynamo
    return net


def _check_output(output: str) -> None:
    if output not in ("tanh", "sigmoid", "linear"):
        raise GanforgeError(
            f"output='{output}': the generator's output activation must be tanh, sigmoid or linear"
        )


def _check_extra_convs(extra_convs: int) -> None:
    if extra_convs < 0:
        raise GanforgeError(f"extra_convs={extra_convs}: the number of extra 3x3 convolutions per stage must be >= 0")


def _g_extra(channels: int, extra_convs: int) -> list[nn.Module]:
    """``extra_convs`` blocks of 3x3 stride-1 convolution -> BN -> ReLU keeping ``channels`` and the map size."""
    layers: list[nn.Module] = []
    for _ in range(extra_convs):
        layers += [nn.Conv2d(channels, channels, 3, 1, 1, bias=False), nn.BatchNorm2d(channels), nn.ReLU()]
    return layers


def _output_layer(output: str) -> nn.Module:
    return {"tanh": nn.Tanh(), "sigmoid": nn.Sigmoid()}.get(output, nn.Identity())


class DCGANGenerator(nn.Module):
    """``G(z, y=None)``: noise (N, noise_dim) -> images (N, channels, resolution, resolution).

    Linear projection of ``[z, E[y]]`` to ``start x start`` maps -> BN -> ReLU, then per stage a
    stride-2 transposed convolution (kernel 4) -> BN -> ReLU, the last one to ``channels`` maps followed by
    the ``output`` activation (no BN). ``extra_convs`` > 0 adds that many 3x3 stride-1 convolution -> BN ->
    ReLU blocks (same channels) after the projection and after every upsampling but the last, so each
    resolution below the output gets more computation without changing shapes. ``label_dim`` is the size
    of the learned label embedding (default ``num_classes``). ``output_activation`` tells the trainer which
    range to scale data into.
    """

    def __init__(
        self,
        noise_dim: int = 100,
        channels: int = 3,
        resolution: int = 64,
        width: int = 64,
        output: OutputActivation = "tanh",
        num_classes: int | None = None,
        label_dim: int | None = None,
        extra_convs: int = 0,
    ) -> None:
        super().__init__()
        _check_output(output)
        _check_extra_convs(extra_convs)
        if noise_dim < 1 or channels < 1:
            raise GanforgeError(f"noise_dim={noise_dim}, channels={channels}: both must be at least 1")
        start, stages = conv_plan(resolution)
        widths = stage_widths(width, stages)
        self.noise_dim, self.channels, self.resolution = int(noise_dim), int(channels), int(resolution)
        self.output_activation: str = output
        self.num_classes = None if num_classes is None else int(num_classes)
        self.label = None if num_classes is None else LabelEmbedding(num_classes, label_dim)
        in_dim = self.noise_dim + (0 if self.label is None else self.label.dim)
        self.start, self.start_channels = start, widths[0]
        # bias=False wherever batch norm follows: BN's shift makes a bias redundant.
        self.project = nn.Linear(in_dim, widths[0] * start * start, bias=False)
        self.project_act = nn.Sequential(nn.BatchNorm2d(widths[0]), nn.ReLU())
        layers: list[nn.Module] = _g_extra(widths[0], extra_convs)
        for c_in, c_out in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
            layers += _g_extra(c_out, extra_convs)
        layers += [nn.ConvTranspose2d(widths[-1], self.channels, 4, 2, 1), _output_layer(output)]
        self.body = nn.Sequential(*layers)
        self.apply(dcgan_init)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        z = z.flatten(1)  # also accepts (N, noise_dim, 1, 1)
        if z.shape[1] != self.noise_dim:
            raise GanforgeError(f"generator expects noise of size {self.noise_dim}, got {tuple(z.shape)}")
        if self.label is not None:
            z = torch.cat([z, self.label(y, z.shape[0]).to(z.dtype)], dim=1)
        h = self.project(z).view(z.shape[0], self.start_channels, self.start, self.start)
        return self.body(self.project_act(h))


class DCGANDiscriminator(nn.Module):
    """``D(x, y=None)``: images (N, channels, resolution, resolution) -> one logit per image, (N, 1).

    Per stage a stride-2 convolution (kernel 4) -> BN -> leaky ReLU(0.2); no BN on the first layer, and
    none at all by default when ``spectral_norm=True`` (``batch_norm`` overrides). ``extra_convs`` > 0 adds
    that many 3x3 stride-1 convolution (-> BN whenever D uses batch norm) -> leaky ReLU blocks after each
    stride-2 convolution, at its output resolution and width. The last
    ``start x start`` maps (plus one minibatch-stddev map with ``minibatch_std=True``, Karras et al.
    2018) are read by a linear head, a projection head when ``conditioning="projection"``.
    ``conditioning="concat"`` stacks ``num_classes`` one-hot label maps onto the input channels.
    """

    def __init__(
        self,
        channels: int = 3,
        resolution: int = 64,
        width: int = 64,
        spectral_norm: bool = False,
        num_classes: int | None = None,
        conditioning: Conditioning = "concat",
        minibatch_std: bool = False,
        batch_norm: bool | None = None,
        extra_convs: int = 0,
    ) -> None:
        super().__init__()
        _check_extra_convs(extra_convs)
        if conditioning not in ("concat", "projection"):
            raise GanforgeError(f"conditioning='{conditioning}': choose concat or projection")
        if channels < 1:
            raise GanforgeError(f"channels={channels}: images need at least one channel")
        start, stages = conv_plan(resolution)
        widths = stage_widths(width, stages)[::-1]
        self.channels, self.resolution = int(channels), int(resolution)
        self.num_classes = None if num_classes is None else int(num_classes)
        self.conditioning = conditioning if num_classes is not None else None
        self.spectral_norm = spectral_norm
        use_bn = (not spectral_norm) if batch_norm is None else batch_norm
        c_in = self.channels + (self.num_classes or 0) * (self.conditioning == "concat")
        layers: list[nn.Module] = []
        for i, c_out in enumerate(widths):
            norm = use_bn and i > 0
            layers.append(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=not norm))
            if norm:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.LeakyReLU(LRELU_SLOPE))
            for _ in range(extra_convs):  # 3x3 stride-1 at the stage's output resolution; BN whenever D uses BN
                layers.append(nn.Conv2d(c_out, c_out, 3, 1, 1, bias=not use_bn))
                if use_bn:
                    layers.append(nn.BatchNorm2d(c_out))
                layers.append(nn.LeakyReLU(LRELU_SLOPE))
            c_in = c_out
        self.body = nn.Sequential(*layers)
        self.mbstd = MinibatchStdDev() if minibatch_std else None
        features = (c_in + int(minibatch_std)) * start * start
        self.head = ProjectionHead(features, self.num_classes if self.conditioning == "projection" else None)
        self.apply(dcgan_init)
        if spectral_norm:
            apply_spectral_norm(self)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        expected = (self.channels, self.resolution, self.resolution)
        if x.dim() != 4 or tuple(x.shape[1:]) != expected:
            raise GanforgeError(
                f"discriminator expects images of shape (N, {', '.join(map(str, expected))}), got "
                f"{tuple(x.shape)}; match the model's channels/resolution to the data (data.size)"
            )
        labels = None
        if self.num_classes is not None:
            labels = check_labels(y, self.num_classes, x.shape[0])
            if self.conditioning == "concat":
                maps = label_maps(labels, self.num_classes, self.resolution, self.resolution)
                x = torch.cat([x, maps.to(x.dtype)], dim=1)
        h = self.body(x)
        if self.mbstd is not None:
            h = self.mbstd(h)
        return self.head(h, labels)
