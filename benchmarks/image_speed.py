"""Speed of the digits DCGAN: ganforge's trainer beside a plain PyTorch loop, same networks, same batch.

The plain loop is written here with the structure of the PyTorch DCGAN tutorial: a shuffling
``DataLoader``, then per batch ``D(real)`` -> BCE -> backward, ``G(z)`` once, ``D(G(z).detach())`` -> BCE
-> backward, D step, ``D(G(z))`` -> BCE with real labels -> backward, G step. (The tutorial's D ends in a
sigmoid with ``BCELoss``; these nets return logits, so it uses ``BCEWithLogitsLoss``, the same loss.) When
the recipe has a lazy R1 penalty (``digits-dcgan`` does: every 4th step) the loop adds it to D's step the
way ganforge computes it, so both do the same work; ganforge's learning-rate schedule (two
``LambdaLR`` steps per step) is the only work the plain loop leaves out.

ganforge runs the ``digits-dcgan`` recipe's model and data through :class:`ganforge.training.trainer.Trainer`
(logging every ``train.log_every`` steps with gradient norms, the per-step finiteness check; no run folder,
so no checkpoint or picture is written). Rows:

* ``plain PyTorch (tutorial loop)`` and ``ganforge Trainer`` do the same work (EMA off);
* ``ganforge Trainer + EMA`` is the recipe as shipped (an EMA update of G after every G step).

Both start from identical weights. To share the machine's load fairly the loops alternate in ``--rounds``
blocks of ``--steps`` steps inside one process (order reversed every block), after ``--warmup`` untimed
steps each, and the whole alternation is repeated ``--trials`` times; the last column gives the
median and min-max over trials of each trial's steps-per-CPU-second ratio to the plain loop. Steps/s is total
steps / total wall time per row, training samples/s is that times the batch; steps per CPU-second
divides by the process's CPU time instead (with one thread, what the loop would take on an idle core:
the shared machine's load inflates wall time, not CPU time). Generation samples/s: ``--gen``
images in eval mode without gradients (``G(z)`` in batches of 1000 for the plain row; ``gan.sample`` with
the same batch for ganforge, which returns the EMA generator's images when EMA is on).

Run::

    python benchmarks/image_speed.py                 # 1 thread, batch 64 (the recipe's)
    python benchmarks/image_speed.py --threads 2 --batch 128
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn


def plain_tutorial_loop(
    generator: nn.Module,
    discriminator: nn.Module,
    images: torch.Tensor,
    batch: int,
    noise_dim: int,
    lr: float,
    betas: tuple[float, float],
    r1: tuple[tuple[float, int], ...] = (),
) -> Callable[[int], None]:
    """A function running ``n`` steps of the PyTorch DCGAN tutorial's loop on ``images`` (model units).

    ``r1``: (weight, every) of the recipe's lazy R1 penalties, added to D's loss on every ``every``-th
    step as ``weight * every * mean_x ||grad_x D(x)||^2`` on the real batch (a separate forward pass on
    the detached batch, as ganforge computes it), so both loops do the same work."""
    from torch.utils.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(images), batch_size=batch, shuffle=True, drop_last=True)
    criterion = nn.BCEWithLogitsLoss()
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=betas)
    opt_g = torch.optim.Adam(generator.parameters(), lr=lr, betas=betas)
    real_label, fake_label = 1.0, 0.0
    batches = iter(loader)
    step = 0

    def next_batch() -> torch.Tensor:
        nonlocal batches
        try:
            return next(batches)[0]
        except StopIteration:
            batches = iter(loader)
            return next(batches)[0]

    def run(n: int) -> None:
        nonlocal step
        for _ in range(n):
            real = next_batch()
            b = real.shape[0]
            # (1) update D: maximize log D(x) + log(1 - D(G(z)))
            discriminator.zero_grad()
            label = torch.full((b,), real_label)
            err_real = criterion(discriminator(real).view(-1), label)
            err_real.backward()
            noise = torch.randn(b, noise_dim)
            fake = generator(noise)
            label.fill_(fake_label)
            err_fake = criterion(discriminator(fake.detach()).view(-1), label)
            err_fake.backward()
            for weight, every in r1:
                if step % every == 0:
                    x = real.detach().requires_grad_(True)
                    (grad,) = torch.autograd.grad(discriminator(x).sum(), x, create_graph=True)
                    (weight * every * grad.pow(2).flatten(1).sum(1).mean()).backward()
            opt_d.step()
            # (2) update G: maximize log D(G(z))
            generator.zero_grad()
            label.fill_(real_label)
            err_g = criterion(discriminator(fake).view(-1), label)
            err_g.backward()
            opt_g.step()
            step += 1

    return run


def ganforge_loop(recipe: str, batch: int, sets: list[str]) -> tuple[Callable[[int], None], Any, Any]:
    """(run n more steps, trainer, gan): ganforge's ``Trainer.fit`` on ``recipe`` with ``batch`` and ``sets``."""
    from ganforge.api import build_config
    from ganforge.data.registry import source_from_config
    from ganforge.gans.registry import build_model
    from ganforge.training.seeding import seed_everything
    from ganforge.training.trainer import Trainer

    config = build_config(recipe, [f"train.batch_size={batch}", "train.steps=100000000", *sets])
    data_rng = seed_everything(config.seed)
    source = source_from_config(config.data)
    gan = build_model(config.model, source)
    if config.train.ema is not None:
        gan.enable_ema(config.train.ema)
    trainer = Trainer(gan, source, config, data_rng, None, [], show_progress=False)

    def run(n: int) -> None:
        trainer.train_cfg.steps = trainer.step + n
        trainer.fit()

    return run, trainer, gan


@torch.no_grad()
def generation_rate(generate: Callable[[int], torch.Tensor], n: int) -> float:
    generate(min(n, 256))  # warm-up
    t0 = time.perf_counter()
    out = generate(n)
    assert out.shape[0] == n
    return n / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipe", default="digits-dcgan")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=32, help="steps per timed block (a multiple of R1's interval)")
    parser.add_argument("--rounds", type=int, default=10, help="alternating timed blocks per row and trial")
    parser.add_argument("--trials", type=int, default=3, help="repeats of the whole interleaved measurement")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--gen", type=int, default=10000, help="images generated for samples/s")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load_start = os.getloadavg()[0]

    gf_run, trainer, gan = ganforge_loop(args.recipe, args.batch, ["train.ema=null"])
    gf_ema_run, _, gan_ema = ganforge_loop(args.recipe, args.batch, [])
    gf_fast_run, _, _ = ganforge_loop(args.recipe, args.batch, ["train.ema=null", "train.guard.check_gradients=false"])
    # the plain loop trains copies of the same initial networks on the same images in model units
    generator, discriminator = copy.deepcopy(gan.generator), copy.deepcopy(gan.discriminator)
    source = trainer.source
    source.fit_scaler(gan.output_activation)
    images = source.scaler.to_model(source.x)
    opt = trainer.config.optimizer_for("generator")
    if any(type(p).__name__ != "R1" for p in getattr(gan, "penalties", [])):
        raise NotImplementedError("the tutorial loop adds the R1 penalty only")
    r1 = tuple((p.weight, p.every) for p in getattr(gan, "penalties", []))
    plain_run = plain_tutorial_loop(
        generator, discriminator, images, args.batch, gan.noise.dim, opt.lr, tuple(opt.betas), r1
    )
    rows: dict[str, Callable[[int], None]] = {
        "plain PyTorch (tutorial loop)": plain_run,
        "ganforge Trainer": gf_run,
        "ganforge Trainer + EMA (recipe)": gf_ema_run,
        "ganforge Trainer, no per-step gradient check": gf_fast_run,
    }
    seconds = dict.fromkeys(rows, 0.0)
    cpu_seconds = dict.fromkeys(rows, 0.0)
    trial_ratios: dict[str, list[float]] = {name: [] for name in rows}  # steps per CPU-second vs plain, per trial
    for run in rows.values():
        run(args.warmup)
    for trial in range(args.trials):
        trial_cpu = dict.fromkeys(rows, 0.0)
        for block in range(args.rounds):
            order = list(rows.items())
            for name, run in order if (trial * args.rounds + block) % 2 == 0 else order[::-1]:
                t0, c0 = time.perf_counter(), time.process_time()
                run(args.steps)
                seconds[name] += time.perf_counter() - t0
                trial_cpu[name] += time.process_time() - c0
        for name in rows:
            cpu_seconds[name] += trial_cpu[name]
            trial_ratios[name].append(trial_cpu["plain PyTorch (tutorial loop)"] / trial_cpu[name])

    gen_batch = 1000

    def plain_generate(n: int) -> torch.Tensor:
        generator.eval()
        out = [generator(torch.randn(min(gen_batch, n - i), gan.noise.dim)) for i in range(0, n, gen_batch)]
        return torch.cat(out)

    gen_rates = {
        "plain PyTorch (tutorial loop)": generation_rate(plain_generate, args.gen),
        "ganforge Trainer": generation_rate(lambda n: gan.sample(n, batch_size=gen_batch), args.gen),
        "ganforge Trainer + EMA (recipe)": generation_rate(lambda n: gan_ema.sample(n, batch_size=gen_batch), args.gen),
    }
    gen_rates["ganforge Trainer, no per-step gradient check"] = gen_rates["ganforge Trainer"]

    total = args.steps * args.rounds * args.trials
    plain = "plain PyTorch (tutorial loop)"
    base, cpu_base = total / seconds[plain], total / cpu_seconds[plain]
    print(
        f"recipe {args.recipe}: {source.name} {tuple(source.sample_shape)}, batch {args.batch}, "
        f"{args.threads} thread(s), {total} timed steps per row in {args.trials} trials of {args.rounds} "
        "alternating blocks"
    )
    print(f"1-minute load average at start {load_start:.2f}, at end {os.getloadavg()[0]:.2f} (2 cores)\n")
    print("| loop | steps/s (wall) | training samples/s | vs plain | steps per CPU-second | vs plain "
          "| vs plain per trial: median (min-max) | generation samples/s |")
    print("|---|---:|---:|---:|---:|---:|---|---:|")
    for name in rows:
        rate, cpu_rate = total / seconds[name], total / cpu_seconds[name]
        r = trial_ratios[name]
        print(f"| {name} | {rate:.2f} | {rate * args.batch:.0f} | {rate / base:.2f}x | {cpu_rate:.2f} | "
              f"{cpu_rate / cpu_base:.3f}x | {statistics.median(r):.3f} ({min(r):.3f}-{max(r):.3f}) | "
              f"{gen_rates[name]:.0f} |")


if __name__ == "__main__":
    main()
