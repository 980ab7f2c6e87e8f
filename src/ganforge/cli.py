"""The ``ganforge`` command. Subcommands only parse arguments, call the Python API and print.

Every user mistake surfaces as ``error: <one line>`` on stderr with exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar

import typer

from ganforge.errors import GanforgeError, as_user_error
from ganforge.registry import Registry

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts are plain: `--set data.columns=[a,b]` must print its brackets
    help="Train, diagnose, evaluate and use generative adversarial networks.",
)
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


SEED_RANGE = {"min": 0, "max": 2**63 - 1}
"""Every ``--seed``: a non-negative int64 (``torch.manual_seed`` takes no more), checked by click in one line."""
SIZE_RANGE = {"min": 4, "max": 1024}
"""Every ``--size`` of a command that reads pictures: ``data.images.MIN_SIZE`` to ``MAX_SIZE`` (not imported
here: that module loads torch; a test holds the two equal)."""

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="KEY=VALUE",
        help="override a config key (repeatable); values are YAML: --set train.steps=5000, "
        "a list: --set data.columns=[temp_c,rain_mm], remove a key: --set key=null",
    ),
]  # noqa: UP045

TrustOption = Annotated[
    bool,
    typer.Option(
        "--trust-code",
        help="run a TorchScript / torch.export feature file: a program that can run any code — only for files "
        "you made or trust (a run folder's config.yaml never grants this)",
    ),
]


@register_command()
def recipes(
    name: Annotated[
        str | None, typer.Argument(help="a recipe to print, as --show NAME does (learners type it so)")
    ] = None,  # noqa: UP045
    show: Annotated[
        str | None,
        typer.Option("--show", metavar="NAME", help="print one recipe's YAML as written (`ganforge config NAME`: "
                     "every key, with defaults)"),
    ] = None,
) -> None:  # noqa: UP045
    """List the shipped recipes, one line each (a NAME prints that recipe)."""
    from ganforge.recipes import DEFAULT_RECIPE, recipe_names, recipe_text

    show = show or name
    if show:
        print(recipe_text(show), end="")
        return
    for name, description in recipe_names().items():
        mark = " (default)" if name == DEFAULT_RECIPE else ""
        print(f"{name:<22} {description}{mark}")


@register_command()
def train(
    recipe: Annotated[
        str | None,
        typer.Argument(help="recipe name, YAML file, a .csv/.npy/.npz data file, or a folder of pictures or pairs"),
    ] = None,  # noqa: UP045
    set_: SetOption = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="run folder to create")] = None,  # noqa: UP045
    steps: Annotated[
        Optional[int], typer.Option("--steps", min=1, help="training steps (the same as --set train.steps=N)")  # noqa: UP045
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress line")] = False,
    with_recipe: Annotated[
        str | None,
        typer.Option("--recipe", help="with a data file: train it with this recipe (e.g. timeseries-gru)"),
    ] = None,  # noqa: UP045
    no_eval: Annotated[
        bool, typer.Option("--no-eval", help="skip the end-of-run evaluation (eval.enabled=false)")
    ] = False,
) -> None:
    """Train a GAN from a recipe; writes a run folder with checkpoints, metrics, plots and summary.

    A data file alone trains the default GAN for points; `FILE --recipe NAME` uses recipe NAME on FILE."""
    from ganforge.api import train as train_api

    if with_recipe is not None:
        from ganforge.recipes import recipe_with_data_file

        recipe = recipe_with_data_file(with_recipe, recipe) if recipe is not None else with_recipe  # type: ignore[assignment]
    sets = list(set_ or []) + (["eval.enabled=false"] if no_eval else [])
    run = train_api(recipe, steps=steps, overrides=sets, out=out, show_progress=not quiet)
    _print_summary(run.path, run.summary, skip_said=not quiet)


@register_command()
def resume(
    run: Annotated[Path, typer.Argument(help="run folder")],
    steps: Annotated[Optional[int], typer.Option(  # noqa: UP045
        "--steps", min=1, help="new total number of steps (a decaying learning rate is stretched to it)")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress line")] = False,
    no_eval: Annotated[bool, typer.Option("--no-eval", help="skip the end-of-run evaluation")] = False,
    trust_code: TrustOption = False,
) -> None:
    """Continue an interrupted or finished run from its newest valid checkpoint.

    A run that already reached its steps is not trained or evaluated again: its summary is printed
    (give --steps N to train it further)."""
    from ganforge.runs import check_run_dir
    from ganforge.training.run_lock import hold_run_lock, release_run_lock

    hold_run_lock(check_run_dir(run), "resume")  # before reading: what is printed is what gets loaded
    try:
        _resume_locked(run, steps, quiet, no_eval, trust_code)
    finally:
        release_run_lock(run)


def _resume_locked(run: Path, steps: int | None, quiet: bool, no_eval: bool, trust_code: bool) -> None:
    from ganforge.api import check_resumable
    from ganforge.api import resume as resume_api
    from ganforge.config import parse_config, read_yaml
    from ganforge.training.checkpoint import latest_checkpoint

    check_resumable(run)  # before the "resuming" line: a resume that will fail says only why
    info = latest_checkpoint(run)
    if steps is not None and info is not None and steps < info.step:
        raise GanforgeError(
            f"--steps {steps}: {run} is already at checkpoint step {info.step}; resume trains further, give "
            f"--steps N with N > {info.step}"
        )
    target = steps if steps is not None else parse_config(read_yaml(run / "config.yaml")).train.steps
    if info is not None and info.step >= target and (run / "summary.json").is_file():
        print(
            f"{run} already finished: checkpoint step {info.step} (train.steps {target}); nothing to train or "
            f"re-evaluate. Train further with `ganforge resume {run} --steps N` (N > {info.step}), "
            f"evaluate again with `ganforge eval {run}`.",
            file=sys.stderr,
        )
        from ganforge.fileio import read_json

        saved = read_json(run / "summary.json", "summary")
        _print_summary(run, saved if isinstance(saved, dict) else {})
        return
    if is_rank_zero():
        print(
            f"resuming {run} from "
            + (
                f"checkpoint step {info.step} ({info.path.name})"
                if info
                else "step 0 (no complete checkpoint; using its saved config)"
            ),
            file=sys.stderr,
        )
    result = resume_api(
        run, steps=steps, show_progress=not quiet, evaluate=False if no_eval else None, trust_code=trust_code
    )
    _print_summary(result.path, result.summary, skip_said=not quiet)


PICTURE_KINDS = ("images", "captioned-images")
"""Kinds of data whose samples are pictures, so ``sample -o folder/`` writes one PNG each (a text-to-image run's
pictures too: ``--text "a red circle" -o circles/``), and ``sample RUN`` without ``-o`` writes ``samples.png``."""


@register_command()
def sample(
    run: Annotated[Path, typer.Argument(help="run folder")],
    n: Annotated[int, typer.Option("-n", "--rows", min=1, help="number of samples (table rows)")] = 1000,
    output: Annotated[
        str | None,
        typer.Option(
            "-o",
            "--output",
            metavar="PATH",
            help=".csv, .npy, .npz, a .png picture, or a folder/ (image runs: one PNG per sample)  "
            "[default: samples.csv; samples.png for image runs]",
        ),
    ] = None,  # noqa: UP045
    label: Annotated[
        str | None,
        typer.Option(
            "--label",
            metavar="CLASS",
            help="class to generate (conditional models): its number, or its name for a run trained on one "
            "sub-folder per class",
        ),
    ] = None,  # noqa: UP045
    seed: Annotated[int, typer.Option("--seed", **SEED_RANGE)] = 0,
    truncation: Annotated[
        float | None, typer.Option("--truncation", help="StyleGAN truncation psi (0: average image, 1: none)")
    ] = None,  # noqa: UP045
    mix_styles: Annotated[
        bool, typer.Option("--mix-styles", help="StyleGAN: fine styles from a second random latent")
    ] = False,
    where: Annotated[
        str | None, typer.Option("--where", help='tables: conditional rows, e.g. --where "sex=F"')
    ] = None,  # noqa: UP045
    best: Annotated[bool, typer.Option("--best", help="sample the best checkpoint kept by eval.best")] = False,
    text: Annotated[
        str | None, typer.Option("--text", help="text-to-image models: the sentence to draw")
    ] = None,  # noqa: UP045
    reject: Annotated[
        float | None,
        typer.Option(
            "--reject",
            metavar="Q",
            help="drop samples the discriminator scores below its Q-quantile on real data, e.g. 0.01 "
            "(default: the run's sample.discriminator_rejection; 0: keep all)",
        ),
    ] = None,  # noqa: UP045
) -> None:
    """Generate samples from a trained run into a file (.csv / .npy / .npz), a picture (.png) or a folder of
    PNGs (image runs)."""
    from ganforge.outputs import names_a_folder, never_over, output_file
    from ganforge.runs import recorded_kind
    from ganforge.sampling import SAMPLE_SUFFIXES

    to_folder = output is not None and names_a_folder(output)
    suffixes = (".csv",) if recorded_kind(run) == "table" else (*SAMPLE_SUFFIXES, ".png")  # tables: the input's CSV
    if output is not None and not to_folder:
        output_file(output, suffixes)  # checked before the model is loaded
    import torch

    from ganforge.outputs import check_free_space
    from ganforge.runs import load

    loaded = load(run, checkpoint=_best_checkpoint(run) if best else None)
    if not getattr(loaded.gan, "samples_from_noise", True):  # before the -o checks, which would name other formats
        use = "upscale RUN in.png -o out.png" if hasattr(loaded.gan, "upscale") else "translate RUN IN -o OUT"
        raise GanforgeError(
            f"{run} holds a {type(loaded.gan).__name__} model: it maps pictures to pictures and does not sample from "
            f"noise; use `ganforge {use}`"
        )
    if output is None:  # a CSV cannot hold pictures: `ganforge sample RUN` of the default recipe failed with it
        output = "samples.png" if loaded.data_info.kind in PICTURE_KINDS else "samples.csv"
        output_file(output, suffixes)
    trained_on = loaded.config.data.get("path")
    if not to_folder and isinstance(trained_on, str):
        never_over(output, trained_on, what=f"the file {run} was trained on")
    values = math.prod(loaded.data_info.sample_shape or (1,))
    per_value = 14 if output.lower().endswith(".csv") else 4  # "-1.234567e+00," in text, float32 in binary
    if output.lower().endswith(".npz"):
        per_value *= 2  # the samples are streamed to a .npy beside it first, then copied into the archive
    check_free_space(Path(output) if not to_folder else Path(output) / "x", n * values * per_value, "-o")
    label_index = None if label is None else loaded.class_index(label)
    torch.manual_seed(seed)
    options: dict[str, object] = {} if where is None else {"where": where}
    if truncation is not None:
        options["truncation"] = truncation
    if mix_styles:
        options["mix_styles"] = True
    if reject is not None:
        from ganforge.gans.rejection import check_rejection_quantile

        options["reject"] = check_rejection_quantile(reject, "--reject")
    if text is not None:
        if not getattr(loaded.gan, "reads_text", False):
            raise GanforgeError(f"--text: {run} is not a text-to-image run; it takes no sentence")
        options["text"] = text
    if to_folder:
        if loaded.data_info.kind not in PICTURE_KINDS:
            raise GanforgeError(
                f"-o {output}: a folder of pictures is for image runs; this run makes {loaded.data_info.kind}: "
                f"use {' or '.join(s for s in suffixes if s != '.png')}"
            )
        from ganforge.report.image_pictures import save_images_folder
        from ganforge.report.pictures import with_sampling_options

        save_images_folder(with_sampling_options(loaded, options) if options else loaded, n, Path(output), label_index)
    elif output.lower().endswith(".png"):
        from ganforge.report.pictures import save_samples_png

        save_samples_png(loaded, n, Path(output), label=label_index, **options)
    else:
        from ganforge.sampling import write_samples

        write_samples(loaded, n, output, label=label_index, **options)
    print(f"wrote {n} samples to {output}")


@register_command("eval")
def eval_(
    run: Annotated[Path, typer.Argument(help="run folder")],
    n: Annotated[
        int | None, typer.Option("--n", "-n", min=1, help="generated samples (default: the run's eval.n)")
    ] = None,  # noqa: UP045
    metrics: Annotated[Optional[str], typer.Option("--metrics", help="comma-separated metric names")] = None,  # noqa: UP045
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    seed: Annotated[int, typer.Option("--seed", **SEED_RANGE)] = 0,
    best: Annotated[bool, typer.Option("--best", help="evaluate the best checkpoint kept by eval.best")] = False,
    features: Annotated[
        Optional[str], typer.Option("--features", help="image feature network: digits, inception or a file")  # noqa: UP045
    ] = None,
    trust_code: TrustOption = False,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="store these results in the run folder even when it already holds an evaluation (replacing it)",
        ),
    ] = False,
) -> None:
    """Metrics for the run's kind of data.

    When the run folder holds no evaluation yet (the end-of-run one was skipped or never ran), the results
    are also stored in RUN/summary.json as the end-of-run evaluation would have been, and report.html is
    rewritten, so the report and `ganforge diagnose` show them. An evaluation already stored is the run's
    record and is left as it is unless --replace is given. --best results are never stored (the stored
    evaluation is of the last checkpoint). A folder that cannot be written gets a one-line note on stderr;
    the results are printed either way."""
    import torch

    from ganforge.runs import load

    if best and replace:
        raise GanforgeError(
            "--replace stores an evaluation of the last checkpoint, the one the run folder's summary describes; "
            "--best evaluates another: drop one of them"
        )
    loaded = load(run, checkpoint=_best_checkpoint(run) if best else None, trust_code=trust_code)
    if features is not None:
        if loaded.data_info.kind != "images":
            raise GanforgeError(
                f"--features {features}: {run} makes {loaded.data_info.kind}, and only image runs measure with a "
                "feature network; drop --features"
            )
        loaded.config.eval.features = features
    torch.manual_seed(seed)
    n_used = n or loaded.config.eval.n
    measured = loaded.evaluate(n, [m.strip() for m in metrics.split(",")] if metrics else None)
    saved = loaded.summary.get("evaluation")  # before storing: what the agreement line compares with
    result = {"run": str(run), "step": loaded.step, **measured, "seed": seed}
    if as_json:  # strict JSON, as summary.json holds it: NaN / inf become strings, not tokens parsers refuse
        from ganforge.fileio import to_jsonable

        print(json.dumps(to_jsonable(result), default=str, allow_nan=False), flush=True)
        _store_evaluation(loaded, measured, seed, best, replace)
        return
    from ganforge.report.readout import BASELINES_TITLE, baseline_table, evaluation_text

    baselines = baseline_table(result)  # tables: the same metrics for the baselines, shown beside
    result.pop("comparison", None)
    print(f"{run} (step {loaded.step}{', best checkpoint' if best else ''})")
    print(evaluation_text({k: v for k, v in result.items() if k not in ("run", "step")}))
    for note in (summary_agreement(saved, result, n_used, best), _best_selection_note(loaded) if best else None):
        if note:
            print(note)
    if baselines is not None:
        from rich.console import Console
        from rich.table import Table

        side = Table(title=BASELINES_TITLE)
        for i, name in enumerate(baselines[0]):
            side.add_column(name, justify="left" if i == 0 else "right")
        for row in baselines[1]:
            side.add_row(*row)
        Console().print(side)
    _store_evaluation(loaded, measured, seed, best, replace)


def _store_evaluation(loaded: Any, measured: dict, seed: int, best: bool, replace: bool) -> None:
    """Keep ``ganforge eval``'s results in the run folder when it has none (see ``report.summary.
    store_evaluation``); its one line goes to stderr, so ``--json`` output stays one JSON object."""
    if best:  # the best checkpoint is not the one the summary describes
        return
    from ganforge.report.summary import evaluation_record, store_evaluation

    sys.stdout.flush()
    line = store_evaluation(loaded, evaluation_record(measured, seed, loaded.step), replace=replace)
    if line:
        print(line, file=sys.stderr)


def summary_agreement(
    saved: dict | None, result: dict, n: int, best: bool
) -> str:
    """One line on whether ``ganforge eval``'s numbers match the end-of-run summary's, and why not."""
    from ganforge.report.readout import is_measured

    if not isinstance(saved, dict) or not is_measured(saved):
        return ""  # no numbers to compare with (e.g. the end-of-run evaluation was skipped)
    reasons = []
    if best:
        reasons.append("the best checkpoint was evaluated, the summary evaluated the last one")
    if saved.get("step") is not None and saved.get("step") != result.get("step"):
        reasons.append(f"step {result.get('step')} here, {saved.get('step')} in the summary")
    saved_n = saved.get("n_fake", saved.get("n_images"))
    used_n = result.get("n_fake", result.get("n_images", n))  # what the evaluator used (may be capped by the data)
    if saved_n is not None and used_n != saved_n:
        reasons.append(f"n {used_n} here, {saved_n} in the summary")
    if "seed" not in saved:
        reasons.append("the summary was written before evaluations were seeded (its generated samples differ)")
    elif saved.get("seed") != result.get("seed"):
        reasons.append(f"seed {result.get('seed')} here, {saved.get('seed')} in the summary")
    for key in ("generator", "features", "reference"):  # which weights (EMA or raw), feature network, real set
        if key in saved and key in result and saved[key] != result[key]:
            reasons.append(f"{key} {result[key]} here, {saved[key]} in the summary")
    if reasons:
        return "differs from the end-of-run summary because: " + "; ".join(reasons)
    shared = [k for k, v in result.items() if isinstance(v, float) and isinstance(saved.get(k), (int, float))]
    if not shared:  # e.g. --metrics asked for ones the summary does not hold: nothing to say "same" about
        return ""
    same = all(abs(result[k] - saved[k]) <= 1e-6 * max(1.0, abs(saved[k])) for k in shared)
    if same:
        return "same numbers as the end-of-run summary (same checkpoint, n and seed)"
    return (
        "differs from the end-of-run summary with the same checkpoint, n and seed: the real data or the "
        "evaluation code changed since training"
    )


def _best_checkpoint(run: Path) -> Path:
    from ganforge.config import read_yaml
    from ganforge.diagnostics.periodic import BEST_DIR
    from ganforge.errors import GanforgeError
    from ganforge.evaluation.selection_split import best_choice_problem
    from ganforge.runs import check_run_dir, localize_saved_data

    run = check_run_dir(run)  # a missing or wrong folder is said as such, not as "no best checkpoint"
    folder = run / BEST_DIR
    if not (folder / "checkpoints").is_dir():
        from ganforge.runs import recorded_kind

        try:
            recorded = read_yaml(run / "config.yaml").get("data")
        except GanforgeError:
            recorded = None
        data = dict(recorded) if isinstance(recorded, dict) else {}
        localize_saved_data(data, run)
        problem = best_choice_problem(data)
        if problem:
            raise GanforgeError(f"{run} has no best checkpoint, and eval.best could not keep one: {problem}")
        kind = recorded_kind(run)
        metric = BEST_METRIC_BY_KIND.get(kind, "fid")
        raise GanforgeError(
            f"{run} has no best checkpoint; train with --set eval.every=500 --set eval.best={metric} to keep one"
        )
    return folder


BEST_SELECTION_NOTE = (
    "note: the best checkpoint was chosen by this evaluation on the same real samples, so its number is "
    "optimistic: compare runs by their last checkpoints"
)
# A metric each kind of data's evaluation reports, to name in the hint above (min: lower is better).
BEST_METRIC_BY_KIND = {"numbers": "w1", "points": "w1", "table": "max:validation_quality",
                       "sequences": "min:discriminative_quick", "images": "fid", "paired-images": "fid",
                       "superres": "max:psnr", "unpaired-images": "min:cycle_error_a"}

VALIDATION_SELECTION_NOTE = (
    "note: the best checkpoint was chosen on the validation split; these numbers are on the test split, "
    "which the choice never read"
)


def _best_selection_note(loaded: Any) -> str | None:
    """What ``eval --best`` says of its numbers: chosen on a translation run's validation split (summary.json's
    ``best.split``), apart from them; on the very samples it scores (optimistic); nothing for a table (chosen on
    validation rows, scored on the holdout rows, as its evaluation prints)."""
    if loaded.data_info.kind == "table":
        return None
    best = loaded.summary.get("best")
    if isinstance(best, dict) and best.get("split") == "val":
        return VALIDATION_SELECTION_NOTE
    return BEST_SELECTION_NOTE


def _print_summary(path: Path, summary: dict, skip_said: bool = False) -> None:
    """The end of ``train`` / ``resume``: run folder, evaluation, best checkpoint, findings, pictures.
    ``skip_said``: the progress lines just gave the reason the evaluation was skipped; it is not repeated."""
    if not is_rank_zero():  # under torchrun every rank returns from training; one report is enough
        return
    from ganforge.report.readout import baseline_text, evaluation_text

    evaluation = summary.get("evaluation", {})
    print(f"run folder: {path}")
    if skip_said and isinstance(evaluation, dict) and set(evaluation) == {"skipped"}:
        evaluation = {"skipped": "the reason is printed above"}
    text = evaluation_text(evaluation) if isinstance(evaluation, dict) else ""
    if text:
        print("evaluation:")
        print(text)
        baselines = baseline_text(evaluation)  # a table run's baselines, as `ganforge eval` shows them
        if baselines:
            print(baselines)
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


def is_rank_zero() -> bool:
    """False in the non-zero ranks of a torchrun job (``RANK`` set by the launcher)."""
    import os

    return os.environ.get("RANK", "0") in ("", "0")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning user errors into one line and exit code 2."""
    try:
        COMMANDS.load()
        app(args=argv, standalone_mode=False)
    except GanforgeError as exc:
        # under torchrun every rank meets the same mistake (the config, the folder): rank 0 says it once,
        # where each rank printing it gave two lines run together
        if is_rank_zero():
            print(f"{'interrupted' if exc.exit_code == 130 else 'error'}: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        if is_rank_zero():
            print("interrupted", file=sys.stderr)
        sys.exit(130)
    except (OSError, MemoryError, RecursionError, RuntimeError) as exc:  # a full disk, an allocation, ...
        user_error = as_user_error(exc, _output_argument(sys.argv[1:] if argv is None else argv))
        lost = None
        if user_error is None and "torch" in sys.modules:  # a torchrun peer lost: one line, not C++ frames
            from ganforge.training.distributed import peer_failure

            user_error = lost = peer_failure(exc)
        if user_error is None:
            raise
        if is_rank_zero() or lost is not None:  # rank 0 may be the one that is gone: the survivors say so
            print(f"error: {user_error}", file=sys.stderr)
        sys.exit(user_error.exit_code)
    except Exception as exc:  # click's own usage errors (typer may bundle its own copy of click)
        usage, abort = _click_exception_types()
        if isinstance(exc, usage):
            print(f"error: {' '.join(exc.format_message().split())}", file=sys.stderr)
            sys.exit(2)
        if isinstance(exc, abort):
            sys.exit(130)
        raise


def _output_argument(argv: list[str]) -> str | None:
    """The value of ``-o`` / ``--output`` / ``--out`` in ``argv`` (what a failed write was writing)."""
    for i, arg in enumerate(argv):
        if arg in ("-o", "--output", "--out") and i + 1 < len(argv):
            return str(argv[i + 1])
        for flag in ("--output=", "--out="):
            if arg.startswith(flag):
                return arg[len(flag):]
    return None


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
