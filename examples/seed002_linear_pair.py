"""Seed 002's ``nn.Linear(1, 1)`` generator / discriminator pair, trained — and what it can and cannot learn.

The notes build G(z) = a z + b and D(x) = sigmoid(w x + c) and run one forward pass. Trained on numbers
around 10 (N(10, 1)) with the notes' losses, the pair shows exactly where its capacity ends:

* **G is affine**, so with z ~ N(0, 1) it produces N(b, a^2): every Gaussian, and nothing else. The target
  N(10, 1) is inside this family (a = +-1, b = 10), so G *could* match it exactly.
* **D is a linear logistic classifier** (one threshold on x). It can tell two distributions apart by
  their means, but not by their spreads: once the means agree, the best linear D is flat (w = 0; near
  w = 0 the loss is ``2 log 2 + (w/2)(E_fake x - E_real x) + (w^2/8) E[x^2] + ...``, minimized at w = 0), so G
  gets no signal about its scale. In practice the spread collapses (std ~ 0.02-0.05 after 1 000 steps)
  and G becomes a near point mass that D's threshold keeps chasing around 10, so the mean ends within a
  few tenths of 10 (how close depends on where the oscillation is when training stops).
* Give the same linear D one extra input, x^2 (``nn.Linear(2, 1)`` on (x, x^2): a logistic D quadratic in
  x, which can see spread), and the same ``nn.Linear(1, 1)`` G matches both mean and std.

    python examples/seed002_linear_pair.py [--steps 1500] [--seed 0]
"""

from __future__ import annotations

import argparse
import tempfile

import torch
from torch import nn

import ganforge as gf


# The notes' networks, as written there.
class Generator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


class Discriminator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(1, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.sigmoid(self.fc(x))


class QuadraticDiscriminator(nn.Module):
    """The same logistic D on the features (x, x^2): sigmoid(w1 x + w2 x^2 + c)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.sigmoid(self.fc(torch.cat([x, x * x], dim=1)))


def train_pair(discriminator: nn.Module, steps: int, seed: int) -> dict[str, float]:
    """Train Generator() against ``discriminator`` on N(10, 1); mean/std of 10 000 samples and G's (a, b)."""
    torch.manual_seed(seed)
    generator = Generator()
    gan = gf.GAN(generator, discriminator, noise_dim=1, objective="nonsaturating")
    run = gf.train(
        gan,
        data=gf.data.normal(10, 1),
        steps=steps,
        seed=seed,
        out=tempfile.mkdtemp(prefix="ganforge-linear-pair-"),
        show_progress=False,
        batch_size=256,
        lr_decay="linear",
        lr_final=0.1,
        overrides=["train.optimizer.lr=0.005"],
    )
    x = gf.load(run.path).sample(10_000).squeeze(1)
    print(f"run folder ({type(discriminator).__name__}): {run.path}")
    return {"mean": float(x.mean()), "std": float(x.std())}


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    results = {
        "linear": train_pair(Discriminator(), args.steps, args.seed),
        "quadratic": train_pair(QuadraticDiscriminator(), args.steps, args.seed),
    }
    print("target: N(10, 1)   generator: nn.Linear(1, 1) on z ~ N(0, 1)")
    labels = {"linear": "D = sigmoid(Linear(1,1)(x))      ", "quadratic": "D = sigmoid(Linear(2,1)(x, x^2))"}
    for name, label in labels.items():
        r = results[name]
        print(f"{label}  mean {r['mean']:7.3f}  std {r['std']:6.3f}")
    lin, quad = results["linear"], results["quadratic"]
    print(
        f"linear D: mean near 10 (within 0.5): {abs(lin['mean'] - 10) < 0.5}; "
        f"std learned (within 0.1 of 1): {abs(lin['std'] - 1) < 0.1}; spread collapsed (std < 0.3): {lin['std'] < 0.3}"
    )
    print(
        f"quadratic D: mean learned (within 0.1 of 10): {abs(quad['mean'] - 10) < 0.1}; "
        f"std learned (within 0.1 of 1): {abs(quad['std'] - 1) < 0.1}"
    )
    return results


if __name__ == "__main__":
    main()
