"""The ``ganforge`` command. Subcommands only parse arguments, call the Python API and print.

Every user mistake surfaces as ``error: <one line>`` on stderr with exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from ganforge.errors import GanforgeError
from ganforge.registry import Registry

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Train, diagnose, evaluate and use generative adversarial networks.",
)
out_console = Console()
COMMANDS = Registry("command", "ganforge.commands")
"""Every ``ganforge`` subcommand by name; modules of ``ganforge.commands`` add theirs with
``@register_command()`` (found by scanning that package when the CLI starts)."""


def register_command(name: str | None = None, **options: Any) -> Callable[[F], F]:
    """Decorator: make ``fn`` the subcommand ``name`` (default: the function name, ``_`` -> ``-``).
    ``options`` go to ``typer.Typer.command`` (e.g. ``help``)."""

    def wrap(fn: F) -> F:
        COMMANDS.add(name or fn.__name__.replace("_", "-"), fn)
        app.command(name, **options)(fn)
        return fn

    return wrap


SetOption = Annotated[
    list[str] | None, typer.Option("--set", help="override a config key: --set train.steps=5000")
]  # noqa: UP045


@register_command()
def recipes(
    show: Annotated[str | None, typer.Option("--show", help="print one recipe's YAML")] = None,
) -> None:  # noqa: UP045
    """List the shipped recipes, one line each."""
    from ganforge.recipes import DEFAULT_RECIPE, recipe_names, recipe_text

    if show:
        print(recipe_text(show), end="")
        return
    for name, description in recipe_names().items():
        mark = " (default)" if name == DEFAULT_RECIPE else ""
        print(f"{name:<22} {description}{mark}")


@register_command()
def train(
    recipe: Annotated[
        str | None, typer.Argument(help="recipe name, YAML file, or a .csv/.npy/.npz data file")
    ] = None,  # noqa: UP045
    set_: SetOption = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="run folder to create")] = None,  # noqa: UP045
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress line")] = False,
    with_recipe: Annotated[
        str | None,
        typer.Option("--recipe", help="with a data file: train it with this recipe (e.g. timeseries-gru)"),
    ] = None,  # noqa: UP045
) -> None:
    """Train a GAN from a recipe; writes a run folder with checkpoints, metrics, plots and summary.

    A data file alone trains the default GAN for points; `FILE --recipe NAME` uses recipe NAME on FILE."""
    from ganforge.api import train as train_api

    if with_recipe is not None:
        from ganforge.recipes import recipe_with_data_file

        recipe = recipe_with_data_file(with_recipe, recipe) if recipe is not None else with_recipe  # type: ignore[assignment]
    run = train_api(recipe, overrides=list(set_ or []), out=out, show_progress=not quiet)
    _print_summary(run.path, run.summary)


@register_command()
def resume(
    run: Annotated[Path, typer.Argument(help="run folder")],
    steps: Annotated[Optional[int], typer.Option("--steps", help="new total number of steps")] = None,  # noqa: UP045
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Continue an interrupted or finished run from its newest valid checkpoint."""
    from ganforge.api import resume as resume_api
    from ganforge.runs import check_run_dir
    from ganforge.training.checkpoint import latest_checkpoint

    info = latest_checkpoint(check_run_dir(run))
    print(
        f"resuming {run} from "
        + (
            f"checkpoint step {info.step} ({info.path.name})"
            if info
            else "step 0 (no complete checkpoint; using its saved config)"
        ),
        file=sys.stderr,
    )
    result = resume_api(run, steps=steps, show_progress=not quiet)
    _print_summary(result.path, result.summary)


@register_command()
def sample(
    run: Annotated[Path, typer.Argument(help="run folder")],
    n: Annotated[int, typer.Option("-n", help="number of samples")] = 1000,
    output: Annotated[Path, typer.Option("-o", "--output", help=".csv, .npy or .png")] = Path("samples.csv"),
    label: Annotated[
        int | None, typer.Option("--label", help="class to generate (conditional models)")
    ] = None,  # noqa: UP045
    seed: Annotated[int, typer.Option("--seed")] = 0,
    truncation: Annotated[
        float | None, typer.Option("--truncation", help="StyleGAN truncation psi (0: average image, 1: none)")
    ] = None,  # noqa: UP045
    mix_styles: Annotated[
        bool, typer.Option("--mix-styles", help="StyleGAN: fine styles from a second random latent")
    ] = False,
    text: Annotated[
        str | None, typer.Option("--text", help="text-to-image models: the sentence to draw")
    ] = None,  # noqa: UP045
) -> None:
    """Generate samples from a trained run into a file (.csv / .npy) or a picture (.png)."""
    import torch

    from ganforge.runs import load

    loaded = load(run)
    torch.manual_seed(seed)
    options: dict[str, object] = {}
    if truncation is not None:
        options["truncation"] = truncation
    if mix_styles:
        options["mix_styles"] = True
    if text is not None:
        if not getattr(loaded.gan, "reads_text", False):
            raise GanforgeError(f"--text: {run} is not a text-to-image run; it takes no sentence")
        options["text"] = text
    if output.suffix.lower() == ".png":
        from ganforge.report.pictures import save_samples_png

        save_samples_png(loaded, n, output, label=label, **options)
    else:
        from ganforge.sampling import write_samples

        write_samples(loaded, n, output, label=label, **options)
    print(f"wrote {n} samples to {output}")


@register_command("eval")
def eval_(
    run: Annotated[Path, typer.Argument(help="run folder")],
    n: Annotated[
        int | None, typer.Option("--n", "-n", help="generated samples (default: the run's eval.n)")
    ] = None,  # noqa: UP045
    metrics: Annotated[Optional[str], typer.Option("--metrics", help="comma-separated metric names")] = None,  # noqa: UP045
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    best: Annotated[bool, typer.Option("--best", help="evaluate the best checkpoint kept by eval.best")] = False,
    features: Annotated[
        Optional[str], typer.Option("--features", help="image feature network: digits, inception or a file")  # noqa: UP045
    ] = None,
) -> None:
    """Metrics for the run's kind of data."""
    import torch

    from ganforge.runs import load

    loaded = load(run, checkpoint=_best_checkpoint(run) if best else None)
    if features is not None:
        loaded.config.eval.features = features
    torch.manual_seed(seed)
    result = loaded.evaluate(n, [m.strip() for m in metrics.split(",")] if metrics else None)
    result = {"run": str(run), "step": loaded.step, **result}
    if as_json:
        print(json.dumps(result, default=str))
        return
    table = Table(title=f"{run} (step {loaded.step})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in result.items():
        if key in ("run", "step"):
            continue
        table.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
    out_console.print(table)


def _best_checkpoint(run: Path) -> Path:
    from ganforge.diagnostics.periodic import BEST_DIR
    from ganforge.errors import GanforgeError

    folder = run / BEST_DIR
    if not (folder / "checkpoints").is_dir():
        raise GanforgeError(
            f"{run} has no best checkpoint; train with --set eval.every=500 --set eval.best=fid to keep one"
        )
    return folder


def _print_summary(path: Path, summary: dict) -> None:
    evaluation = summary.get("evaluation", {})
    shown = {k: v for k, v in evaluation.items() if isinstance(v, (int, float)) and not k.startswith("n_")}
    numbers = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in shown.items())
    print(f"run folder: {path}")
    if numbers:
        print(f"evaluation: {numbers}")
    best = summary.get("best")
    if best:
        print(f"best checkpoint: step {best['step']}, {best['metric']} {best['value']:.4g} ({best['checkpoint']})")
    for f in summary.get("diagnostics", []):
        print(f"finding at step {f['step']}: {f['message']} — {f['remedy']}")
    plots = summary.get("plots", {})
    if plots:
        print(
            "pictures: "
            + ", ".join(
                str(Path(p).relative_to(path)) if Path(p).is_relative_to(path) else p for p in plots.values()
            )
        )


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning user errors into one line and exit code 2."""
    try:
        COMMANDS.load()
        app(args=argv, standalone_mode=False)
    except GanforgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # click's own usage errors (typer may bundle its own copy of click)
        usage, abort = _click_exception_types()
        if isinstance(exc, usage):
            print(f"error: {' '.join(exc.format_message().split())}", file=sys.stderr)
            sys.exit(2)
        if isinstance(exc, abort):
            sys.exit(130)
        raise


def _click_exception_types() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """(usage errors, aborts) of click and of the click copy typer ships, whichever are installed."""
    import importlib

    usage: list[type[BaseException]] = []
    abort: list[type[BaseException]] = []
    for name in ("click.exceptions", "typer._click.exceptions"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        usage.append(module.ClickException)
        if hasattr(module, "Abort"):
            abort.append(module.Abort)
    return tuple(usage), tuple(abort)


if __name__ == "__main__":
    main()
