"""The end-of-run evaluation: whether it runs, and what it prints while it does.

``eval.enabled``: true (always), false (never; ``--no-eval``), or unset (auto). Auto evaluates points and
numbers always (W1/KS on a few thousand samples cost well under a second) and the other kinds only when this
session trained at least as long as their evaluation is expected to take, so a 5-step smoke run does not
evaluate for minutes. Expected cost (one core): images ~6 ms per generated sample with every metric (feature
network, real-data floors, KID and PRDC; 11.4 s measured for the default job's 2000 samples), ~3.5 ms when
``eval.metrics`` leaves out KID and PRDC (89 CPU-s for stacked digits' modes, FID and IS on 26 000 samples)
and ~1.2 ms for classifier-only metrics (modes/KL, conditional accuracy: 30 CPU-s for 26 000), sequences 120 s
(post-hoc GRUs and t-SNE), tables 10 s (measured 4 s for breast_cancer's 569 rows and 7 s for SDGym's grid
of 10,000, one thread: the 30 s guessed before skipped the evaluation of every default table run), paired and
unpaired translation 5 s (measured 2-3 CPU-s for edges2digits, labels2scenes, edges2photos, gray2color and
digits-cyclegan beyond the command's start-up; the 30 s guessed before skipped it after runs of half a minute),
other kinds 30 s. ``ganforge eval RUN`` evaluates any run later. Progress goes to stderr: what is evaluated, a
"still evaluating" line every 30 s, and how long it took; why an evaluation was skipped or failed (also kept in
``summary.json``'s ``evaluation``, which ``ganforge train`` and ``resume`` then point to instead of repeating it).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from ganforge.errors import GanforgeError

CHEAP_KINDS = ("numbers", "points")
IMAGE_SECONDS_PER_SAMPLE = 0.006
# images, per sample, when eval.metrics names only some metrics (measured, see the module docstring)
PAIRWISE_IMAGE_METRICS = {"kid", "precision", "recall", "density", "coverage"}  # n x n distances
CLASSIFIER_IMAGE_METRICS = {"modes", "kl", "conditional_accuracy"}
IMAGE_SECONDS_WITHOUT_PAIRWISE = 0.0035
IMAGE_SECONDS_CLASSIFIER_ONLY = 0.0012
FIXED_SECONDS = {"sequences": 120.0, "table": 10.0, "paired-images": 5.0, "unpaired-images": 5.0}
OTHER_SECONDS = 30.0
HEARTBEAT_SECONDS = 30.0


def expected_seconds(kind: str, n: int, metrics: Sequence[str] = ()) -> float:
    """Rough cost of the end-of-run evaluation on one core (see the module docstring); ``metrics`` as in
    ``eval.metrics`` (empty: every metric of the kind)."""
    if kind in CHEAP_KINDS:
        return 0.0
    if kind == "images":
        named = set(metrics)
        if named and named <= CLASSIFIER_IMAGE_METRICS:
            return IMAGE_SECONDS_CLASSIFIER_ONLY * n
        if named and not named & PAIRWISE_IMAGE_METRICS:
            return IMAGE_SECONDS_WITHOUT_PAIRWISE * n
        return IMAGE_SECONDS_PER_SAMPLE * n
    return FIXED_SECONDS.get(kind, OTHER_SECONDS)


def should_evaluate(
    enabled: bool | None, kind: str, train_seconds: float, n: int = 2000, metrics: Sequence[str] = (),
    run_path: str = "RUN",
) -> tuple[bool, str]:
    """(evaluate?, reason when not; its ``ganforge eval`` command names ``run_path``)."""
    if enabled is False:
        return False, "eval.enabled is false (--no-eval)"
    cost = expected_seconds(kind, n, metrics)
    if enabled is True or train_seconds >= cost:
        return True, ""
    return False, (
        f"the run trained {train_seconds:.0f} s, less than its {kind} evaluation would take (~{cost:.0f} s); "
        f"`ganforge eval {run_path}` evaluates it; eval.enabled=true (ganforge train --set) always does"
    )


def run_end_evaluation(
    evaluate: Callable[[], dict[str, Any]],
    enabled: bool | None,
    kind: str,
    train_seconds: float,
    n: int,
    verbose: bool,
    metrics: Sequence[str] = (),
    run_path: str = "RUN",
) -> dict[str, Any]:
    """``evaluate()`` if due, with a start line and a finish line on stderr; else ``{"skipped": reason}``, the
    reason printed on stderr too (a Python caller sees no summary block), its ``ganforge eval`` command naming
    ``run_path``. ``n``: ``eval.n``, which the cost is
    estimated from and the start line states as "up to": evaluators draw fewer where the data caps them (a file
    of 3,000 rows is scored at the floor's 1,500; the table printed after says how many). An evaluation that
    fails with a one-line error (a folder of 5 pictures has no noise floor) is recorded as skipped with that
    reason: the training it follows is saved, and its summary must be written too."""
    due, reason = should_evaluate(enabled, kind, train_seconds, n, metrics, run_path)
    if not due:
        if verbose:
            print(f"evaluation skipped: {reason}", file=sys.stderr, flush=True)
        return {"skipped": reason}
    if verbose:
        print(f"evaluating up to {n} samples ({kind} metrics)...", file=sys.stderr, flush=True)
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
    except GanforgeError as exc:  # the run trained and is saved: its summary is written, the failure recorded
        reason = (f"evaluation failed: {exc} (the run is saved; `ganforge eval {run_path}` evaluates it once that "
                  "is fixed)")
        if verbose:
            print(reason, file=sys.stderr, flush=True)
        return {"skipped": reason}
    finally:
        done.set()
    if verbose:
        print(f"evaluated in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    return result
