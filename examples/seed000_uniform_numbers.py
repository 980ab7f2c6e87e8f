"""Seed 000's practical part: a GAN that learns "random numbers between 0 and 1".

The notes build, in Keras, a generator ``Dense(16, relu, input_dim=5) -> Dense(1, sigmoid)`` and a
discriminator ``Dense(16, relu, input_dim=1) -> Dense(1, sigmoid)`` trained with binary cross-entropy and
Adam(0.001), on ``np.random.rand(n, 1)``. The same networks in PyTorch, trained by ganforge with the
notes' loss (binary cross-entropy, the generator's side in its non-saturating form):

    J_D = -mean log D(x) - mean log(1 - D(G(z)))        J_G = -mean log D(G(z))

The generator's sigmoid keeps every sample inside (0, 1). Success is judged on 10 000 samples against
uniform(0, 1): mean 1/2, std 1/sqrt(12) = 0.2887, and the Kolmogorov-Smirnov distance
``sup_t |F_fake(t) - t|`` below 0.05.

    python examples/seed000_uniform_numbers.py [--steps 3000] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
import tempfile

import torch
from scipy import stats
from torch import nn

import ganforge as gf


def build_generator() -> nn.Module:
    """Dense(16, relu, input_dim=5) -> Dense(1, sigmoid)."""
    return nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid())


def build_discriminator() -> nn.Module:
    """Dense(16, relu, input_dim=1) -> Dense(1, sigmoid)."""
    return nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid())


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=0.001, help="Adam learning rate (the notes': 0.001)")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    gan = gf.GAN(build_generator(), build_discriminator(), noise_dim=5, objective="nonsaturating")
    run = gf.train(
        gan,
        data=gf.data.uniform(0, 1),
        steps=args.steps,
        seed=args.seed,
        out=tempfile.mkdtemp(prefix="ganforge-seed000-"),
        show_progress=False,
        batch_size=128,
        lr_decay="linear",
        lr_final=0.1,
        overrides=[f"train.optimizer.lr={args.lr}"],
    )
    x = gf.load(run.path).sample(10_000).squeeze(1)
    mean, std = float(x.mean()), float(x.std())
    ks = float(stats.kstest(x.numpy(), "uniform").statistic)
    counts = torch.histc(x, bins=10, min=0.0, max=1.0).int().tolist()
    ok = ks < 0.05 and float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    print(f"run folder: {run.path} (`ganforge diagnose` / `ganforge report` read it)")
    print(f"generated: mean {mean:.3f} (uniform: 0.500), std {std:.3f} (uniform: {1 / math.sqrt(12):.3f})")
    print(f"range [{float(x.min()):.3f}, {float(x.max()):.3f}]; KS distance to uniform(0, 1): {ks:.3f}")
    print(f"histogram of 10 000 samples in 10 bins of [0, 1] (uniform: 1000 each): {counts}")
    print(f"result: {'PASS' if ok else 'FAIL'} (KS < 0.05, all samples in [0, 1])")
    return {"mean": mean, "std": std, "ks": ks, "ok": float(ok)}


if __name__ == "__main__":
    main()
