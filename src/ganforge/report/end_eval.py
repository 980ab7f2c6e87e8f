"""The end-of-run evaluation: whether it runs, and what it prints while it does.

``eval.enabled``: true (always), false (never; ``--no-eval``), or unset (auto). Auto evaluates points and
numbers always (W1/KS on a few thousand samples cost well under a second) and the other kinds only when
this session trained at least as long as their evaluation is expected to take, so a 5-step smoke run does
not evaluate for minutes. Expected cost (one core): images ~6 ms per generated sample (feature network,
real-data floors; 11.4 s measured for the default job's 2000 samples), sequences 120 s (post-hoc GRUs and
t-SNE), other kinds 30 s. ``ganforge eval RUN`` evaluates any run later. Progress goes to stderr: what is
evaluated, a "still evaluating" line every 30 s, and how long it took.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

CHEAP_KINDS = ("numbers", "points")
IMAGE_SECONDS_PER_SAMPLE = 0.006
FIXED_SECONDS = {"sequences": 120.0}
OTHER_SECONDS = 30.0
HEARTBEAT_SECONDS = 30.0


def expected_seconds(kind: str, n: int) -> float:
    """Rough cost of the end-of-run evaluation on one core (see the module docstring)."""
    if kind in CHEAP_KINDS:
        return 0.0
    if kind == "images":
        return IMAGE_SECONDS_PER_SAMPLE * n
    return FIXED_SECONDS.get(kind, OTHER_SECONDS)


def should_evaluate(enabled: bool | None, kind: str, train_seconds: float, n: int = 2000) -> tuple[bool, str]:
    """(evaluate?, reason when not)."""
    if enabled is False:
        return False, "eval.enabled is false (--no-eval)"
    cost = expected_seconds(kind, n)
    if enabled is True or train_seconds >= cost:
        return True, ""
    return False, (
        f"the run trained {train_seconds:.0f} s, less than its {kind} evaluation would take (~{cost:.0f} s); "
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
    due, reason = should_evaluate(enabled, kind, train_seconds, n)
    if not due:
        if verbose:
            print(f"evaluation skipped: {reason}", file=sys.stderr, flush=True)
        return {"skipped": reason}
    if verbose:
        print(f"evaluating {n} samples ({kind} metrics)...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    done = threading.Event()

    def heartbeat() -> None:  # a long evaluation (sequences: post-hoc GRUs, t-SNE) still says it is alive
        while not done.wait(HEARTBEAT_SECONDS):
            print(f"  still evaluating ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)

    ticker = threading.Thread(target=heartbeat, daemon=True) if verbose else None
    if ticker is not None:
        ticker.start()
    try:
        result = evaluate()
    finally:
        done.set()
    if verbose:
        print(f"evaluated in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    return result
