"""Training and sampling throughput of ganforge against a plain PyTorch loop, on this machine.

    python benchmarks/throughput.py            # full protocol (~10 minutes on 2 busy cores)
    python benchmarks/throughput.py --quick    # fewer repeats, smaller N (a smoke run)

What is measured, each table printed as it completes:

1. fp32 matmul peak: the best of repeated ``torch.mm`` on square matrices (2 n^3 FLOPs each) — the
   yardstick for achieved FLOP/s.
2. Training steps/s, ganforge vs plain PyTorch, for the shipped recipes ``ring8`` (MLP toy GAN),
   ``digits-mlp`` and ``digits-dcgan``. Both sides get the *same* networks (the plain loop trains deep
   copies of the recipe's freshly built G and D), the same optimizers, learning-rate schedule, EMA, batch
   size, data source and discriminator penalty (ring8's lazy R1). ganforge runs its real loop
   (``Trainer.fit``: phases, divergence guard, logging every ``log_every`` steps); the plain loop is the
   PyTorch DCGAN-tutorial step (G forward once, D on real and detached fake, D step, G step through D with
   D's weights frozen). The two alternate in the same process (``--repeats`` rounds, order swapped every
   round) so machine load hits both alike. Steps/s are per second of this process's CPU time
   (``time.process_time``) with one torch thread: on a machine shared with other jobs, wall-clock time
   mostly measures waiting for a core, CPU time measures the work. Wall-clock ratios are printed too.
   The whole comparison runs ``--trials`` times (default 3; each trial builds fresh models and runs
   every row once, so the trials of one recipe are interleaved with the other recipes). Per trial the
   ratio is the median over rounds of ganforge/plain; the table gives the median over trials, the
   spread (min-max) of the trial medians, and the min-max over all rounds of all trials.
3. FLOPs of one DCGAN training step counted with ``torch.utils.flop_counter.FlopCounterMode``
   (matmuls and convolutions, forward and backward), times the measured steps/s = achieved FLOP/s,
   compared with the matmul peak.
4. Sampling throughput (samples/s) of ``GANModel.sample`` for the toy and the image generator.
5. Peak resident memory of ``ganforge sample RUN -n N -o x.npy`` in a child process, against the same
   command with N = 1000 (the interpreter and torch alone) and the size of the whole array.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.api import build_config
from ganforge.config import OptimizerConfig
from ganforge.data.registry import source_from_config
from ganforge.gans.registry import build_model
from ganforge.training.seeding import seed_everything
from ganforge.training.trainer import Trainer, lr_factor

RECIPES = ("ring8", "digits-mlp", "digits-dcgan")
NO_GRAD_CHECK = ["train.guard.check_gradients=false"]
# (row label, recipe, overrides): the shipped recipes as they are, then without the divergence guard's
# per-step gradient-norm check, to show what that check costs.
ROWS = [(r, r, []) for r in RECIPES] + [(f"{r} (guard: losses only)", r, NO_GRAD_CHECK) for r in RECIPES]


def machine_load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


# --- 1. matmul peak -----------------------------------------------------------------------------------
def matmul_peak(sizes: tuple[int, ...] = (512, 1024, 2048), seconds: float = 1.0) -> tuple[float, int]:
    """Best fp32 GFLOP per CPU-second of ``a @ b`` over square sizes n (2 n^3 FLOPs per product)."""
    best, best_n = 0.0, 0
    for n in sizes:
        a, b = torch.randn(n, n), torch.randn(n, n)
        torch.mm(a, b)  # warm-up
        reps, t0 = 0, time.process_time()
        while time.process_time() - t0 < seconds:
            torch.mm(a, b)
            reps += 1
        rate = 2 * n**3 * reps / (time.process_time() - t0) / 1e9
        if rate > best:
            best, best_n = rate, n
    return best, best_n


# --- 2. training steps/s --------------------------------------------------------------------------------
def build_trainer(recipe: str, sets: list[str], steps: int) -> Trainer:
    config = build_config(recipe, [*sets, "device=cpu", f"train.steps={steps}", "monitors={}"])
    data_rng = seed_everything(config.seed)
    source = source_from_config(config.data)
    gan = build_model(config.model, source)
    if config.train.ema is not None:
        gan.enable_ema(config.train.ema)
    return Trainer(gan, source, config, data_rng, None, show_progress=False)


def plain_optimizer(params: list[nn.Parameter], cfg: OptimizerConfig) -> torch.optim.Optimizer:
    """The optimizer a hand-written loop would construct: same hyperparameters, PyTorch's defaults otherwise."""
    if cfg.name == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps, weight_decay=cfg.weight_decay)
    if cfg.name == "rmsprop":
        return torch.optim.RMSprop(params, lr=cfg.lr, momentum=cfg.momentum, eps=cfg.eps, weight_decay=cfg.weight_decay)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


class PlainLoop:
    """The hand-written PyTorch GAN step on deep copies of a trainer's networks (non-saturating loss)."""

    def __init__(self, trainer: Trainer) -> None:
        gan, cfg = trainer.gan, trainer.config
        self.G = copy.deepcopy(gan.generator)
        self.D = copy.deepcopy(gan.discriminator)
        self.G_ema = copy.deepcopy(gan.ema_generator) if gan.ema_generator is not None else None
        self.decay = gan.ema_decay
        self.noise_shape = gan.noise.shape
        self.opt_d = plain_optimizer(list(self.D.parameters()), cfg.optimizer_for("discriminator"))
        self.opt_g = plain_optimizer(list(self.G.parameters()), cfg.optimizer_for("generator"))
        factor = lr_factor(cfg.train.lr_decay, cfg.train.steps, cfg.train.lr_final)
        self.scheds = [torch.optim.lr_scheduler.LambdaLR(o, factor) for o in (self.opt_d, self.opt_g)]
        self.source, self.rng, self.bs = trainer.source, torch.Generator().manual_seed(1), cfg.train.batch_size
        self.r1 = [(p.weight, p.every) for p in getattr(gan, "penalties", [])]
        if any(type(p).__name__ != "R1" for p in getattr(gan, "penalties", [])):
            raise NotImplementedError("the plain loop implements the R1 penalty only")
        self.t = 0
        self.G.train()
        self.D.train()

    def r1_penalty(self, real: torch.Tensor) -> torch.Tensor:
        """Lazy R1: weight * every * mean_x ||grad_x D(x)||^2 on real data, every ``every`` steps."""
        total = torch.zeros(())
        for weight, every in self.r1:
            if self.t % every == 0:
                x = real.detach().requires_grad_(True)
                (grad,) = torch.autograd.grad(self.D(x).sum(), x, create_graph=True)
                total = total + weight * every * grad.pow(2).flatten(1).sum(1).mean()
        return total

    def step(self) -> None:
        real = self.source.batch(self.bs, self.rng).x
        fake = self.G(torch.randn(self.bs, *self.noise_shape))
        real_logits, fake_logits = self.D(real), self.D(fake.detach())
        loss_d = F.binary_cross_entropy_with_logits(
            real_logits, torch.ones_like(real_logits)
        ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        if self.r1:
            loss_d = loss_d + self.r1_penalty(real)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        self.D.requires_grad_(False)
        logits = self.D(fake)
        loss_g = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)
        if self.G_ema is not None:
            with torch.no_grad():
                for e, p in zip(self.G_ema.parameters(), self.G.parameters(), strict=True):
                    e.lerp_(p, 1 - self.decay)
        for s in self.scheds:
            s.step()
        self.t += 1


def _timed(fn: Callable[[], None]) -> tuple[float, float]:
    """(CPU seconds of this process, wall seconds) of one call."""
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - c0, time.perf_counter() - t0


def compare_steps(recipe: str, steps: int, repeats: int, sets: list[str]) -> dict[str, float]:
    """Steps per CPU-second of ganforge's Trainer.fit and of the plain loop, interleaved; medians and
    the median paired ratio (also for wall-clock time)."""
    trainer = build_trainer(recipe, sets, steps * (repeats + 1))
    trainer.source.fit_scaler(trainer.gan.output_activation)
    plain = PlainLoop(trainer)

    def run_ganforge() -> None:
        trainer.train_cfg.steps = trainer.step + steps
        trainer.fit()

    def run_plain() -> None:
        for _ in range(steps):
            plain.step()

    run_ganforge(), run_plain()  # warm-up round (allocator, oneDNN primitive caches)
    ours, theirs = [], []
    for r in range(repeats):
        order = [(run_ganforge, ours), (run_plain, theirs)]
        for fn, out in order if r % 2 == 0 else order[::-1]:
            out.append(_timed(fn))
    ratios = [b[0] / a[0] for a, b in zip(ours, theirs, strict=True)]
    wall = [b[1] / a[1] for a, b in zip(ours, theirs, strict=True)]
    return {
        "ganforge": statistics.median(steps / c for c, _ in ours),
        "plain": statistics.median(steps / c for c, _ in theirs),
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "wall_ratio": statistics.median(wall),
        "batch": trainer.train_cfg.batch_size,
    }


def dcgan_step_flops(sets: list[str]) -> int:
    """FLOPs of one ganforge DCGAN training step (D phase + G phase, forward and backward)."""
    from torch.utils.flop_counter import FlopCounterMode

    trainer = build_trainer("digits-dcgan", sets, 10)
    trainer.source.fit_scaler(trainer.gan.output_activation)
    trainer.train_step(0, False)  # warm-up outside the counter
    with FlopCounterMode(display=False) as counter:
        trainer.train_step(1, False)
    return int(counter.get_total_flops())


# --- 4. sampling ----------------------------------------------------------------------------------------
def sampling_rate(recipe: str, n: int, sets: list[str]) -> float:
    trainer = build_trainer(recipe, sets, 10)
    gan = trainer.gan.eval()
    gan.sample(min(n, 4096))
    t0 = time.process_time()
    gan.sample(n)
    return n / (time.process_time() - t0)


# --- 5. streaming memory ----------------------------------------------------------------------------------
def sample_peak_rss(run: Path, n: int, out: Path) -> tuple[float, float]:
    """(peak RSS MiB, seconds) of `ganforge sample RUN -n N -o OUT` in a fresh child process."""
    code = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "r = subprocess.run(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, time.perf_counter() - t, r.returncode)"
    )
    sample = [sys.executable, "-m", "ganforge", "sample", str(run), "-n", str(n), "-o", str(out)]
    cmd = [sys.executable, "-c", code, *sample]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    rss, seconds, rc = done.stdout.split()[-3:]
    if int(rc) != 0:
        raise RuntimeError(f"ganforge sample failed: {done.stderr[-500:]}")
    return float(rss), float(seconds)


def streaming_memory(n: int) -> list[tuple[str, float, float]]:
    import ganforge as gf

    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        gf.train("ring8", steps=20, out=run, overrides=["monitors={}", "train.log_every=10"], show_progress=False)
        rows = []
        for count in (1000, n):
            rss, seconds = sample_peak_rss(run, count, Path(tmp) / "x.npy")
            rows.append((f"{count:,}", rss, seconds))
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and samples (smoke run)")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1; see the docstring)")
    parser.add_argument("--trials", type=int, default=3, help="independent repeats of the steps/s comparison")
    parser.add_argument("--steps-only", action="store_true", help="only the steps/s comparison (tables 1-2)")
    parser.add_argument("--skip-streaming", action="store_true", help="leave out table 5 (the 10M-sample write)")
    parser.add_argument("--shipped-only", action="store_true", help="steps/s rows of the recipes as shipped only")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    repeats = args.repeats or (3 if args.quick else 9)
    # per round: a few hundred ms of CPU per loop; multiples of the recipes' R1 intervals (ring8 8, digits-dcgan 4)
    steps = {"ring8": 384, "digits-mlp": 96, "digits-dcgan": 24}
    if args.quick:
        steps = {k: v // 3 for k, v in steps.items()}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {machine_load()}\n")

    peak, n = matmul_peak()
    print(f"fp32 matmul peak: {peak:.1f} GFLOP per CPU-second (torch.mm {n}x{n}, {torch.get_num_threads()} threads)\n")

    rows = [row for row in ROWS if not (args.shipped_only and row[2])]
    trials: dict[str, list[dict[str, float]]] = {label: [] for label, _, _ in rows}
    for t in range(args.trials):
        for label, recipe, sets in rows:
            r = compare_steps(recipe, steps[recipe], repeats, sets)
            trials[label].append(r)
            print(
                f"trial {t + 1}/{args.trials} {label}: ratio {r['ratio']:.3f} "
                f"(rounds {r['ratio_min']:.3f}-{r['ratio_max']:.3f}), wall {r['wall_ratio']:.3f}; {machine_load()}",
                flush=True,
            )
    print()
    print(
        "| recipe | batch | ganforge steps/CPU-s | plain PyTorch steps/CPU-s | ratio: median of trials "
        "(trial min-max) | all rounds min-max | wall ratio |"
    )
    print("|---|---:|---:|---:|---|---|---:|")
    results = {}
    for label, _, _ in rows:
        rs = trials[label]
        med = {k: statistics.median(r[k] for r in rs) for k in ("ganforge", "plain", "ratio", "wall_ratio")}
        results[label] = med
        print(
            f"| {label} | {rs[0]['batch']:.0f} | {med['ganforge']:.1f} | {med['plain']:.1f} | "
            f"**{med['ratio']:.3f}** ({min(r['ratio'] for r in rs):.3f}-{max(r['ratio'] for r in rs):.3f}) | "
            f"{min(r['ratio_min'] for r in rs):.3f}-{max(r['ratio_max'] for r in rs):.3f} | {med['wall_ratio']:.3f} |"
        )
    print(f"({machine_load()})\n")

    if args.steps_only:
        return
    flops = dcgan_step_flops([])
    achieved = flops * results["digits-dcgan"]["ganforge"] / 1e9
    print(
        f"digits-dcgan step: {flops / 1e9:.3f} GFLOP per step (FlopCounterMode); at "
        f"{results['digits-dcgan']['ganforge']:.1f} steps/CPU-s = {achieved:.1f} GFLOP per CPU-second achieved, "
        f"{100 * achieved / peak:.0f}% of the {peak:.1f} matmul peak\n"
    )

    print("| generator | N | samples per CPU-second |")
    print("|---|---:|---:|")
    counts = {"ring8": 200_000, "digits-dcgan": 2_000} if args.quick else {"ring8": 1_000_000, "digits-dcgan": 10_000}
    for recipe, count in counts.items():
        print(f"| {recipe} | {count:,} | {sampling_rate(recipe, count, []):,.0f} |", flush=True)
    print()

    if args.skip_streaming:
        return
    n = 1_000_000 if args.quick else 10_000_000
    rows = streaming_memory(n)
    print("| `ganforge sample RUN -n N -o x.npy` (ring8, 2-D) | peak RSS MiB | seconds |")
    print("|---|---:|---:|")
    for count, rss, seconds in rows:
        print(f"| N = {count} | {rss:.0f} | {seconds:.1f} |")
    print(f"(the whole {n:,} x 2 float32 array would be {n * 2 * 4 / 2**20:.0f} MiB; {machine_load()})")


if __name__ == "__main__":
    main()
