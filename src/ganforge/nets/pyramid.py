"""Laplacian pyramid and the per-level networks of LAPGAN (Denton et al. 2015).

Gaussian pyramid: ``I_0 = I``, ``I_{k+1} = d(I_k)``. Laplacian pyramid: the band-pass residuals
``h_k = I_k - u(I_{k+1})`` for k < K plus the coarsest image ``h_K = I_K``. Reconstruction runs the
recurrence ``I_k = u(I_{k+1}) + h_k`` from the coarsest level up; it is exact for *any* ``u`` because
``h_k`` was defined with the same ``u``. LAPGAN samples by replacing each ``h_k`` with
``G_k(z_k, u(I_{k+1}))``: a conditional generator per level that only has to produce the detail an octave
adds, and a discriminator per level that sees the residual together with the low-pass image it refines.
The coarsest level (a small image, e.g. 8x8) uses an ordinary generator.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.errors import GanforgeError

# Binomial 5-tap filter [1, 4, 6, 4, 1] / 16: a cheap Gaussian (Burt & Adelson 1983).
_BINOMIAL5 = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0


def _blur(x: torch.Tensor) -> torch.Tensor:
    """Separable 5x5 binomial blur per channel, with edge-replicating padding (works at any size >= 1)."""
    c = x.shape[1]
    k = _BINOMIAL5.to(device=x.device, dtype=x.dtype)
    x = F.pad(x, (2, 2, 2, 2), mode="replicate")
    x = F.conv2d(x, k.view(1, 1, 1, 5).expand(c, 1, 1, 5), groups=c)
    return F.conv2d(x, k.view(1, 1, 5, 1).expand(c, 1, 5, 1), groups=c)


def _check_image(x: torch.Tensor, where: str) -> None:
    if x.dim() != 4:
        raise GanforgeError(f"{where} expects images shaped (N, C, H, W), got shape {tuple(x.shape)}")


def downsample(x: torch.Tensor) -> torch.Tensor:
    """``d(I)``: binomial blur (anti-alias), keep every 2nd pixel: (H, W) -> (ceil(H/2), ceil(W/2))."""
    _check_image(x, "downsample")
    return _blur(x)[:, :, ::2, ::2]


def upsample(x: torch.Tensor, size: tuple[int, int] | torch.Size) -> torch.Tensor:
    """``u(I)``: bilinear interpolation to ``size`` (H, W); an explicit size makes odd sizes round-trip."""
    _check_image(x, "upsample")
    return F.interpolate(x, size=(int(size[0]), int(size[1])), mode="bilinear", align_corners=False)


def laplacian_pyramid(x: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """``[h_0, ..., h_{levels-2}, I_{levels-1}]``: finest residual first, the coarsest image last.

    ``levels`` is the length of the returned list; ``levels=1`` returns ``[x]``. Each residual is
    ``h_k = I_k - u(d(I_k))`` at the size of ``I_k``.
    """
    _check_image(x, "laplacian_pyramid")
    if levels < 1:
        raise GanforgeError(f"laplacian_pyramid: levels must be >= 1, got {levels}")
    min_side = min(x.shape[-2:])
    if levels > 1 and min_side < 2 ** (levels - 1):
        max_levels = int(math.floor(math.log2(min_side))) + 1
        raise GanforgeError(
            f"laplacian_pyramid: {levels} levels need images of at least {2 ** (levels - 1)} pixels a side, "
            f"got {tuple(x.shape[-2:])}; use at most {max_levels} levels"
        )
    pyramid: list[torch.Tensor] = []
    current = x
    for _ in range(levels - 1):
        coarser = downsample(current)
        pyramid.append(current - upsample(coarser, current.shape[-2:]))
        current = coarser
    pyramid.append(current)
    return pyramid


def reconstruct(pyramid: list[torch.Tensor]) -> torch.Tensor:
    """Invert :func:`laplacian_pyramid`: ``I_K = h_K``, then ``I_k = u(I_{k+1}) + h_k`` down to k = 0."""
    if not pyramid:
        raise GanforgeError("reconstruct: the pyramid is empty; pass the list laplacian_pyramid returned")
    image = pyramid[-1]
    for residual in reversed(pyramid[:-1]):
        image = upsample(image, residual.shape[-2:]) + residual
    return image


def _check_level_input(x: torch.Tensor, channels: int, resolution: int, what: str, where: str) -> None:
    if x.dim() != 4 or x.shape[1] != channels or tuple(x.shape[-2:]) != (resolution, resolution):
        raise GanforgeError(
            f"{where}: {what} must be shaped (N, {channels}, {resolution}, {resolution}), "
            f"got {tuple(x.shape)}"
        )


def _check_fold(fold: int, resolution: int, where: str) -> int:
    if fold < 1 or resolution % fold:
        raise GanforgeError(
            f"{where}: fold={fold} must be >= 1 and divide the level's resolution {resolution} (e.g. 1 or 2)"
        )
    return int(fold)


class LaplacianLevelGenerator(nn.Module):
    """``G_k(z_k, l_k)``: a small convnet mapping the upsampled coarser image plus noise planes to a residual.

    Input: ``cat([l_k, z_k], dim=1)`` with ``l_k = u(I_{k+1})`` (N, C, R, R) and ``z_k`` (N, noise_dim, R, R)
    per-pixel noise (LAPGAN feeds the noise as extra image planes). Body: ``depth`` conv3x3 - BN - ReLU
    layers of ``width`` channels, then a conv3x3 to C channels with a **linear** output, because band-pass
    residuals are signed and not bounded like images. ``cond=False`` drops ``l_k`` (the unconditional
    ablation); ``forward`` then ignores the coarse image.

    ``fold`` f > 1 runs the body at R/f: ``l_k`` is folded space-to-depth (``pixel_unshuffle``, C f^2
    channels at R/f, no pixel dropped), the noise planes are drawn at R/f, and the C f^2 output channels
    are unfolded back to (C, R, R) (``pixel_shuffle``). Same receptive field in pixels times f, f^2 fewer
    positions: a convolution over few channels at full resolution is what makes a refining level costly
    on a CPU.
    """

    output_activation = "linear"

    def __init__(
        self,
        noise_dim: int,
        channels: int,
        resolution: int,
        width: int = 64,
        cond: bool = True,
        depth: int = 2,
        fold: int = 1,
    ) -> None:
        super().__init__()
        if noise_dim < 1 or channels < 1 or resolution < 1 or width < 1 or depth < 1:
            raise GanforgeError(
                "LaplacianLevelGenerator: noise_dim, channels, resolution, width and depth must all be >= 1"
            )
        self.fold = _check_fold(fold, resolution, "LaplacianLevelGenerator")
        self.noise_dim, self.channels, self.resolution, self.cond = noise_dim, channels, resolution, cond
        self.noise_resolution = resolution // self.fold
        layers: list[nn.Module] = []
        in_ch = noise_dim + (channels * self.fold**2 if cond else 0)
        for _ in range(depth):
            layers += [nn.Conv2d(in_ch, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
            in_ch = width
        layers.append(nn.Conv2d(in_ch, channels * self.fold**2, 3, padding=1))
        self.net = nn.Sequential(*layers)

    def sample_noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Standard normal noise planes (n, noise_dim, R/fold, R/fold) on this module's device."""
        device = next(self.parameters()).device
        shape = (n, self.noise_dim, self.noise_resolution, self.noise_resolution)
        if generator is None:
            return torch.randn(shape, device=device)
        return torch.randn(shape, generator=generator, device=generator.device).to(device)

    def forward(self, coarse_up: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Residual ``h~_k`` (N, C, R, R) for the upsampled coarse image; noise drawn if None."""
        where = "LaplacianLevelGenerator"
        _check_level_input(coarse_up, self.channels, self.resolution, "the upsampled coarse image", where)
        side = self.noise_resolution
        if noise is None:
            noise = torch.randn(coarse_up.shape[0], self.noise_dim, side, side, device=coarse_up.device)
        _check_level_input(noise, self.noise_dim, side, "the noise", where)
        x = torch.cat([F.pixel_unshuffle(coarse_up, self.fold), noise], dim=1) if self.cond else noise
        return F.pixel_shuffle(self.net(x), self.fold)


class LaplacianLevelDiscriminator(nn.Module):
    """``D_k(h_k, l_k)``: one logit (N, 1) for a residual judged together with the low-pass image it refines.

    Input ``cat([h_k, l_k], dim=1)`` (2C channels; C with ``cond=False``). Body: conv3x3 + leaky ReLU(0.2),
    then stride-2 conv4x4 + leaky ReLU halving the size (doubling channels up to 8 * width) until 4x4 or
    smaller, then a linear layer to one logit (no sigmoid; the objective applies it stably). ``fold`` f > 1
    first folds the input space-to-depth (``pixel_unshuffle``: 2C f^2 channels at R/f), as in
    :class:`LaplacianLevelGenerator`.
    """

    def __init__(
        self, channels: int, resolution: int, width: int = 64, cond: bool = True, fold: int = 1
    ) -> None:
        super().__init__()
        if channels < 1 or resolution < 1 or width < 1:
            raise GanforgeError("LaplacianLevelDiscriminator: channels, resolution and width must be >= 1")
        self.fold = _check_fold(fold, resolution, "LaplacianLevelDiscriminator")
        self.channels, self.resolution, self.cond = channels, resolution, cond
        in_ch = channels * (2 if cond else 1) * self.fold**2
        layers: list[nn.Module] = [nn.Conv2d(in_ch, width, 3, padding=1), nn.LeakyReLU(0.2)]
        size, ch = resolution // self.fold, width
        while size > 4:
            out_ch = min(ch * 2, width * 8)
            layers += [nn.Conv2d(ch, out_ch, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            ch, size = out_ch, size // 2
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(ch * size * size, 1)

    def forward(self, residual: torch.Tensor, coarse_up: torch.Tensor | None = None) -> torch.Tensor:
        """Logit (N, 1) that ``residual`` is a real band-pass image for ``coarse_up``."""
        where = "LaplacianLevelDiscriminator"
        _check_level_input(residual, self.channels, self.resolution, "the residual", where)
        x = residual
        if self.cond:
            if coarse_up is None:
                raise GanforgeError(f"{where}: cond=True needs the upsampled coarse image as second input")
            _check_level_input(coarse_up, self.channels, self.resolution, "the upsampled coarse image", where)
            x = torch.cat([residual, coarse_up], dim=1)
        return self.head(self.features(F.pixel_unshuffle(x, self.fold)).flatten(1))
