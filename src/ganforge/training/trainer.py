"""The training loop, generic over a GAN's phases.

One step: for each phase the GAN declares (discriminator ``n_critic`` times, then generator), draw a
real batch if the phase needs one, compute the phase's loss, take an optimizer step on that phase's
networks, run the GAN's post-update hook (clipping, EMA). Every ``log_every`` steps the scalars go to
``metrics.jsonl``, the callbacks (monitors, evaluation) and the progress line; every
``checkpoint_every`` steps a checkpoint is written atomically. Everything random is seeded and saved, so
N steps + resume + N steps equals 2N steps bit-for-bit on the CPU.
"""

from __future__ import annotations

import math
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganforge.config import OptimizerConfig, RunConfig
from ganforge.data.base import DataSource
from ganforge.errors import GanforgeError
from ganforge.gans.base import GANModel, grad_norm
from ganforge.training.callbacks import Callback
from ganforge.training.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from ganforge.training.metrics_log import MetricsLog
from ganforge.training.progress import ProgressDisplay
from ganforge.training.seeding import rng_state, set_rng_state


class TrainingDiverged(GanforgeError):
    """A loss or gradient became non-finite; the run stopped before writing anything from that step."""


class TrainingInterrupted(GanforgeError):
    """SIGINT/SIGTERM: a final checkpoint was written, ``ganforge resume`` continues."""

    exit_code = 130


def make_optimizer(params: Sequence[nn.Parameter], cfg: OptimizerConfig) -> torch.optim.Optimizer:
    """Adam / SGD / RMSprop from an :class:`~ganforge.config.OptimizerConfig`."""
    if cfg.name == "adam":
        return torch.optim.Adam(
            params, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps, weight_decay=cfg.weight_decay
        )
    if cfg.name == "rmsprop":
        return torch.optim.RMSprop(
            params, lr=cfg.lr, momentum=cfg.momentum, eps=cfg.eps, weight_decay=cfg.weight_decay
        )
    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


def lr_factor(kind: str, steps: int, final: float):  # noqa: ANN201 - returns a schedule function
    """Learning-rate multiplier at step t: constant, linear 1 -> final, or cosine 1 -> final."""
    if kind == "linear":
        return lambda t: 1.0 - (1.0 - final) * min(t, steps) / steps
    if kind == "cosine":
        return lambda t: final + (1.0 - final) * 0.5 * (1 + math.cos(math.pi * min(t, steps) / steps))
    return lambda t: 1.0


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(name)
    except RuntimeError:
        raise GanforgeError(f"device: '{name}' is not a device; use auto, cpu or cuda") from None


class Trainer:
    """Trains ``gan`` on ``source`` as ``config.train`` says, writing into ``run_dir`` (if given)."""

    def __init__(
        self,
        gan: GANModel,
        source: DataSource,
        config: RunConfig,
        data_rng: torch.Generator,
        run_dir: Path | None = None,
        callbacks: Sequence[Callback] = (),
        show_progress: bool = True,
    ) -> None:
        self.gan, self.source, self.config = gan, source, config
        self.train_cfg = config.train
        self.data_rng = data_rng
        self.run_dir = run_dir
        self.callbacks = list(callbacks)
        self.show_progress = show_progress
        self.device = resolve_device(config.device)
        self.gan.to(self.device)
        self.step = 0
        self.elapsed = 0.0
        self.last_record: dict[str, Any] = {}
        self.log = MetricsLog(run_dir / "metrics.jsonl") if run_dir is not None else None
        phases = gan.phases(0)
        self.optimizers = {
            p.name: make_optimizer(gan.parameters_of(p), config.optimizer_for(p.name)) for p in phases
        }
        factor = lr_factor(self.train_cfg.lr_decay, self.train_cfg.steps, self.train_cfg.lr_final)
        self.schedulers = {
            n: torch.optim.lr_scheduler.LambdaLR(o, factor) for n, o in self.optimizers.items()
        }
        self._stop_signal: int | None = None

    # --- state ----------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "model": self.gan.state_dict(),
            "optim": {n: o.state_dict() for n, o in self.optimizers.items()},
            "sched": {n: s.state_dict() for n, s in self.schedulers.items()},
            "rng": rng_state(self.data_rng),
            "data": self.source.state_dict(),
            "scaler": self.source.scaler.state_dict(),
            "callbacks": [c.state_dict() for c in self.callbacks],
        }

    def load_state(self, state: dict[str, Any], step: int, elapsed: float = 0.0) -> None:
        self.gan.load_state_dict(state["model"])
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optim"][name])
        for name, sched in self.schedulers.items():
            sched.load_state_dict(state["sched"][name])
        self.source.load_state_dict(state["data"])
        from ganforge.data.scaling import Scaler

        self.source.scaler = Scaler.from_state_dict(state["scaler"])
        for cb, cb_state in zip(self.callbacks, state.get("callbacks", []), strict=False):
            cb.load_state_dict(cb_state)
        set_rng_state(state["rng"], self.data_rng)
        self.step, self.elapsed = step, elapsed

    def resume_from_latest(self) -> int | None:
        """Load the newest valid checkpoint of ``run_dir``; returns its step (None: none exists)."""
        assert self.run_dir is not None
        info = latest_checkpoint(self.run_dir)
        if info is None:
            return None
        state, meta = load_checkpoint(info.path)
        self.load_state(state, int(meta["step"]), float(meta.get("user", {}).get("elapsed", 0.0)))
        return self.step

    def save(self) -> Path | None:
        if self.run_dir is None:
            return None
        meta = {"elapsed": self.elapsed, "name": self.config.name}
        return save_checkpoint(
            self.run_dir, self.step, self.state(), meta, keep=self.train_cfg.keep_checkpoints
        )

    # --- the loop ---------------------------------------------------------------------------------------
    def _check_finite(self, value: torch.Tensor, what: str, step: int) -> None:
        if not torch.isfinite(value).all():
            last = latest_checkpoint(self.run_dir) if self.run_dir is not None else None
            kept = (
                f"the last good checkpoint (step {last.step}) is intact"
                if last
                else "no checkpoint was written"
            )
            raise TrainingDiverged(
                f"training diverged at step {step + 1}: {what} is not finite; {kept}. Lower the learning "
                "rate (--set train.optimizer.lr=...), add a gradient penalty, or check the data for extreme values"
            )

    def train_step(self, step: int, want_logs: bool) -> dict[str, torch.Tensor]:
        """One full step (all phases). Returns detached scalars when ``want_logs``."""
        logs: dict[str, torch.Tensor] = {}
        bs = self.train_cfg.batch_size
        for phase in self.gan.phases(step):
            opt = self.optimizers[phase.name]
            for repeat in range(phase.repeats):
                batch = self.source.batch(bs, self.data_rng).to(self.device) if phase.needs_data else None
                loss, phase_logs = self.gan.phase_loss(phase, batch, repeat)
                self._check_finite(loss.detach(), f"the {phase.name} loss", step)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if want_logs:
                    norm = grad_norm(p for group in opt.param_groups for p in group["params"])
                    self._check_finite(norm, f"the {phase.name} gradient", step)
                    phase_logs[f"grad_norm_{phase.name[0]}"] = norm
                opt.step()
                self.gan.after_update(phase)
            logs.update(phase_logs)
        for sched in self.schedulers.values():
            sched.step()
        return logs

    def _handle_signal(self, signum: int, frame: Any) -> None:  # noqa: ARG002
        self._stop_signal = signum

    def fit(self) -> dict[str, Any]:
        """Train up to ``train.steps``; returns the final record (last logged scalars)."""
        cfg = self.train_cfg
        if self.step == 0:
            self.source.fit_scaler(self.gan.output_activation)
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            for s in previous:
                signal.signal(s, self._handle_signal)
        except ValueError:  # not the main thread: no signal handling
            previous = {}
        for cb in self.callbacks:
            cb.on_start(self)
        progress = ProgressDisplay(cfg.steps, self.step, self.show_progress, self.config.name)
        t_start = time.perf_counter() - self.elapsed
        self.gan.train()
        try:
            while self.step < cfg.steps:
                step = self.step
                want_logs = (step + 1) % cfg.log_every == 0 or step + 1 == cfg.steps
                logs = self.train_step(step, want_logs)
                self.step = step + 1
                self.elapsed = time.perf_counter() - t_start
                if want_logs:
                    record: dict[str, Any] = {"step": self.step, "time": round(self.elapsed, 3)}
                    record.update({k: float(v) for k, v in logs.items()})
                    record["lr"] = {n: o.param_groups[0]["lr"] for n, o in self.optimizers.items()}
                    for cb in self.callbacks:
                        extra = cb.on_log(self, record)
                        if extra:
                            record.update(extra)
                    if self.log is not None:
                        self.log.append(record)
                    self.last_record = record
                    progress.update(self.step, record)
                if self.step % cfg.checkpoint_every == 0 or self.step == cfg.steps:
                    self.save()
                if self._stop_signal is not None:
                    path = self.save()
                    raise TrainingInterrupted(
                        f"stopped by signal {self._stop_signal} at step {self.step}; checkpoint written to "
                        f"{path}; continue with `ganforge resume {self.run_dir}`"
                    )
        finally:
            progress.close()
            for s, handler in previous.items():
                signal.signal(s, handler)
        return self.last_record

    def finish(self) -> dict[str, Any]:
        """Callbacks' end-of-run contributions to the summary."""
        summary: dict[str, Any] = {}
        self.gan.eval()
        for cb in self.callbacks:
            extra = cb.on_end(self)
            if extra:
                summary.update(extra)
        return summary
