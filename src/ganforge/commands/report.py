"""``ganforge report RUN``: write ``RUN/report.html``, one self-contained page that opens offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ganforge.cli import register_command


@register_command()
def report(
    run: Annotated[Path, typer.Argument(help="run folder")],
) -> None:
    """Write RUN/report.html: config, numbers beside their real-data floors, diagnosis timeline, pictures."""
    from ganforge.report.html import write_report
    from ganforge.runs import check_run_dir, load
    from ganforge.training.run_lock import hold_run_lock, release_run_lock

    path = check_run_dir(run)
    hold_run_lock(path, "rewrite its report.html")  # a train or resume writes it too when it ends
    try:
        loaded = None
        try:
            loaded = load(path)
        except Exception as err:  # noqa: BLE001 - a run without a checkpoint still has a report
            print(f"note: the model was not loaded ({str(err).splitlines()[0][:160]}); the report shows the files "
                  "only")
        out = write_report(path, loaded)
    finally:
        release_run_lock(path)
    print(f"wrote {out}")
