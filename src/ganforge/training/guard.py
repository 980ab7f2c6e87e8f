"""The divergence guard: a non-finite loss or gradient never goes unnoticed, never reaches a checkpoint.

Each phase of a training step hands its loss and optimizer to :meth:`DivergenceGuard.watch` after
``backward``. With ``train.guard.check_gradients`` the guard runs one fused multi-tensor kernel over
that phase's gradients g_i, while they are still in cache, which sets a flag kept on their device when
any element is non-finite,

    found <- 1   if  exists i, j: g_ij is NaN or +-inf

(``torch._amp_foreach_non_finite_check_and_unscale_``, the check PyTorch's gradient scaler runs, with a
scale of exactly 1: every gradient keeps its bits). The flag is not read there: at the end of the step
:meth:`DivergenceGuard.check` reads it together with the losses, the step's only device sync (losses
on an accelerator go through the same kernel first; on the CPU, where there is no device to wait for,
each loss is read as a number when it is watched). Anything non-finite raises :class:`NonFiniteStep`,
naming the first non-finite loss or gradient in the order the phases ran, before anything from that
step is logged or checkpointed; the flag then goes back to 0 (it stays 0 as long as training is
healthy, so no step spends an operation resetting it).

Why a flag and not the gradient norm: the per-step cost is a handful of tensor operations whatever the
number of parameters, and small operations, not arithmetic, are what a training step's overhead is
made of. The L2 norm ||g||_2 = sqrt(sum_i ||g_i||_2^2), a reduction per tensor, is computed only when
the trainer logs it (``want_norm``, every ``train.log_every`` steps). To name a failure exactly the
guard holds a reference to each phase's gradients until the check; that costs nothing for a phase that
runs once per step, and one repeated k times (a WGAN critic) keeps k - 1 more sets alive until the step
ends.

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

Finite blow-ups (:meth:`DivergenceGuard.check_finite_blowup`, :meth:`DivergenceGuard.check_losses`): a
run can also diverge without a single NaN — weights and losses of 1e30 are finite. Judged against the
run's own history, never an absolute scale:

* before every checkpoint, each phase's weight norm ||w||_2 is compared with its norm at step 0,
  n_0: the run stops when ||w||_2 > ``max_weight_growth`` * max(n_0, 1) (default 1000: Adam moves
  each weight by at most about lr per step, so healthy runs stay orders of magnitude below);
* before every checkpoint, every optimizer state tensor (Adam's moments...) must be finite: an inf
  second moment freezes its weights forever while every loss still looks finite;
* on logging steps, each logged loss L is compared with its scale in the first ``BASELINE_RECORDS``
  logged steps, s = max(1, max |L|): the run stops when |L| > ``max_loss_growth`` * s (default 1e6).

A finite blow-up is found *before* the checkpoint of its step is written, so the newest checkpoint stays
a good one, and is handled like a non-finite step: rollback with lower learning rates, and after
``retries`` attempts :class:`TrainingDiverged` (one line, exit code 2) naming what blew up. The baselines
are part of the guard's state, hence of every checkpoint.

Attempts count per incident: once training completes the step that failed, the count starts again.
The guard's record (attempts, learning-rate scale, events) is part of every checkpoint, so a run killed
during a retry resumes into the same retry.
"""

from __future__ import annotations

import copy
import math
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

    def __init__(self, step: int, what: str, problem: str = "is not finite", settles_at: int | None = None) -> None:
        super().__init__(f"step {step + 1}: {what} {problem}")
        self.step = step
        self.what = what
        self.problem = problem
        # the 0-based step whose clean check ends the incident: for a blow-up found after step s ran (before
        # its checkpoint), s + 1 — passing s's own NaN check again does not show the blow-up is gone
        self.settles_at = step if settles_at is None else settles_at


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


BASELINE_RECORDS = 5  # logged steps that set each loss's scale


def weight_norms(params: dict[str, list[torch.Tensor]]) -> dict[str, float]:
    """||w||_2 of each phase's parameters (one fused norm per phase; inf if it overflows float32)."""
    out = {}
    for name, tensors in params.items():
        floats = [p.detach() for p in tensors if p.is_floating_point()]
        if floats:
            norms = torch._foreach_norm(floats)
            out[name] = float(torch.linalg.vector_norm(torch.stack([n.float() for n in norms])))
    return out


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
        # this step, in watch order: (phase, loss as a number on the CPU or a detached tensor, gradients)
        self._watched: list[tuple[str, float | torch.Tensor, list[torch.Tensor]]] = []
        self._found: dict[torch.device, torch.Tensor] = {}  # per device: 1.0 once something was non-finite
        self._one: dict[torch.device, torch.Tensor] = {}  # the scale 1 the fused check multiplies by
        self._start: tuple[int, float, dict[str, Any]] | None = None
        self.attempts = 0
        self.failed_step = -1
        self.last_target = -1
        self.lr_scale = 1.0
        self.events: list[dict[str, Any]] = []
        self.weight_norm0: dict[str, float] = {}  # each phase's weight norm at step 0
        self.loss_scale: dict[str, float] = {}  # each logged loss's scale in the first logged steps
        self.loss_records = 0

    # --- persistence (part of every checkpoint) ------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "attempts": self.attempts,
            "failed_step": self.failed_step,
            "last_target": self.last_target,
            "lr_scale": self.lr_scale,
            "events": [dict(e) for e in self.events],
            "weight_norm0": dict(self.weight_norm0),
            "loss_scale": dict(self.loss_scale),
            "loss_records": self.loss_records,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.attempts = int(state.get("attempts", 0))
        self.failed_step = int(state.get("failed_step", -1))
        self.last_target = int(state.get("last_target", -1))
        self.lr_scale = float(state.get("lr_scale", 1.0))
        self.events = [dict(e) for e in state.get("events", [])]
        self.weight_norm0 = {str(k): float(v) for k, v in state.get("weight_norm0", {}).items()}
        self.loss_scale = {str(k): float(v) for k, v in state.get("loss_scale", {}).items()}
        self.loss_records = int(state.get("loss_records", 0))

    def summary(self) -> dict[str, Any]:
        """What goes into ``summary.json``: nothing for a run that never diverged."""
        if not self.events:
            return {}
        return {"guard": {"rollbacks": len(self.events), "lr_scale": self.lr_scale, "events": self.events}}

    # --- the hot loop ----------------------------------------------------------------------------------
    def start(self, trainer: Trainer) -> None:
        """Called when ``fit`` begins: keep an in-memory rollback point unless a checkpoint covers it."""
        self._watched = []
        for found in self._found.values():  # a step cut short by an exception may have set it
            found.zero_()
        on_disk = trainer.run_dir is not None and any(
            c.step == trainer.step for c in list_checkpoints(trainer.run_dir, verify_hashes=False)
        )
        self._start = None if on_disk else (trainer.step, trainer.elapsed, _cpu_copy(trainer.state()))
        if not self.weight_norm0:  # a fresh run (or a checkpoint from before the baselines existed)
            self.weight_norm0 = weight_norms(trainer._params)

    # --- finite blow-ups ---------------------------------------------------------------------------------
    def loss_blowup(self, trainer: Trainer, record: dict[str, Any]) -> NonFiniteStep | None:
        """On a logging step (after step ``trainer.step`` ran): a loss that outgrew its early scale, or None."""
        losses = {k: abs(v) for k, v in record.items() if k.startswith("loss") and isinstance(v, float)}
        if self.loss_records < BASELINE_RECORDS:
            self.loss_records += 1
            for key, size in losses.items():
                self.loss_scale[key] = max(self.loss_scale.get(key, 1.0), size)
            return None
        limit = self.config.max_loss_growth
        for key, size in losses.items():
            scale = self.loss_scale.get(key, 1.0)
            if size > limit * scale:
                return NonFiniteStep(
                    trainer.step - 1, key, f"is {size:.3g}, over {limit:g} times its size in the first logged "
                    f"steps ({scale:.3g}; train.guard.max_loss_growth)", settles_at=trainer.step,
                )
        return None

    def state_blowup(self, trainer: Trainer) -> NonFiniteStep | None:
        """Before a checkpoint: a phase's weight norm beyond ``max_weight_growth`` times step 0's, or
        non-finite optimizer state; else None."""
        limit = self.config.max_weight_growth
        for name, norm in weight_norms(trainer._params).items():
            base = max(self.weight_norm0.get(name, 1.0), 1.0)
            if not norm <= limit * base:
                return NonFiniteStep(
                    trainer.step - 1, f"the {name} weights", f"have norm {norm:.3g}, over {limit:g} times their "
                    f"norm at step 0 ({base:.3g}; train.guard.max_weight_growth)", settles_at=trainer.step,
                )
        for name, opt in trainer.optimizers.items():
            for per_param in opt.state.values():
                for key, value in per_param.items():
                    if isinstance(value, torch.Tensor) and value.is_floating_point() and not bool(
                        torch.isfinite(value).all()
                    ):
                        return NonFiniteStep(
                            trainer.step - 1, f"the {name} optimizer's state '{key}'", "holds non-finite values",
                            settles_at=trainer.step,
                        )
        return None

    def watch(
        self, phase: str, loss: torch.Tensor, optimizer: torch.optim.Optimizer, want_norm: bool = False
    ) -> torch.Tensor | None:
        """Record ``loss`` and, when checking gradients, flag non-finite gradients of ``optimizer``'s
        parameters (after ``backward``). Returns the total gradient norm when ``want_norm`` (the trainer
        asks on logging steps), else ``None``."""
        value = loss.item() if loss.device.type == "cpu" else loss.detach().reshape(1)
        if not (self.check_gradients or want_norm):
            self._watched.append((phase, value, []))
            return None
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        if any(g.is_sparse for g in grads):
            grads = [g.coalesce()._values() if g.is_sparse else g for g in grads]
        if self.check_gradients and grads:
            self._flag_nonfinite(grads)
        self._watched.append((phase, value, grads if self.check_gradients else []))
        if not want_norm:
            return None
        return torch.nn.utils.get_total_norm(grads) if grads else torch.zeros((), device=loss.device)

    def _flag_nonfinite(self, tensors: list[torch.Tensor]) -> None:
        """Set the flag of the tensors' device if any of their elements is non-finite: one fused kernel per
        device, no sync; its multiplication by exactly 1 leaves every value as it was."""
        first = tensors[0].device
        if all(t.device == first for t in tensors):
            groups = {first: tensors}
        else:
            groups = {}
            for t in tensors:
                groups.setdefault(t.device, []).append(t)
        for where, group in groups.items():
            if where not in self._found:
                self._found[where] = torch.zeros(1, device=where)
                self._one[where] = torch.ones(1, device=where)
            torch._amp_foreach_non_finite_check_and_unscale_(group, self._found[where], self._one[where])

    def check(self, step: int) -> None:
        """End of step ``step``: raise :class:`NonFiniteStep` if anything watched is non-finite."""
        watched, self._watched = self._watched, []
        if not watched:
            return
        on_device = [value for _, value, _ in watched if isinstance(value, torch.Tensor)]
        if on_device:  # a fresh tensor: the kernel writes its input
            self._flag_nonfinite([torch.cat(on_device) if len(on_device) > 1 else on_device[0].clone()])
        bad = any(not math.isfinite(value) for _, value, _ in watched if isinstance(value, float))
        if not bad:
            bad = any(found.item() != 0 for found in self._found.values())  # the step's one sync
        if bad:
            for found in self._found.values():
                found.zero_()
            raise NonFiniteStep(step, self._first_bad(watched))
        if step >= self.failed_step >= 0:  # got past the step that failed: a later failure starts afresh
            self.attempts, self.failed_step, self.last_target = 0, -1, -1

    @staticmethod
    def _first_bad(watched: list[tuple[str, float | torch.Tensor, list[torch.Tensor]]]) -> str:
        """The first non-finite value in the order the phases were watched (run on a failure only)."""
        for phase, value, grads in watched:
            if not (math.isfinite(value) if isinstance(value, float) else bool(torch.isfinite(value).all())):
                return f"the {phase} loss"
            if not all(bool(torch.isfinite(g).all()) for g in grads):
                return f"the {phase} gradient"
        raise AssertionError("the guard's flag is set but no watched value is non-finite")

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
        self.failed_step = max(self.failed_step, problem.settles_at)  # the incident lasts until training passes it
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
                f"training diverged at step {problem.step + 1}: {problem.what} {problem.problem}{tried}; "
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
                f"guard: {problem.what} {problem.problem} at step {problem.step + 1}; rolled back to step {step} "
                f"with learning rates x{self.lr_scale:g} (attempt {self.attempts} of {retries})",
                file=sys.stderr,
            )
