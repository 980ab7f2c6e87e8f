"""``evaluate_run``: the metrics that fit a run's kind of data, with what they were computed on.

Each data kind registers an evaluator ``fn(run, n, metrics) -> dict`` with ``@register_evaluator(kind)``
in any module of ``ganforge.evaluation`` (found by the ``EVALUATORS`` registry's scan, which is how
``Run.evaluate`` reaches them without importing this layer); low-dimensional data (numbers, points) is
handled here, images and sequences by their own modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ganforge.errors import GanforgeError
from ganforge.runs import EVALUATORS, evaluate_run

if TYPE_CHECKING:
    from ganforge.runs import Run

__all__ = ["EVALUATORS", "evaluate_lowdim", "evaluate_run", "register_evaluator"]

Evaluator = Callable[["Run", int, list[str]], dict[str, Any]]


def register_evaluator(*kinds: str) -> Callable[[Evaluator], Evaluator]:
    """Decorator: ``fn(run, n, metrics) -> dict`` evaluates runs on data of each of ``kinds``."""
    return EVALUATORS.register(*kinds)


@register_evaluator("numbers", "points")
def evaluate_lowdim(run: Run, n: int, metrics: list[str]) -> dict[str, Any]:
    """W1, KS, moment errors vs ``n`` held-out real samples; modes / %HQ / KL for mixtures."""
    from ganforge.evaluation.lowdim import lowdim_report

    real = run.real_data().real(n, seed=2024).x
    fake = run.sample(n)
    mixture = run.data.mixture
    report = lowdim_report(real, fake, mixture.means if mixture else None, mixture.std if mixture else None)
    if metrics:
        unknown = [m for m in metrics if m not in report]
        if unknown:
            raise GanforgeError(
                f"metric '{unknown[0]}' does not apply to {run.data.kind} data; "
                f"available: {', '.join(report)}"
            )
        report = {k: v for k, v in report.items() if k in metrics}
    return {
        "n_fake": n,
        "n_real": int(real.shape[0]),
        "reference": "fresh held-out real samples (seed 2024)",
        **report,
    }
