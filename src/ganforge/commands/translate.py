"""``ganforge translate RUN in_dir -o out_dir --direction a2b``: translate a folder with a CycleGAN run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ganforge.cli import register_command


@register_command()
def translate(
    run: Annotated[Path, typer.Argument(help="run folder of a translation model (cyclegan)")],
    in_dir: Annotated[Path, typer.Argument(help="folder of pictures of the source domain")],
    out_dir: Annotated[Path, typer.Option("-o", "--output", help="folder for the translated PNGs")] = Path(
        "translated"
    ),
    direction: Annotated[str, typer.Option("--direction", help="a2b or b2a")] = "a2b",
    size: Annotated[Optional[int], typer.Option("--size", help="picture side (default: the training size)")] = None,  # noqa: UP045
) -> None:
    """Translate every picture of a folder from domain A to B (a2b) or back (b2a)."""
    from ganforge.apps.translate import translate_folder

    written = translate_folder(run, in_dir, out_dir, direction, size)
    print(f"wrote {len(written)} pictures to {out_dir}")
