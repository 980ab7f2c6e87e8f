"""What the divergence guard costs in the hot loop: seconds per training step with the guard checking
losses and gradient norms (the default), losses only, and switched off (a no-op guard: the baseline).

The three variants run interleaved in one process (rounds of ``--steps`` steps each, same model, same
data), so machine load affects all alike; the table gives the median of the rounds.

    python benchmarks/guard_overhead.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from ganforge.api import build_config
from ganforge.data.registry import source_from_config
from ganforge.gans.registry import build_model
from ganforge.training.seeding import seed_everything
from ganforge.training.trainer import Trainer


class _NoGuard:
    """The loop without any check: what the guard is compared against."""

    def watch(self, phase: str, loss: torch.Tensor, optimizer: torch.optim.Optimizer, want_norm: bool = False) -> None:
        return None

    def check(self, step: int) -> None:
        return None


def make_trainer(recipe: str, sets: list[str], check_gradients: bool | None) -> Trainer:
    config = build_config(recipe, [*sets, f"train.guard.check_gradients={bool(check_gradients)}"])
    rng = seed_everything(config.seed)
    source = source_from_config(config.data)
    gan = build_model(config.model, source)
    trainer = Trainer(gan, source, config, rng, None, [], show_progress=False)
    source.fit_scaler(gan.output_activation)
    if check_gradients is None:
        trainer.guard = _NoGuard()  # type: ignore[assignment]
    return trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(1)
    cases = {
        "ring8 MLP 128x128, batch 256": (
            "ring8",
            ["model.generator.hidden=[128,128]", "model.discriminator.hidden=[128,128]"],
        ),
        "ring8 MLP 256x256x256, batch 256": (
            "ring8",
            ["model.generator.hidden=[256,256,256]", "model.discriminator.hidden=[256,256,256]"],
        ),
    }
    print(f"divergence guard overhead (median of {args.rounds} interleaved rounds of {args.steps} steps, "
          f"1 thread, load {os.getloadavg()[0]:.1f})")
    print("| model | no guard ms/step | losses only | losses + gradient norms | overhead |")
    print("|---|---:|---:|---:|---:|")
    for label, (recipe, sets) in cases.items():
        trainers = {name: make_trainer(recipe, sets, flag) for name, flag in
                    (("off", None), ("loss", False), ("full", True))}
        times: dict[str, list[float]] = {name: [] for name in trainers}
        for _ in range(args.rounds):
            for name, trainer in trainers.items():
                t0 = time.perf_counter()
                for step in range(args.steps):
                    trainer.train_step(step, want_logs=False)
                times[name].append((time.perf_counter() - t0) / args.steps * 1e3)
        med = {name: statistics.median(v) for name, v in times.items()}
        print(f"| {label} | {med['off']:.3f} | {med['loss']:.3f} | {med['full']:.3f} | "
              f"{100 * (med['full'] / med['off'] - 1):+.1f}% |")


if __name__ == "__main__":
    main()
