"""The divergence guard: a non-finite loss or gradient never goes unnoticed, never reaches a checkpoint.

Each phase of a training step hands its loss and optimizer to :meth:`DivergenceGuard.watch`, which keeps
the loss and (``train.guard.check_gradients``) the L2 norm of that phase's gradients,

    ||g||_2 = sqrt(sum_i ||g_i||_2^2)     over the gradients g_i of the phase's parameters,

without synchronizing. At the end of the step :meth:`DivergenceGuard.check` tests all of them at once
(one ``isfinite`` over a stacked vector: one device sync per step) and raises :class:`NonFiniteStep`
before anything from that step is logged or checkpointed. A NaN anywhere in a gradient makes its norm
NaN, an infinity makes it infinite, so the norm is a complete test.

The trainer then calls :meth:`DivergenceGuard.recover`, which

1. counts an attempt for the failing step; after ``train.guard.retries`` attempts it raises
   :class:`TrainingDiverged` (one line: where, what, what was tried, which checkpoint is intact);
2. reloads the newest valid checkpoint whose weights are all finite (or, before the first checkpoint,
   the in-memory copy of the state training started from): model, EMA, optimizers, schedulers, data
   position, RNG states, callbacks — everything but the guard's own record. If the retry diverges again
   before passing the failed step, the next rollback goes one point further back: a blow-up that grew
   over several steps has already poisoned the newest checkpoint while its weights were still finite;
3. drops the ``metrics.jsonl`` records written after that point, so no step appears twice. Checkpoints
   newer than the point are left alone — they stay the last good state if the guard gives up — and are
   replaced as the retry writes the same steps again;
4. applies the remedy: every learning rate, and every scheduler's base rate, times ``lr_factor``
   (lr <- lr * lr_factor, so after k rollbacks lr = lr_0 * lr_factor^k). The lowered rates live in the
   optimizer and scheduler state, hence in every later checkpoint.

Attempts count per incident: once training completes the step that failed, the count starts again.
The guard's record (attempts, learning-rate scale, events) is part of every checkpoint, so a run killed
during a retry resumes into the same retry.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ganforge.config import GuardConfig
from ganforge.errors import GanforgeError
from ganforge.training.checkpoint import list_checkpoints, load_checkpoint

if TYPE_CHECKING:
    from ganforge.training.trainer import Trainer

_REMEDY = (
    "Lower the learning rate (--set train.optimizer.lr=...), add a gradient penalty, "
    "or check the data for extreme values"
)


class TrainingDiverged(GanforgeError):
    """A loss or gradient stayed non-finite; the run stopped before writing anything from that step."""


class NonFiniteStep(Exception):
    """Raised inside the loop when step ``step`` (0-based) produced a non-finite ``what``. Internal: the
    trainer hands it to :meth:`DivergenceGuard.recover`; users only ever see :class:`TrainingDiverged`."""

    def __init__(self, step: int, what: str) -> None:
        super().__init__(f"step {step + 1}: {what} is not finite")
        self.step = step
        self.what = what


def _finite_state(model_state: dict[str, torch.Tensor]) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in model_state.values() if t.is_floating_point())


def _cpu_copy(state: Any) -> Any:
    """A deep copy of a state tree with every tensor cloned to the CPU (the live state keeps changing)."""
    if isinstance(state, torch.Tensor):
        return state.detach().to("cpu", copy=True)
    if isinstance(state, dict):
        return {k: _cpu_copy(v) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(_cpu_copy(v) for v in state)
    return copy.deepcopy(state)


class DivergenceGuard:
    """Watches one trainer's losses and gradients; rolls back and retries, or stops with a clear message."""

    def __init__(
        self, config: GuardConfig | None = None, *, verbose: bool = True, gradients_may_overflow: bool = False
    ) -> None:
        """``gradients_may_overflow``: fp16 training with a gradient scaler, which skips an overflowing step
        and lowers its scale by itself; then only losses are checked, gradients are the scaler's business."""
        self.config = config or GuardConfig()
        self.verbose = verbose
        self.check_gradients = self.config.check_gradients and not gradients_may_overflow
        self._watched: list[torch.Tensor] = []
        self._labels: list[str] = []
        self._start: tuple[int, float, dict[str, Any]] | None = None
        self.attempts = 0
        self.failed_step = -1
        self.last_target = -1
        self.lr_scale = 1.0
        self.events: list[dict[str, Any]] = []

    # --- persistence (part of every checkpoint) ------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "attempts": self.attempts,
            "failed_step": self.failed_step,
            "last_target": self.last_target,
            "lr_scale": self.lr_scale,
            "events": [dict(e) for e in self.events],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.attempts = int(state.get("attempts", 0))
        self.failed_step = int(state.get("failed_step", -1))
        self.last_target = int(state.get("last_target", -1))
        self.lr_scale = float(state.get("lr_scale", 1.0))
        self.events = [dict(e) for e in state.get("events", [])]

    def summary(self) -> dict[str, Any]:
        """What goes into ``summary.json``: nothing for a run that never diverged."""
        if not self.events:
            return {}
        return {"guard": {"rollbacks": len(self.events), "lr_scale": self.lr_scale, "events": self.events}}

    # --- the hot loop ----------------------------------------------------------------------------------
    def start(self, trainer: Trainer) -> None:
        """Called when ``fit`` begins: keep an in-memory rollback point unless a checkpoint covers it."""
        self._watched, self._labels = [], []
        on_disk = trainer.run_dir is not None and any(
            c.step == trainer.step for c in list_checkpoints(trainer.run_dir, verify_hashes=False)
        )
        self._start = None if on_disk else (trainer.step, trainer.elapsed, _cpu_copy(trainer.state()))

    def watch(
        self, phase: str, loss: torch.Tensor, optimizer: torch.optim.Optimizer, want_norm: bool = False
    ) -> torch.Tensor | None:
        """Record ``loss`` and, when checking gradients (or ``want_norm``), the gradient norm of
        ``optimizer``'s parameters, after ``backward``. Returns that norm (``None`` when not computed)."""
        self._watched.append(loss.detach().reshape(()))
        self._labels.append(f"the {phase} loss")
        if not (self.check_gradients or want_norm):
            return None
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        norm = torch.nn.utils.get_total_norm(grads) if grads else torch.zeros((), device=loss.device)
        if self.check_gradients:
            self._watched.append(norm.detach().to(loss.device))
            self._labels.append(f"the {phase} gradient")
        return norm

    def check(self, step: int) -> None:
        """End of step ``step``: raise :class:`NonFiniteStep` if anything watched is non-finite."""
        watched, labels = self._watched, self._labels
        self._watched, self._labels = [], []
        if not watched:
            return
        finite = torch.isfinite(torch.stack([w.float() for w in watched]))
        if not bool(finite.all()):
            first = int((~finite).nonzero()[0, 0])
            raise NonFiniteStep(step, labels[first])
        if step >= self.failed_step >= 0:  # got past the step that failed: a later failure starts afresh
            self.attempts, self.failed_step, self.last_target = 0, -1, -1

    # --- recovery --------------------------------------------------------------------------------------
    def _load_point(self, step: int, path: Path | None) -> tuple[int, float, dict[str, Any]] | None:
        """``(step, elapsed, state)`` of a rollback point whose weights are all finite, else ``None``. The
        in-memory start state is handed out as a copy: optimizers adopt loaded tensors without copying."""
        if path is None:
            assert self._start is not None
            return self._start[0], self._start[1], _cpu_copy(self._start[2])
        try:
            state, meta = load_checkpoint(path)
        except GanforgeError:
            return None
        if not _finite_state(state["model"]):
            return None
        return step, float(meta.get("user", {}).get("elapsed", 0.0)), state

    def _rollback_point(self, trainer: Trainer) -> tuple[int, float, dict[str, Any]] | None:
        """The newest rollback point with finite weights at or before the current step — on a repeated
        failure, strictly before the previous rollback point (the retry from it diverged again, so its
        weights were already on the way out), or the oldest one when none is older."""
        points: dict[int, Path | None] = {}
        if self._start is not None:
            points[self._start[0]] = None
        if trainer.run_dir is not None:
            points.update({c.step: c.path for c in list_checkpoints(trainer.run_dir) if c.step <= trainer.step})
        newest_first = sorted(points.items(), reverse=True)
        limit = trainer.step if self.last_target < 0 else self.last_target - 1
        preferred = [p for p in newest_first if p[0] <= limit] or newest_first[-1:]
        for step, path in preferred:
            point = self._load_point(step, path)
            if point is not None:
                return point
        return None

    def _kept_message(self, trainer: Trainer) -> str:
        good = trainer.run_dir is not None and list_checkpoints(trainer.run_dir, verify_hashes=False)
        return f"the last good checkpoint (step {good[-1].step}) is intact" if good else "no checkpoint was written"

    @staticmethod
    def _scale_learning_rates(trainer: Trainer, factor: float) -> None:
        for name, opt in trainer.optimizers.items():
            for group in opt.param_groups:
                group["lr"] *= factor
                if "initial_lr" in group:
                    group["initial_lr"] *= factor
            sched = trainer.schedulers.get(name)
            if sched is not None and hasattr(sched, "base_lrs"):
                sched.base_lrs = [lr * factor for lr in sched.base_lrs]
                sched._last_lr = [group["lr"] for group in opt.param_groups]  # what get_last_lr() reports

    def recover(self, trainer: Trainer, problem: NonFiniteStep) -> None:
        """Roll ``trainer`` back and lower its learning rates, or raise :class:`TrainingDiverged`."""
        self.failed_step = max(self.failed_step, problem.step)  # the incident lasts until training passes it
        retries = self.config.retries
        target = self._rollback_point(trainer) if self.attempts < retries else None
        if target is None:
            first = next((e for e in reversed(self.events) if e["attempt"] == 1), None) if self.attempts else None
            moved = first is not None and first["step"] != problem.step + 1
            since = f" since it first failed at step {first['step']}" if moved else ""
            tried = (
                f"; {self.attempts} rollback(s){since} with learning rates x{self.config.lr_factor} each did not help"
                if self.attempts
                else ("" if retries == 0 else "; there was no good state to roll back to")
            )
            raise TrainingDiverged(
                f"training diverged at step {problem.step + 1}: {problem.what} is not finite{tried}; "
                f"{self._kept_message(trainer)}. {_REMEDY}"
            )
        self.attempts += 1
        step, elapsed, state = target
        loaded_scale = float(state.get("guard", {}).get("lr_scale", 1.0))  # rates in `state` carry this scale
        own = self.state_dict()
        trainer.load_state(state, step, elapsed)
        self.load_state_dict(own)
        self.last_target = step
        if trainer.log is not None:
            trainer.log.truncate_after(step)
        self.lr_scale *= self.config.lr_factor
        self._scale_learning_rates(trainer, self.lr_scale / loaded_scale)
        event = {
            "step": problem.step + 1,
            "what": problem.what,
            "rolled_back_to": step,
            "attempt": self.attempts,
            "lr_scale": self.lr_scale,
        }
        self.events.append(event)
        if self.verbose:
            print(
                f"guard: {problem.what} is not finite at step {problem.step + 1}; rolled back to step {step} "
                f"with learning rates x{self.lr_scale:g} (attempt {self.attempts} of {retries})",
                file=sys.stderr,
            )
