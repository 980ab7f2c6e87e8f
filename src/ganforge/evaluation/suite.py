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


FLOOR_SEED = 2025  # the second real sample of the real-vs-real floor (the first is the reference, 2024)


@register_evaluator("numbers", "points")
def evaluate_lowdim(run: Run, n: int, metrics: list[str]) -> dict[str, Any]:
    """W1, KS, moment errors vs ``n`` held-out real samples; modes / %HQ / KL for mixtures; and each
    metric's **real floor** ``<metric>_real``: the same metric between two real samples of the same size.

    A finite data set gives the floor from two disjoint halves of its shuffled rows (both of
    ``floor_n = min(n, N // 2)`` rows), an infinite one from two fresh draws of ``n``, so a generated
    value near its floor means "as close as two real samples are to each other".
    """
    from ganforge.data.base import ArraySource
    from ganforge.evaluation.lowdim import lowdim_report

    source = run.real_data()
    mixture = run.data_info.mixture
    means, std = (mixture.means, mixture.std) if mixture else (None, None)
    pool = source.real(2 * n, seed=FLOOR_SEED).x
    floor_n = min(n, len(pool) // 2)
    floor = lowdim_report(pool[:floor_n], pool[floor_n : 2 * floor_n], means, std) if floor_n >= 2 else {}
    if isinstance(source, ArraySource):  # a user's rows: no fresh samples to draw, and the run trained on them
        n = min(n, floor_n) if floor_n >= 2 else n  # generated vs real at the floor's sample size: they read alike
        real = pool[:n]
        reference = f"{n} of the rows the run trained on (data given as rows has no held-out samples)"
    else:
        real, reference = source.real(n, seed=2024).x, "fresh held-out real samples (seed 2024)"
    fake = run.sample(n)
    report = lowdim_report(real, fake, means, std)
    if metrics:
        unknown = [m for m in metrics if m not in report]
        if unknown:
            raise GanforgeError(
                f"metric '{unknown[0]}' does not apply to {run.data_info.kind} data; "
                f"available: {', '.join(report)}"
            )
        report = {k: v for k, v in report.items() if k in metrics}
    return {
        "n_fake": n,
        "n_real": int(real.shape[0]),
        "reference": reference,
        **report,
        **{f"{k}_real": floor[k] for k in report if k in floor},
        "floor_n": floor_n,
        "floor": f"real vs real: two disjoint real samples of {floor_n} (seed {FLOOR_SEED})",
    }
