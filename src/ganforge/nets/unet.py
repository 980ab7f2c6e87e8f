"""Pix2Pix networks (Isola, Zhu, Zhou & Efros 2017): the U-Net generator and the pair PatchGAN.

* :class:`UNetGenerator` — encoder ``C64-C128-C256-C512-C512-...`` (conv4x4 stride 2, LeakyReLU 0.2,
  norm on every layer but the first and the innermost) down to a 1x1 bottleneck, decoder of transposed
  conv4x4 stride 2 (ReLU, norm) mirroring it, with a skip connection concatenating encoder layer ``i``
  to decoder layer ``n - i``; tanh output. Dropout 0.5 on the first ``dropout_layers`` (3) decoder layers
  is the generator's only noise (the paper drops the z input: G learned to ignore it). Depth is
  ``log2(size)`` so any square power-of-2 size has a 1x1 bottleneck (8 levels at 256, 5 at 32).
* :class:`PairPatchDiscriminator` — the PatchGAN on (input, output) pairs concatenated on channels
  (``conditional=False``: on the output alone, the paper's unconditional-D ablation). C64 (no norm) then
  ``n_layers`` blocks C128, C256, C512 (the last with stride 1) then a 1-channel conv: each logit judges one
  ``receptive_field``-pixel patch. :func:`patch_layers_for` scales the patch with the image: the paper's
  70x70 patches on 256x256 images are 27 % of the side; the layer count whose patch is nearest that
  fraction is chosen (16 px at 32-64, 34 px at 128, 70 px at 256).
* :class:`LumaKeepingGenerator` — for colorization (1-channel gray in, RGB out): the U-Net predicts only
  the two chroma channels and the output keeps the input as its luma exactly, as the reference
  implementation's colorization mode predicts Lab's ab from L (here BT.601 Y'CbCr, the luma our grayscale is).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

from ganforge.data.images import LUMA
from ganforge.errors import GanforgeError

Norm = Literal["batch", "instance", "none"]
MIN_SIZE, MAX_SIZE = 32, 256
PAPER_PATCH_FRACTION = 70 / 256  # the paper's 70x70 PatchGAN on 256x256 images


def _norm(kind: Norm, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "none":
        return nn.Identity()
    raise GanforgeError(f"model.norm='{kind}': choose batch, instance or none")


def check_square_size(size: int, where: str = "U-Net") -> int:
    """The number of 2x reductions to a 1x1 bottleneck, ``log2(size)``; ``size`` must be a power of 2 in 32..256."""
    if not (MIN_SIZE <= size <= MAX_SIZE and size & (size - 1) == 0):
        raise GanforgeError(
            f"{where}: image size {size} is not a power of 2 between {MIN_SIZE} and {MAX_SIZE}; "
            "set data.size to 32, 64, 128 or 256"
        )
    return int(math.log2(size))


class UNetGenerator(nn.Module):
    """Pix2Pix's U-Net: (N, C_in, S, S) -> (N, C_out, S, S) in [-1, 1], skips between mirrored layers.

    ``width`` is the first layer's channels (64 in the paper); layer ``i`` has ``width * min(2^i, 8)``.
    Inputs of another size work when their sides are multiples of ``2^depth`` (the bottleneck grows).
    """

    output_activation = "tanh"

    def __init__(
        self,
        channels_in: int = 3,
        channels_out: int = 3,
        size: int = 256,
        width: int = 64,
        dropout: float = 0.5,
        dropout_layers: int = 3,
        norm: Norm = "batch",
    ) -> None:
        super().__init__()
        if min(channels_in, channels_out, width) < 1:
            raise GanforgeError("UNetGenerator: channels and width must be >= 1")
        if not 0.0 <= dropout < 1.0 or dropout_layers < 0:
            raise GanforgeError(f"model.dropout={dropout}: must lie in [0, 1); dropout_layers must be >= 0")
        self.channels_in, self.channels_out, self.size = channels_in, channels_out, size
        self.depth = check_square_size(size)
        widths = [width * min(2**i, 8) for i in range(self.depth)]
        self.down = nn.ModuleList()
        ch = channels_in
        for i, out_ch in enumerate(widths):
            layers: list[nn.Module] = [] if i == 0 else [nn.LeakyReLU(0.2)]
            layers.append(nn.Conv2d(ch, out_ch, 4, stride=2, padding=1, bias=norm != "batch" or i == 0))
            if 0 < i < self.depth - 1:  # no norm on the input layer nor on the 1x1 bottleneck
                layers.append(_norm(norm, out_ch))
            self.down.append(nn.Sequential(*layers))
            ch = out_ch
        self.up = nn.ModuleList()
        for j in range(self.depth):  # decoder layer j produces the resolution of encoder layer depth-2-j
            i = self.depth - 1 - j
            in_ch = widths[i] if j == 0 else 2 * widths[i]
            out_ch = widths[i - 1] if i > 0 else channels_out
            layers = [
                nn.ReLU(),
                nn.ConvTranspose2d(in_ch, out_ch, 4, stride=2, padding=1, bias=i == 0 or norm != "batch"),
            ]
            if i > 0:
                layers.append(_norm(norm, out_ch))
                if j < dropout_layers and dropout > 0:
                    layers.append(nn.Dropout(dropout))
            else:
                layers.append(nn.Tanh())
            self.up.append(nn.Sequential(*layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.channels_in:
            raise GanforgeError(
                f"UNetGenerator expects images shaped (N, {self.channels_in}, H, W), got {tuple(x.shape)}"
            )
        step = 2**self.depth
        if x.shape[-2] % step or x.shape[-1] % step:
            raise GanforgeError(
                f"UNetGenerator: image size {tuple(x.shape[-2:])} must be a multiple of {step} "
                f"(it was built for {self.size}x{self.size}); resize the images"
            )
        skips = []
        h = x
        for layer in self.down:
            h = layer(h)
            skips.append(h)
        h = self.up[0](skips[-1])
        for j in range(1, self.depth):
            h = self.up[j](torch.cat([h, skips[self.depth - 1 - j]], dim=1))
        return h


class LumaKeepingGenerator(nn.Module):
    """Gray (N, 1, S, S) -> RGB (N, 3, S, S) whose BT.601 luma is the input. A U-Net ``chroma`` (2 channels,
    tanh) gives c = (c_b, c_r) in [-1, 1], the chroma Cb = (B - Y) / 1.772, Cr = (R - Y) / 1.402 of images in
    [0, 1] scaled by 2 (their full range [-0.5, 0.5] -> [-1, 1]). In model units m = 2 d - 1, shared by input
    and output (the luma is kept under any affine map the two share; the chroma range is exact for this one):

        R = Y + 1.402 c_r,   B = Y + 1.772 c_b,   G = (Y - 0.299 R - 0.114 B) / 0.587

    so 0.299 R + 0.587 G + 0.114 B = Y for any c: L1 and D judge colour only. Out-of-gamut colours leave
    [-1, 1]; they are not clamped (that would stop the gradient), translations are clipped when saved."""

    output_activation = "tanh"

    def __init__(self, chroma: UNetGenerator) -> None:
        super().__init__()
        if chroma.channels_in != 1 or chroma.channels_out != 2:
            raise GanforgeError("LumaKeepingGenerator: the chroma U-Net maps 1 channel to 2")
        self.chroma = chroma
        self.channels_in, self.channels_out, self.size = 1, 3, chroma.size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kr, kg, kb = LUMA  # the BT.601 weights of data.images.set_channels, the gray of gray2color
        c_b, c_r = self.chroma(x).unbind(1)
        red = x[:, 0] + 2 * (1 - kr) * c_r
        blue = x[:, 0] + 2 * (1 - kb) * c_b
        green = (x[:, 0] - kr * red - kb * blue) / kg
        return torch.stack([red, green, blue], dim=1)


def patch_receptive_field(n_layers: int) -> int:
    """Side of the input patch one logit sees: ``1 + 3 * sum(jumps)`` over the 4x4 convolutions
    (``n_layers`` of stride 2, then two of stride 1): 16, 34, 70, 142, 286 for 1..5 layers."""
    rf, jump = 1, 1
    for s in [2] * n_layers + [1, 1]:
        rf += 3 * jump
        jump *= s
    return rf


def patch_layers_for(size: int) -> int:
    """The layer count whose patch side is nearest the paper's 70/256 of the image side (at least 1)."""
    target = PAPER_PATCH_FRACTION * size
    return min(range(1, 6), key=lambda n: (abs(math.log(patch_receptive_field(n) / target)), n))


class PairPatchDiscriminator(nn.Module):
    """PatchGAN on pairs: ``forward(condition, image)`` -> logits (N, 1, h, w), one per patch.

    ``conditional=True`` judges ``cat(condition, image)`` (the cGAN's D(x, y)); ``False`` judges ``image``
    alone (D(y), the unconditional ablation) and ignores the condition.
    """

    def __init__(
        self,
        channels_in: int,
        channels_out: int,
        width: int = 64,
        n_layers: int = 3,
        norm: Norm = "batch",
        conditional: bool = True,
    ) -> None:
        super().__init__()
        if width < 1 or n_layers < 1:
            raise GanforgeError("PairPatchDiscriminator: width and n_layers must be >= 1")
        self.conditional, self.n_layers = bool(conditional), n_layers
        self.channels_in, self.channels_out = channels_in, channels_out
        ch = channels_out + (channels_in if conditional else 0)
        layers: list[nn.Module] = [nn.Conv2d(ch, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        ch = width
        for i in range(1, n_layers + 1):
            out_ch = width * min(2**i, 8)
            stride = 2 if i < n_layers else 1
            layers += [
                nn.Conv2d(ch, out_ch, 4, stride=stride, padding=1, bias=norm != "batch"),
                _norm(norm, out_ch),
                nn.LeakyReLU(0.2),
            ]
            ch = out_ch
        layers.append(nn.Conv2d(ch, 1, 4, stride=1, padding=1))
        self.net = nn.Sequential(*layers)

    @property
    def receptive_field(self) -> int:
        return patch_receptive_field(self.n_layers)

    def output_size(self, size: int) -> int:
        """Logit-map side for input side ``size`` (a 4x4 conv with pad 1 and stride t: (s - 2) // t + 1)."""
        for s in [2] * self.n_layers + [1, 1]:
            size = (size - 2) // s + 1
        return size

    def forward(self, condition: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        if image.dim() != 4 or image.shape[1] != self.channels_out:
            raise GanforgeError(
                f"PairPatchDiscriminator expects images (N, {self.channels_out}, H, W), got {tuple(image.shape)}"
            )
        if min(self.output_size(int(image.shape[-2])), self.output_size(int(image.shape[-1]))) < 1:
            raise GanforgeError(
                f"PairPatchDiscriminator: {tuple(image.shape[-2:])} images are too small for n_layers="
                f"{self.n_layers}; use fewer layers"
            )
        x = torch.cat([condition, image], dim=1) if self.conditional else image
        return self.net(x)


def init_weights(module: nn.Module, std: float = 0.02) -> None:
    """The paper's initialization: conv weights ~ N(0, 0.02), norm scales ~ N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d)) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
