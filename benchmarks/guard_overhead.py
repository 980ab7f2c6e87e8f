"""What the divergence guard costs in the hot loop: time per training step with the guard checking
losses and gradients (the default: a fused non-finite flag over each phase's gradients), losses only,
and switched off (a no-op guard: the baseline).

All three variants drive *one* trainer (the guard object is swapped between rounds): separate trainers
differ in where their tensors sit in memory, which moves a step's time by several percent, more than
the guard costs. Rounds of ``--steps`` steps alternate between the variants (order reversed every
round) in one process, so machine load affects all alike. Two measurements:

* step time: the median over rounds of CPU milliseconds per step (``time.process_time``, one thread),
  and the overhead of the default guard over no guard;
* the guard's own time: ``watch`` + ``check`` of every step timed inside the loop (wall clock,
  microseconds, median over steps): the direct measure, free of step-to-step noise.

    python benchmarks/guard_overhead.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

import torch

from ganforge.api import build_config
from ganforge.config import GuardConfig
from ganforge.data.registry import source_from_config
from ganforge.gans.registry import build_model
from ganforge.training.guard import DivergenceGuard
from ganforge.training.seeding import seed_everything
from ganforge.training.trainer import Trainer


class _NoGuard:
    """The loop without any check: what the guard is compared against."""

    def watch(self, phase: str, loss: torch.Tensor, optimizer: torch.optim.Optimizer, want_norm: bool = False) -> None:
        return None

    def check(self, step: int) -> None:
        return None


class _Timed:
    """Wraps a guard; adds the wall-clock nanoseconds of each step's ``watch`` and ``check`` calls to ``times``."""

    def __init__(self, guard: Any) -> None:
        self.guard, self.times, self._step_ns = guard, [], 0

    def watch(self, *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter_ns()
        out = self.guard.watch(*args, **kwargs)
        self._step_ns += time.perf_counter_ns() - t0
        return out

    def check(self, step: int) -> None:
        t0 = time.perf_counter_ns()
        try:
            self.guard.check(step)
        finally:
            self.times.append(self._step_ns + time.perf_counter_ns() - t0)
            self._step_ns = 0


def make_trainer(recipe: str, sets: list[str]) -> Trainer:
    config = build_config(recipe, [*sets, "device=cpu"])
    rng = seed_everything(config.seed)
    source = source_from_config(config.data)
    gan = build_model(config.model, source)
    trainer = Trainer(gan, source, config, rng, None, [], show_progress=False)
    source.fit_scaler(gan.output_activation)
    return trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    torch.set_num_threads(1)
    cases = {
        "ring8 MLP 128x128, batch 256": (
            "ring8",
            ["model.generator.hidden=[128,128]", "model.discriminator.hidden=[128,128]", "train.batch_size=256"],
        ),
        "ring8 MLP 256x256x256, batch 256": (
            "ring8",
            ["model.generator.hidden=[256,256,256]", "model.discriminator.hidden=[256,256,256]",
             "train.batch_size=256"],
        ),
        "digits-mlp (784-128), batch 64": ("digits-mlp", []),
    }
    print(f"divergence guard overhead (median of {args.rounds} interleaved rounds of {args.steps} steps, "
          f"1 thread; load {os.getloadavg()[0]:.1f} at the start)")
    print("| model | no guard CPU ms/step | losses only | losses + gradients (default) | overhead | "
          "guard's own µs/step: losses only / default |")
    print("|---|---:|---:|---:|---:|---|")
    for label, (recipe, sets) in cases.items():
        trainer = make_trainer(recipe, sets)
        guards = {
            "off": _Timed(_NoGuard()),
            "loss": _Timed(DivergenceGuard(GuardConfig(check_gradients=False), verbose=False)),
            "full": _Timed(DivergenceGuard(GuardConfig(), verbose=False)),
        }
        cpu: dict[str, list[float]] = {name: [] for name in guards}
        step = 0
        for r in range(args.rounds + 1):  # round 0 warms up
            order = list(guards.items())
            for name, guard in order if r % 2 == 0 else order[::-1]:
                trainer.guard = guard  # type: ignore[assignment]
                c0 = time.process_time()
                for _ in range(args.steps):
                    trainer.train_step(step, want_logs=False)
                    step += 1
                if r:
                    cpu[name].append((time.process_time() - c0) / args.steps * 1e3)
        med = {name: statistics.median(v) for name, v in cpu.items()}
        own = {name: statistics.median(g.times[args.steps:]) / 1e3 for name, g in guards.items()}
        print(f"| {label} | {med['off']:.3f} | {med['loss']:.3f} | {med['full']:.3f} | "
              f"{100 * (med['full'] / med['off'] - 1):+.1f}% | {own['loss']:.0f} / {own['full']:.0f} |", flush=True)
    print(f"(load {os.getloadavg()[0]:.1f} at the end)")


if __name__ == "__main__":
    main()
