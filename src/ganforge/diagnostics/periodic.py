"""Metrics during training (``eval.every``) and best-checkpoint selection (``eval.best``).

With ``eval.every: N > 0`` the run is evaluated — the same evaluator as ``ganforge eval`` for its kind
of data, on ``eval.n`` samples and ``eval.metrics`` — at the first logged step at or after every multiple
of N, and at the last step. Each evaluation is merged into that step's record of ``metrics.jsonl`` under
``"eval"`` (with ``eval_seconds``, the time it took; it counts towards the run's training time).

With ``eval.best: METRIC`` (``fid``, ``kid``, ``precision``, ``modes``, ``w1``... or ``min:NAME`` /
``max:NAME`` for any other number the evaluation reports) every evaluation that improves on the best so
far writes a full checkpoint to ``RUN/best/checkpoints/step-XXXXXXXX`` (replacing the previous best).
That folder is outside ``RUN/checkpoints`` so the rotation of the regular checkpoints
(``train.keep_checkpoints``) never deletes it: the best model is kept for good. It is loaded with
``ganforge.load(RUN, checkpoint=RUN / "best")`` (or ``ganforge eval RUN --best``) and recorded in
``summary.json`` under ``"best"``.

Evaluating must not change training: every random number generator it could touch (torch's global
RNG, CUDA's, numpy's, Python's) is saved before and restored after, the data stream's own generator is
never used (real samples come from ``source.real(n, seed)``), and sampling runs the generator in eval
mode, so batch-norm statistics are not updated. A run with ``eval.every`` set therefore trains exactly
the weights the same run without it trains.
"""

from __future__ import annotations

import random
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch

from ganforge.config import RunConfig
from ganforge.data.base import DataSource
from ganforge.errors import GanforgeError
from ganforge.report.readout import is_bookkeeping
from ganforge.training.callbacks import Callback, register_callbacks
from ganforge.training.checkpoint import latest_checkpoint, save_checkpoint

if TYPE_CHECKING:
    from ganforge.training.trainer import Trainer

BEST_DIR = "best"
LOWER_IS_BETTER = frozenset(
    {"fid", "fid_matched", "intra_fid", "intra_fid_matched", "kid", "kl", "w1", "ks", "mean_error", "std_error", "mmd"}
)
HIGHER_IS_BETTER = frozenset(
    {"is", "precision", "recall", "density", "coverage", "precision_matched", "recall_matched", "density_matched",
     "coverage_matched", "conditional_accuracy", "modes", "high_quality"}
)
Direction = Literal["min", "max"]


def parse_best(spec: str) -> tuple[str, Direction]:
    """``"fid"`` -> ``("fid", "min")``; ``"max:coverage"`` -> ``("coverage", "max")``."""
    text = spec.strip()
    prefix, _, rest = text.partition(":")
    if rest and prefix in ("min", "max"):
        return rest.strip(), prefix  # type: ignore[return-value]
    if text in LOWER_IS_BETTER:
        return text, "min"
    if text in HIGHER_IS_BETTER:
        return text, "max"
    raise GanforgeError(
        f"eval.best={spec!r}: not a metric ganforge knows the direction of "
        f"({', '.join(sorted(LOWER_IS_BETTER | HIGHER_IS_BETTER))}); write eval.best=min:NAME or max:NAME"
    )


class RNGGuard:
    """Context manager: save every global random state on entry, restore it on exit."""

    def __enter__(self) -> RNGGuard:
        self.torch = torch.get_rng_state()
        cuda_in_use = torch.cuda.is_available() and torch.cuda.is_initialized()
        self.cuda = torch.cuda.get_rng_state_all() if cuda_in_use else None
        self.numpy = np.random.get_state()
        self.python = random.getstate()
        return self

    def __exit__(self, *exc: object) -> None:
        torch.set_rng_state(self.torch)
        if self.cuda is not None:
            torch.cuda.set_rng_state_all(self.cuda)
        np.random.set_state(self.numpy)
        random.setstate(self.python)


def evaluate_during_training(trainer: Trainer, n: int, metrics: list[str]) -> dict[str, Any]:
    """The run's evaluator applied to the model being trained (its live data source and scaler), on its data's
    validation split where it has one (:func:`ganforge.evaluation.selection_split.training_split`)."""
    from ganforge.evaluation.selection_split import training_split
    from ganforge.evaluation.suite import evaluate_run
    from ganforge.runs import Run

    run = Run(
        path=trainer.run_dir or Path("."),
        config=trainer.config,
        gan=trainer.gan,
        data_info=trainer.source,
        step=trainer.step,
        source=trainer.source,
        heldout_split=training_split(trainer.config.data),
    )
    with RNGGuard(), torch.no_grad():
        return evaluate_run(run, n, metrics)


class PeriodicEvaluation(Callback):
    """Evaluate every ``every`` steps; keep the checkpoint best by ``best`` (see the module docstring)."""

    def __init__(self, every: int, n: int, metrics: list[str], best: str | None, run_dir: Path | None) -> None:
        if every < 1:
            raise GanforgeError(f"eval.every={every}: periodic evaluation needs a positive interval")
        self.every, self.n, self.metrics = every, n, list(metrics)
        self.run_dir = run_dir
        self.best_metric, self.direction = parse_best(best) if best else (None, "min")
        self.next_due = every
        self.evaluations = 0
        self.best_value: float | None = None
        self.best_step: int | None = None
        self.evaluation_reference: str | None = None  # the "reference" of the evaluations: what they compared against
        self._stale_check = False

    # --- state (saved in every checkpoint, so a resumed run keeps its best) ------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "next_due": self.next_due,
            "evaluations": self.evaluations,
            "best_value": self.best_value,
            "best_step": self.best_step,
            "evaluation_reference": self.evaluation_reference,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.next_due = int(state["next_due"])
        self.evaluations = int(state["evaluations"])
        self.best_value = None if state["best_value"] is None else float(state["best_value"])
        self.best_step = None if state["best_step"] is None else int(state["best_step"])
        self.evaluation_reference = state.get("evaluation_reference")  # absent from older checkpoints
        self._stale_check = True  # a resume or a divergence rollback may have left a later best behind

    # --- hooks ---------------------------------------------------------------------------------------
    def on_start(self, trainer: Trainer) -> None:
        self._drop_stale_best()

    def on_log(self, trainer: Trainer, record: dict[str, Any]) -> dict[str, Any] | None:
        step = trainer.step
        if step < self.next_due and step < trainer.config.train.steps:
            return None
        self.next_due = (step // self.every + 1) * self.every
        if not getattr(getattr(trainer, "ranks", None), "is_main", True):
            return None  # under torchrun rank 0 alone evaluates and writes; the RNG guard keeps ranks in step
        if self._stale_check:
            self._drop_stale_best()
        t0 = time.perf_counter()
        report = evaluate_during_training(trainer, self.n, self.metrics)
        report["eval_seconds"] = round(time.perf_counter() - t0, 3)
        self.evaluations += 1
        if isinstance(report.get("reference"), str):
            self.evaluation_reference = report["reference"]
        if self.best_metric is not None and self._improves(report, step):
            report["is_best"] = True
            self._save_best(trainer, step)
        return {"eval": report}

    def on_end(self, trainer: Trainer) -> dict[str, Any] | None:
        from ganforge.evaluation.selection_split import training_split

        if self.best_metric is None or self.best_step is None:
            return None
        root = self._best_root()
        info = latest_checkpoint(root) if root is not None else None
        checkpoint = str(info.path.relative_to(self.run_dir)) if info is not None and self.run_dir else None
        return {
            "best": {
                "metric": self.best_metric,
                "direction": self.direction,
                "value": self.best_value,
                "step": self.best_step,
                "checkpoint": checkpoint,
                "evaluations": self.evaluations,
                "every": self.every,
                "n": self.n,
                **({"evaluation_reference": self.evaluation_reference} if self.evaluation_reference else {}),
                **({"split": "val"} if training_split(trainer.config.data) == "val" else {}),
            }
        }

    # --- best checkpoint -------------------------------------------------------------------------------
    def _best_root(self) -> Path | None:
        return self.run_dir / BEST_DIR if self.run_dir is not None else None

    def _drop_stale_best(self) -> None:
        """Remove a best checkpoint this state does not know — one written after the step a resume (or a
        divergence rollback) restarted from: the continued run decides the best of that stretch again."""
        self._stale_check = False
        folder = self._best_root()
        if folder is None or not folder.exists():
            return
        info = latest_checkpoint(folder)
        if info is None or info.step != self.best_step:
            shutil.rmtree(folder, ignore_errors=True)

    def _improves(self, report: dict[str, Any], step: int) -> bool:
        value = report.get(self.best_metric or "")
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            numbers = [k for k, v in report.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
                       and not is_bookkeeping(k)]
            why = f" ({report['skipped']})" if "skipped" in report else ""
            raise GanforgeError(
                f"eval.best={self.best_metric}: the evaluation at step {step} reports no such number{why}; "
                f"choose one of {', '.join(numbers)}"
            )
        value = float(value)
        if value != value:  # NaN never wins
            return False
        better = (
            self.best_value is None
            or (self.direction == "min" and value < self.best_value)
            or (self.direction == "max" and value > self.best_value)
        )
        if better:
            self.best_value, self.best_step = value, step
        return better

    def _save_best(self, trainer: Trainer, step: int) -> None:
        root = self._best_root()
        if root is None:
            return
        meta = {
            "elapsed": trainer.elapsed,
            "name": trainer.config.name,
            "best": {"metric": self.best_metric, "direction": self.direction, "value": self.best_value},
        }
        save_checkpoint(root, step, trainer.state(), meta, keep=1)


@register_callbacks(order=30)
def periodic_evaluation(config: RunConfig, source: DataSource, run_dir: Path | None) -> list[Callback]:
    """A :class:`PeriodicEvaluation` when ``eval.every > 0``; ``eval.best`` without it is an error, and so is
    ``eval.best`` on data evaluated on a test split with no validation split to choose on
    (:func:`ganforge.evaluation.selection_split.best_choice_problem`)."""
    from ganforge.evaluation.selection_split import best_choice_problem

    cfg = config.eval
    problem = best_choice_problem(config.data) if cfg.best else None
    if problem:
        raise GanforgeError(f"eval.best={cfg.best}: {problem}")
    if cfg.every <= 0:
        if cfg.best:
            raise GanforgeError(
                f"eval.best={cfg.best} needs periodic evaluation to choose from; set eval.every to a number "
                "of steps, e.g. --set eval.every=500"
            )
        return []
    return [PeriodicEvaluation(cfg.every, cfg.n, cfg.metrics, cfg.best, run_dir)]
