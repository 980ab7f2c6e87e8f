"""TimeGAN (Yoon, Jarrett and van der Schaar, NeurIPS 2019) as phases of the generic trainer.

Five recurrent networks (each a stack of ``num_layers`` cells and a per-step linear head; the supervisor
has one layer less, as in the official code):

    embedder      e: x_{1:T} -> h_{1:T}        (sigmoid head, latent width H)
    recovery      r: h_{1:T} -> x~_{1:T}       (sigmoid head, data min-max scaled into [0, 1]; causal, or
                                                 bidirectional with ``recovery_bidirectional``)
    generator     g: z_{1:T} -> e^_{1:T}       (z_t ~ U(0, 1)^{z_dim}, sigmoid head)
    supervisor    s: h_{1:t} -> h_{t+1}        (sigmoid head)
    discriminator d: h_{1:T} -> y_{1:T}        (one logit per step)

Synthetic data is x^ = r(s(g(z))). The losses, as ``timegan.py`` of the official code computes them
(BCE = sigmoid cross-entropy averaged over samples and steps, MSE averaged over every entry):

    L_R  = MSE(x, r(e(x)))                                  reconstruction
    L_S  = MSE(h_{2:T}, s(h)_{1:T-1}),  h = e(x)            supervised next-step loss
    L_U  = BCE(d(s(g(z))), 1),  L_Ue = BCE(d(g(z)), 1)      unsupervised (adversarial) generator losses
    L_V  = mean|sqrt(Var_n x^ + 1e-6) - sqrt(Var_n x + 1e-6)| + mean|Mean_n x^ - Mean_n x|   (moments over the batch)
    L_C  = mean_{t, i<j} (r_t,ij(x^) - r_t,ij(x))^2   feature correlations per step (ganforge's; weight 0 = off)
    L_D  = BCE(d(h), 1) + BCE(d(s(g(z))), 0) + gamma BCE(d(g(z)), 0)

and the three stages become the trainer's phases, switching with the step:

    steps [0, E)        phase ``embedding``:  minimize 10 sqrt(L_R)                 over e, r
    steps [E, E + S)    phase ``supervised``: minimize L_S                          over g, s
    steps [E + S, ...)  joint, each step:     2 x (``generator``: minimize L_U + gamma L_Ue + 100 sqrt(L_S)
                                                    + 100 L_V (+ lambda_C L_C) over g, s;
                                                  ``embedder``: minimize 10 sqrt(L_R) + 0.1 L_S over e, r,
                                                    on the generator phase's batch),
                                              then ``discriminator`` (1 x, or ``discriminator_repeats``):
                                                minimize L_D over d, skipped when L_D <= ``d_threshold``
                                                (0.15) on that batch

Each phase has its own Adam optimizer, as the official code's five solvers (E0, GS, G, E, D). The official
code runs E = S = J iterations and then J joint iterations; here ``train.steps`` = E + S + joint steps.
Networks are initialised as TensorFlow 1 does (:func:`~ganforge.gans.recurrent_gans.tensorflow_init_`).
"""

from __future__ import annotations

from typing import Any, Literal

import torch
import torch.nn.functional as F
from pydantic import NonNegativeInt
from torch import Tensor

from ganforge.data.base import Batch, DataSource
from ganforge.errors import GanforgeError
from ganforge.gans.base import GANModel, Phase, frozen
from ganforge.gans.recurrent_gans import NoisePer, check_noise_per, sequence_shape, tensorflow_init_
from ganforge.gans.registry import register_model
from ganforge.log_keys import D_FAKE, D_REAL, LOSS_D, LOSS_G
from ganforge.nets.recurrent import RecurrentNet
from ganforge.registry import with_settings_of

EMBEDDING = Phase("embedding", ("embedder", "recovery"))
SUPERVISED = Phase("supervised", ("generator", "supervisor"))
JOINT_GENERATOR = Phase("generator", ("generator", "supervisor"))
JOINT_EMBEDDER = Phase("embedder", ("embedder", "recovery"), needs_data=False)
DISCRIMINATOR = Phase("discriminator", ("discriminator",))


def bce(logits: Tensor, target: float) -> Tensor:
    """Sigmoid cross-entropy against a constant target, averaged over every logit."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def moment_loss(fake: Tensor, real: Tensor) -> Tensor:
    """TimeGAN's L_V: mean |sd_n(x^) - sd_n(x)| + mean |mean_n(x^) - mean_n(x)|, statistics over the batch
    axis per (step, feature), sd = sqrt(biased variance + 1e-6) as ``tf.nn.moments``."""
    sd_fake = torch.sqrt(fake.var(dim=0, unbiased=False) + 1e-6)
    sd_real = torch.sqrt(real.var(dim=0, unbiased=False) + 1e-6)
    return (sd_fake - sd_real).abs().mean() + (fake.mean(dim=0) - real.mean(dim=0)).abs().mean()


def feature_correlations(x: Tensor) -> Tensor:
    """Pearson correlation between features at every step, over the batch: (N, T, F) -> (T, F, F).

    r_t,ij = cov_n(x_ti, x_tj) / (sd_n(x_ti) sd_n(x_tj)), with 1e-6 added to each variance (as L_V's sd) so
    that a constant feature gives r = 0 instead of a division by zero.
    """
    centred = x - x.mean(dim=0, keepdim=True)
    cov = torch.einsum("nti,ntj->tij", centred, centred) / x.shape[0]
    sd = torch.sqrt(torch.diagonal(cov, dim1=1, dim2=2) + 1e-6)
    return cov / (sd.unsqueeze(-1) * sd.unsqueeze(-2))


def correlation_loss(fake: Tensor, real: Tensor) -> Tensor:
    """L_C = mean over steps t and feature pairs i < j of (r_t,ij(x^) - r_t,ij(x))^2.

    ganforge's addition to L_V, which matches each feature's mean and sd but not how features move together:
    a generator can then invent correlations between independent features (sines: |r| 0.1-0.4 against 0.01
    real), and a model trained on its samples learns relations that do not hold on real data. Squared rather
    than absolute, so the batch's sampling noise in r (sd ~ 1 / sqrt(N)) gives small gradients, not unit ones.
    """
    features = fake.shape[-1]
    if features < 2:
        return fake.new_zeros(())
    upper = torch.triu_indices(features, features, offset=1, device=fake.device)
    gap = feature_correlations(fake) - feature_correlations(real)
    return gap[:, upper[0], upper[1]].pow(2).mean()


class TimeGAN(GANModel):
    """TimeGAN for sequences (N, T, F) in [0, 1] (min-max scaled; sigmoid outputs).

    ``hidden``: latent width H (also every recurrent layer's width); ``num_layers`` per network (the
    supervisor has ``num_layers - 1``, at least 1); ``cell``: gru / lstm / rnn; ``noise_dim``: z_t's width
    (default F, as the official code); ``embedding_steps`` E and ``supervised_steps`` S: lengths of the
    two pre-training stages; ``gamma``: weight of the losses on g(z) without the supervisor;
    ``generator_repeats``: generator+embedder updates per discriminator update (2);
    ``discriminator_repeats``: discriminator updates per joint step (1, on fresh batches);
    ``d_threshold``: the discriminator trains only while its loss exceeds it (0.15); ``noise_per``:
    ``step`` (fresh z_t at every step, the official code) or ``sequence`` (one z held over the sequence);
    ``correlation_weight``: lambda_C, the weight of L_C in the generator's loss (0, the paper's loss);
    ``recovery_bidirectional``: the recovery reads the latent sequence in both directions, x~_t = r(h_{1:T})_t
    instead of r(h_{1:t})_t (False, the paper). The recovery is only a decoder, so nothing needs it causal; the
    embedder, supervisor, generator and discriminator stay causal (the supervisor's next-step loss needs h_t to
    hold only the past). A causal recovery decodes the first steps from one or two recurrent updates, and its
    error there (RMSE 0.006 at step 0 against 0.002 mid-sequence) shows as roughness in every sample.
    """

    output_activation = "sigmoid"

    def __init__(
        self,
        seq_len: int,
        features: int,
        hidden: int = 24,
        num_layers: int = 3,
        cell: Literal["gru", "lstm", "rnn"] = "gru",
        noise_dim: int | None = None,
        embedding_steps: NonNegativeInt = 1000,  # 0: skip the phase (0 is meaningful here, unlike a size)
        supervised_steps: NonNegativeInt = 1000,
        gamma: float = 1.0,
        generator_repeats: int = 2,
        d_threshold: float = 0.15,
        init: Literal["torch", "tensorflow"] = "tensorflow",
        noise_per: NoisePer = "step",
        discriminator_repeats: int = 1,
        correlation_weight: float = 0.0,
        recovery_bidirectional: bool = False,
    ) -> None:
        super().__init__()
        self.noise_per = check_noise_per(noise_per)
        if float(correlation_weight) < 0:
            raise GanforgeError(f"model.correlation_weight must be 0 or more, got {correlation_weight}")
        for name, value in (("embedding_steps", embedding_steps), ("supervised_steps", supervised_steps)):
            if int(value) < 0:
                raise GanforgeError(f"model.{name} must be 0 or more, got {value}")
        for name, value in (("generator_repeats", generator_repeats), ("discriminator_repeats", discriminator_repeats)):
            if int(value) < 1:
                raise GanforgeError(f"model.{name} must be at least 1, got {value}")
        if int(seq_len) < 2:
            raise GanforgeError(
                f"TimeGAN needs sequences of at least 2 steps (it predicts the next one), got {seq_len}"
            )
        self.seq_len, self.features = int(seq_len), int(features)
        self.hidden, self.num_layers = int(hidden), int(num_layers)
        self.noise_dim = int(noise_dim) if noise_dim else self.features
        self.embedding_steps, self.supervised_steps = int(embedding_steps), int(supervised_steps)
        self.gamma, self.d_threshold = float(gamma), float(d_threshold)
        self.generator_repeats, self.discriminator_repeats = int(generator_repeats), int(discriminator_repeats)
        self.correlation_weight = float(correlation_weight)
        self.recovery_bidirectional = bool(recovery_bidirectional)

        def net(n_in: int, n_out: int, layers: int, out: str | None, bidirectional: bool = False) -> RecurrentNet:
            built = RecurrentNet(
                n_in, self.hidden, n_out, cell=cell, num_layers=layers, output_activation=out,
                bidirectional=bidirectional,
            )
            return tensorflow_init_(built) if init == "tensorflow" else built

        self.embedder = net(self.features, self.hidden, self.num_layers, "sigmoid")
        self.recovery = net(self.hidden, self.features, self.num_layers, "sigmoid", self.recovery_bidirectional)
        self.generator = net(self.noise_dim, self.hidden, self.num_layers, "sigmoid")
        self.supervisor = net(self.hidden, self.hidden, max(1, self.num_layers - 1), "sigmoid")
        self.discriminator = net(self.hidden, 1, self.num_layers, None)
        self._joint_batch: tuple[Tensor, Tensor] | None = None

    # --- phases --------------------------------------------------------------------------------------------
    @property
    def joint_start(self) -> int:
        """First step of joint training: E + S."""
        return self.embedding_steps + self.supervised_steps

    def stage(self, step: int) -> str:
        """``embedding``, ``supervised`` or ``joint`` for 0-based ``step``."""
        if step < self.embedding_steps:
            return "embedding"
        return "supervised" if step < self.joint_start else "joint"

    def phases(self, step: int) -> list[Phase]:
        stage = self.stage(step)
        if stage == "embedding":
            return [EMBEDDING]
        if stage == "supervised":
            return [SUPERVISED]
        return [JOINT_GENERATOR, JOINT_EMBEDDER] * self.generator_repeats + [DISCRIMINATOR] * self.discriminator_repeats

    def all_phases(self) -> list[Phase]:
        return [EMBEDDING, SUPERVISED, JOINT_GENERATOR, JOINT_EMBEDDER, DISCRIMINATOR]

    def enable_ema(self, decay: float) -> None:
        raise GanforgeError(
            "train.ema: TimeGAN samples through generator, supervisor and recovery together; an EMA of the "
            "generator alone does not apply — remove train.ema"
        )

    # --- networks as functions -------------------------------------------------------------------------------
    def sample_latents(self, n: int) -> Tensor:
        """z ~ U(0, 1), shape (n, T, noise_dim), from torch's global RNG (saved in checkpoints).

        ``noise_per="step"`` (the official code) draws z_t independently at every step;
        ``noise_per="sequence"`` draws one z per sequence and feeds it at every step, so the generator's
        only source of step-to-step change is its own recurrence.
        """
        if self.noise_per == "sequence":
            return torch.rand(n, 1, self.noise_dim).expand(n, self.seq_len, self.noise_dim).contiguous()
        return torch.rand(n, self.seq_len, self.noise_dim)

    def generate(self, z: Tensor, y: Tensor | None = None, **options: Any) -> Tensor:
        """x^ = r(s(g(z))) in model units ([0, 1])."""
        if y is not None:
            raise GanforgeError("TimeGAN is not conditional; it takes no label")
        lengths = options.get("lengths")
        return self.recovery(self.supervisor(self.generator(z, lengths), lengths), lengths)

    def discriminate(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """Per-step logits (N, T) of the discriminator on the embedding of ``x``."""
        del y
        return self.discriminator(self.embedder(x)).squeeze(-1)

    def supervised_loss(self, h: Tensor) -> Tensor:
        """L_S = MSE(h_{2:T}, s(h)_{1:T-1})."""
        return F.mse_loss(self.supervisor(h)[:, :-1], h[:, 1:])

    # --- losses per phase ------------------------------------------------------------------------------------
    def phase_loss(self, phase: Phase, batch: Batch | None, repeat: int) -> tuple[Tensor | None, dict[str, Tensor]]:
        if phase.name == "embedder":
            if self._joint_batch is None:
                raise RuntimeError("TimeGAN's embedder phase reuses the batch of the generator phase before it")
            x, _ = self._joint_batch
            self._joint_batch = None
            return self._embedder_loss(x)
        assert batch is not None
        x = batch.x
        if phase.name == "embedding":
            recon = F.mse_loss(self.recovery(self.embedder(x)), x)
            return 10 * torch.sqrt(recon), {"e_loss_t0": torch.sqrt(recon.detach())}
        if phase.name == "supervised":
            with torch.no_grad():
                h = self.embedder(x)
            loss = self.supervised_loss(h)
            return loss, {"g_loss_s": torch.sqrt(loss.detach())}
        z = self.sample_latents(x.shape[0]).to(x.device)
        if phase.name == "generator":
            self._joint_batch = (x, z)
            return self._generator_loss(x, z)
        return self._discriminator_loss(x, z)

    def _generator_loss(self, x: Tensor, z: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        with torch.no_grad():
            h = self.embedder(x)
        with frozen(self.recovery), frozen(self.discriminator):
            e_hat = self.generator(z)
            h_hat = self.supervisor(e_hat)
            x_hat = self.recovery(h_hat)
            # one discriminator pass over both fakes (the same logits as two passes, half the launches)
            y_fake, y_fake_e = self.discriminator(torch.cat([h_hat, e_hat])).split(len(z))
            loss_u = bce(y_fake, 1.0)
            loss_u_e = bce(y_fake_e, 1.0)
        loss_s = self.supervised_loss(h)
        loss_v = moment_loss(x_hat, x)
        loss = loss_u + self.gamma * loss_u_e + 100 * torch.sqrt(loss_s) + 100 * loss_v
        logs = {
            "g_loss_u": loss_u.detach(),
            "g_loss_s": torch.sqrt(loss_s.detach()),
            "g_loss_v": loss_v.detach(),
        }
        if self.correlation_weight > 0:
            loss_c = correlation_loss(x_hat, x)
            loss = loss + self.correlation_weight * loss_c
            logs["g_loss_c"] = loss_c.detach()
        return loss, {LOSS_G: loss.detach(), **logs}

    def _embedder_loss(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        h = self.embedder(x)
        recon = F.mse_loss(self.recovery(h), x)
        with frozen(self.supervisor):
            loss_s = self.supervised_loss(h)
        loss = 10 * torch.sqrt(recon) + 0.1 * loss_s
        return loss, {"e_loss_t0": torch.sqrt(recon.detach())}

    def _discriminator_loss(self, x: Tensor, z: Tensor) -> tuple[Tensor | None, dict[str, Tensor]]:
        with torch.no_grad():
            h = self.embedder(x)
            e_hat = self.generator(z)
            h_hat = self.supervisor(e_hat)
        y_real, y_fake, y_fake_e = self.discriminator(torch.cat([h, h_hat, e_hat])).split(len(x))
        loss = bce(y_real, 1.0) + bce(y_fake, 0.0) + self.gamma * bce(y_fake_e, 0.0)
        logs = {
            LOSS_D: loss.detach(),
            D_REAL: torch.sigmoid(y_real.detach()).mean(),
            D_FAKE: torch.sigmoid(y_fake.detach()).mean(),
        }
        if float(loss.detach()) <= self.d_threshold:
            logs["d_updated"] = torch.zeros(())
            return None, logs
        logs["d_updated"] = torch.ones(())
        return loss, logs


@register_model("timegan")
@with_settings_of(TimeGAN, skip=("seq_len", "features"))
def build_timegan(source: DataSource, **settings: Any) -> TimeGAN:
    """TimeGAN (Yoon et al. 2019): embedder, recovery, generator, supervisor, discriminator; embedding
    pre-training (embedding_steps), supervised pre-training (supervised_steps), then joint training for the
    rest of train.steps. The settings are :class:`TimeGAN`'s."""
    seq_len, features = sequence_shape(tuple(source.sample_shape), "model")
    return TimeGAN(seq_len, features, **settings)


__all__ = ["TimeGAN", "bce", "build_timegan", "correlation_loss", "feature_correlations", "moment_loss"]
