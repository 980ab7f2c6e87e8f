"""A hand-written plain PyTorch MLP GAN for the 2-D mixture benchmarks: the floor ganforge must reach.

Nothing from ganforge is used here: the data, the networks, the losses and the loop are written the way
a user would write them from the papers, so ``benchmarks/toy_modes.py`` can compare ganforge's trainer
and shipped recipes with a tuned, lean loop under the same wall-clock budget.

Recipe (the "hand-tuned plain MLP GAN" of issue 2):

* data: a mixture of isotropic Gaussians, fresh samples every batch, standardized per coordinate with
  the mean and std of 20 000 samples (``x_model = (x - m) / s``); samples are mapped back for evaluation;
* G: z ~ N(0, I_noise_dim) -> ``hidden`` x [Linear, ReLU] -> Linear -> 2;
  D: x -> ``hidden`` x [Linear, LeakyReLU(0.2)] -> Linear -> 1 logit;
* non-saturating loss on logits l = D(x): ``J_D = E softplus(-l_real) + E softplus(l_fake)``
  (= -E log sigma(l_real) - E log(1 - sigma(l_fake))), ``J_G = E softplus(-D(G(z)))`` (= -E log D(G(z)));
* lazy R1 (Mescheder et al. 2018; lazy form of Karras et al. 2020): every ``r1_every`` D steps add
  ``r1_every * (gamma / 2) * E_x ||grad_x l(x)||^2`` on the real batch;
* Adam with betas (0, 0.9) for both networks, learning rate decayed linearly from ``lr`` to
  ``lr * lr_final`` over ``steps``;
* one D step then one G step per iteration; the G step reuses the D step's fake batch (same z), as in
  the PyTorch DCGAN tutorial.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F


@dataclass(frozen=True)
class PlainConfig:
    """Hyper-parameters of the plain baseline: the shipped ring8 recipe's (tuning in docs/benchmarks/toy.md)."""

    hidden: tuple[int, ...] = (64, 64, 64)
    noise_dim: int = 2
    batch_size: int = 128
    steps: int = 8000
    lr: float = 2e-3
    betas: tuple[float, float] = (0.0, 0.9)
    lr_final: float = 0.01
    r1_gamma: float = 0.02
    r1_every: int = 8


def ring_means(modes: int = 8, radius: float = 1.0) -> Tensor:
    """(r cos 2 pi k / K, r sin 2 pi k / K), k = 0..K-1: K distinct means on a circle (PacGAN's ring)."""
    angles = torch.arange(modes, dtype=torch.float64) * (2 * math.pi / modes)
    return (radius * torch.stack([angles.cos(), angles.sin()], dim=1)).float()


def grid_means(side: int = 5, spacing: float = 2.0) -> Tensor:
    """The centred square grid; side 5, spacing 2 gives {-4, -2, 0, 2, 4}^2."""
    ticks = (torch.arange(side, dtype=torch.float32) - (side - 1) / 2) * spacing
    gx, gy = torch.meshgrid(ticks, ticks, indexing="ij")
    return torch.stack([gx.flatten(), gy.flatten()], dim=1)


def sample_mixture(means: Tensor, std: float, n: int, rng: torch.Generator) -> Tensor:
    """n samples of the equal-weight mixture sum_k (1/K) N(means[k], std^2 I)."""
    comp = torch.randint(0, means.shape[0], (n,), generator=rng)
    return means[comp] + std * torch.randn(n, means.shape[1], generator=rng)


def mlp(sizes: list[int], act: Callable[[], nn.Module]) -> nn.Sequential:
    """Linear layers between consecutive ``sizes`` with ``act`` after every one but the last."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


@dataclass
class PlainResult:
    """A trained baseline: ``sample(n)`` returns n generated points in data units."""

    sample: Callable[[int], Tensor]
    seconds: float
    cpu_seconds: float
    steps_done: int
    steps: int


def train_plain(
    means: Tensor,
    std: float,
    cfg: PlainConfig = PlainConfig(),
    seed: int = 0,
    budget: float | None = None,
    clock: str = "wall",
) -> PlainResult:
    """Train the plain GAN on the mixture (``means``, ``std``) for ``cfg.steps`` iterations.

    ``budget`` (seconds on ``clock``: ``"wall"`` or the process ``"cpu"`` time) stops training early if it
    runs out, checked every 50 steps as ganforge's default ``log_every`` does; the learning-rate schedule
    is still the one for ``cfg.steps`` (so a cut run ends at a higher learning rate). ``seconds`` and
    ``cpu_seconds`` time training only, from the first step to the last.
    """
    torch.manual_seed(seed)
    rng = torch.Generator().manual_seed(seed + 1)
    dim = means.shape[1]
    ref = sample_mixture(means, std, 20_000, torch.Generator().manual_seed(0))
    shift, scale = ref.mean(0), ref.std(0)

    g = mlp([cfg.noise_dim, *cfg.hidden, dim], nn.ReLU)
    d = mlp([dim, *cfg.hidden, 1], lambda: nn.LeakyReLU(0.2))
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr, betas=cfg.betas)
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr, betas=cfg.betas)

    def decay(t: int) -> float:
        return 1.0 - (1.0 - cfg.lr_final) * min(t, cfg.steps) / cfg.steps

    sched_g = torch.optim.lr_scheduler.LambdaLR(opt_g, decay)
    sched_d = torch.optim.lr_scheduler.LambdaLR(opt_d, decay)

    start, cpu_start = time.perf_counter(), time.process_time()
    step = 0
    while step < cfg.steps:
        if budget is not None and step % 50 == 0 and step > 0:
            spent = time.process_time() - cpu_start if clock == "cpu" else time.perf_counter() - start
            if spent > budget:
                break
        real = (sample_mixture(means, std, cfg.batch_size, rng) - shift) / scale
        fake = g(torch.randn(cfg.batch_size, cfg.noise_dim))

        # discriminator step (+ lazy R1 on the real batch)
        lazy_r1 = cfg.r1_gamma > 0 and step % cfg.r1_every == 0
        if lazy_r1:
            real.requires_grad_(True)
        real_logits = d(real)
        loss_d = F.softplus(-real_logits).mean() + F.softplus(d(fake.detach())).mean()
        if lazy_r1:
            (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
            loss_d = loss_d + cfg.r1_every * 0.5 * cfg.r1_gamma * grad.pow(2).sum(1).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()

        # generator step (non-saturating), on the same fake batch
        loss_g = F.softplus(-d(fake)).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()

        sched_d.step()
        sched_g.step()
        step += 1
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start

    @torch.no_grad()
    def sample(n: int) -> Tensor:
        return g(torch.randn(n, cfg.noise_dim)) * scale + shift

    return PlainResult(sample, seconds, cpu_seconds, step, cfg.steps)
