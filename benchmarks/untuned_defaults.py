"""Defaults on data nobody tuned for (issue 16): the user-file default before and after
``ganforge/training/defaults.py``, against the best tuned recipe's settings on the same data; the ``uniform``
recipe and the README snippet; torch threads chosen from the model's size against torch's default.

Data (``benchmarks/untuned_data.py``, 5000 rows written to a CSV as a user would): a ring of 12
Gaussians (radius 2, std 0.05), a 3x3 grid with weights proportional to 1..9 (spacing 3, std 0.1), a
spiral (two turns, noise 0.04). Scores are computed by that module's numpy/scipy code on 5000 samples,
not by ganforge: share within 3 std of the nearest mode, modes covered, total variation of the mode
weights, k-NN precision (k = 3) against a fresh real sample (real vs real beside it).

Rows:
* ``before`` — the previous shipped default (noise 8, MLP 2x128, Adam 5e-4 betas (0.5, 0.999) decayed to
  10 %, 3000 steps, no penalty), reproduced with ``--set`` (user keys always win over the fitted choice);
* ``after`` — ``ganforge train data.csv`` as shipped now (settings chosen from the data, one line);
* ``tuned`` — the ``grid25`` recipe's settings (the most tuned 2-D recipe: 3x64 MLPs, R1 0.01/8, Adam
  2e-3 betas (0, 0.9) decayed to 1 %, batch 256, 14 000 steps) on the same file.

Threads: ``ring8`` (17k parameters, 400 steps) and ``digits-cgan`` (191k, 10 steps) trained with the
chosen count (1) and with torch's default (one per core, ``os.cpu_count()``), it/s on the wall clock,
side by side in this process. On a machine other jobs share, the ratio is what a user meets.

    python benchmarks/untuned_defaults.py [--seeds 0 1] [--json out.json] [--skip-threads]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import untuned_data as ud  # noqa: E402

import ganforge as gf  # noqa: E402

ROWS = 5000
BEFORE = [
    "model.noise_dim=8",
    "model.generator={type: mlp, hidden: [128, 128], activation: relu}",
    "model.discriminator={type: mlp, hidden: [128, 128], activation: leaky_relu}",
    "model.penalties={}",
    "train.steps=3000",
    "train.batch_size=256",
    "train.optimizer={name: adam, lr: 0.0005, betas: [0.5, 0.999]}",
    "train.lr_decay=linear",
    "train.lr_final=0.1",
]
TUNED = [
    "model.noise_dim=2",
    "model.generator={type: mlp, hidden: [64, 64, 64], activation: relu}",
    "model.discriminator={type: mlp, hidden: [64, 64, 64], activation: leaky_relu}",
    "model.penalties={r1: {weight: 0.01, every: 8}}",
    "train.steps=14000",
    "train.batch_size=256",
    "train.optimizer={name: adam, lr: 0.002, betas: [0.0, 0.9]}",
    "train.lr_decay=linear",
    "train.lr_final=0.01",
]
VARIANTS = {"before": BEFORE, "after": [], "tuned": TUNED}


def data_sets(seed: int) -> dict[str, tuple[np.ndarray, ud.Mixture2D | None, np.ndarray]]:
    """name -> (training rows, mixture or None, fresh real rows for precision)."""
    ring, grid = ud.ring12(), ud.grid9_unequal()
    return {
        "ring12": (ring.sample(ROWS, 1 + seed), ring, ring.sample(ROWS, 1000 + seed)),
        "grid9-unequal": (grid.sample(ROWS, 1 + seed), grid, grid.sample(ROWS, 1000 + seed)),
        "spiral": (ud.spiral(ROWS, 1 + seed), None, ud.spiral(ROWS, 1000 + seed)),
    }


def score_file_run(folder: Path, name: str, real: np.ndarray, mixture: Any, fresh: np.ndarray,
                   sets: list[str], seed: int) -> dict[str, Any]:
    path = folder / f"{name}.csv"
    np.savetxt(path, real, delimiter=",", header="x,y", comments="")
    t0 = time.process_time()
    run = gf.train(str(path), overrides=sets + [f"seed={seed}"], out=folder / f"run-{len(sets)}", show_progress=False)
    cpu = time.process_time() - t0
    torch.manual_seed(0)
    fake = gf.load(run.path).sample(5000).numpy()
    out: dict[str, Any] = {"steps": run.config.train.steps, "cpu_s": round(cpu, 1)}
    if mixture is not None:
        out.update(ud.mode_scores(fake, mixture))
    out["precision"] = ud.knn_precision(fresh, fake)
    out["precision_real"] = ud.knn_precision(fresh, real)
    return out


def uniform_ks(seed: int) -> float:
    from scipy import stats

    run = gf.train("uniform", seed=seed, out=tempfile.mkdtemp() + "/u", show_progress=False)
    torch.manual_seed(0)
    x = gf.load(run.path).sample(10_000).squeeze(1).numpy()
    return float(stats.kstest(x, "uniform").statistic)


def readme_std(seed: int) -> float:
    from torch import nn

    torch.manual_seed(seed)
    g = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1))
    d = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid())
    run = gf.train(gf.GAN(g, d, noise_dim=1, objective="nonsaturating"), data=gf.data.normal(10, 1), steps=3000,
                   out=tempfile.mkdtemp() + "/r", show_progress=False)
    return float(gf.load(run.path).sample(10_000).std())


def threads_speed() -> list[dict[str, Any]]:
    rows = []
    cores = os.cpu_count() or 1
    for recipe, steps in (("ring8", 400), ("digits-cgan", 10)):
        for threads in (1, cores):
            sets = [f"train.threads={threads}", f"train.steps={steps}", f"train.log_every={steps}",
                    "eval.enabled=false", f"train.checkpoint_every={steps}"]
            run = gf.train(recipe, overrides=sets, out=tempfile.mkdtemp() + "/t", show_progress=False)
            seconds = float(run.summary["train_seconds"])
            rows.append({"recipe": recipe, "threads": threads, "steps": steps, "it_per_s": steps / seconds})
    return rows


def markdown(results: dict[str, Any]) -> str:
    """The tables of docs/benchmarks/untuned_defaults.md from a results mapping."""
    lines = [
        "| data | settings | steps | CPU s | within 3 std | modes | weight TV | precision (real vs real) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results["untuned"]:
        within = f"{r['within_3std']:.1%}" if "within_3std" in r else "—"
        modes = str(r.get("modes", "—"))
        tv = f"{r['weight_tv']:.3f}" if "weight_tv" in r else "—"
        lines.append(
            f"| {r['data']} (seed {r['seed']}) | {r['variant']} | {r['steps']} | {r['cpu_s']} | {within} | {modes} "
            f"| {tv} | {r['precision']:.3f} ({r['precision_real']:.3f}) |"
        )
    lines += ["", "| seed | `ganforge train uniform` KS | README snippet std (target 1 +- 0.1) |", "|---|---|---|"]
    for seed, ks in results["uniform_ks"].items():
        lines.append(f"| {seed} | {ks:.3f} | {results['readme_std'][seed]:.3f} |")
    if results.get("threads"):
        lines += ["", "| recipe | threads | steps | it/s (wall) |", "|---|---|---|---|"]
        for r in results["threads"]:
            lines.append(f"| {r['recipe']} | {r['threads']} | {r['steps']} | {r['it_per_s']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--skip-threads", action="store_true")
    parser.add_argument("--table-from", type=Path, default=None, help="print the tables of a saved --json file")
    args = parser.parse_args(argv)
    if args.table_from:
        results = json.loads(args.table_from.read_text())
        print(markdown(results))
        return results
    results: dict[str, Any] = {"untuned": [], "uniform_ks": {}, "readme_std": {}}
    for seed in args.seeds:
        for name, (real, mixture, fresh) in data_sets(seed).items():
            for variant, sets in VARIANTS.items():
                folder = Path(tempfile.mkdtemp(prefix=f"untuned-{name}-{variant}-"))
                row = {"data": name, "variant": variant, "seed": seed,
                       **score_file_run(folder, name, real, mixture, fresh, sets, seed)}
                results["untuned"].append(row)
                print(json.dumps(row), flush=True)
        results["uniform_ks"][seed] = uniform_ks(seed)
        results["readme_std"][seed] = readme_std(seed)
        print(f"seed {seed}: uniform KS {results['uniform_ks'][seed]:.3f}, "
              f"README snippet std {results['readme_std'][seed]:.3f}", flush=True)
    if not args.skip_threads:
        torch.set_num_threads(os.cpu_count() or 1)  # torch's own default; the runs choose explicitly
        results["threads"] = threads_speed()
        for row in results["threads"]:
            print(json.dumps(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    print(markdown(results))
    return results


if __name__ == "__main__":
    main()
