"""``ganforge export RUN -o generator.onnx|generator.pt2``: the trained generator for other software."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ganforge.cli import register_command


@register_command()
def export(
    run: Annotated[Path, typer.Argument(help="run folder")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="generator.onnx (ONNX) or generator.pt2 (torch.export)")
    ] = Path("generator.onnx"),
) -> None:
    """Export the sampling generator (z[, label] -> samples in data units) and check it against PyTorch."""
    from ganforge.apps.export import export_format, export_run

    export_format(output)  # a wrong suffix fails before the model is loaded
    result = export_run(run, output)
    print(result.describe())
