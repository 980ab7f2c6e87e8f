"""StyleGAN at small scale (Karras et al. 2019, 2020): mapping network, modulated convolutions, noise
inputs, style mixing regularization, truncation, optional path-length regularization.

Each training step:

    D phase:  minimize J_D(D(x), D(G(z))) + [every r1_every steps] r1_every * gamma/2 E_x ||grad_x D(x)||^2
    G phase:  minimize J_G(D(G(z)))       + [every pl_every steps] pl_every * pl_weight E[(||J_w^T y|| - a)^2]

with J_D, J_G the named objective (StyleGAN2: non-saturating logistic) and lazy regularization (the
weights multiplied by the interval keep the average strength). Style mixing regularization: with
probability ``style_mixing`` a batch uses two latents, ``ws[:, :c]`` from z1 and ``ws[:, c:]`` from z2 at a
crossover c drawn uniformly from 1..num_ws-1, so the generator cannot assume adjacent styles correlate.
``w_avg`` (the mean style, an EMA of mapped w over training) is tracked by the generator and drives the
truncation trick at sampling: ``w' = w_avg + psi (w - w_avg)``.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import torch
from torch import Tensor

from ganforge.data.base import Batch, DataSource
from ganforge.errors import GanforgeError
from ganforge.gans.base import GANModel, Noise, Phase
from ganforge.gans.penalties import R1
from ganforge.gans.registry import register_model
from ganforge.log_keys import LOSS_G
from ganforge.nets.style import NoiseMode, StyleDiscriminator, StyleGenerator, mix_styles, path_length_penalty
from ganforge.objectives import get_objective
from ganforge.registry import with_settings_of


class StyleGAN(GANModel):
    """A :class:`StyleGenerator` and :class:`StyleDiscriminator` with StyleGAN2's regularizers."""

    def __init__(
        self,
        generator: StyleGenerator,
        discriminator: StyleDiscriminator,
        objective: str = "nonsaturating",
        *,
        r1_gamma: float = 0.1,
        r1_every: int = 16,
        style_mixing: float = 0.9,
        path_length: float = 0.0,
        pl_every: int = 4,
        pl_decay: float = 0.01,
        pl_batch_shrink: int = 2,
    ) -> None:
        super().__init__()
        if not 0.0 <= style_mixing <= 1.0:
            raise GanforgeError(f"model.style_mixing={style_mixing}: a probability between 0 and 1")
        self.generator = generator
        self.discriminator = discriminator
        self.noise = Noise(generator.z_dim)
        self.objective = get_objective(objective)
        self.output_activation = "tanh"  # data is scaled to [-1, 1]; the generator's output is linear
        self.penalties = [R1(r1_gamma / 2, r1_every)] if r1_gamma > 0 else []  # lazy R1, through the penalty API
        self.style_mixing = float(style_mixing)
        self.path_length, self.pl_every, self.pl_decay = float(path_length), max(1, pl_every), pl_decay
        self.pl_batch_shrink = max(1, pl_batch_shrink)
        self.register_buffer("pl_mean", torch.zeros(()))  # running mean path length a, saved in checkpoints

    # --- networks as functions --------------------------------------------------------------------
    def discriminate(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.discriminator(x).reshape(x.shape[0], -1)

    def sample_latents(self, n: int) -> Tensor:
        return self.noise.sample(n)

    def training_styles(self, n: int, device: torch.device) -> Tensor:
        """Per-layer styles (n, num_ws, w_dim) for a training batch, mixed with probability ``style_mixing``."""
        g = self.generator
        ws = g.map(self.sample_latents(n).to(device))
        if self.style_mixing > 0 and float(torch.rand(())) < self.style_mixing:
            crossover = int(torch.randint(1, g.num_ws, ()))
            ws = mix_styles(ws, g.map(self.sample_latents(n).to(device)), crossover)
        return ws

    # --- phases -------------------------------------------------------------------------------------
    def phases(self, step: int) -> list[Phase]:
        return self.two_player_phases(step)

    def phase_loss(self, phase: Phase, batch: Batch | None, repeat: int) -> tuple[Tensor, dict[str, Tensor]]:
        if phase.name == "discriminator":
            assert batch is not None
            real = batch.x

            def make_fake() -> Tensor:
                return self.generator.synthesis(self.training_styles(real.shape[0], real.device))

            return self.discriminator_step(real, make_fake)
        fake = self.take_fake().fake
        loss = self.generator_adversarial_loss(fake)
        logs = {LOSS_G: loss.detach()}
        if self.path_length > 0 and self._step % self.pl_every == 0:
            n = max(1, fake.shape[0] // self.pl_batch_shrink)
            ws = self.training_styles(n, fake.device)
            images = self.generator.synthesis(ws)
            pl = path_length_penalty(images, ws, self.pl_mean, self.pl_decay)
            self.pl_mean.copy_(pl.mean_path_length)
            term = self.path_length * self.pl_every * pl.penalty
            loss = loss + term
            logs.update(path_length=pl.path_lengths.mean().detach(), pl_penalty=term.detach())
        return loss, logs

    # --- sampling -------------------------------------------------------------------------------------
    def generate(
        self,
        z: Tensor,
        y: Tensor | None = None,
        *,
        truncation: float = 1.0,
        truncation_cutoff: int | None = None,
        mix_styles: bool = False,
        crossover: int | None = None,
        noise_mode: NoiseMode = "random",
        **options: Any,
    ) -> Tensor:
        """Images for latents ``z`` (model units; clamped to [-1, 1] outside training).

        ``truncation`` psi pulls styles towards ``w_avg`` (0: the average image, 1: none);
        ``mix_styles=True`` takes the styles of layers >= ``crossover`` (default num_ws // 2: coarse
        layers from ``z``, fine ones from a second random latent) from a fresh latent.
        """
        if options:
            raise GanforgeError(
                f"StyleGAN sampling takes no option {', '.join(options)}; "
                "use truncation, mix_styles, crossover, noise_mode"
            )
        if not math.isfinite(float(truncation)):  # NaN or inf psi turns every style, so every pixel, into NaN
            raise GanforgeError(
                f"--truncation {truncation}: give a finite number (0: the average image, 1: no truncation)"
            )
        net = self.generator if self.training else self.sampling_generator()
        mix_z = None
        if mix_styles:
            mix_z = self.sample_latents(z.shape[0]).to(z.device)
            crossover = net.num_ws // 2 if crossover is None else int(crossover)
        out = net(
            z,
            truncation_psi=float(truncation),
            truncation_cutoff=truncation_cutoff,
            mix_z=mix_z,
            crossover=crossover,
            noise_mode=noise_mode,
        )
        return out if self.training else out.clamp(-1.0, 1.0)

    @torch.no_grad()
    def style_mix_grid(
        self, rows: int, cols: int, crossover: int | None = None, truncation: float = 1.0, seed: int = 0
    ) -> Tensor:
        """(rows + 1) x (cols + 1) images for a style-mixing figure (model units), row-major.

        Top row: ``cols`` "fine" sources; left column: ``rows`` "coarse" sources; cell (i, j): layers
        < ``crossover`` from coarse source i, the rest from fine source j (top-left corner: zeros).
        Constant noise, so only the styles differ between cells.
        """
        was_training = self.training
        self.eval()
        try:
            g = self.sampling_generator()
            device = next(self.parameters()).device
            gen = torch.Generator().manual_seed(seed)
            z_coarse = torch.randn(rows, g.z_dim, generator=gen).to(device)
            z_fine = torch.randn(cols, g.z_dim, generator=gen).to(device)
            c = g.num_ws // 2 if crossover is None else crossover
            ws_c = g.truncate(g.map(z_coarse), truncation)
            ws_f = g.truncate(g.map(z_fine), truncation)
            synth = partial(g.synthesis, noise_mode="const")
            top, left = synth(ws_f), synth(ws_c)
            cells = [torch.zeros_like(top[:1])] + list(top.split(1))
            for i in range(rows):
                mixed = mix_styles(ws_c[i : i + 1].expand(cols, -1, -1), ws_f, c)
                cells += [left[i : i + 1]] + list(synth(mixed).split(1))
            return torch.cat(cells).clamp(-1.0, 1.0)
        finally:
            self.train(was_training)


@register_model("stylegan")
@with_settings_of(StyleGAN, skip=("generator", "discriminator"))
def build_stylegan(
    source: DataSource,
    z_dim: int = 64,
    w_dim: int = 64,
    width: int = 64,
    mapping_layers: int = 4,
    lr_mul: float = 0.01,
    w_avg_beta: float = 0.995,
    mbstd: bool = True,
    **settings: Any,
) -> StyleGAN:
    """StyleGAN2-style generator (mapping net, modulated convs, noise, skip ToRGB) and residual
    discriminator, with style mixing, lazy R1, optional path-length regularization (``path_length: 2``);
    the model's settings (objective, r1_gamma, r1_every, style_mixing, path_length, ...) are
    :class:`StyleGAN`'s."""
    if source.kind != "images" or len(source.sample_shape) != 3:
        raise GanforgeError(f"model.type=stylegan needs image data; data '{source.name}' is {source.kind}")
    channels, height, width_px = source.sample_shape
    if height != width_px or height < 4 or height & (height - 1):
        raise GanforgeError(
            f"model.type=stylegan needs square images with a power-of-two side (8, 16, 32, 64); got "
            f"{height}x{width_px}; set data.size"
        )
    g = StyleGenerator(z_dim, w_dim, height, channels, width, mapping_layers, lr_mul, w_avg_beta)
    d = StyleDiscriminator(channels, height, width, mbstd=mbstd)
    return StyleGAN(g, d, **settings)
