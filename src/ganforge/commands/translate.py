"""``ganforge translate RUN IN -o OUT --direction a2b``: translate a picture or a folder with a CycleGAN or
Pix2Pix run (a file in, a PNG out; a folder in, a folder of PNGs out, its sub-folders mirrored)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ganforge.cli import SIZE_RANGE, register_command


@register_command()
def translate(
    run: Annotated[Path, typer.Argument(help="run folder of a translation model (cyclegan or pix2pix)")],
    in_dir: Annotated[Path, typer.Argument(
        help="a picture, or a folder of pictures of the source domain (its sub-folders too, mirrored in the output)")],
    out_dir: Annotated[
        str,
        typer.Option(
            "-o", "--output", metavar="PATH", help="folder for the translated PNGs (one picture: a file name works too)"
        ),
    ] = "translated",
    direction: Annotated[str, typer.Option("--direction", help="a2b or b2a")] = "a2b",
    size: Annotated[Optional[int], typer.Option(  # noqa: UP045
        "--size", **SIZE_RANGE, help="picture side (default: the training size)")] = None,
) -> None:
    """Translate a picture, or every picture of a folder, from domain A to B (a2b) or back (b2a)."""
    from ganforge.apps.translate import resize_note, translate_path
    from ganforge.runs import load

    loaded = load(run)  # once, for the translation and the note
    written = translate_path(loaded, in_dir, out_dir, direction, size)
    one = len(written) == 1 and in_dir.is_file()
    count = f"{len(written)} picture{'' if len(written) == 1 else 's'}"
    # a folder's sub-folders are mirrored: say so, so that 6 written where 1 lay at the top is no surprise
    folders = {p.parent for p in written} - {Path(out_dir).expanduser()}
    tree = f" ({len(folders)} sub-folder{'' if len(folders) == 1 else 's'} of {in_dir} mirrored)" if folders else ""
    print(f"wrote {written[0]}" if one else f"wrote {count} to {out_dir}{tree}")
    note = resize_note(loaded, in_dir, size, None if one else out_dir)
    if note:
        print(note)
