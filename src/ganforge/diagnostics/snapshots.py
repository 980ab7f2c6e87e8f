"""Sample snapshots during training: the same noise drawn through the generator every few steps.

At the start of a run one batch of latents ``z`` (and, for conditional models, labels: one row of the
grid per class) is drawn from the model's prior with a seed of its own and kept fixed, so successive
grids differ only because the generator changed. Every ``train.snapshot_every`` steps (checked at the
logging steps: a snapshot is taken at the first logged step at or after each multiple) and at the last
step the grid is written to ``RUN/samples/step-XXXXXXXX.png``; at the end of training the grids become
an animation, ``RUN/samples/progress.gif``.

Two properties make snapshots safe to take at any time:

* they do not disturb training: the generator runs in eval mode (batch-norm running statistics are read,
  not updated) with gradients off, and torch's RNG state is saved before and restored after, so a run
  with snapshots takes exactly the same steps as one without;
* they resume exactly: the fixed latents, labels and the steps already captured are part of the
  checkpoint (``state_dict``), so a resumed run continues the same sequence of pictures.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ganforge.config import RunConfig
from ganforge.data.base import DataSource
from ganforge.fileio import replaced_on_success
from ganforge.training.callbacks import Callback, register_callbacks

if TYPE_CHECKING:
    from PIL import Image

    from ganforge.training.trainer import Trainer

SNAPSHOT_SEED_OFFSET = 7919  # the fixed latents' seed is the run's seed plus this
SAMPLES_DIR = "samples"
GIF_NAME = "progress.gif"
MAX_GIF_FRAMES = 120
FRAME_MS, LAST_FRAME_MS = 200, 1500


def snapshot_path(run_dir: Path, step: int) -> Path:
    return run_dir / SAMPLES_DIR / f"step-{step:08d}.png"


class _RngGuard:
    """Context: save torch's CPU (and current CUDA) RNG state on entry and restore it on exit."""

    def __enter__(self) -> _RngGuard:
        self.cpu = torch.get_rng_state()
        self.cuda = torch.cuda.get_rng_state() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
        return self

    def __exit__(self, *exc: object) -> None:
        torch.set_rng_state(self.cpu)
        if self.cuda is not None:
            torch.cuda.set_rng_state(self.cuda)


def captioned(image: Image.Image, text: str) -> Image.Image:
    """``image`` with a strip of ``text`` below it (for animation frames)."""
    from PIL import Image, ImageDraw

    strip = 14
    out = Image.new(image.mode, (image.width, image.height + strip), color=255 if image.mode == "L" else "white")
    out.paste(image, (0, 0))
    ImageDraw.Draw(out).text((3, image.height + 1), text, fill=0 if image.mode == "L" else "black")
    return out


def write_gif(frames: list[Image.Image], path: Path) -> Path:
    """An endlessly looping animation of ``frames`` (at most ``MAX_GIF_FRAMES``, evenly thinned, the last
    kept), ``FRAME_MS`` per frame and ``LAST_FRAME_MS`` on the final one."""

    if len(frames) > MAX_GIF_FRAMES:
        keep = torch.linspace(0, len(frames) - 1, MAX_GIF_FRAMES).round().long().unique().tolist()
        frames = [frames[i] for i in keep]
    durations = [FRAME_MS] * (len(frames) - 1) + [LAST_FRAME_MS]
    with replaced_on_success(path) as tmp:
        frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0)
    return path


class SampleSnapshots(Callback):
    """Fixed-noise sample grids every ``every`` steps (0: only the last step) and a GIF at the end."""

    def __init__(self, run_dir: Path, every: int, seed: int) -> None:
        self.run_dir = Path(run_dir)
        self.every = int(every)
        self.seed = int(seed)
        self.z: torch.Tensor | None = None
        self.labels: torch.Tensor | None = None
        self.ncol = 8
        self.steps: list[int] = []  # steps whose grid has been written, in order
        self.checked = 0  # last logged step looked at

    # --- fixed inputs ---------------------------------------------------------------------------------
    def _choose_inputs(self, trainer: Trainer) -> None:
        from ganforge.report.image_pictures import grid_layout

        labels, n, self.ncol = grid_layout(trainer.gan.num_classes, None)
        with _RngGuard():
            torch.manual_seed(self.seed + SNAPSHOT_SEED_OFFSET)
            self.z = trainer.gan.sample_latents(n).detach().cpu()
        self.labels = labels if isinstance(labels, torch.Tensor) else None

    # --- pictures -------------------------------------------------------------------------------------
    @torch.no_grad()
    def render(self, trainer: Trainer) -> torch.Tensor:
        """The fixed latents through the current (EMA, when enabled) generator, in data units [0, 1]."""
        assert self.z is not None
        gan = trainer.gan
        was_training = gan.training
        gan.eval()
        try:
            with _RngGuard():
                y = None if self.labels is None else self.labels.to(trainer.device)
                out = gan.generate(self.z.to(trainer.device), y)
        finally:
            gan.train(was_training)
        return trainer.source.scaler.to_data(out.float()).cpu().clamp(0.0, 1.0)

    def snapshot(self, trainer: Trainer, step: int) -> Path:
        from ganforge.report.image_pictures import save_grid

        path = snapshot_path(self.run_dir, step)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_grid(self.render(trainer), path, self.ncol)
        self.steps = [s for s in self.steps if s < step] + [step]
        return path

    # --- callback hooks -----------------------------------------------------------------------------
    def on_start(self, trainer: Trainer) -> None:
        if self.z is None:
            self._choose_inputs(trainer)
        if trainer.step == 0 and self.every > 0:
            self.snapshot(trainer, 0)

    def on_log(self, trainer: Trainer, record: dict[str, Any]) -> dict[str, Any] | None:
        step = int(record["step"])
        due = self.every > 0 and step // self.every > self.checked // self.every
        self.checked = step
        if due or step == trainer.train_cfg.steps:
            self.snapshot(trainer, step)
        return None

    def on_end(self, trainer: Trainer) -> dict[str, Any] | None:
        from PIL import Image

        frames, steps = [], []
        for step in self.steps:
            path = snapshot_path(self.run_dir, step)
            if step <= trainer.step and path.is_file():
                with Image.open(path) as image:
                    frames.append(captioned(image.copy(), f"step {step}"))
                steps.append(step)
        out: dict[str, Any] = {"steps": steps, "folder": str(self.run_dir / SAMPLES_DIR)}
        if steps:
            out["last"] = str(snapshot_path(self.run_dir, steps[-1]))
        if len(frames) >= 2:
            out["gif"] = str(write_gif(frames, self.run_dir / SAMPLES_DIR / GIF_NAME))
        return {"snapshots": out}

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"steps": list(self.steps), "checked": self.checked}
        if self.z is not None:
            state["z"] = self.z.clone()
        if self.labels is not None:
            state["labels"] = self.labels.clone()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.steps = [int(s) for s in state.get("steps", [])]
        self.checked = int(state.get("checked", 0))
        self.z = state["z"].clone() if "z" in state else None
        self.labels = state["labels"].clone() if "labels" in state else None
        if self.labels is not None:
            self.ncol = int(torch.bincount(self.labels).max())


@register_callbacks(order=20)
def snapshots_for_run(config: RunConfig, source: DataSource, run_dir: Path | None) -> list[Callback]:
    """Image runs written to a folder get fixed-noise snapshots."""
    if run_dir is None or source.kind != "images":
        return []
    return [SampleSnapshots(run_dir, config.train.snapshot_every, config.seed)]
