"""The GAN of Goodfellow et al. (2014) and the variants that only change its networks or objective:
DCGAN (convolutional nets), conditional GAN (labels into G and D), LSGAN, hinge GAN, WGAN.

Each training step runs the discriminator phase (``n_critic`` times) and then the generator phase:

    D phase:  minimize J_D(D(x), D(G(z)))  [+ penalties]   over D's parameters
    G phase:  minimize J_G(D(G(z)))                        over G's parameters

with J_D, J_G from :mod:`ganforge.objectives`. As in the PyTorch DCGAN tutorial, the fake batch of the
last D repeat is generated once, with its graph kept, and reused by the G phase: G has not changed in
between, so this equals a fresh forward pass with the same z, at half the generator cost.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import Tensor, nn

from ganforge.data.base import Batch
from ganforge.errors import GanforgeError, did_you_mean, quote, real_number, whole_number
from ganforge.gans.base import (  # Penalty, PenaltyInputs, add_penalties: public here since the first release
    GANModel,
    Noise,
    Penalty,
    PenaltyInputs,
    Phase,
    add_penalties,
    first_linear_inputs,
    logit_discriminator,
    output_activation_of,
)
from ganforge.log_keys import LOSS_G
from ganforge.objectives import bce_discriminator_loss, get_objective

__all__ = ["GAN", "Penalty", "PenaltyInputs", "add_penalties"]

D_OUTPUTS = ("auto", "logits", "probability")
PENALTY_EXAMPLE = "from ganforge.gans.penalties import R1; penalties=[R1(1.0)]"


def checked_count(value: Any, owner: str, name: str, what: str, minimum: int = 1) -> int:
    """A count or size given to a constructor (``GAN``'s ``n_critic``, ``TableGAN``'s ``pack``...) as an int,
    refused in one line naming ``owner(name=...)`` unless it is a whole number >= ``minimum``
    (:func:`~ganforge.errors.whole_number`: ``2.0`` is 2; ``2.5``, ``True`` and ``"2"`` are refused).

    Without it a bad value trained silently (``n_critic=2.5`` ran as 2) or failed far from its cause
    (``n_critic=0``: "the generator phase reuses the fake batch"; ``num_classes=0``: "random_ expects 'from' <
    'to'"; ``noise_dim="1"`` inside ``torch.randn``)."""
    number = whole_number(value)
    if number is None or number < minimum:
        raise GanforgeError(f"{owner}({name}={quote(value)}): give a whole number >= {minimum} ({what})")
    return number


def checked_sizes(values: Sequence[Any], owner: str, name: str, what: str) -> list[int]:
    """A list of sizes given to a constructor (``GAN``'s noise shape, ``TableGAN``'s layer widths), each a whole
    number >= 1, as ints; the first that is not is named by its position, ``what`` saying what to give."""
    sizes: list[int] = []
    for i, size in enumerate(values):
        number = whole_number(size)
        if number is None or number < 1:
            raise GanforgeError(f"{owner}({name}={quote(values)}): item {i} is {quote(size)}; {what}")
        sizes.append(number)
    return sizes


def checked_positive(value: Any, owner: str, name: str, what: str, allow_zero: bool = False) -> float:
    """A weight or bound given to a constructor as a float: a finite real number > 0 (>= 0 with
    ``allow_zero``), refused in one line naming ``owner(name=...)``. A negative clip bound or penalty weight
    trained silently, and wrongly: a negative gradient penalty rewards the steep critic it should prevent,
    and ``clip_weights=0`` zeroes every weight of D."""
    bound = ">= 0" if allow_zero else "> 0"
    number = real_number(value)
    if number is None or not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        raise GanforgeError(f"{owner}({name}={quote(value)}): give a finite number {bound} ({what})")
    return number


def _checked_noise_dim(value: Any) -> int | tuple[int, ...] | None:
    """``noise_dim``: None (read from the generator), a whole number >= 1, or a non-empty list of them (the
    shape of z per sample, e.g. ``(T, nz)`` for sequences). A float reached ``list(1.5)`` ("'float' object is
    not iterable") and a string was iterated as characters, failing in ``torch.randn`` when training began."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and value:
        what = "each size of the noise shape must be a whole number >= 1, e.g. noise_dim=(T, 16)"
        return tuple(checked_sizes(value, "GAN", "noise_dim", what))
    if isinstance(value, (list, tuple)) or whole_number(value) is None:  # [], 1.5, "16"
        raise GanforgeError(
            f"GAN(noise_dim={quote(value)}): give the noise size as a whole number >= 1 (e.g. noise_dim=16), a "
            "shape such as noise_dim=(T, 16), or leave it out to read it from the generator's first nn.Linear"
        )
    return checked_count(value, "GAN", "noise_dim", "the size of the noise z, e.g. noise_dim=16")


def _checked_penalties(penalties: Any) -> list[Penalty]:
    """``penalties``: a list of :class:`Penalty` objects. A recipe's names (``"r1"``) are not resolved here:
    each was called as a function when training began ("'str' object is not callable")."""
    if isinstance(penalties, Penalty):
        raise GanforgeError(f"GAN(penalties={quote(penalties)}): give a list of penalties, e.g. {PENALTY_EXAMPLE}")
    if isinstance(penalties, (str, bytes, dict)) or not isinstance(penalties, (list, tuple)):
        raise GanforgeError(
            f"GAN(penalties={quote(penalties)}): give a list of Penalty objects, e.g. {PENALTY_EXAMPLE} (names "
            "such as 'r1' are for recipes' model.penalties)"
        )
    for i, penalty in enumerate(penalties):
        if not isinstance(penalty, Penalty):
            raise GanforgeError(
                f"GAN(penalties=...): item {i} is {quote(penalty)}, not a Penalty object; give e.g. "
                f"{PENALTY_EXAMPLE} (ganforge.gans.penalties has GradientPenalty, R1, R2, DRAGAN)"
            )
    return list(penalties)


def _noise_dim(
    generator: nn.Module, noise_dim: int | Sequence[int] | None, num_classes: int | None
) -> int | Sequence[int]:
    """The noise size: ``noise_dim`` as given, else the ``in_features`` of the generator's first layer when
    that is an ``nn.Linear`` (the user should not have to say twice what ``G[0]`` already says), else 1.

    A conditional generator's first layer also takes the label, so it tells nothing there. A one-dimensional
    ``noise_dim`` that contradicts that layer is refused now, in one line naming both numbers — but only
    when the generator really fails on noise of that size (a class may register its layers out of order)."""
    inputs = first_linear_inputs(generator) if num_classes is None else None
    if noise_dim is None:
        return inputs if inputs is not None else 1
    given = [noise_dim] if isinstance(noise_dim, int) else list(noise_dim)
    one = given[0] if len(given) == 1 and isinstance(given[0], int) else None  # other values: Noise's checks
    if inputs is not None and one is not None and one != inputs and not _runs_on(generator, one):
        raise GanforgeError(
            f"noise_dim={one} but the generator's first layer nn.Linear takes {inputs} inputs; give "
            f"noise_dim={inputs} (or leave noise_dim out: it is read from that layer)"
        )
    return noise_dim


def _runs_on(generator: nn.Module, dim: int) -> bool:
    """Whether ``generator`` takes a batch of noise of size ``dim`` (eval mode and no gradients, so nothing is
    learnt or tracked; the RNG state and every module's mode are put back)."""
    device = next((p.device for p in generator.parameters()), torch.device("cpu"))
    modes = [(m, m.training) for m in generator.modules()]
    state = torch.get_rng_state()
    generator.eval()
    try:
        with torch.no_grad():
            generator(torch.zeros(2, dim, device=device))
        return True
    except Exception:  # noqa: BLE001 - any failure means the size does not fit; the caller says which
        return False
    finally:
        for module, mode in modes:
            module.training = mode
        torch.set_rng_state(state)


def _checked_smoothing(value: float, objective: Any, name: str) -> float:
    """One-sided label smoothing (Salimans et al. 2016): D's real target 1 - s in the BCE loss. The hinge,
    least-squares and Wasserstein losses have no BCE target, and the setting did nothing there without a word."""
    smoothing = real_number(value)
    if smoothing is None:  # "0.1" and True were read by float() as 0.1 and 1.0
        raise GanforgeError(f"label_smoothing={value!r}: give a share in [0, 1), e.g. 0.1")
    if not 0.0 <= smoothing < 1.0:
        raise GanforgeError(f"model.label_smoothing={value}: give a share in [0, 1), e.g. 0.1 (real target 0.9)")
    if smoothing and objective.discriminator is not bce_discriminator_loss:
        raise GanforgeError(
            f"model.label_smoothing applies to the BCE objectives (minimax, nonsaturating); objective '{name}' "
            "has no real target to smooth: leave label_smoothing out, or --set model.objective=nonsaturating"
        )
    return smoothing


class GAN(GANModel):
    """A generator and a discriminator trained against each other with a named objective.

    ``generator(z[, y])`` maps noise (and labels, when ``num_classes`` is set) to samples;
    ``discriminator(x[, y])`` returns one logit per sample, or a probability through a final
    ``nn.Sigmoid`` (the notes' style), which is removed so losses stay exact and stable — in the GAN's
    copy of it, which shares the user's parameters: the user's ``D(x)`` still returns a probability and
    sees the trained weights (see :func:`ganforge.gans.base.logit_discriminator`).

    ``noise_dim`` left out is read from the generator's first layer when that is an ``nn.Linear`` (the
    notes' ``nn.Linear(5, 16)``: 5), else 1; one that contradicts such a layer is refused in one line.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        noise_dim: int | Sequence[int] | None = None,
        objective: str = "nonsaturating",
        *,
        noise: Literal["normal", "uniform"] = "normal",
        n_critic: int = 1,
        num_classes: int | None = None,
        d_output: Literal["auto", "logits", "probability"] = "auto",
        label_smoothing: float = 0.0,
        penalties: Sequence[Penalty] = (),
        clip_weights: float | None = None,
    ) -> None:
        super().__init__()
        for role, net in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(net, nn.Module):
                raise GanforgeError(
                    f"GAN(generator, discriminator): the {role} is a {type(net).__name__}; give a torch.nn.Module "
                    "(a class with forward(), or nn.Sequential(...))"
                )
        if not isinstance(d_output, str) or d_output not in D_OUTPUTS:
            raise GanforgeError(
                f"GAN(d_output={quote(d_output)}): choose one of {', '.join(D_OUTPUTS)}"
                f"{did_you_mean(str(d_output), D_OUTPUTS)} ('auto' reads a final nn.Sigmoid as probabilities)"
            )
        given_noise = _checked_noise_dim(noise_dim)
        self.n_critic = checked_count(n_critic, "GAN", "n_critic", "discriminator updates per generator update")
        if num_classes is not None:
            num_classes = checked_count(num_classes, "GAN", "num_classes", "the number of classes; None: no labels")
        self.penalties = _checked_penalties(penalties)
        self.clip_weights = None if clip_weights is None else checked_positive(
            clip_weights, "GAN", "clip_weights", "D's weights are clipped to [-c, c], c = 0.01 in WGAN; None: none"
        )
        self.generator = generator
        self.discriminator = logit_discriminator(discriminator, d_output)
        noise_shape = _noise_dim(generator, given_noise, num_classes)
        self.noise = Noise(noise_shape if isinstance(noise_shape, int) else tuple(noise_shape), noise)
        self.objective = get_objective(objective)
        self.num_classes = num_classes
        self.output_activation = output_activation_of(generator)
        self.label_smoothing = _checked_smoothing(label_smoothing, self.objective, objective)

    # --- networks as functions --------------------------------------------------------------------
    def generate(self, z: Tensor, y: Tensor | None = None, **options: Any) -> Tensor:
        net = self.generator if self.training else self.sampling_generator()
        return net(z, y, **options) if self.num_classes is not None else net(z, **options)

    def discriminate(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """D's logits, flattened to one value per sample (or per patch/time step)."""
        out = self.discriminator(x, y) if self.num_classes is not None else self.discriminator(x)
        return out.reshape(out.shape[0], -1)

    def sample_latents(self, n: int) -> Tensor:
        return self.noise.sample(n)

    # --- phases -------------------------------------------------------------------------------------
    def phases(self, step: int) -> list[Phase]:
        return self.two_player_phases(step, self.n_critic)

    def discriminator_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        if self.label_smoothing and self.objective.discriminator is bce_discriminator_loss:
            return bce_discriminator_loss(real_logits, fake_logits, real_target=1.0 - self.label_smoothing)
        return self.objective.discriminator(real_logits, fake_logits)

    def phase_loss(self, phase: Phase, batch: Batch | None, repeat: int) -> tuple[Tensor, dict[str, Tensor]]:
        if phase.name == "discriminator":
            assert batch is not None
            real, y = batch.x, batch.y if self.num_classes is not None else None

            def make_fake() -> Tensor:
                return self.generate(self.sample_latents(real.shape[0]).to(real.device), y)

            return self.discriminator_step(real, make_fake, y, keep_graph=repeat == phase.repeats - 1)
        cached = self.take_fake()
        loss = self.generator_adversarial_loss(cached.fake, cached.cond)
        return loss, {LOSS_G: loss.detach()}

    def after_update(self, phase: Phase) -> None:
        if phase.name == "discriminator" and self.clip_weights is not None:
            with torch.no_grad():
                for p in self.discriminator.parameters():
                    p.clamp_(-self.clip_weights, self.clip_weights)
        super().after_update(phase)
