"""One process of a small data-parallel run, for tests/training/test_distributed.py.

Run as a script with torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT), or
without it for the single-process reference:

    python ddp_worker.py train OUT    both of:
      OUT/exact: tied-latent GAN on a fixed point set, three variants (plain, batch norm, synced batch norm)
      OUT/api:   ring8 through ganforge.train (16 steps), and a copy cut back to step 8 and resumed
    python ddp_worker.py fail OUT     rank 1 raises at step 3

The ``train`` process group is created here, as a user's own script would; ganforge must use it and
leave it alone.

``exact`` draws each step's latents for the *global* batch from a counter-seeded generator and keeps this
rank's slice (the rows the single process would give the same samples), so W processes and one process
compute the same global-batch losses and must end with the same weights up to float rounding.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace

import torch
from torch import nn

torch.set_num_threads(1)

import ganforge as gf  # noqa: E402
from ganforge.config import parse_config  # noqa: E402
from ganforge.data.base import ArraySource  # noqa: E402
from ganforge.gans.vanilla import GAN  # noqa: E402
from ganforge.training.distributed import shutdown_process_group  # noqa: E402
from ganforge.training.trainer import Trainer  # noqa: E402

RANK = int(os.environ.get("RANK", "0"))
WORLD = int(os.environ.get("WORLD_SIZE", "1"))
STEPS, BATCH = 12, 32


class TiedLatentGAN(GAN):
    """Latents for step k: rows [rank*n, (rank+1)*n) of a (world*n)-row draw seeded by k."""

    draws = 0

    def sample_latents(self, n: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(10_000 + self.draws)
        self.draws += 1
        z = torch.randn(n * WORLD, self.noise.dim, generator=g)
        return z[RANK * n : (RANK + 1) * n]


def _points() -> ArraySource:
    g = torch.Generator().manual_seed(5)
    x = torch.cat([torch.randn(60, 2, generator=g), torch.randn(36, 2, generator=g) * 0.3 + 3])
    return ArraySource(kind="points", sample_shape=(2,), name="points", x=x)


def _net(n_in: int, n_out: int, bn: bool) -> nn.Module:
    # No bias before batch norm: its true gradient is 0, and Adam would turn rounding noise into +-lr steps.
    layers: list[nn.Module] = [nn.Linear(n_in, 16, bias=not bn)]
    if bn:
        layers.append(nn.BatchNorm1d(16))
    layers += [nn.LeakyReLU(0.2), nn.Linear(16, n_out)]
    return nn.Sequential(*layers)


def run_exact(out: Path, name: str, bn: bool, sync_bn: bool) -> None:
    """Train one variant; save this rank's final weights and last logged record to OUT/NAME-rankR.pt."""
    torch.manual_seed(0)
    gan = TiedLatentGAN(_net(2, 2, False), _net(2, 1, bn), noise_dim=2)
    config = parse_config(
        {
            "name": "exact",
            "seed": 0,
            "device": "cpu",
            "model": {"type": "python"},
            "train": {
                "steps": STEPS,
                "batch_size": BATCH,
                "log_every": 4,
                "sync_batchnorm": sync_bn,
                "dist_timeout": 60,
                # With batch norm after a bias-free layer some gradients are exactly 0 (a shift of all fake
                # samples is normalized away); Adam would turn their rounding noise into +-lr steps, so
                # the batch-norm variants use SGD, whose step is proportional to the gradient.
                "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.5} if bn else {"lr": 1e-3},
            },
        }
    )
    data_rng = torch.Generator().manual_seed(7)
    record = Trainer(gan, _points(), config, data_rng, None, show_progress=False).fit()
    weights = {k: v.clone() for k, v in gan.state_dict().items() if v.is_floating_point()}
    torch.save({"weights": weights, "record": record}, out / f"{name}-rank{RANK}.pt")


EXACT_VARIANTS = {"plain": (False, False), "bn": (True, False), "sync-bn": (True, True)}


def run_all_exact(out: Path) -> None:
    out.mkdir(exist_ok=True)
    for name, (bn, sync_bn) in EXACT_VARIANTS.items():
        run_exact(out, name, bn, sync_bn)


def run_api(out: Path) -> None:
    """OUT/full: 16 steps straight. OUT/split: a copy of it cut back to its step-8 checkpoint (as if killed
    there), then resumed to 16."""
    import shutil

    import torch.distributed as dist

    import ganforge.report.summary as summary
    from ganforge.training.checkpoint import remove_checkpoints_after
    from ganforge.training.metrics_log import truncate_after

    # The final report (plots, evaluation) runs after training and cannot change what is compared.
    summary.finish_run = lambda trainer, path, seconds, **_: SimpleNamespace(path=path, step=trainer.step, summary={})
    sets = [
        "model.generator.hidden=[16]",
        "model.discriminator.hidden=[16]",
        "train.batch_size=32",
        "train.log_every=4",
        "train.checkpoint_every=8",
        "train.keep_checkpoints=10",
        "train.dist_timeout=60",
        "monitors.mode_collapse=false",
    ]
    gf.train("ring8", steps=16, out=out / "full", overrides=sets, show_progress=False)
    if RANK == 0:
        shutil.copytree(out / "full", out / "split")
        remove_checkpoints_after(out / "split", 8)
        truncate_after(out / "split" / "metrics.jsonl", 8)
    if WORLD > 1:
        dist.barrier()
    gf.resume(out / "split", show_progress=False)


def run_fail(out: Path) -> None:
    class Failing(GAN):
        def phase_loss(self, phase, batch, repeat):  # noqa: ANN001, ANN201
            if RANK == 1 and self._step == 3:
                raise RuntimeError("injected failure on rank 1")
            return super().phase_loss(phase, batch, repeat)

    torch.manual_seed(0)
    gan = Failing(_net(2, 2, False), _net(2, 1, False), noise_dim=2)
    config = parse_config(
        {"device": "cpu", "model": {"type": "python"}, "train": {"steps": 50, "batch_size": 8, "dist_timeout": 30}}
    )
    trainer = Trainer(gan, _points(), config, torch.Generator().manual_seed(1), None, show_progress=False)
    try:
        trainer.fit()
    finally:
        shutdown_process_group()


if __name__ == "__main__":
    mode, target = sys.argv[1], Path(sys.argv[2])
    if mode == "fail":
        run_fail(target)
    else:
        import datetime

        import torch.distributed as dist

        if WORLD > 1:
            dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
        try:
            run_all_exact(target / "exact")
            run_api(target / "api")
        finally:
            if WORLD > 1:
                dist.barrier()  # tear the group down together; an early destroy can abort the peer at exit
                dist.destroy_process_group()
        # Work done and the group destroyed: leave without interpreter finalization, where gloo's worker threads
        # can still be torn down and abort the process ("terminate called without an active exception",
        # exit -6; seen once in a clean-clone CI run, a known PyTorch teardown race, pytorch/pytorch#179291).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
