"""Writing synthetic tables: the input's columns, order and value types, atomically renamed into place."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ganforge.errors import GanforgeError
from ganforge.runs import Run


def write_table(run: Run, n: int, out: str | Path, where: str | None = None, **options: Any) -> Path:
    """``n`` synthetic rows of a table run into ``out`` (.csv), conditioned on ``where`` ("col=value")."""
    out = Path(out)
    if options:
        raise GanforgeError(f"option {next(iter(options))!r} does not apply to tables; use --rows and --where")
    if out.suffix.lower() != ".csv":
        raise GanforgeError(f"{out}: tables are written as .csv; name the output file NAME.csv")
    if n <= 0:
        raise GanforgeError(f"--rows must be a positive number of rows, got {n}")
    if not out.parent.exists():
        raise GanforgeError(f"output folder '{out.parent}' does not exist; create it first")
    frame = run.sample(rows=n, where=where)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        frame.to_csv(tmp, index=False)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out
