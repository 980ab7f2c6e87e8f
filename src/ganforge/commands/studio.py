"""``ganforge studio RECIPE|DATAFILE|FOLDER|RUN``: watch a GAN learn in the browser (127.0.0.1 by default)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ganforge.cli import SetOption, register_command


@register_command()
def studio(
    target: Annotated[
        str,
        typer.Argument(help="recipe name, YAML file, .csv/.npy/.npz data file, folder of pictures, or a run folder"),
    ],
    set_: SetOption = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="run folder to create")] = None,  # noqa: UP045
    with_recipe: Annotated[
        Optional[str], typer.Option("--recipe", help="with a data file: train it with this recipe")  # noqa: UP045
    ] = None,
    host: Annotated[str, typer.Option("--host", help="address to listen on (default: this machine only)")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", help="port (0: any free port; the address is printed)")] = 0,
    paused: Annotated[bool, typer.Option("--paused", help="start paused; press play on the page")] = False,
    every: Annotated[int, typer.Option("--every", help="draw a frame at most every N steps")] = 10,
    fps: Annotated[float, typer.Option("--fps", help="at most this many frames per second")] = 6.0,
    exit_when_done: Annotated[bool, typer.Option("--exit-when-done", help="stop serving when training ends")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress line")] = False,
) -> None:
    """Train and show it live (play, pause, D/G steps, live learning rates...), or follow a run folder.

    A run folder is followed read-only: the training of another process as it goes, or a finished run. Any other
    folder (of pictures, or of pairs with --recipe) is data: it trains live as `ganforge train FOLDER` trains it."""
    from ganforge.errors import GanforgeError
    from ganforge.studio.session import attach_studio, train_in_studio

    if not 0 <= port <= 65535:
        raise GanforgeError(f"--port {port}: give a port from 1 to 65535, or 0 for any free port")
    if every < 1 or fps <= 0:
        raise GanforgeError("--every must be at least 1 and --fps positive")
    if _follows_a_run(Path(target)):
        if set_ or out or with_recipe:
            raise GanforgeError(f"'{target}' is a run folder: it is followed as it is; --set/--out/--recipe "
                                "apply to training a recipe")
        attach_studio(Path(target), host=host, port=port)
        return
    recipe: str = target
    if with_recipe is not None:
        from ganforge.recipes import recipe_with_data_file

        recipe = recipe_with_data_file(with_recipe, target)  # type: ignore[assignment]
    run = train_in_studio(recipe, list(set_ or []), out, host=host, port=port, paused=paused, every=every,
                          max_fps=fps, keep_serving=not exit_when_done, show_progress=not quiet)
    print(f"run folder: {run.path}")


def _follows_a_run(path: Path) -> bool:
    """Whether ``path`` is a run folder to follow rather than data to train on. A run folder holds config.yaml
    (written before the first step); a folder of pictures holds none and trains live, as `ganforge train FOLDER`
    does, where following it used to fail with "not a ganforge run folder". A folder without config.yaml but with
    a run's checkpoints/ or metrics.jsonl is a damaged run: it is followed so that attach_studio says what is
    missing, instead of training on the run's own plots."""
    if not path.is_dir():
        return False
    return any((path / name).exists() for name in ("config.yaml", "checkpoints", "metrics.jsonl"))
