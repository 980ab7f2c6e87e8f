"""Discriminator penalties, each a :class:`~ganforge.gans.vanilla.Penalty` named in recipes under
``model.penalties`` (e.g. ``penalties: {r1: {weight: 1.0, every: 16}}``)."""

from __future__ import annotations

import torch
from torch import Tensor

from ganforge.gans.registry import register_penalty
from ganforge.gans.vanilla import Penalty, PenaltyInputs


def gradient_norm_squared(outputs: Tensor, inputs: Tensor) -> Tensor:
    """Per-sample ||d sum(outputs) / d inputs||^2, with the graph kept so it can be backpropagated."""
    (grad,) = torch.autograd.grad(outputs.sum(), inputs, create_graph=True)
    return grad.flatten(1).pow(2).sum(1)


class R1(Penalty):
    """R1 (Mescheder et al. 2018): gamma/2 * E_x ||grad_x D(x)||^2 on real data, which keeps D flat on the
    data manifold and makes the GAN converge locally. ``weight`` is gamma/2."""

    name = "r1"

    def value(self, inputs: PenaltyInputs) -> Tensor:
        real = inputs.real.detach().requires_grad_(True)
        return gradient_norm_squared(inputs.discriminator(real), real).mean()


@register_penalty("r1")
def r1(weight: float = 1.0, every: int = 1) -> R1:
    """R1 gradient penalty on real samples; ``every`` > 1 makes it lazy (weight scaled by ``every``)."""
    return R1(weight, every)
