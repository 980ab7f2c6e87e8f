"""The end-of-run evaluation: whether it runs, and what it prints while it does.

``eval.enabled``: true (always), false (never; ``--no-eval``), or unset (auto). Auto evaluates points and
numbers always (W1/KS on a few thousand samples cost well under a second) and images, sequences and the
other kinds only when this session trained for at least ``AUTO_MIN_TRAIN_SECONDS``: their metrics run
feature networks or post-hoc models (FID features, TimeGAN's GRUs, t-SNE) that cost ~10 s to minutes,
so a 5-step smoke run would otherwise evaluate far longer than it trained. ``ganforge eval RUN`` evaluates
any run later. Progress goes to stderr: what is evaluated and how long it took.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

CHEAP_KINDS = ("numbers", "points")
AUTO_MIN_TRAIN_SECONDS = 60.0


def should_evaluate(enabled: bool | None, kind: str, train_seconds: float) -> tuple[bool, str]:
    """(evaluate?, reason when not)."""
    if enabled is False:
        return False, "eval.enabled is false (--no-eval)"
    if enabled is True or kind in CHEAP_KINDS or train_seconds >= AUTO_MIN_TRAIN_SECONDS:
        return True, ""
    return False, (
        f"the run trained {train_seconds:.0f} s, less than its {kind} evaluation would take; "
        "`ganforge eval RUN` evaluates it, --set eval.enabled=true always does"
    )


def run_end_evaluation(
    evaluate: Callable[[], dict[str, Any]],
    enabled: bool | None,
    kind: str,
    train_seconds: float,
    n: int,
    verbose: bool,
) -> dict[str, Any]:
    """``evaluate()`` if due, with a start line and a finish line on stderr; else ``{"skipped": reason}``."""
    due, reason = should_evaluate(enabled, kind, train_seconds)
    if not due:
        if verbose:
            print(f"evaluation skipped: {reason}", file=sys.stderr, flush=True)
        return {"skipped": reason}
    if verbose:
        print(f"evaluating {n} samples ({kind} metrics)...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    result = evaluate()
    if verbose:
        print(f"evaluated in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    return result
