"""Stable training, shown: vanishing gradients and mode collapse, each demonstrated and fixed.

Two experiments, each printing a Markdown table (numbers go to docs/benchmarks/stability.md):

``vanishing``
    A discriminator trained ahead of the generator (``--pretrain`` steps on real vs the initial G's
    samples, Adam lr 1e-3) meets a fresh generator and keeps its lead (``--n-critic`` D steps per G step,
    D's lr ``--d-lr``); from that same starting point training continues with the saturating ``minimax``
    generator loss and with the ``nonsaturating`` one. The table gives the
    generator's gradient norm and D(G(z)) over training for both, and whether the vanishing-gradient
    monitor fired (it should on minimax only).

``modes``
    The grid of 25 Gaussians (std 0.05, PacGAN/VEEGAN protocol: 2 500 samples, high quality within 3 std,
    reverse KL of the high-quality mode histogram) for the shipped recipes — ``grid25-gan`` (a plain GAN
    in the published VEEGAN/GDPP setup, which collapses), ``grid25-wgangp``, ``grid25-pacgan`` and the
    plain ``grid25`` recipe — over ``--seeds`` seeds each, beside the published rows, with the
    monitors' findings per recipe (mode collapse should fire on the first only; no other finding should
    fire on the healthy recipes).

Run::

    python benchmarks/stability.py vanishing
    python benchmarks/stability.py modes --seeds 5 --jobs 2
    python benchmarks/stability.py healthy            # other shipped recipes: no false alarm

Every run is single-threaded (``torch.set_num_threads(1)``); ``--jobs`` runs that many in parallel.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import torch

PUBLISHED = [  # (method, modes, % high quality, reverse KL, source); see docs/notes/toy_protocols.md
    ("GAN", "3.3", "0.5", "-", "VEEGAN Table 1 (= GDPP Table 1)"),
    ("GAN", "17.3 ± 0.8", "94.8 ± 0.7", "0.70 ± 0.07", "PacGAN Table 1"),
    ("WGAN-GP", "24.2", "28.7", "-", "GDPP Table 1"),
    ("GDPP", "24.8", "68.5", "-", "GDPP Table 1"),
    ("PacGAN4", "24.8 ± 0.2", "93.6 ± 0.6", "0.04 ± 0.01", "PacGAN Table 1"),
]
MODE_RECIPES = ("grid25-gan", "grid25-wgangp", "grid25-pacgan", "grid25")


def _train(recipe: Any, seed: int, overrides: list[str], out: Path, gan: Any = None, source: Any = None) -> Any:
    import ganforge as gf

    torch.set_num_threads(1)
    if gan is not None:
        return gf.train(gan, data=source, seed=seed, out=out, overrides=overrides, show_progress=False)
    return gf.train(recipe, seed=seed, out=out, overrides=overrides, show_progress=False)


def _records(run: Any) -> list[dict[str, Any]]:
    from ganforge.training.metrics_log import read

    return read(Path(run.path) / "metrics.jsonl")


# --- vanishing gradients --------------------------------------------------------------------------------
def overtrained_gan(objective: str, pretrain: int, seed: int, offset: float = 6.0) -> tuple[Any, Any]:
    """The notes' numbers around 10 (recipe ``normal``) with a generator that starts ``offset`` data standard
    deviations away from the data (its output bias shifted), and D pre-trained for ``pretrain`` steps
    against it — the situation the notes call "discriminator too strong": D(G(z)) ~ 0 from the start."""
    from ganforge.api import build_config
    from ganforge.data.registry import source_from_config
    from ganforge.gans.registry import build_model
    from ganforge.objectives import bce_discriminator_loss
    from ganforge.training.seeding import seed_everything

    config = build_config("normal", [f"model.objective={objective}", f"seed={seed}"])
    rng = seed_everything(seed)
    source = source_from_config(config.data)
    gan = build_model(config.model, source)
    source.fit_scaler(gan.output_activation)
    last = [m for m in gan.generator.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        last.bias.add_(offset)
    opt = torch.optim.Adam(gan.discriminator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    for _ in range(pretrain):
        real = source.batch(256, rng).x
        with torch.no_grad():
            fake = gan.generate(gan.sample_latents(256))
        loss = bce_discriminator_loss(gan.discriminate(real), gan.discriminate(fake))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return gan, source


def _vanishing_run(
    objective: str, pretrain: int, steps: int, seed: int, d_lr: float, n_critic: int, root: str
) -> dict[str, Any]:
    torch.set_num_threads(1)
    gan, source = overtrained_gan(objective, pretrain, seed)
    gan.n_critic = n_critic
    overrides = [f"train.steps={steps}", "train.log_every=50", f"train.optimizers.discriminator.lr={d_lr}"]
    run = _train(None, seed, overrides, Path(root) / objective, gan, source)
    records = _records(run)
    fired = [f for f in run.summary["diagnostics"] if f["kind"] == "vanishing_gradients"]
    return {
        "objective": objective,
        "rows": {r["step"]: (r.get("grad_norm_g"), r.get("d_fake")) for r in records},
        "fired_at": fired[0]["step"] if fired else None,
        "findings": [f"step {f['step']}: {f['message']}" for f in run.summary["diagnostics"]],
        "evaluation": run.summary["evaluation"],
    }


def vanishing(args: argparse.Namespace) -> None:
    args.steps = args.steps or 1000
    with tempfile.TemporaryDirectory() as root, ProcessPoolExecutor(args.jobs) as pool:
        futures = [
            pool.submit(_vanishing_run, o, args.pretrain, args.steps, args.seed, args.d_lr, args.n_critic, root)
            for o in ("minimax", "nonsaturating")
        ]
        results = {r["objective"]: r for r in (f.result() for f in futures)}
    mm, ns = results["minimax"], results["nonsaturating"]
    print(
        "\nVanishing gradients: normal(10, 1) recipe nets, G's output shifted 6 std away, "
        f"D pre-trained {args.pretrain} steps (Adam 1e-3), then "
        f"{args.steps} steps with D's lr {args.d_lr:g} (G's 2e-4, Adam (0.5, 0.999)); seed {args.seed}\n"
    )
    print("| step | minimax ‖∇G‖ | minimax D(G(z)) | nonsaturating ‖∇G‖ | nonsaturating D(G(z)) |")
    print("|---:|---:|---:|---:|---:|")
    steps = sorted(mm["rows"])
    shown = [s for s in steps if s in (50, 100, 150, 200) or s % max(args.steps // 10, 50) == 0]
    for s in shown:
        (gm, dm), (gn, dn) = mm["rows"][s], ns["rows"].get(s, (None, None))
        print(f"| {s} | {gm:.2e} | {dm:.4f} | {gn:.2e} | {dn:.4f} |")
    for r in (mm, ns):
        fired = f"fired at step {r['fired_at']}" if r["fired_at"] else "silent"
        ev = r["evaluation"]
        print(
            f"\n{r['objective']}: vanishing-gradient monitor {fired}; "
            f"final mean error {ev.get('mean_error', float('nan')):.3f}, W1 {ev.get('w1', float('nan')):.3f}; findings:"
        )
        for line in r["findings"] or ["none"]:
            print(f"  - {line}")


# --- mode collapse --------------------------------------------------------------------------------------
def _mode_run(recipe: str, seed: int, root: str, steps: int | None) -> dict[str, Any]:
    torch.set_num_threads(1)
    overrides = [f"train.steps={steps}"] if steps else []
    t0 = time.perf_counter()
    run = _train(recipe, seed, overrides, Path(root) / f"{recipe}-{seed}")
    ev = run.summary["evaluation"]
    return {
        "recipe": recipe,
        "seed": seed,
        "modes": ev.get("modes", math.nan),  # data without known modes (moons, normal): no mode metrics
        "hq": ev.get("high_quality", math.nan),
        "kl": ev.get("kl", math.nan),
        "findings": [f["kind"] for f in run.summary["diagnostics"]],
        "seconds": time.perf_counter() - t0,
    }


def _mean_sd(values: list[float], fmt: str) -> str:
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return "-"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{format(statistics.mean(values), fmt)} ± {format(sd, fmt)}"


def modes(args: argparse.Namespace) -> None:
    recipes = args.recipes or MODE_RECIPES
    with tempfile.TemporaryDirectory() as root, ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(_mode_run, r, s, root, args.steps) for r in recipes for s in range(args.seeds)]
        results = [f.result() for f in futures]
    print(f"\nMode collapse on grid25 (25 modes, std 0.05; 2 500 samples; {args.seeds} seeds, mean ± sd)\n")
    print(
        "| recipe | modes (of 25) | high quality % | reverse KL | 25/25 & HQ ≥ 95% | mode monitor fired "
        "| other findings | s/run |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---:|")
    for recipe in recipes:
        rows = [r for r in results if r["recipe"] == recipe]
        good = sum(r["modes"] == 25 and r["hq"] >= 0.95 for r in rows)
        fired = sum("mode_collapse" in r["findings"] for r in rows)
        other = sorted({k for r in rows for k in r["findings"] if k != "mode_collapse"})
        print(
            f"| {recipe} | {_mean_sd([r['modes'] for r in rows], '.1f')} | "
            f"{_mean_sd([100 * r['hq'] for r in rows], '.1f')} | {_mean_sd([r['kl'] for r in rows], '.2f')} | "
            f"{good}/{len(rows)} | {fired}/{len(rows)} | {', '.join(other) or 'none'} | "
            f"{statistics.mean(r['seconds'] for r in rows):.0f} |"
        )
    print("\nPublished (different networks and training lengths; see docs/notes/toy_protocols.md)\n")
    print("| method | modes | high quality % | reverse KL | source |\n|---|---:|---:|---:|---|")
    for row in PUBLISHED:
        print("| " + " | ".join(row) + " |")
    print("\nPer seed (modes / HQ % / KL / findings):")
    for r in results:
        print(
            f"  {r['recipe']:>14} seed {r['seed']}: {r['modes']:.0f} / {100 * r['hq']:.1f} / {r['kl']:.3f} / "
            f"{','.join(r['findings']) or '-'}"
        )


def healthy(args: argparse.Namespace) -> None:
    recipes = args.recipes or ("ring8", "ring8-wgan", "moons", "normal")
    with tempfile.TemporaryDirectory() as root, ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(_mode_run, r, 0, root, args.steps) for r in recipes]
        results = [f.result() for f in futures]
    print("\nShipped recipes, seed 0: findings of every monitor (a healthy run should have none)\n")
    print("| recipe | modes | high quality % | findings |\n|---|---:|---:|---|")
    for r in results:
        modes, hq = ("-", "-") if math.isnan(r["modes"]) else (f"{r['modes']:.0f}", f"{100 * r['hq']:.1f}")
        print(f"| {r['recipe']} | {modes} | {hq} | {', '.join(r['findings']) or 'none'} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("experiment", choices=("vanishing", "modes", "healthy"))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None, help="override train.steps (modes/healthy)")
    parser.add_argument("--pretrain", type=int, default=300)
    parser.add_argument("--n-critic", type=int, default=1, help="D steps per G step after pre-training (vanishing)")
    parser.add_argument("--d-lr", type=float, default=2e-4, help="D's learning rate after pre-training (vanishing)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--recipes", nargs="*")
    args = parser.parse_args(argv)
    if args.experiment == "vanishing":
        args.steps = args.steps or 600
    {"vanishing": vanishing, "modes": modes, "healthy": healthy}[args.experiment](args)


if __name__ == "__main__":
    sys.exit(main())
