"""LAPGAN (Denton, Chintala, Szlam & Fergus 2015): a Laplacian pyramid of GANs, one per octave.

With the pyramid of :mod:`ganforge.nets.pyramid` (``I_{k+1} = d(I_k)``, ``h_k = I_k - u(I_{k+1})``,
k = 0 finest), level ``K-1`` is an ordinary GAN on the coarsest images ``I_{K-1}`` (e.g. 8x8), and every
finer level k is a *conditional* GAN on band-pass residuals:

    D_k phase:  minimize J_D( D_k(h_k, l_k), D_k(G_k(z_k, l_k), l_k) )   with l_k = u(d(I_k)) of a real image
    G_k phase:  minimize J_G( D_k(G_k(z_k, l_k), l_k) )

The levels are independent while training (each conditions on *real* low-pass images, as in the paper),
so a training step runs one (D, G) phase pair per level, coarse to fine, each on its own real batch.
``level_every[j]`` (coarse to fine) trains level j only on steps divisible by it, which moves the compute
budget towards the cheap coarse level (the paper trains every level separately, to its own length).
Sampling runs coarse to fine: ``I~_{K-1} = G_{K-1}(z)``, then ``I~_k = u(I~_{k+1}) + G_k(z_k, u(I~_{k+1}))``.

Two optional terms beyond the paper: ``penalties`` (e.g. lazy R1) are added to every level's D loss, as in
:class:`~ganforge.gans.vanilla.GAN`; ``reconstruction`` w adds ``w * mean |G_k(z_k, l_k) - h_k|`` to each
refining level's G loss, where ``h_k`` is the true residual of the same real image whose low-pass ``l_k``
G_k refines (the pix2pix-style L1 term of a conditional GAN). The reason: when the residual is almost a
function of ``l_k`` (images that were themselves enlarged from a coarser scan, like the digits), the
adversarial signal alone learns that function slowly and each level adds speckle instead of detail.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import torch
from torch import Tensor, nn

from ganforge.data.base import Batch, DataSource
from ganforge.errors import GanforgeError
from ganforge.gans.base import GANModel, Noise, Penalty, Phase
from ganforge.gans.registry import build_penalties, register_model
from ganforge.log_keys import LOSS_G, suffixed
from ganforge.nets.conv import DCGANDiscriminator, DCGANGenerator, apply_spectral_norm, conv_plan
from ganforge.nets.pyramid import LaplacianLevelDiscriminator, LaplacianLevelGenerator, downsample, upsample
from ganforge.objectives import get_objective
from ganforge.registry import with_settings_of


class LaplacianPyramidGenerator(nn.Module):
    """Coarse-to-fine sampler: ``coarse(z)`` makes ``I~_{K-1}``; ``refiners[k]`` adds level k's detail.

    ``refiners[k]`` works at resolution ``R / 2^k`` (k = 0 is the finest). Output: the finest image, or
    with ``return_levels=True`` the list ``[I~_0, ..., I~_{K-1}]`` (finest first).
    """

    def __init__(self, coarse: nn.Module, refiners: list[LaplacianLevelGenerator]) -> None:
        super().__init__()
        self.coarse = coarse
        self.refiners = nn.ModuleList(refiners)

    @property
    def levels(self) -> int:
        return len(self.refiners) + 1

    def forward(self, z: Tensor, return_levels: bool = False) -> Tensor | list[Tensor]:
        image = self.coarse(z)
        images = [image]
        for refiner in reversed(self.refiners):
            low = upsample(image, (refiner.resolution, refiner.resolution))
            image = low + refiner(low)
            images.append(image)
        return images[::-1] if return_levels else image


class LAPGAN(GANModel):
    """LAPGAN over ``levels`` octaves; ``discriminators[k]`` judges level k (k = K-1: whole coarse images)."""

    def __init__(
        self,
        generator: LaplacianPyramidGenerator,
        discriminators: list[nn.Module],
        noise_dim: int,
        objective: str = "nonsaturating",
        level_every: list[int] | None = None,
        penalties: Sequence[Penalty] = (),
        reconstruction: float = 0.0,
    ) -> None:
        super().__init__()
        if not reconstruction >= 0.0:
            raise GanforgeError(
                f"model.reconstruction={reconstruction}: give a weight >= 0 (0: the paper's purely adversarial levels)"
            )
        if len(discriminators) != generator.levels:
            raise GanforgeError(f"LAPGAN: {generator.levels} generator levels but {len(discriminators)} discriminators")
        every = [1] * generator.levels if level_every is None else [int(e) for e in level_every]
        if len(every) != generator.levels or min(every) < 1:
            raise GanforgeError(
                f"model.level_every={level_every}: give {generator.levels} positive periods, coarse to fine, "
                f"e.g. {[1] * generator.levels}"
            )
        self.level_every = every  # coarse to fine
        self.generator = generator
        self.discriminators = nn.ModuleList(discriminators)
        self.noise = Noise(noise_dim)
        self.objective = get_objective(objective)
        self.penalties = list(penalties)  # added to every level's discriminator loss
        self.reconstruction = float(reconstruction)
        self.output_activation = "tanh"  # data in [-1, 1]; the coarse generator ends in tanh
        self._phases = self._build_phases()
        self._last_phase = self._phases[-1][0].name

    @property
    def levels(self) -> int:
        return self.generator.levels

    def resolution(self, level: int) -> int:
        k = self.levels - 1
        if level == k:
            return int(getattr(self.generator.coarse, "resolution", 0))
        return self.generator.refiners[level].resolution

    def _build_phases(self) -> list[tuple[Phase, int]]:
        """One (D, G) phase pair per level, coarse to fine. A phase names its networks by attribute:
        ``d_<res>`` / ``g_<res>`` are unregistered aliases of level modules (their weights stay under
        ``discriminators.k`` and ``generator.*`` in the state dict, so nothing is stored twice)."""
        out = []
        for k in reversed(range(self.levels)):  # coarse to fine
            res = self.resolution(k)
            g_net = self.generator.coarse if k == self.levels - 1 else self.generator.refiners[k]
            object.__setattr__(self, f"g_{res}", g_net)
            object.__setattr__(self, f"d_{res}", self.discriminators[k])
            finest = k == 0  # its gradient norms are also logged as grad_norm_d / grad_norm_g
            out.append((Phase(f"discriminator_{res}", (f"d_{res}",), log_as="discriminator" if finest else None), k))
            out.append(
                (Phase(f"generator_{res}", (f"g_{res}",), needs_data=False, log_as="generator" if finest else None), k)
            )
        return out

    # --- phases -------------------------------------------------------------------------------------
    def phases(self, step: int) -> list[Phase]:
        """The (D, G) pairs of the levels due at ``step``, coarse to fine (level k every
        ``level_every[K-1-k]`` steps; step 0 trains them all)."""
        self._step = step  # lazy penalties count steps
        out = [p for p, k in self._phases if step % self.level_every[self.levels - 1 - k] == 0]
        self._last_phase = out[-1].name
        return out

    def all_phases(self) -> list[Phase]:
        return [p for p, _ in self._phases]

    def level_of(self, phase: Phase) -> int:
        for p, k in self._phases:
            if p.name == phase.name:
                return k
        raise GanforgeError(f"LAPGAN has no phase '{phase.name}'")

    def _judge(self, k: int, x: Tensor, low: Tensor | None = None) -> Tensor:
        d = self.discriminators[k]
        out = d(x) if low is None else d(x, low)
        return out.reshape(out.shape[0], -1)

    def real_level(self, x: Tensor, k: int) -> tuple[Tensor, Tensor | None]:
        """What level k's discriminator sees for real images ``x``: (I_{K-1}, None) at the coarsest level,
        else (h_k, l_k) with ``I_k = d^k(x)``, ``l_k = u(d(I_k))``, ``h_k = I_k - l_k``."""
        image = x
        for _ in range(k):
            image = downsample(image)
        if k == self.levels - 1:
            return image, None
        low = upsample(downsample(image), image.shape[-2:])
        return image - low, low

    def phase_loss(self, phase: Phase, batch: Batch | None, repeat: int) -> tuple[Tensor, dict[str, Tensor]]:
        k = self.level_of(phase)
        res = str(self.resolution(k))
        judge = partial(self._judge, k)
        if phase.name.startswith("discriminator"):
            assert batch is not None
            real, low = self.real_level(batch.x, k)

            def make_fake() -> Tensor:
                if low is None:
                    return self.generator.coarse(self.sample_latents(real.shape[0]).to(real.device))
                return self.generator.refiners[k](low)

            # the true residual h_k rides along to the G phase for the reconstruction term
            extra = real if low is not None and self.reconstruction > 0 else None
            loss, logs = self.discriminator_step(real, make_fake, low, judge=judge, suffix=res, tag=k, extra=extra)
        else:
            cached = self.take_fake(tag=k)
            d_k = self.discriminators[k]
            loss = self.generator_adversarial_loss(cached.fake, cached.cond, judge=judge, network=d_k)
            logs = {suffixed(LOSS_G, res): loss.detach()}
            if cached.extra is not None:
                l1 = (cached.fake - cached.extra).abs().mean()
                loss = loss + self.reconstruction * l1
                logs[f"reconstruction_{res}"] = l1.detach()
        if k == 0:  # the finest level also logs under the plain names every model uses
            logs.update({key[: -len(res) - 1]: value for key, value in logs.items()})
        return loss, logs

    def after_update(self, phase: Phase) -> None:
        if phase.name == self._last_phase:  # once per step, after the step's last generator phase
            self.update_ema()

    # --- sampling -------------------------------------------------------------------------------------
    def sample_latents(self, n: int) -> Tensor:
        return self.noise.sample(n)

    def generate(self, z: Tensor, y: Tensor | None = None, **options: Any) -> Tensor:
        """The finest image for latents ``z``, sampled coarse to fine (model units; clamped to the data
        range [-1, 1] outside training, since a sum of residuals is not bounded)."""
        if options:
            raise GanforgeError(f"LAPGAN sampling takes no option {', '.join(options)}")
        net = self.generator if self.training else self.sampling_generator()
        out = net(z)
        return out if self.training else out.clamp(-1, 1)

    @torch.no_grad()
    def sample_levels(self, n: int) -> list[Tensor]:
        """``n`` samples at every level, ``[I~_0, ..., I~_{K-1}]`` (finest first, model units, clamped)."""
        was_training = self.training
        self.eval()
        try:
            device = next(self.parameters()).device
            levels = self.sampling_generator()(self.sample_latents(n).to(device), return_levels=True)
            return [image.clamp(-1, 1) for image in levels]
        finally:
            self.train(was_training)


@register_model("lapgan")
@with_settings_of(LAPGAN, skip=("generator", "discriminators"))
def build_lapgan(
    source: DataSource,
    levels: int = 3,
    noise_dim: int = 100,
    width: int = 64,
    level_noise: int = 1,
    level_width: int = 64,
    level_depth: int = 3,
    level_fold: int = 1,
    conditional_levels: bool = True,
    spectral_norm: bool = False,
    extra_convs: int = 0,
    coarse_batch_norm: bool | None = None,
    penalties: dict[str, Any] | None = None,
    **settings: Any,
) -> LAPGAN:
    """LAPGAN: a DCGAN at the coarsest octave, conditional residual GANs above (e.g. 8 -> 16 -> 32).

    ``levels``: pyramid length; the coarsest images are ``R / 2^(levels-1)`` a side and must be a DCGAN
    size (8, 16, 32...). ``level_noise``: noise planes per refining level; ``level_width/depth`` size
    the refining convnets; ``conditional_levels=False`` is the paper's unconditional ablation.
    ``spectral_norm`` normalizes every discriminator's weights (Miyato et al. 2018); ``level_every``:
    per level, coarse to fine, train it every that many steps (default: every level every step).
    ``extra_convs`` and ``coarse_batch_norm`` shape the coarsest level's DCGAN nets as in the ``dcgan``
    network (``coarse_batch_norm: false`` drops D's batch norm, which R1 needs: it takes each sample's own
    gradient); ``penalties`` (``{r1: {weight: 1, every: 4}}``) apply to every level's discriminator;
    ``reconstruction`` weights the refiners' L1 to the true residual (see :class:`LAPGAN`).
    """
    if source.kind != "images" or len(source.sample_shape) != 3:
        raise GanforgeError(f"model.type=lapgan needs image data; data '{source.name}' is {source.kind}")
    channels, height, width_px = source.sample_shape
    if height != width_px:
        raise GanforgeError(f"model.type=lapgan needs square images, got {height}x{width_px}; set data.size")
    if levels < 1 or height % 2 ** (levels - 1):
        raise GanforgeError(
            f"model.levels={levels}: {height}-pixel images cannot be halved {levels - 1} times; use fewer levels"
        )
    coarse_res = height // 2 ** (levels - 1)
    try:
        conv_plan(coarse_res)
    except GanforgeError:
        raise GanforgeError(
            f"model.levels={levels}: the coarsest level would be {coarse_res}x{coarse_res}, which the DCGAN "
            "nets do not support (8, 16, 32, 64, 128); change levels or data.size"
        ) from None
    coarse = DCGANGenerator(noise_dim, channels, coarse_res, width, output="tanh", extra_convs=extra_convs)
    refiners = [
        LaplacianLevelGenerator(
            level_noise, channels, height // 2**k, level_width, conditional_levels, level_depth, level_fold
        )
        for k in range(levels - 1)
    ]
    for refiner in refiners:  # an untrained level adds no detail: sampling starts as the upsampled coarse image
        nn.init.zeros_(refiner.net[-1].weight)
        nn.init.zeros_(refiner.net[-1].bias)
    discriminators: list[nn.Module] = [
        LaplacianLevelDiscriminator(channels, height // 2**k, level_width, conditional_levels, level_fold)
        for k in range(levels - 1)
    ]
    if spectral_norm:
        discriminators = [apply_spectral_norm(d) for d in discriminators]
    discriminators.append(
        DCGANDiscriminator(
            channels,
            coarse_res,
            width,
            spectral_norm=spectral_norm,
            batch_norm=coarse_batch_norm,
            extra_convs=extra_convs,
        )
    )
    generator = LaplacianPyramidGenerator(coarse, refiners)
    return LAPGAN(generator, discriminators, noise_dim, penalties=build_penalties(penalties), **settings)
