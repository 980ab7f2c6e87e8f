"""The live progress line: step, losses, D(x), D(G(z)), speed and ETA.

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


def format_stats(record: dict[str, Any]) -> str:
    parts = [
        f"{label} {record[key]:.3f}" for key, label in SHOWN if isinstance(record.get(key), (int, float))
    ]
    findings = record.get(FINDINGS)
    if findings:
        parts.append("[!] " + "; ".join(f["kind"] for f in findings))
    return "  ".join(parts)


class ProgressDisplay:
    """``update`` after each logged step; ``close`` at the end."""

    def __init__(self, total: int, start: int, enabled: bool = True, name: str = "train") -> None:
        self.total, self.start, self.enabled, self.name = total, start, enabled, name
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
        stats = format_stats(record)
        if self._bar is not None:
            self._bar.update(self._task, completed=step, stats=stats, speed=f"{rate:.0f} it/s")
        elif step >= self.next_print or step == self.total:
            eta = (self.total - step) / rate if rate > 0 else float("nan")
            print(
                f"{self.name} {step}/{self.total}  {stats}  {rate:.0f} it/s  eta {eta:.0f}s",
                file=sys.stderr,
                flush=True,
            )
            self.next_print = step + max(1, self.total // 10)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
