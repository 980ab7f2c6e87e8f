"""TensorBoard logging (``train.tensorboard: true``): scalars, sample pictures, weight and gradient histograms.

Events go to ``RUN/tensorboard/`` so ``tensorboard --logdir runs/`` shows every run. What is written:

* every logged scalar (losses, D(x), D(G(z)), gradient norms, monitor measurements, periodic metrics) at
  every logging step, learning rates as ``lr/PHASE``, monitor findings as text;
* every ``every`` steps (about 20 times per run, on logging steps, and at the last step): the generated
  samples of a fixed batch of latents (images: a grid; 1-D/2-D data: real vs generated scatter/histogram;
  sequences: a few series), and histograms of each network's weights (``weights/NAME``) and of the gradients
  of the last update (``gradients/NAME``; the EMA copy has none).

It needs the optional ``tensorboard`` package (``pip install 'ganforge[tensorboard]'``); a run that asks for
it without the package stops before its folder is created, with a one-line error. On resume, events after
the resumed checkpoint's step are purged so curves do not fold back.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ganforge.config import RunConfig
from ganforge.data.base import DataSource
from ganforge.errors import GanforgeError
from ganforge.training.callbacks import Callback, register_callbacks

if TYPE_CHECKING:
    from ganforge.training.trainer import Trainer

LOG_DIR = "tensorboard"
PICTURES = 20  # sample pictures and histograms per run
SAMPLES = 64
SAMPLE_SEED = 7907


def summary_writer_class() -> Any:
    """``torch.utils.tensorboard.SummaryWriter``, or a one-line error when the package is missing."""
    try:
        import tensorboard  # noqa: F401 - torch's writer needs it
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise GanforgeError(
            "train.tensorboard is true but the tensorboard package is not installed; "
            "pip install 'ganforge[tensorboard]' (or set train.tensorboard=false)"
        ) from None
    return SummaryWriter


class TensorBoardLogger(Callback):
    def __init__(self, run_dir: Path, every: int, writer_class: Any) -> None:
        self.folder = Path(run_dir) / LOG_DIR
        self.every = max(1, int(every))
        self.writer_class = writer_class
        self.writer: Any = None
        self.checked = 0

    def on_start(self, trainer: Trainer) -> None:
        self.writer = self.writer_class(str(self.folder), purge_step=trainer.step if trainer.step else None)
        self.checked = trainer.step

    def on_log(self, trainer: Trainer, record: dict[str, Any]) -> dict[str, Any] | None:
        if self.writer is None:
            return None
        step = int(record["step"])
        for key, value in record.items():
            if key in ("step", "time") or isinstance(value, bool):
                continue
            if isinstance(value, (int, float)) and math.isfinite(value):
                self.writer.add_scalar(key, value, step)
        for phase, lr in (record.get("lr") or {}).items():
            self.writer.add_scalar(f"lr/{phase}", lr, step)
        for f in record.get("findings", []):
            self.writer.add_text("findings", f"**{f.get('kind')}**: {f.get('message')}  \nremedy: {f.get('remedy')}",
                                 step)
        due = step // self.every > self.checked // self.every or step == trainer.train_cfg.steps
        self.checked = step
        if due:
            self.histograms(trainer, step)
            self.samples(trainer, step)
        return None

    def histograms(self, trainer: Trainer, step: int) -> None:
        for name, p in trainer.gan.named_parameters():
            if name.startswith("ema_generator."):
                continue
            self.writer.add_histogram(f"weights/{name}", p.detach().float().cpu(), step)
            if p.grad is not None:
                self.writer.add_histogram(f"gradients/{name}", p.grad.detach().float().cpu(), step)

    @torch.no_grad()
    def samples(self, trainer: Trainer, step: int) -> None:
        gan = trainer.gan
        if not getattr(gan, "samples_from_noise", True):
            return
        was_training = gan.training
        gan.eval()
        try:
            with torch.random.fork_rng(devices=[]):  # the training's random stream is left as it was
                torch.manual_seed(SAMPLE_SEED)
                fake = trainer.source.scaler.to_data(gan.sample(SAMPLES).float()).cpu()
        finally:
            gan.train(was_training)
        if fake.dim() == 4 and fake.shape[1] in (1, 3):
            self.writer.add_images("samples", fake.clamp(0, 1), step, dataformats="NCHW")
            return
        figure = _figure(trainer.source, fake)
        if figure is not None:
            self.writer.add_figure("samples", figure, step, close=True)

    def on_end(self, trainer: Trainer) -> dict[str, Any] | None:
        if self.writer is not None:
            self.writer.flush()
            self.writer.close()
            self.writer = None
        return {"tensorboard": str(self.folder)}


def _figure(source: DataSource, fake: torch.Tensor) -> Any:
    """Real vs generated: scatter (2-D), histograms (1-D), a few series (sequences)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    real = source.real(fake.shape[0] * 4, seed=2024).x.float()
    fig, ax = plt.subplots(figsize=(4, 3.4))
    if fake.dim() == 2 and fake.shape[1] >= 2:
        ax.scatter(real[:, 0], real[:, 1], s=4, alpha=0.4, label="real")
        ax.scatter(fake[:, 0], fake[:, 1], s=4, alpha=0.6, label="generated")
    elif fake.dim() == 2:
        ax.hist(real[:, 0].numpy(), bins=40, alpha=0.5, density=True, label="real")
        ax.hist(fake[:, 0].numpy(), bins=40, alpha=0.5, density=True, label="generated")
    elif fake.dim() == 3:
        for i in range(min(4, fake.shape[0])):
            ax.plot(real[i, :, 0].numpy(), color="tab:green", alpha=0.7, label="real" if i == 0 else None)
            ax.plot(fake[i, :, 0].numpy(), color="tab:purple", alpha=0.7, label="generated" if i == 0 else None)
    else:
        plt.close(fig)
        return None
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


@register_callbacks(order=40)  # after monitors (10), snapshots (20), periodic evaluation (30)
def tensorboard_for_run(config: RunConfig, source: DataSource, run_dir: Path | None) -> list[Callback]:
    """Runs written to a folder with ``train.tensorboard: true`` log to ``RUN/tensorboard``."""
    if run_dir is None or not config.train.tensorboard:
        return []
    writer_class = summary_writer_class()  # fails here, before the run folder is written
    log = config.train.log_every
    every = max(log, math.ceil(config.train.steps / PICTURES / log) * log)
    return [TensorBoardLogger(run_dir, every, writer_class)]
