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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import torch
from torch import Tensor, nn

from ganforge.data.base import Batch
from ganforge.gans.base import GANModel, Noise, Phase, frozen, logit_discriminator, output_activation_of
from ganforge.objectives import bce_discriminator_loss, discriminator_score, get_objective


@dataclass
class PenaltyInputs:
    """What a discriminator penalty may look at: the logit function D(x, y), real and fake samples (fake
    detached from G), their logits, labels, and the global step (for lazy regularization)."""

    discriminator: Callable[[Tensor], Tensor]
    real: Tensor
    fake: Tensor
    real_logits: Tensor
    fake_logits: Tensor
    labels: Tensor | None
    step: int


class Penalty:
    """A term added to the discriminator loss: ``weight * value(inputs)`` every ``every`` steps
    (lazy regularization, Karras et al. 2020, multiplies the weight by ``every`` to keep its strength)."""

    name = "penalty"

    def __init__(self, weight: float, every: int = 1) -> None:
        self.weight = weight
        self.every = max(1, int(every))

    def value(self, inputs: PenaltyInputs) -> Tensor:
        raise NotImplementedError

    def __call__(self, inputs: PenaltyInputs) -> Tensor | None:
        if inputs.step % self.every:
            return None
        return self.weight * self.every * self.value(inputs)


def add_penalties(loss: Tensor, logs: dict[str, Tensor], penalties: Sequence[Penalty], inputs: PenaltyInputs) -> Tensor:
    """``loss`` plus every penalty due at ``inputs.step``; each added term is logged under its name."""
    for penalty in penalties:
        term = penalty(inputs)
        if term is not None:
            loss = loss + term
            logs[penalty.name] = term.detach()
    return loss


class GAN(GANModel):
    """A generator and a discriminator trained against each other with a named objective.

    ``generator(z[, y])`` maps noise (and labels, when ``num_classes`` is set) to samples;
    ``discriminator(x[, y])`` returns one logit per sample, or a probability through a final
    ``nn.Sigmoid`` (the notes' style), which is removed so losses stay exact and stable
    (see :func:`ganforge.gans.base.logit_discriminator`).
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        noise_dim: int | Sequence[int] = 1,
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
        self.generator = generator
        self.discriminator = logit_discriminator(discriminator, d_output)
        self.noise = Noise(noise_dim if isinstance(noise_dim, int) else tuple(noise_dim), noise)
        self.objective = get_objective(objective)
        self.n_critic = int(n_critic)
        self.num_classes = num_classes
        self.output_activation = output_activation_of(generator)
        self.label_smoothing = float(label_smoothing)
        self.penalties = list(penalties)
        self.clip_weights = clip_weights
        self._step = 0
        self._cached_fake: tuple[Tensor, Tensor, Tensor | None] | None = None
        self._phases: tuple[Phase, Phase] | None = None

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
        self._step = step
        if self._phases is None or self._phases[0].repeats != self.n_critic:  # built once, not every step
            self._phases = (
                Phase("discriminator", ("discriminator",), repeats=self.n_critic),
                Phase("generator", ("generator",), needs_data=False),
            )
        return list(self._phases)

    def _discriminator_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        if self.label_smoothing and self.objective.discriminator is bce_discriminator_loss:
            return bce_discriminator_loss(real, fake, real_target=1.0 - self.label_smoothing)
        return self.objective.discriminator(real, fake)

    def phase_loss(self, phase: Phase, batch: Batch | None, repeat: int) -> tuple[Tensor, dict[str, Tensor]]:
        if phase.name == "discriminator":
            assert batch is not None
            return self._discriminator_phase(batch, keep_graph=repeat == phase.repeats - 1)
        return self._generator_phase()

    def _discriminator_phase(self, batch: Batch, keep_graph: bool) -> tuple[Tensor, dict[str, Tensor]]:
        real, y = batch.x, batch.y if self.num_classes is not None else None
        z = self.sample_latents(real.shape[0]).to(real.device)
        with torch.set_grad_enabled(keep_graph):
            fake = self.generate(z, y)
        self._cached_fake = (fake, z, y) if keep_graph else None
        fake = fake.detach()
        real_logits = self.discriminate(real, y)
        fake_logits = self.discriminate(fake, y)
        loss = self._discriminator_loss(real_logits, fake_logits)
        logs = {"loss_d": loss.detach()}
        if self.logging_step:  # the mean scores D(x), D(G(z)) only feed the log
            logs["d_real"] = discriminator_score(real_logits.detach(), self.objective).mean()
            logs["d_fake"] = discriminator_score(fake_logits.detach(), self.objective).mean()
        if self.penalties:
            inputs = PenaltyInputs(partial(self.discriminate, y=y), real, fake, real_logits, fake_logits, y, self._step)
            loss = add_penalties(loss, logs, self.penalties, inputs)
        return loss, logs

    def _generator_phase(self) -> tuple[Tensor, dict[str, Tensor]]:
        if self._cached_fake is None:
            raise RuntimeError("the generator phase reuses the fake batch of the discriminator phase before it")
        fake, _, y = self._cached_fake
        self._cached_fake = None
        with frozen(self.discriminator):
            fake_logits = self.discriminate(fake, y)
        loss = self.objective.generator(fake_logits)
        return loss, {"loss_g": loss.detach()}

    def after_update(self, phase: Phase) -> None:
        if phase.name == "discriminator" and self.clip_weights is not None:
            with torch.no_grad():
                for p in self.discriminator.parameters():
                    p.clamp_(-self.clip_weights, self.clip_weights)
        super().after_update(phase)
