"""Discriminator penalties, each a :class:`~ganforge.gans.vanilla.Penalty` named in recipes under
``model.penalties`` (e.g. ``penalties: {r1: {weight: 1.0, every: 16}}``, ``penalties: {gp: 10}``).

All of them penalize the gradient of the discriminator's logit D with respect to its input x, at
different points:

=========  ===================================  ===================================  =====================
name       where the gradient is taken           term                                 paper
=========  ===================================  ===================================  =====================
``gp``     x_hat = eps x + (1 - eps) G(z)       lambda E (||grad D(x_hat)|| - 1)^2   Gulrajani et al. 2017
``r1``     real x                               gamma/2 E ||grad D(x)||^2            Mescheder et al. 2018
``r2``     fake G(z)                            gamma/2 E ||grad D(G(z))||^2         Mescheder et al. 2018
``dragan`` x + a c std(x) u; a, u ~ U[0, 1]     lambda E (||grad D(x_hat)|| - 1)^2   Kodali et al. 2017
=========  ===================================  ===================================  =====================

"Per sample" means per discriminator *output*: a packed discriminator (PacGAN) reads m samples per
output, and its Lipschitz constraint is on that whole packed input, so the gradient norm is taken over
the m samples of a pack together (:func:`gradient_norm_squared`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from ganforge.gans.registry import register_penalty
from ganforge.gans.vanilla import Penalty, PenaltyInputs


def gradient_norm_squared(outputs: Tensor, inputs: Tensor) -> Tensor:
    """||d outputs_i / d inputs||^2 for each of the B rows of ``outputs``, graph kept for backprop.

    ``outputs`` has B rows (one per discriminator output; extra dims such as patch logits are summed)
    and ``inputs`` N = B * m samples, the m samples of row i being ``inputs[i*m:(i+1)*m]`` (m = 1 for a
    plain discriminator, the pack size for PacGAN). The gradient of ``outputs.sum()`` is used: samples
    of different rows do not interact (no batch norm in D), so it holds each row's own gradient.
    """
    (grad,) = torch.autograd.grad(outputs.sum(), inputs, create_graph=True)
    rows = outputs.shape[0]
    return grad.reshape(rows, -1).pow(2).sum(1)


def interpolate(start: Tensor, end: Tensor, pack: int = 1) -> Tensor:
    """``start + eps (end - start)``, eps ~ U[0, 1] per discriminator input: samples ``i*pack ..
    (i+1)*pack - 1`` (pack i) share one eps, so a packed input lies on the line between the two packs."""
    shape = (start.shape[0] // pack, *([1] * (start.dim() - 1)))
    eps = torch.rand(shape, device=start.device, dtype=start.dtype).repeat_interleave(pack, dim=0)
    return start.detach() + eps * (end.detach() - start.detach())


def _norm(sq: Tensor) -> Tensor:
    """||g|| from ||g||^2, with a gradient that stays finite at 0 (sqrt's derivative is infinite there)."""
    return (sq + 1e-12).sqrt()


class GradientPenalty(Penalty):
    """WGAN-GP (Gulrajani et al. 2017): ``lambda * E_x_hat (||grad_x_hat D(x_hat)||_2 - 1)^2`` with
    ``x_hat = eps * x + (1 - eps) * G(z)``, eps ~ U[0, 1] drawn per discriminator input: the critic's
    gradient norm is pulled to 1 on straight lines between real and generated inputs, a soft 1-Lipschitz
    constraint. A packed critic's input is a pack of m samples, so one eps serves the whole pack (as
    CTGAN's code does): with a draw per sample the point would not lie on the line between the two packs.
    ``weight`` is lambda (10 in the paper); ``center`` is the target norm (1; 0 gives the zero-centred
    variant of Thanh-Tung et al. 2019)."""

    name = "gp"

    def __init__(self, weight: float = 10.0, every: int = 1, center: float = 1.0) -> None:
        super().__init__(weight, every)
        self.center = float(center)

    def interpolates(self, real: Tensor, fake: Tensor, pack: int = 1) -> Tensor:
        return interpolate(fake, real, pack)

    def value(self, inputs: PenaltyInputs) -> Tensor:
        pack = inputs.real.shape[0] // max(1, inputs.real_logits.shape[0])  # samples per discriminator output
        x_hat = self.interpolates(inputs.real, inputs.fake, pack).requires_grad_(True)
        sq = gradient_norm_squared(inputs.discriminator(x_hat), x_hat)
        return (_norm(sq) - self.center).pow(2).mean()


class R1(Penalty):
    """R1 (Mescheder et al. 2018): gamma/2 * E_x ||grad_x D(x)||^2 on real data, which keeps D flat on the
    data manifold and makes the GAN converge locally. ``weight`` is gamma/2."""

    name = "r1"

    def value(self, inputs: PenaltyInputs) -> Tensor:
        real = inputs.real.detach().requires_grad_(True)
        return gradient_norm_squared(inputs.discriminator(real), real).mean()


class R2(Penalty):
    """R2 (Mescheder et al. 2018): gamma/2 * E_z ||grad_x D(x)|_{x = G(z)}||^2 on generated samples
    (G held fixed). ``weight`` is gamma/2."""

    name = "r2"

    def value(self, inputs: PenaltyInputs) -> Tensor:
        fake = inputs.fake.detach().requires_grad_(True)
        return gradient_norm_squared(inputs.discriminator(fake), fake).mean()


class DRAGAN(Penalty):
    """DRAGAN (Kodali et al. 2017): ``lambda * E (||grad D(x_hat)||_2 - 1)^2`` near the real data, as the
    authors' code computes it: a perturbed copy ``x_p = x + c * std(x) * u``, u ~ U[0, 1] per value and
    std(x) the standard deviation of all values of the real batch (one number), then ``x_hat = x + alpha
    (x_p - x)`` with alpha ~ U[0, 1] per discriminator input (one per pack, as for WGAN-GP). The paper
    writes x + delta, delta ~ N(0, cI); the code's form is the one its results come from. Penalizing sharp
    gradients near the reals is what keeps D from forming the sharp local optima that cause mode collapse.
    ``weight`` is lambda (10 in the paper), ``scale`` is c (0.5)."""

    name = "dragan"

    def __init__(self, weight: float = 10.0, every: int = 1, scale: float = 0.5) -> None:
        super().__init__(weight, every)
        self.scale = float(scale)

    def perturb(self, real: Tensor) -> Tensor:
        """``x_p = x + c * std(x) * u``: the far end of the segments the penalty samples."""
        real = real.detach()
        std = real.std() if real.numel() > 1 else real.new_ones(())
        return real + self.scale * std * torch.rand_like(real)

    def value(self, inputs: PenaltyInputs) -> Tensor:
        pack = inputs.real.shape[0] // max(1, inputs.real_logits.shape[0])
        x_hat = interpolate(inputs.real, self.perturb(inputs.real), pack).requires_grad_(True)
        sq = gradient_norm_squared(inputs.discriminator(x_hat), x_hat)
        return (_norm(sq) - 1.0).pow(2).mean()


@register_penalty("gp")
def gp(weight: float = 10.0, every: int = 1, center: float = 1.0) -> GradientPenalty:
    """WGAN-GP gradient penalty (lambda = weight) at random interpolates between real and fake samples."""
    return GradientPenalty(weight, every, center)


@register_penalty("r1")
def r1(weight: float = 1.0, every: int = 1) -> R1:
    """R1 gradient penalty on real samples; ``every`` > 1 makes it lazy (weight scaled by ``every``)."""
    return R1(weight, every)


@register_penalty("r2")
def r2(weight: float = 1.0, every: int = 1) -> R2:
    """R2 gradient penalty on generated samples; ``every`` > 1 makes it lazy (weight scaled by ``every``)."""
    return R2(weight, every)


@register_penalty("dragan")
def dragan(weight: float = 10.0, every: int = 1, scale: float = 0.5) -> DRAGAN:
    """DRAGAN penalty: gradient norm pulled to 1 at randomly perturbed real samples."""
    return DRAGAN(weight, every, scale)
