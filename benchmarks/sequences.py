"""Sines benchmark: ganforge's TimeGAN and RCGAN beside TimeGAN's Table 2 (Yoon et al., NeurIPS 2019).

Protocol (TimeGAN's ``main_timegan.py``): train on all 10,000 sine sequences (24 steps x 5 features), generate
10,000 synthetic sequences, and score them against the 10,000 real ones with the discriminative score
(post-hoc GRU classifier, 2,000 iterations, |accuracy - 0.5|) and the predictive score (post-hoc GRU trained
on synthetic, 5,000 iterations, next-step MAE on real), each the mean (+- std) over ``--repeats`` seeds (the
paper: 10). "Original data" is the predictive score of the post-hoc GRU trained on the real set itself.
Training time is the trainer's wall clock on this machine; the machine load (``uptime``) is printed.

    python benchmarks/sequences.py                  # both models, their recipes, 10 repeats
    python benchmarks/sequences.py --models timegan --repeats 3
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import torch

from ganforge.api import train
from ganforge.data.registry import build_source
from ganforge.evaluation.sequences import discriminative_score_repeats, predictive_score_repeats

PAPER = {  # TimeGAN, Table 2, sines: (discriminative, predictive)
    "TimeGAN": (0.011, 0.093),
    "RCGAN": (0.022, 0.097),
    "C-RNN-GAN": (0.229, 0.127),
    "Original data": (None, 0.094),
}
RECIPES = {"timegan": ("TimeGAN", "sines-timegan"), "rcgan": ("RCGAN", "sines-rcgan")}


def load() -> str:
    return os.getloadavg().__repr__() if hasattr(os, "getloadavg") else "n/a"


def fmt(mean: float | None, std: float | None = None) -> str:
    if mean is None:
        return "-"
    return f"{mean:.3f}" + (f" +- {std:.3f}" if std is not None else "")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="timegan,rcgan", help="comma-separated: timegan, rcgan")
    parser.add_argument("--repeats", type=int, default=10, help="metric repeats (the paper: 10)")
    parser.add_argument("--steps", type=int, default=None, help="override the recipes' train.steps")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest for these small GRUs)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    real = build_source("sines", {}).x  # all 10,000 sequences, in [0, 1] already
    rows: list[tuple[str, str, str, str, str, str]] = []
    print(f"load average (1, 5, 15 min) at start: {load()}", flush=True)
    for key in [m.strip() for m in args.models.split(",") if m.strip()]:
        label, recipe = RECIPES[key]
        overrides = ["eval.metrics=[moments]"]  # the benchmark scores with 10,000 sequences itself below
        if args.steps:
            overrides.append(f"train.steps={args.steps}")
        with tempfile.TemporaryDirectory() as folder:
            run = train(recipe, out=f"{folder}/run", overrides=overrides, show_progress=False)
            seconds = run.summary["train_seconds"]
            print(f"{label}: trained {run.step} steps in {seconds:.0f}s (load {load()})", flush=True)
            torch.manual_seed(0)
            fake = run.sample(len(real))
        t1 = time.perf_counter()
        d_mean, d_std = discriminative_score_repeats(real, fake, repeats=args.repeats)
        p_mean, p_std = predictive_score_repeats(real, fake, repeats=args.repeats)
        print(f"{label}: scored in {time.perf_counter() - t1:.0f}s", flush=True)
        paper_d, paper_p = PAPER[label]
        rows.append(
            (label, fmt(d_mean, d_std), fmt(p_mean, p_std), fmt(paper_d), fmt(paper_p), f"{seconds / 60:.1f} min")
        )
    t0 = time.perf_counter()
    mean, std = predictive_score_repeats(real, real, repeats=args.repeats)
    rows.append(("Original data", "-", fmt(mean, std), "-", fmt(*PAPER["Original data"][1:]), "-"))
    print(f"original data predictive {mean:.4f} +- {std:.4f} ({time.perf_counter() - t0:.0f}s)", flush=True)
    rows.append(("C-RNN-GAN (paper only)", "-", "-", fmt(PAPER["C-RNN-GAN"][0]), fmt(PAPER["C-RNN-GAN"][1]), "-"))

    header = ("model", "discriminative (ours)", "predictive (ours)", "disc. (paper)", "pred. (paper)", "train time")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print()
    print(f"sines, {len(real)} real vs {len(real)} synthetic, {args.repeats} metric repeats; lower is better")
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    print(f"\nload average (1, 5, 15 min) at end: {load()}; cores: {os.cpu_count()}; torch threads: {args.threads}")


if __name__ == "__main__":
    sys.exit(main())
