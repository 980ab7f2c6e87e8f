"""The live progress line: step, losses, D(x), D(G(z)), speed and ETA.

D(x) and D(G(z)) are probabilities only for objectives that have them (vanilla / non-saturating / LSGAN
read as such); hinge and Wasserstein critics output unbounded raw scores, shown as ``score(x)`` and
``score(G(z))`` so nobody reads 3.2 as a probability. Slow runs show seconds per step (``12.5 s/it``)
instead of rounding their speed to ``0 it/s``.

On a terminal it is a single line redrawn in place (rich); in a log (CI, a pipe) it prints a plain line
about ten times per run, so logs stay short.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ganforge.log_keys import D_FAKE, D_REAL, FINDINGS, LOSS_D, LOSS_G

SHOWN = ((LOSS_D, "loss_D"), (LOSS_G, "loss_G"), (D_REAL, "D(x)"), (D_FAKE, "D(G(z))"))
RAW_SCORE_LABELS = {D_REAL: "score(x)", D_FAKE: "score(G(z))"}


def format_stats(record: dict[str, Any], probability: bool = True) -> str:
    """Losses and D's outputs of a logged record; ``probability=False`` labels D's outputs as raw scores."""
    labels = [(key, label if probability else RAW_SCORE_LABELS.get(key, label)) for key, label in SHOWN]
    parts = [
        f"{label} {record[key]:.3f}" for key, label in labels if isinstance(record.get(key), (int, float))
    ]
    findings = record.get(FINDINGS)
    if findings:
        parts.append("[!] " + "; ".join(f["kind"] for f in findings))
    return "  ".join(parts)


def format_speed(rate: float) -> str:
    """Steps per second, or seconds per step when under one step a second (never ``0 it/s``)."""
    if rate <= 0:
        return "- it/s"
    if rate >= 10:
        return f"{rate:.0f} it/s"
    if rate >= 1:
        return f"{rate:.1f} it/s"
    return f"{1 / rate:.3g} s/it"


class ProgressDisplay:
    """``update`` after each logged step; ``close`` at the end."""

    def __init__(
        self, total: int, start: int, enabled: bool = True, name: str = "train", probability: bool = True
    ) -> None:
        self.total, self.start, self.enabled, self.name = total, start, enabled, name
        self.probability = probability  # False: D's outputs are raw scores (hinge, Wasserstein)
        self.interactive = enabled and sys.stderr.isatty()
        self.t0 = time.perf_counter()
        self.next_print = start
        self._bar: Progress | None = None
        if self.interactive:
            self._bar = Progress(
                TextColumn(f"[bold]{name}[/]"),
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                TextColumn("{task.fields[stats]}"),
                TextColumn("[dim]{task.fields[speed]}"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._task = self._bar.add_task(name, total=total, completed=start, stats="", speed="")
            self._bar.start()

    def update(self, step: int, record: dict[str, Any]) -> None:
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.t0
        rate = (step - self.start) / elapsed if elapsed > 0 else 0.0
        stats = format_stats(record, self.probability)
        if self._bar is not None:
            self._bar.update(self._task, completed=step, stats=stats, speed=format_speed(rate))
        elif step >= self.next_print or step == self.total:
            eta = (self.total - step) / rate if rate > 0 else float("nan")
            print(
                f"{self.name} {step}/{self.total}  {stats}  {format_speed(rate)}  eta {eta:.0f}s",
                file=sys.stderr,
                flush=True,
            )
            self.next_print = step + max(1, self.total // 10)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
