"""``ganforge upscale RUN in.png -o out.png``: enlarge a picture of any size with a trained SRGAN run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ganforge.cli import register_command


@register_command()
def upscale(
    run: Annotated[Path, typer.Argument(help="run folder of a super-resolution model (srgan)")],
    source: Annotated[Path, typer.Argument(help="input picture (PNG, JPEG, ...)")],
    output: Annotated[
        str,
        typer.Option(
            "-o", "--output", metavar="FILE", help="output picture; its suffix picks the format (.png, .jpg, ...)"
        ),
    ] = "upscaled.png",
    tile: Annotated[int, typer.Option("--tile", help="tile side in input pixels (0: whole picture at once)")] = 64,
) -> None:
    """Upscale a picture x2 or x4 (the run's scale), tile by tile: the generator's working memory stays
    bounded, while the input and output pictures are held whole (about 1 GB for a 4000x4000 result)."""
    from ganforge.apps.upscale import upscale_file
    from ganforge.errors import GanforgeError

    if tile < 0:
        raise GanforgeError(f"--tile {tile}: give a positive tile size, or 0 for no tiling")
    path = upscale_file(run, source, output, tile=tile or None)
    print(f"wrote {path}")
