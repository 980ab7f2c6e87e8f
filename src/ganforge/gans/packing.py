"""PacGAN packing (Lin et al. 2018): the discriminator judges m samples at once.

A packed discriminator D_m reads m samples drawn together — all real or all generated — and returns
one logit for the pack. A generator that collapses onto few modes produces packs of near-identical
samples, which are easy to tell apart from packs of independent real samples, so D_m penalizes mode
collapse directly (the paper shows packing tightens the total-variation "mode collapse region").

Recipes turn it on with ``model.pack: m``; the model builder then sizes D's input for m samples:
``(m * C, ...)`` — points ``(N, D)`` become ``(N/m, m*D)``, images ``(N, C, H, W)`` become
``(N/m, m*C, H, W)`` (the samples of a pack concatenated along the first feature axis, as in the
paper's code). The batch size must be a multiple of m.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ganforge.errors import GanforgeError


def packed_shape(sample_shape: tuple[int, ...], pack: int) -> tuple[int, ...]:
    """The shape one packed discriminator input has: ``(pack * shape[0], *shape[1:])``."""
    if pack < 1:
        raise GanforgeError(f"model.pack: must be 1 or more samples per discriminator input, got {pack}")
    if not sample_shape:
        return (pack,)
    return (pack * sample_shape[0], *sample_shape[1:])


def pack_samples(x: Tensor, pack: int) -> Tensor:
    """(N, C, ...) -> (N / pack, pack * C, ...): samples ``i*pack .. i*pack + pack - 1`` form pack i."""
    n = x.shape[0]
    if n % pack:
        raise GanforgeError(
            f"model.pack: a batch of {n} samples cannot be split into packs of {pack}; "
            f"use a train.batch_size that is a multiple of {pack}"
        )
    if x.dim() == 1:
        return x.reshape(n // pack, pack)
    return x.reshape(n // pack, pack * x.shape[1], *x.shape[2:])


class PackedDiscriminator(nn.Module):
    """Wraps a discriminator built for packed inputs (``packed_shape``) so it is called on plain batches:
    ``forward(x)`` packs ``x`` (N samples) into N / m inputs and returns the inner net's N / m logits.

    In training N must be a multiple of m; in eval mode a ragged last pack is completed by repeating
    samples of the batch (so shape checks and scoring work on any batch size)."""

    def __init__(self, net: nn.Module, pack: int) -> None:
        super().__init__()
        if pack < 1:
            raise GanforgeError(f"model.pack: must be 1 or more samples per discriminator input, got {pack}")
        self.net = net
        self.pack = int(pack)

    def forward(self, x: Tensor) -> Tensor:
        ragged = x.shape[0] % self.pack
        if ragged and not self.training:
            # scoring an arbitrary batch (shape checks, eval): complete the last pack by cycling its samples
            fill = torch.arange(self.pack - ragged, device=x.device) % x.shape[0]
            x = torch.cat([x, x[fill]])
        return self.net(pack_samples(x, self.pack))

    def extra_repr(self) -> str:
        return f"pack={self.pack}"
