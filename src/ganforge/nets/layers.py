"""Small layers shared by the image nets: equalized learning rate, pixel norm, residual block, minibatch std.

Equalized learning rate (Karras et al. 2018, ProGAN): weights are stored as N(0, 1) / lr_mul and scaled at
run time by ``c = lr_mul / sqrt(fan_in)``. Adam's update is invariant to a parameter's scale, so every
weight then learns at the same effective speed whatever its fan-in, and ``lr_mul`` slows a whole layer
down (StyleGAN's mapping network uses 0.01).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.errors import GanforgeError

LRELU_SLOPE = 0.2
LRELU_GAIN = math.sqrt(2.0)  # keeps activations' second moment ~1 through leaky ReLU (He et al. 2015)


class EqualizedLinear(nn.Module):
    """``y = x @ (W * lr_mul / sqrt(in)).T + b * lr_mul`` with ``W ~ N(0, 1) / lr_mul``.

    ``activation="lrelu"`` applies a leaky ReLU (slope 0.2) scaled by sqrt(2).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        bias: bool = True,
        bias_init: float = 0.0,
        lr_mul: float = 1.0,
        activation: Literal["linear", "lrelu"] = "linear",
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init) / lr_mul)) if bias else None
        self.weight_gain = lr_mul / math.sqrt(in_features)
        self.lr_mul = lr_mul
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.bias * self.lr_mul if self.bias is not None else None
        y = F.linear(x, self.weight * self.weight_gain, bias)
        if self.activation == "lrelu":
            y = F.leaky_relu(y, LRELU_SLOPE) * LRELU_GAIN
        return y


class EqualizedConv2d(nn.Module):
    """A 'same'-padded convolution with run-time weight scale ``1 / sqrt(in * k * k)`` (equalized lr).

    ``activation="lrelu"`` applies a leaky ReLU (slope 0.2) scaled by sqrt(2).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        bias: bool = True,
        activation: Literal["linear", "lrelu"] = "linear",
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.padding = kernel_size // 2
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.conv2d(x, self.weight * self.weight_gain, self.bias, padding=self.padding)
        if self.activation == "lrelu":
            y = F.leaky_relu(y, LRELU_SLOPE) * LRELU_GAIN
        return y


class PixelNorm(nn.Module):
    """``x / sqrt(mean_c(x^2) + eps)``: normalizes each sample's feature vector to unit RMS along dim 1."""

    def __init__(self, eps: float = 1e-8) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + self.eps)


NormName = Literal["batch", "instance", "none"]
ActName = Literal["prelu", "relu", "lrelu"]


def norm_layer(name: NormName, channels: int) -> nn.Module:
    """BatchNorm2d, InstanceNorm2d (no affine, as CycleGAN) or identity."""
    if name == "batch":
        return nn.BatchNorm2d(channels)
    if name == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if name == "none":
        return nn.Identity()
    raise GanforgeError(f"unknown norm '{name}'; choose one of batch, instance, none")


def act_layer(name: ActName, channels: int) -> nn.Module:
    """PReLU (one slope per channel, as SRGAN), ReLU or leaky ReLU(0.2)."""
    if name == "prelu":
        return nn.PReLU(channels)
    if name == "relu":
        return nn.ReLU(inplace=False)
    if name == "lrelu":
        return nn.LeakyReLU(LRELU_SLOPE)
    raise GanforgeError(f"unknown activation '{name}'; choose one of prelu, relu, lrelu")


class ResidualBlock(nn.Module):
    """``x + body(x)``, body = conv3x3 - norm - act - conv3x3 - norm (He et al. 2016, as SRGAN / CycleGAN).

    ``padding="reflect"`` pads by reflection before each convolution (CycleGAN: fewer border artefacts),
    ``"zeros"`` uses the convolution's zero padding (SRResNet). The identity skip keeps the gradient path
    short, which is what lets SRResNet be 16 blocks deep.
    """

    def __init__(
        self,
        channels: int,
        *,
        norm: NormName = "batch",
        activation: ActName = "prelu",
        padding: Literal["zeros", "reflect"] = "zeros",
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(2):
            if padding == "reflect":
                layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3)]
            else:
                layers.append(nn.Conv2d(channels, channels, 3, padding=1))
            layers.append(norm_layer(norm, channels))
            if i == 0:
                layers.append(act_layer(activation, channels))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class MinibatchStdDev(nn.Module):
    """Append the across-batch standard deviation as extra feature maps (Karras et al. 2018).

    The batch is split into groups of ``group_size`` (the largest divisor of N not above it); within a
    group, ``std = sqrt(Var_group(x) + 1e-8)`` per feature, averaged over channels (split into
    ``num_features`` chunks) and pixels, then broadcast as ``num_features`` constant maps. A collapsed
    generator gives near-zero std, which the discriminator can see directly. Feature vectors (N, F)
    are read as (N, F, 1, 1) and come back as (N, F + num_features). A batch whose size has no divisor from 2
    to ``group_size`` (a prime N above it, e.g. ``train.batch_size=7``) gets groups of 1, whose std is the
    constant 1e-4: the maps then carry nothing, so give such a discriminator an even batch size.
    """

    def __init__(self, group_size: int = 4, num_features: int = 1) -> None:
        super().__init__()
        self.group_size = group_size
        self.num_features = num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:  # feature vectors (N, F), e.g. in an MLP discriminator: one pixel per feature
            return self.forward(x[:, :, None, None]).flatten(1)
        n, c, h, w = x.shape
        g = max(d for d in range(1, min(self.group_size, n) + 1) if n % d == 0)
        f = self.num_features
        y = x.reshape(g, n // g, f, c // f, h, w)
        y = y - y.mean(dim=0)
        y = (y.square().mean(dim=0) + 1e-8).sqrt()  # (N/G, F, C/F, H, W)
        y = y.mean(dim=(2, 3, 4))  # (N/G, F)
        y = y.reshape(n // g, f, 1, 1).repeat(g, 1, h, w)  # sample i belongs to group i % (N/G)
        return torch.cat([x, y], dim=1)


def downsample2x(x: torch.Tensor) -> torch.Tensor:
    """2x2 average pooling: the box-filter decimation the style discriminator uses between blocks."""
    return F.avg_pool2d(x, 2)


def upsample2x(x: torch.Tensor) -> torch.Tensor:
    """Bilinear 2x upsampling (a smooth interpolation filter instead of StyleGAN2's FIR upfirdn)."""
    return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
