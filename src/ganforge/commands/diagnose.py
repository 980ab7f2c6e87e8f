"""``ganforge diagnose RUN``: the timeline of a run's diagnostic findings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ganforge.cli import app


@app.command()
def diagnose(run: Annotated[Path, typer.Argument(help="run folder")]) -> None:
    """The timeline of diagnostic findings of a run, with explanations and remedies."""
    from ganforge.runs import check_run_dir
    from ganforge.training.metrics_log import read

    path = check_run_dir(run)
    records = read(path / "metrics.jsonl")
    findings = [f for r in records for f in r.get("findings", [])]
    last = records[-1]["step"] if records else 0
    print(f"{path}: {len(records)} logged steps up to step {last}, {len(findings)} finding(s)")
    for f in findings:
        print(f"  step {f['step']:>7}  {f['kind']}: {f['message']}\n{'':>16}remedy: {f['remedy']}")
    if not findings:
        print("  no problems detected: no vanishing gradients, mode collapse or non-finite values")
