"""StyleGAN building blocks at small scale (Karras et al. 2019 "A Style-Based Generator", 2020 "StyleGAN2").

Generator: a mapping network z -> w, then a synthesis network that starts from a learned constant 4x4
tensor and, block by block, upsamples and applies weight-modulated convolutions whose styles come from
per-layer copies of w (``ws``, shape (N, num_ws, w_dim)), adds per-pixel noise, and sums ToRGB outputs
across resolutions (StyleGAN2's "skip" generator). Layer i of the synthesis network reads ``ws[:, i]``:
the 4x4 conv reads ws[0], its ToRGB ws[1]; the block at 2^k reads ws[2k-5], ws[2k-4] and its ToRGB
ws[2k-3]; so ``num_ws = 2 log2(R) - 2``. Low indices control coarse structure, high indices fine detail.
Discriminator: StyleGAN2's residual design with minibatch standard deviation.

Simplifications against the papers, for small images on a CPU: bilinear up- and 2x2 average
down-sampling instead of FIR (upfirdn) filters; no progressive growing; no lazy regularization
bookkeeping here (the GAN decides how often to call :func:`path_length_penalty`).
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.errors import GanforgeError
from ganforge.nets.layers import (
    LRELU_GAIN,
    LRELU_SLOPE,
    EqualizedConv2d,
    EqualizedLinear,
    MinibatchStdDev,
    PixelNorm,
    downsample2x,
    upsample2x,
)

NoiseMode = Literal["random", "const", "none"]
_NOISE_MODES = ("random", "const", "none")


def _check_resolution(resolution: int, where: str) -> int:
    if resolution < 4 or resolution & (resolution - 1):
        raise GanforgeError(
            f"{where}: resolution must be a power of two >= 4 (e.g. 8, 32, 64), got {resolution}"
        )
    return int(math.log2(resolution))


def channels_at(resolution: int, width: int) -> int:
    """Channels at a resolution: ``width`` at 4x4 and 8x8, halved per octave above, >= min(16, width)."""
    if resolution <= 8:
        return width
    return max(min(16, width), width * 8 // resolution)


class MappingNetwork(nn.Module):
    """``w = f(z)``: pixel-normalize z (unit RMS), then ``num_layers`` equalized-lr linear + leaky ReLU.

    ``lr_mul = 0.01`` lowers the mapping's learning rate 100x (StyleGAN), which keeps W stable.
    """

    def __init__(self, z_dim: int, w_dim: int, num_layers: int = 8, lr_mul: float = 0.01) -> None:
        super().__init__()
        if z_dim < 1 or w_dim < 1 or num_layers < 1:
            raise GanforgeError("MappingNetwork: z_dim, w_dim and num_layers must be >= 1")
        self.z_dim, self.w_dim = z_dim, w_dim
        self.norm = PixelNorm()
        dims = [z_dim] + [w_dim] * num_layers
        self.layers = nn.Sequential(
            *[
                EqualizedLinear(dims[i], dims[i + 1], lr_mul=lr_mul, activation="lrelu")
                for i in range(num_layers)
            ]
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() != 2 or z.shape[1] != self.z_dim:
            raise GanforgeError(f"MappingNetwork expects z shaped (N, {self.z_dim}), got {tuple(z.shape)}")
        return self.layers(self.norm(z))


class ModulatedConv2d(nn.Module):
    """StyleGAN2 weight (de)modulation, run as one grouped convolution over the batch.

    Style ``s = A(w)`` (an affine layer, bias initialized to 1) scales input channels:
    ``w'_{o,i,k} = s_i * w_{o,i,k}``. Demodulation rescales each output channel to unit L2 norm,
    ``w''_{o,i,k} = w'_{o,i,k} / sqrt(sum_{i,k} w'^2_{o,i,k} + eps)``, so unit-variance i.i.d. inputs give
    unit-variance outputs whatever the style: it replaces AdaIN's normalization of activations (the cause
    of StyleGAN's droplet artefacts) by a statistical assumption on the weights.

    Computed as StyleGAN2's non-fused path, which is the same function: the convolution is linear, so
    ``conv(x, w'') = d_o * conv(s_i * x, w)`` with ``d_o = 1 / sqrt(sum_i s_i^2 sum_k w^2_{o,i,k} + eps)``
    (an ``(N, in) @ (in, out)`` product): one ordinary convolution with weights shared by the batch. The
    fused form (per-sample weights folded into a grouped convolution, ``groups=N``) runs far slower on a
    CPU at these widths, where each group has few channels.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        w_dim: int,
        demodulate: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.demodulate = demodulate
        self.affine = EqualizedLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)  # (N, in)
        weight = self.weight * self.weight_gain  # (out, in, k, k), shared by the batch
        y = F.conv2d(x * styles[:, :, None, None], weight, padding=self.kernel_size // 2)
        if self.demodulate:  # d_o = rsqrt(sum_i s_i^2 sum_k w_{o,i,k}^2 + eps), per sample and output channel
            coefs = torch.rsqrt(styles.square() @ weight.square().sum(dim=(2, 3)).t() + 1e-8)  # (N, out)
            y = y * coefs[:, :, None, None]
        return y


class NoiseInjection(nn.Module):
    """``x + strength * noise``: per-pixel N(0, 1) noise, one map for all channels, a learned scalar scale.

    ``strength`` starts at 0 (StyleGAN2). Modes: "random" draws fresh noise, "const" uses a fixed map drawn
    once at construction (a persistent buffer, so checkpoints keep it), "none" adds nothing.
    """

    def __init__(self, resolution: int, seed: int = 0) -> None:
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(()))
        gen = torch.Generator().manual_seed(seed)
        self.register_buffer("noise_const", torch.randn(1, 1, resolution, resolution, generator=gen))

    def forward(self, x: torch.Tensor, noise_mode: NoiseMode = "random") -> torch.Tensor:
        if noise_mode == "none":
            return x
        if noise_mode == "random":
            noise = torch.randn(x.shape[0], 1, x.shape[2], x.shape[3], device=x.device, dtype=x.dtype)
        elif noise_mode == "const":
            noise = self.noise_const
        else:
            raise GanforgeError(f"unknown noise_mode '{noise_mode}'; choose one of {', '.join(_NOISE_MODES)}")
        return x + self.strength * noise


class StyledLayer(nn.Module):
    """[2x upsample] -> modulated conv3x3 -> noise -> bias -> leaky ReLU(0.2) * sqrt(2); reads one w."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,
        resolution: int,
        up: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.up = up
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, w_dim, demodulate=True)
        self.noise = NoiseInjection(resolution, seed=seed)
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: NoiseMode = "random") -> torch.Tensor:
        if self.up:
            x = upsample2x(x)
        x = self.noise(self.conv(x, w), noise_mode)
        return F.leaky_relu(x + self.bias[None, :, None, None], LRELU_SLOPE) * LRELU_GAIN


class ToRGB(nn.Module):
    """Modulated 1x1 conv to image channels, *without* demodulation (its output is the image), plus bias."""

    def __init__(self, in_channels: int, channels: int, w_dim: int) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, channels, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.conv(x, w) + self.bias[None, :, None, None]


class StyledBlock(nn.Module):
    """One synthesis octave: StyledLayer(up) -> StyledLayer -> ToRGB; ``img = up(img) + ToRGB(x)``.

    Reads three consecutive ws: the two convs' and the ToRGB's (which the next block's first conv shares).
    """

    num_ws = 3

    def __init__(
        self, in_channels: int, out_channels: int, w_dim: int, resolution: int, channels: int, seed: int = 0
    ) -> None:
        super().__init__()
        self.conv0 = StyledLayer(in_channels, out_channels, w_dim, resolution, up=True, seed=seed)
        self.conv1 = StyledLayer(out_channels, out_channels, w_dim, resolution, seed=seed + 1)
        self.torgb = ToRGB(out_channels, channels, w_dim)

    def forward(
        self, x: torch.Tensor, img: torch.Tensor, ws: torch.Tensor, noise_mode: NoiseMode = "random"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.conv0(x, ws[:, 0], noise_mode)
        x = self.conv1(x, ws[:, 1], noise_mode)
        return x, upsample2x(img) + self.torgb(x, ws[:, 2])


def mix_styles(ws_a: torch.Tensor, ws_b: torch.Tensor, crossover: int) -> torch.Tensor:
    """Style mixing: layers ``< crossover`` take ``ws_a``, layers ``>= crossover`` take ``ws_b``.

    Training with mixed styles (StyleGAN's mixing regularization, crossover drawn uniformly in
    1..num_ws-1 for 90% of batches) stops the generator assuming adjacent styles are correlated.
    """
    if ws_a.shape != ws_b.shape or ws_a.dim() != 3:
        raise GanforgeError(
            f"mix_styles: ws must share a shape (N, num_ws, w_dim), "
            f"got {tuple(ws_a.shape)} and {tuple(ws_b.shape)}"
        )
    if not 0 <= crossover <= ws_a.shape[1]:
        raise GanforgeError(f"mix_styles: crossover must lie in 0..{ws_a.shape[1]}, got {crossover}")
    return torch.cat([ws_a[:, :crossover], ws_b[:, crossover:]], dim=1)


class StyleGenerator(nn.Module):
    """StyleGAN2-style generator: z (N, z_dim) -> image (N, channels, R, R), linear output.

    ``w_avg`` (a buffer) tracks the mean of w by EMA, ``w_avg <- beta * w_avg + (1 - beta) * mean_batch(w)``,
    whenever the mapping runs in train mode. Truncation (StyleGAN's truncation trick) pulls styles towards
    it: ``w' = w_avg + psi * (w - w_avg)`` for layers below ``truncation_cutoff`` (all if None); psi = 0
    gives the "average" image, psi < 1 trades variety for typicality.
    """

    output_activation = "linear"

    def __init__(
        self,
        z_dim: int = 64,
        w_dim: int = 64,
        resolution: int = 32,
        channels: int = 3,
        width: int = 128,
        mapping_layers: int = 8,
        lr_mul: float = 0.01,
        w_avg_beta: float = 0.995,
    ) -> None:
        super().__init__()
        log_res = _check_resolution(resolution, "StyleGenerator")
        if channels < 1 or width < 1:
            raise GanforgeError("StyleGenerator: channels and width must be >= 1")
        self.z_dim, self.w_dim, self.resolution, self.channels = z_dim, w_dim, resolution, channels
        self.w_avg_beta = w_avg_beta
        self.num_ws = 2 * log_res - 2
        self.mapping = MappingNetwork(z_dim, w_dim, mapping_layers, lr_mul)
        self.register_buffer("w_avg", torch.zeros(w_dim))
        ch = channels_at(4, width)
        self.const = nn.Parameter(torch.randn(ch, 4, 4))
        self.conv4 = StyledLayer(ch, ch, w_dim, 4, seed=0)
        self.torgb4 = ToRGB(ch, channels, w_dim)
        blocks = []
        for k in range(3, log_res + 1):
            res = 2**k
            blocks.append(StyledBlock(ch, channels_at(res, width), w_dim, res, channels, seed=2 * k))
            ch = channels_at(res, width)
        self.blocks = nn.ModuleList(blocks)

    def truncate(
        self, ws: torch.Tensor, truncation_psi: float = 1.0, truncation_cutoff: int | None = None
    ) -> torch.Tensor:
        """``w_avg + psi * (ws - w_avg)`` on layers ``< truncation_cutoff`` (all when None)."""
        if truncation_psi == 1.0:
            return ws
        cutoff = self.num_ws if truncation_cutoff is None else truncation_cutoff
        out = ws.clone()
        out[:, :cutoff] = self.w_avg.lerp(ws[:, :cutoff], truncation_psi)
        return out

    def map(
        self,
        z: torch.Tensor,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        update_w_avg: bool | None = None,
    ) -> torch.Tensor:
        """Per-layer styles ws (N, num_ws, w_dim) for z; updates ``w_avg`` in train mode (or as told)."""
        w = self.mapping(z)
        if self.training if update_w_avg is None else update_w_avg:
            with torch.no_grad():
                self.w_avg.copy_(w.detach().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))
        ws = w[:, None, :].expand(-1, self.num_ws, -1)
        return self.truncate(ws, truncation_psi, truncation_cutoff)

    def synthesis(self, ws: torch.Tensor, noise_mode: NoiseMode = "random") -> torch.Tensor:
        """Image (N, channels, R, R) from per-layer styles ws (N, num_ws, w_dim)."""
        if noise_mode not in _NOISE_MODES:
            raise GanforgeError(f"unknown noise_mode '{noise_mode}'; choose one of {', '.join(_NOISE_MODES)}")
        if ws.dim() != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise GanforgeError(
                f"StyleGenerator: ws must be shaped (N, {self.num_ws}, {self.w_dim}), got {tuple(ws.shape)}"
            )
        x = self.const[None].expand(ws.shape[0], -1, -1, -1)
        x = self.conv4(x, ws[:, 0], noise_mode)
        img = self.torgb4(x, ws[:, 1])
        for i, block in enumerate(self.blocks):
            x, img = block(x, img, ws[:, 1 + 2 * i : 4 + 2 * i], noise_mode)
        return img

    def forward(
        self,
        z: torch.Tensor | None = None,
        *,
        ws: torch.Tensor | None = None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        mix_z: torch.Tensor | None = None,
        crossover: int | None = None,
        noise_mode: NoiseMode = "random",
    ) -> torch.Tensor:
        """Generate from ``z`` (N, z_dim) or from given styles ``ws`` ((N, w_dim) is broadcast to all layers).

        ``mix_z`` with ``crossover``: layers ``>= crossover`` take the styles of ``mix_z`` (style mixing).
        Truncation applies to the final styles, given or mapped.
        """
        if (z is None) == (ws is None):
            raise GanforgeError("StyleGenerator: pass exactly one of z or ws")
        if z is not None:
            ws = self.map(z)
        elif ws is not None and ws.dim() == 2:
            ws = ws[:, None, :].expand(-1, self.num_ws, -1)
        if mix_z is not None:
            if crossover is None:
                raise GanforgeError("StyleGenerator: mix_z needs a crossover layer index (0..num_ws)")
            ws = mix_styles(ws, self.map(mix_z), crossover)
        ws = self.truncate(ws, truncation_psi, truncation_cutoff)
        return self.synthesis(ws, noise_mode)


class StyleDiscriminatorBlock(nn.Module):
    """Residual block: ``(skip + main) / sqrt(2)``; main = conv3x3 -> down -> conv3x3, skip = down -> 1x1."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv0 = EqualizedConv2d(in_channels, in_channels, 3, activation="lrelu")
        self.conv1 = EqualizedConv2d(in_channels, out_channels, 3, activation="lrelu")
        self.skip = EqualizedConv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        main = self.conv1(downsample2x(self.conv0(x)))
        return (self.skip(downsample2x(x)) + main) / math.sqrt(2.0)


class StyleDiscriminator(nn.Module):
    """StyleGAN2 residual discriminator: image (N, C, R, R) -> one logit (N, 1).

    fromRGB (1x1 conv) -> residual blocks halving resolution down to 4x4 -> [minibatch stddev] ->
    conv3x3 -> dense -> dense to one logit. All layers use equalized learning rate.
    """

    def __init__(
        self,
        channels: int = 3,
        resolution: int = 32,
        width: int = 128,
        mbstd: bool = True,
        mbstd_group: int = 4,
    ) -> None:
        super().__init__()
        log_res = _check_resolution(resolution, "StyleDiscriminator")
        if channels < 1 or width < 1:
            raise GanforgeError("StyleDiscriminator: channels and width must be >= 1")
        self.channels, self.resolution = channels, resolution
        self.from_rgb = EqualizedConv2d(channels, channels_at(resolution, width), 1, activation="lrelu")
        self.blocks = nn.Sequential(
            *[
                StyleDiscriminatorBlock(channels_at(2**k, width), channels_at(2 ** (k - 1), width))
                for k in range(log_res, 2, -1)
            ]
        )
        ch = channels_at(4, width)
        self.mbstd = MinibatchStdDev(mbstd_group) if mbstd else None
        self.conv = EqualizedConv2d(ch + (1 if mbstd else 0), ch, 3, activation="lrelu")
        self.fc = EqualizedLinear(ch * 16, ch, activation="lrelu")
        self.out = EqualizedLinear(ch, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1:] != (self.channels, self.resolution, self.resolution):
            raise GanforgeError(
                f"StyleDiscriminator expects images shaped (N, {self.channels}, {self.resolution}, "
                f"{self.resolution}), got {tuple(x.shape)}"
            )
        x = self.blocks(self.from_rgb(x))
        if self.mbstd is not None:
            x = self.mbstd(x)
        return self.out(self.fc(self.conv(x).flatten(1)))


class PathLengthPenalty(NamedTuple):
    penalty: torch.Tensor  # scalar, differentiable w.r.t. the generator
    mean_path_length: torch.Tensor  # updated running mean a (detached), to carry to the next call
    path_lengths: torch.Tensor  # (N,) per-sample ||J_w^T y||_2 (for logging)


def path_length_penalty(
    images: torch.Tensor,
    ws: torch.Tensor,
    mean_path_length: torch.Tensor | float,
    decay: float = 0.01,
    noise: torch.Tensor | None = None,
) -> PathLengthPenalty:
    """StyleGAN2 path length regularizer ``E_{w,y}[(||J_w^T y||_2 - a)^2]``.

    ``J_w^T y = grad_w (g(w) . y)`` by backpropagation, with ``y ~ N(0, I) / sqrt(H W)`` (the scaling makes
    the length independent of resolution); for per-layer ws (N, L, w_dim) the length is
    ``sqrt(mean_L sum_{w_dim} grad^2)``. ``a`` is the running mean ``a <- a + decay * (mean(lengths) - a)``,
    updated before the penalty is taken. ``images`` must come from ``ws`` with the graph kept
    (``ws.requires_grad``). The GAN multiplies the penalty by its weight (2 in StyleGAN2) and interval.
    """
    if not ws.requires_grad:
        raise GanforgeError("path_length_penalty: ws must require grad and produce the images")
    if noise is None:
        noise = torch.randn_like(images) / math.sqrt(images.shape[2] * images.shape[3])
    (grad,) = torch.autograd.grad((images * noise).sum(), ws, create_graph=True)
    sq = grad.square().sum(dim=-1)
    lengths = (sq.mean(dim=1) if sq.dim() == 2 else sq).sqrt()
    a = torch.as_tensor(mean_path_length, dtype=lengths.dtype, device=lengths.device)
    a = (a + decay * (lengths.detach().mean() - a)).detach()
    return PathLengthPenalty((lengths - a).square().mean(), a, lengths)
