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
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganforge.config import OptimizerConfig, RunConfig
from ganforge.data.base import DataSource
from ganforge.errors import GanforgeError, did_you_mean, quote
from ganforge.gans.base import GANModel
from ganforge.log_keys import grad_norm_key
from ganforge.training.callbacks import Callback
from ganforge.training.checkpoint import check_model_state, checkpoint_dir_name, checkpoint_step, save_checkpoint
from ganforge.training.distributed import RankGroup
from ganforge.training.guard import DivergenceGuard, NonFiniteStep, TrainingDiverged  # noqa: F401 (re-export)
from ganforge.training.metrics_log import MetricsLog
from ganforge.training.precision import MixedPrecision
from ganforge.training.progress import ProgressDisplay
from ganforge.training.seeding import rng_state, set_rng_state


class TrainingInterrupted(GanforgeError):
    """SIGINT/SIGTERM: a final checkpoint was written, ``ganforge resume`` continues."""

    exit_code = 130


def make_optimizer(params: Sequence[nn.Parameter], cfg: OptimizerConfig) -> torch.optim.Optimizer:
    """Adam / SGD / RMSprop from an :class:`~ganforge.config.OptimizerConfig`.

    Adam and SGD use PyTorch's fused kernels (one kernel per step for all parameters instead of a Python
    loop of small ops; same update rule) when every parameter is a float tensor on the CPU or a GPU."""
    params = list(params)
    fused = {"fused": True} if params and all(
        p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params
    ) else {}
    if cfg.name == "adam":
        return torch.optim.Adam(
            params, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps, weight_decay=cfg.weight_decay, **fused
        )
    if cfg.name == "rmsprop":
        return torch.optim.RMSprop(
            params, lr=cfg.lr, momentum=cfg.momentum, eps=cfg.eps, weight_decay=cfg.weight_decay
        )
    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, **fused)


def lr_factor(kind: str, steps: int, final: float, hold: float = 0.0):  # noqa: ANN201 - returns a schedule function
    """Learning-rate multiplier at step t: constant, linear 1 -> final, or cosine 1 -> final. With ``hold`` h,
    the rate stays at 1 for the first h x steps and the decay runs over the rest (Pix2Pix and CycleGAN keep
    the rate for half their epochs, then decay it linearly to 0)."""
    start = int(hold * steps)
    span = max(1, steps - start)

    def done(t: int) -> int:  # decay steps taken: 0 until the hold ends, span at the last step
        return min(max(t - start, 0), span)

    # the products keep the order they had before ``hold`` (bit-for-bit the same schedules at hold 0)
    if kind == "linear":
        return lambda t: 1.0 - (1.0 - final) * done(t) / span
    if kind == "cosine":
        return lambda t: final + (1.0 - final) * 0.5 * (1 + math.cos(math.pi * done(t) / span))
    return lambda t: 1.0


def resolve_device(name: str) -> torch.device:
    """``device`` as a torch device: ``auto`` is CUDA when available, else the CPU. A CUDA device this torch
    cannot reach (a CPU-only build, no GPU) is refused here in one line, not by an assertion deep in ``.to``."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise GanforgeError(f"device: '{name}' is not a device; use auto, cpu or cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        built = "this torch build has no CUDA" if torch.version.cuda is None else "no CUDA GPU is visible"
        raise GanforgeError(f"device: '{name}' cannot be used: {built}; use device=cpu (or auto)")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise GanforgeError(f"device: '{name}': only {torch.cuda.device_count()} CUDA device(s) here; use cuda:0")
    return device


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
        self.ranks = RankGroup(config, resolve_device(config.device))  # no-op outside torchrun
        self.device = self.ranks.device
        self.gan.to(self.device)
        self.ranks.prepare(gan, source, data_rng, config.train.batch_size)
        self.precision = MixedPrecision(config.train, self.device)
        self.precision.prepare(gan)
        self.step = 0
        self.elapsed = 0.0
        self.last_record: dict[str, Any] = {}
        self.log = MetricsLog(run_dir / "metrics.jsonl") if run_dir is not None and self.ranks.is_main else None
        phases = gan.all_phases()
        check_phase_names(config.train.optimizers, [p.name for p in phases])
        self.optimizers = {
            p.name: make_optimizer(gan.parameters_of(p), config.optimizer_for(p.name)) for p in phases
        }
        # each phase's parameters, listed once (loading optimizer state keeps these parameter objects)
        self._params = {n: [p for g in o.param_groups for p in g["params"]] for n, o in self.optimizers.items()}
        cfg = self.train_cfg
        factor = lr_factor(cfg.lr_decay, cfg.steps, cfg.lr_final, cfg.lr_hold)
        self.schedulers = {
            n: torch.optim.lr_scheduler.LambdaLR(o, factor) for n, o in self.optimizers.items()
        }
        self._stop_signal: int | None = None
        self.guard = DivergenceGuard(
            self.train_cfg.guard, verbose=show_progress, gradients_may_overflow=self.precision.grads_may_overflow
        )

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
            "guard": self.guard.state_dict(),
            "precision": self.precision.state_dict(),
        }

    def load_state(self, state: dict[str, Any], step: int, elapsed: float = 0.0) -> None:
        state = self.ranks.localize_state(state, step)  # this rank's RNG streams under torchrun
        self.gan.load_state_dict(state["model"])
        self.precision.load_state_dict(state.get("precision", {}))
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
        self.guard.load_state_dict(state.get("guard", {}))
        self.step, self.elapsed = step, elapsed

    def _optimizer_settings(self) -> dict[str, dict[str, Any]]:
        """Each phase's optimizer settings as configured (recorded in every checkpoint's meta)."""
        return {n: self.config.optimizer_for(n).model_dump(mode="json") for n in self.optimizers}

    def _check_optimizer_settings(self, recorded: Any, where: Path) -> None:
        """Refuse to resume with optimizer settings other than the checkpoint's: loading an optimizer's state
        restores its old hyper-parameters (an edited lr or betas would be silently ignored) and another
        optimizer's state does not fit (Adam moments into RMSprop). Checkpoints without the record pass."""
        if not isinstance(recorded, dict):
            return
        for phase, now in self._optimizer_settings().items():
            then = recorded.get(phase)
            if not isinstance(then, dict):
                continue
            changed = [k for k in now if k in then and now[k] != then[k]]
            if changed:
                diff = ", ".join(f"{k} {then[k]} -> {now[k]}" for k in changed)
                raise GanforgeError(
                    f"{where}: config.yaml changes the {phase} optimizer ({diff}) from what this checkpoint was "
                    "trained with; a resume restores the optimizer as it was, so the edit would be ignored — "
                    "restore those values, or start a new run with them"
                )

    def resume_from_latest(self) -> int | None:
        """Load the newest valid checkpoint of ``run_dir``; returns its step (None: none exists)."""
        assert self.run_dir is not None
        found = self.ranks.load_latest(self.run_dir)  # rank 0 reads, every rank receives
        if found is None:
            return None
        state, meta = found
        step = checkpoint_step(meta, self.run_dir / "checkpoints")
        where = self.run_dir / "checkpoints" / checkpoint_dir_name(step)
        check_model_state(state["model"], self.gan, where)  # before touching the model
        self._check_optimizer_settings(meta.get("user", {}).get("optimizers"), where)
        try:
            elapsed = float(meta.get("user", {}).get("elapsed", 0.0))
            self.load_state(state, step, elapsed)
        except (KeyError, ValueError, TypeError, IndexError, AttributeError, RuntimeError) as err:
            detail = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
            raise GanforgeError(
                f"{where}: its training state does not fit this run ({detail}); resume from an earlier "
                "checkpoint by moving this one aside, or start a new run"
            ) from None
        return self.step

    def save(self) -> Path | None:
        if self.run_dir is None:
            return None
        state = self.ranks.gather_state(self.state())  # every rank's RNG streams; all ranks take part
        if not self.ranks.is_main:
            return None
        meta = {"elapsed": self.elapsed, "name": self.config.name, "optimizers": self._optimizer_settings()}
        return save_checkpoint(self.run_dir, self.step, state, meta, keep=self.train_cfg.keep_checkpoints)

    # --- the loop ---------------------------------------------------------------------------------------
    def train_step(self, step: int, want_logs: bool) -> dict[str, torch.Tensor]:
        """One full step (all phases). Returns detached scalars when ``want_logs``.

        Work that only feeds the log — D(x) and D(G(z)) scores, gradient norms — is done on logging steps
        only (``gan.logging_step`` tells the model); the divergence guard's finiteness check runs on every
        step. Gradients are released (``grad = None``) rather than zeroed before each backward."""
        logs: dict[str, torch.Tensor] = {}
        bs = self.train_cfg.batch_size
        self.gan.logging_step = want_logs
        self.gan.ema_step = step  # the EMA warm-up follows the global step (restored on resume)
        for phase in self.gan.phases(step):
            opt = self.optimizers[phase.name]
            params = self._params[phase.name]
            for repeat in range(phase.repeats):
                batch = self.ranks.batch(self.source, bs, self.data_rng) if phase.needs_data else None
                with self.precision.autocast():
                    loss, phase_logs = self.gan.phase_loss(phase, self.precision.prepare_batch(batch), repeat)
                if loss is None:  # the GAN skips this update (no optimizer step, Adam moments untouched)
                    continue
                for p in params:  # what opt.zero_grad(set_to_none=True) does, without its per-call overhead
                    p.grad = None
                self.precision.backward(loss, phase.name)
                self.ranks.sync_gradients(opt)  # mean over ranks under torchrun
                self.precision.unscale(opt, phase.name)
                norm = self.guard.watch(phase.name, loss, opt, want_norm=want_logs)
                if want_logs:
                    phase_logs[grad_norm_key(phase.name)] = norm
                    if phase.log_as:
                        phase_logs[grad_norm_key(phase.log_as)] = norm
                self.precision.step(opt, phase.name)
                self.gan.after_update(phase)
            if want_logs:
                logs.update(phase_logs)
        self.guard.check(step)  # raises NonFiniteStep before anything of this step is logged or saved
        for sched in self.schedulers.values():
            _step_schedule(sched)
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
        probability = bool(getattr(getattr(self.gan, "objective", None), "probability_outputs", True))
        threads = torch.get_num_threads()  # chosen from the model's size (training/threads.py)
        label = f"{self.config.name} [{threads} thread{'s' if threads > 1 else ''}]"
        progress = ProgressDisplay(cfg.steps, self.step, self.show_progress, label, probability)
        t_start = time.perf_counter() - self.elapsed
        self.gan.train()
        self.guard.start(self)
        try:
            while self.step < cfg.steps:
                step = self.step
                want_logs = (step + 1) % cfg.log_every == 0 or step + 1 == cfg.steps
                try:
                    logs = self.train_step(step, want_logs)
                except NonFiniteStep as problem:
                    self.guard.recover(self, problem)  # rolls back and lowers the lr, or raises TrainingDiverged
                    continue
                self.step = step + 1
                self.elapsed = time.perf_counter() - t_start
                if want_logs:
                    logs = self.ranks.average_logs(logs)
                    record: dict[str, Any] = {"step": self.step, "time": round(self.elapsed, 3)}
                    record.update({k: float(v) for k, v in logs.items()})
                    record["lr"] = {n: o.param_groups[0]["lr"] for n, o in self.optimizers.items()}
                    blowup = self.guard.loss_blowup(self, record)  # a finite explosion is never logged
                    if blowup is not None:
                        self.guard.recover(self, blowup)
                        continue
                    for cb in self.callbacks:
                        extra = cb.on_log(self, record)
                        if extra:
                            record.update(extra)
                    if self.log is not None:
                        self.log.append(record)
                    self.last_record = record
                    progress.update(self.step, record)
                checkpoint_due = self.step % cfg.checkpoint_every == 0 or self.step == cfg.steps
                stopping = self.ranks.should_stop(self._stop_signal is not None, want_logs)
                if checkpoint_due or stopping:
                    blowup = self.guard.state_blowup(self)  # a blown-up state never becomes a checkpoint
                    if blowup is not None:
                        self.guard.recover(self, blowup)
                        continue
                path = self.save() if checkpoint_due else None
                if stopping:
                    # a collective under torchrun: decided from the step, the same on every rank
                    path = path if checkpoint_due else self.save()
                    raise self.interrupted(path)
        finally:
            progress.close()
            for s, handler in previous.items():
                signal.signal(s, handler)
        return self.last_record

    @property
    def stop_signal(self) -> int | None:
        """The stop signal (Ctrl+C, SIGTERM) received during ``fit``, or None: a callback holding the loop
        (the studio, paused) ends the run on it without training another step."""
        return self._stop_signal

    def interrupted(self, checkpoint: Path | None) -> TrainingInterrupted:
        """The exception that ends a run stopped by a signal, its checkpoint (written at ``self.step``) named."""
        return TrainingInterrupted(
            f"stopped by signal {self._stop_signal} at step {self.step}; checkpoint written to "
            f"{checkpoint}; continue with `ganforge resume {self.run_dir}`"
        )

    def finish(self) -> dict[str, Any]:
        """Callbacks' end-of-run contributions to the summary."""
        summary: dict[str, Any] = {}
        self.gan.eval()
        for cb in self.callbacks:
            extra = cb.on_end(self)
            if extra:
                summary.update(extra)
        summary.update(self.guard.summary())
        return summary


def _step_schedule(sched: torch.optim.lr_scheduler.LRScheduler) -> None:
    """Advance a learning-rate schedule by one training step, whether or not its phase stepped its optimizer.

    Schedules follow the global step, so a phase that has not started yet (TimeGAN's joint stage) or that
    skipped its update (TimeGAN's D below its loss threshold) still advances. torch warns about a schedule
    stepped before its optimizer on the schedule's first step only, so that step alone is silenced."""
    if sched._step_count > 1:
        sched.step()
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler.step\(\)` before")
        sched.step()


def check_phase_names(overrides: dict[str, Any], phases: list[str]) -> None:
    """Every key of ``train.optimizers`` must name a phase of the model: a misspelt one would otherwise be
    ignored silently and that phase trained with the shared ``train.optimizer``."""
    for name in overrides:
        if name not in phases:
            raise GanforgeError(
                f"train.optimizers.{quote(str(name))[1:-1]}: not a training phase of this model"
                f"{did_you_mean(str(name), phases)}; its phases are: {', '.join(phases)}"
            )
