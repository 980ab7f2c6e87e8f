"""Adversarial objectives: pure functions of the discriminator's *logits*.

Notation: ``real`` = D's logits on real samples x, ``fake`` = D's logits on generated samples G(z),
D(.) = sigmoid(logit) where a probability is meant. All losses are means over the batch and are
*minimized* by the network they train.

Working on logits is what keeps the notes' sigmoid discriminator numerically stable: log D(x) is
computed as ``-softplus(-logit)`` and log(1 - D(x)) as ``-softplus(logit)``, neither of which can
produce log(0). A discriminator that ends in ``nn.Sigmoid`` is handled by
:func:`ganforge.gans.base.logit_discriminator`, which removes that final sigmoid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ganforge.errors import GanforgeError, did_you_mean
from ganforge.registry import Registry


def log_d(logits: Tensor) -> Tensor:
    """log D = log sigmoid(logit) = -softplus(-logit), finite for every finite logit."""
    return -F.softplus(-logits)


def log_one_minus_d(logits: Tensor) -> Tensor:
    """log(1 - D) = log sigmoid(-logit) = -softplus(logit), finite for every finite logit."""
    return -F.softplus(logits)


def bce_discriminator_loss(real: Tensor, fake: Tensor, real_target: float = 1.0) -> Tensor:
    """The notes' discriminator loss, shared by ``minimax`` and ``nonsaturating``:

    J_D = -mean log D(x) - mean log(1 - D(G(z)))

    i.e. binary cross-entropy with targets 1 for real and 0 for fake; minimizing it maximizes V(D, G).
    One-sided label smoothing (Salimans et al. 2016) sets the real target to ``real_target`` = 1 - s:
    J_D = -mean[(1-s) log D(x) + s log(1 - D(x))] - mean log(1 - D(G(z))).
    """
    real_term = (
        -log_d(real).mean()
        if real_target == 1.0
        else -(real_target * log_d(real) + (1.0 - real_target) * log_one_minus_d(real)).mean()
    )
    return real_term - log_one_minus_d(fake).mean()


def minimax_generator_loss(fake: Tensor) -> Tensor:
    """Saturating generator loss from the value function min_G max_D V(D, G):

    J_G = mean log(1 - D(G(z)))

    When D confidently rejects fakes (D(G(z)) -> 0) its gradient vanishes: d/dlogit = -sigmoid(logit) -> 0.
    """
    return log_one_minus_d(fake).mean()


def nonsaturating_generator_loss(fake: Tensor) -> Tensor:
    """The notes' non-saturating generator loss:

    J_G = -mean log D(G(z))

    Same fixed point as minimax, but a strong gradient exactly when D rejects the fakes.
    """
    return -log_d(fake).mean()


def least_squares_discriminator_loss(real: Tensor, fake: Tensor) -> Tensor:
    """LSGAN (Mao et al. 2017), a=0, b=1 on raw outputs: J_D = 1/2 mean (D(x) - 1)^2 + 1/2 mean D(G(z))^2."""
    return 0.5 * ((real - 1.0) ** 2).mean() + 0.5 * (fake**2).mean()


def least_squares_generator_loss(fake: Tensor) -> Tensor:
    """LSGAN generator, c=1: J_G = 1/2 mean (D(G(z)) - 1)^2."""
    return 0.5 * ((fake - 1.0) ** 2).mean()


def hinge_discriminator_loss(real: Tensor, fake: Tensor) -> Tensor:
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018): J_D = mean relu(1 - D(x)) + mean relu(1 + D(G(z)))."""
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def hinge_generator_loss(fake: Tensor) -> Tensor:
    """Hinge generator loss: J_G = -mean D(G(z))."""
    return -fake.mean()


def wasserstein_critic_loss(real: Tensor, fake: Tensor) -> Tensor:
    """WGAN critic (Arjovsky et al. 2017): J_D = mean D(G(z)) - mean D(x), an estimate of -W1 when D is
    1-Lipschitz (enforced by weight clipping or a gradient penalty)."""
    return fake.mean() - real.mean()


def wasserstein_generator_loss(fake: Tensor) -> Tensor:
    """WGAN generator: J_G = -mean D(G(z))."""
    return -fake.mean()


@dataclass(frozen=True)
class Objective:
    """A named pair of losses. ``probability_outputs`` says whether D's output is read as a probability
    (logit of one), which decides whether D(x) is reported as sigmoid(output) or as a raw score."""

    name: str
    discriminator: Callable[[Tensor, Tensor], Tensor]
    generator: Callable[[Tensor], Tensor]
    probability_outputs: bool


OBJECTIVES = Registry("objective")
"""Every adversarial objective by name (``model.objective`` in a recipe); add one with
``OBJECTIVES.add(name, Objective(...))`` or ``@register_objective(name)`` on a function returning it."""
OBJECTIVES.add("minimax", Objective("minimax", bce_discriminator_loss, minimax_generator_loss, True))
OBJECTIVES.add(
    "nonsaturating", Objective("nonsaturating", bce_discriminator_loss, nonsaturating_generator_loss, True)
)
OBJECTIVES.add(
    "least_squares",
    Objective("least_squares", least_squares_discriminator_loss, least_squares_generator_loss, False),
)
OBJECTIVES.add("hinge", Objective("hinge", hinge_discriminator_loss, hinge_generator_loss, False))
OBJECTIVES.add("wasserstein", Objective("wasserstein", wasserstein_critic_loss, wasserstein_generator_loss, False))


def register_objective(name: str) -> Callable[[Callable[[], Objective]], Callable[[], Objective]]:
    """Decorator for ``fn() -> Objective``: registers the objective it returns as ``name``."""

    def wrap(fn: Callable[[], Objective]) -> Callable[[], Objective]:
        OBJECTIVES.add(name, fn())
        return fn

    return wrap


def get_objective(name: str) -> Objective:
    """Look an objective up by name; an unknown name is a one-line user error."""
    if name not in OBJECTIVES:
        raise GanforgeError(
            f"unknown objective '{name}'{did_you_mean(name, OBJECTIVES)}; choose one of {', '.join(OBJECTIVES)}"
        )
    return OBJECTIVES[name]


def discriminator_score(outputs: Tensor, objective: Objective) -> Tensor:
    """What the progress line shows as D(.): the probability sigmoid(logit) for BCE objectives, the raw
    critic score otherwise."""
    return torch.sigmoid(outputs) if objective.probability_outputs else outputs
