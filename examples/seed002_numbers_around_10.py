"""Seed 002, "learn a distribution of real numbers around 10", with a real GAN.

The notes draw ``real_data = np.random.normal(10, 1, 1000)`` and sketch a generator and a discriminator
by hand. Here both are small PyTorch networks written the way the notes write theirs (the discriminator
ends in ``nn.Sigmoid`` and outputs "probability real"), and ganforge trains them with the notes' losses:

    J_D = -mean log D(x) - mean log(1 - D(G(z)))        J_G = -mean log D(G(z))   ("nonsaturating")

No preprocessing is needed: ganforge standardizes N(10, 1) for the generator's linear output and maps
samples back, so ``sample()`` returns numbers around 10. Success: |mean - 10| < 0.1 and |std - 1| < 0.1
on 10 000 samples.

    python examples/seed002_numbers_around_10.py [--steps 1500] [--seed 0] [--out DIR]
"""

from __future__ import annotations

import argparse
import tempfile

import torch
from torch import nn

import ganforge as gf


class Generator(nn.Module):
    """Noise (4 numbers) -> one number."""

    def __init__(self, noise_dim: int = 4, hidden: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(noise_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1)
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class Discriminator(nn.Module):
    """One number -> probability that it is real (the notes' sigmoid output)."""

    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(1, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1)
        )
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.sigmoid(self.net(x))


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="run folder (default: a temporary folder)")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)  # the networks' initial weights
    gan = gf.GAN(Generator(), Discriminator(), noise_dim=4, objective="nonsaturating")
    out = args.out or tempfile.mkdtemp(prefix="ganforge-seed002-")
    run = gf.train(
        gan,
        data=gf.data.normal(10, 1),
        steps=args.steps,
        seed=args.seed,
        out=out,
        show_progress=False,
        batch_size=256,
        lr_decay="linear",
        lr_final=0.1,
        overrides=["train.optimizer.lr=0.001"],
    )
    x = gf.load(run.path).sample(10_000).squeeze(1)
    mean, std = float(x.mean()), float(x.std())
    ok = abs(mean - 10) < 0.1 and abs(std - 1) < 0.1
    print(f"run folder: {run.path}")
    print(f"generated: mean {mean:.3f} (target 10), std {std:.3f} (target 1)")
    print(f"first five samples: {', '.join(f'{v:.2f}' for v in x[:5].tolist())}")
    print(f"result: {'PASS' if ok else 'FAIL'} (|mean - 10| < 0.1 and |std - 1| < 0.1)")
    return {"mean": mean, "std": std, "ok": float(ok)}


if __name__ == "__main__":
    main()
